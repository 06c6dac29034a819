// The format-neutral report model every reporter renders: a command's run is a
// start, a list of cases (one per scenario file × kernel), and an end. `run`,
// `check` (and later `fuzz` and `explore`) build cases; pretty, json, ndjson,
// junit, tap and github render them, so each format is one small module.
import type { RunResult } from '../check/run.js';

/** herd7-style verdict: `clean` = Never; a list of ids = each Sometimes, nothing else. */
export type Verdict = 'clean' | string[];

export type ReportCommand = 'run' | 'check' | 'fuzz' | 'explore';

export interface ReportStart {
  command: ReportCommand;
  /** daxsim's version */
  daxsim: string;
  /** how many cases will follow (a TAP plan, JUnit counts) */
  cases: number;
  /** schedules tried per case (check --runs), when one number holds for all */
  runs?: number;
}

export interface SeenId {
  id: string;
  /** the seed of the first run that showed it (a number for check's seeds 0..n-1), or null for a replayed schedule */
  seed: string | number | null;
}

/** A run with its trace recorded, shown in a report: `run`'s run, or the first run of a case that disagrees with its verdict. */
export interface ShownRun {
  result: RunResult;
  /** how it was chosen, for the header line: `seed 12`, `replayed schedule`, ... */
  how: string;
}

export interface ReportCase {
  /** unique within one report: `<scenario> [<kernel>]` (the file path instead of the scenario name when two files share a name) */
  name: string;
  scenario: string;
  /** the scenario file as given on the command line */
  file: string;
  /** null for a skipped scenario (no `expect:` block) */
  kernel: string | null;
  /** where to point a reader: the op of the first violation that broke the case, the `expect:` entry of an id never seen, else the `name:` key */
  line: number;
  col: number;
  /** null for `run`: there any violation fails */
  expected: Verdict | null;
  seen: SeenId[];
  status: 'pass' | 'fail' | 'skip';
  /** expected ids never seen */
  missing: string[];
  /** ids seen but not expected */
  unexpected: string[];
  /** schedules the verdict rests on */
  schedules: number;
  /** sampled: random schedules; exhaustive: every schedule (a proof); single: one chosen run */
  exploration: 'sampled' | 'exhaustive' | 'single';
  /** `run` without --seed/--schedule: how many seeds were searched */
  searched?: number;
  /** the run to show (with its trace), or null */
  shown: ShownRun | null;
  /** `Reproduce: daxsim run ...` for the shown run, or null */
  reproduce: string | null;
  /** for a skipped case: why */
  reason?: string;
}

export interface ReportEnd {
  /** the command's exit code (0 clean / as expected, 1 violations or failed expectations) */
  exitCode: number;
}

/** Where a reporter writes: stdout, or a buffer committed atomically to --reporter-out. */
export interface Sink {
  write(s: string): void;
}

/** A report format: called once with start, once per case, once with end. */
export interface Reporter {
  start(s: ReportStart): void;
  case(c: ReportCase): void;
  end(e: ReportEnd): void;
}

/** Counts over cases, as every summary shows them. */
export interface Tally {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
}

export function tally(cases: readonly ReportCase[]): Tally {
  const t: Tally = { total: cases.length, passed: 0, failed: 0, skipped: 0 };
  for (const c of cases) {
    if (c.status === 'pass') t.passed++;
    else if (c.status === 'fail') t.failed++;
    else t.skipped++;
  }
  return t;
}

/** `clean` or `[a, b]`, as the pretty report writes a verdict. */
export function verdictText(v: Verdict | null): string {
  if (v === null) return 'no violation';
  return v === 'clean' ? 'clean' : `[${v.join(', ')}]`;
}

/** One line: what was expected and what was seen, e.g. `expected clean, saw stale-mapping (seed 3) in 1000 schedules`. */
export function caseSummary(c: ReportCase): string {
  if (c.status === 'skip') return c.reason ?? 'skipped';
  if (c.exploration === 'single' && c.reason !== undefined) return c.reason; // a replayed corpus entry
  if (c.expected === null && c.schedules === 1) {
    const r = c.shown?.result;
    const which = r ? (r.seed !== null ? `seed ${r.seed}` : 'the replayed schedule') : 'one run';
    return `${c.seen.length === 0 ? 'no violation' : c.seen.map((s) => s.id).join(', ')} in ${which}`;
  }
  const seen = c.seen.length === 0
    ? 'no violation'
    : c.seen.map((s) => (s.seed === null ? s.id : `${s.id} (seed ${s.seed})`)).join(', ');
  if (c.exploration === 'exhaustive') {
    return `expected ${verdictText(c.expected)}, saw ${seen} in ${c.schedules} execution${c.schedules === 1 ? '' : 's'}: every interleaving explored (DPOR), proved`;
  }
  return `expected ${verdictText(c.expected)}, saw ${seen} in ${c.schedules} schedule${c.schedules === 1 ? '' : 's'} (sampled)`;
}
