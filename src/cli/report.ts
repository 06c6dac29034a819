// The commands' side of reporting: opening the chosen reporter (on stdout, or
// on --reporter-out written atomically with the pretty report on stdout), and
// turning run and check results into report cases (src/report/model.ts).
import { Chalk } from 'chalk';
import type { RunResult } from '../check/run.js';
import { InputError } from '../scenario/diagnostic.js';
import type { ExpectEntry, Pos, Scenario } from '../scenario/types.js';
import { createReporter, TeeReporter, type ReporterName } from '../report/index.js';
import type { ReportCase, Reporter, Sink, Verdict } from '../report/model.js';
import { PrettyReporter, reproduceLine } from '../report/pretty.js';
import { FileSink, unwritable, writeFileAtomic } from '../report/write.js';
import { chalkFor, type Io } from './io.js';

export interface ReportOpts {
  reporter: ReporterName;
  reporterOut?: string;
  color?: boolean;
}

export interface ReportSession {
  reporter: Reporter;
  /** writes --reporter-out (atomically); call after reporter.end() */
  finish(): void;
}

function cannotWrite(option: string, path: string, why: string): InputError {
  return new InputError([{ file: option, line: 1, col: 1, message: `cannot write ${path}: ${why}` }]);
}

/** Refuses an output path that cannot be written, before a long run starts. */
export function checkOutPath(option: string, path: string | undefined): void {
  if (path === undefined) return;
  const why = unwritable(path);
  if (why !== null) throw cannotWrite(option, path, why);
}

/** Writes an output file atomically; a failure is an input error naming the option. */
export function writeOut(option: string, path: string, text: string): void {
  try {
    writeFileAtomic(path, text);
  } catch (e) {
    throw cannotWrite(option, path, errText(e));
  }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string') {
    const words: Record<string, string> = { EACCES: 'permission denied', ENOENT: 'no such directory', EISDIR: 'it is a directory', ENOSPC: 'no space left on the device', EROFS: 'read-only file system' };
    return words[err.code] ?? err.code;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The reporter for these options. With --reporter-out the report goes to the file and stdout shows the pretty report. */
export function openReport(opts: ReportOpts, io: Io): ReportSession {
  checkOutPath('--reporter-out', opts.reporterOut);
  const stdout: Sink = { write: (s) => void io.stdout.write(s) };
  const color = chalkFor(opts.color, io.env, io.stdout);
  const path = opts.reporterOut;
  if (path === undefined) return { reporter: createReporter(opts.reporter, stdout, color), finish: () => {} };
  const file = new FileSink(path);
  const reporter = new TeeReporter([createReporter(opts.reporter, file, new Chalk({ level: 0 })), new PrettyReporter(stdout, color)]);
  return {
    reporter,
    finish: () => {
      try {
        file.commit();
      } catch (e) {
        throw cannotWrite('--reporter-out', path, errText(e));
      }
    },
  };
}

/**
 * Case names, unique within a report: `<scenario> [<kernel>]`, or the file
 * path in place of the scenario name when two files share a name.
 */
export function caseNamer(scenarios: readonly Scenario[]): (scn: Scenario, kernel: string | null) => string {
  const files = new Map<string, Set<string>>();
  for (const s of scenarios) {
    const set = files.get(s.name) ?? new Set<string>();
    set.add(s.file);
    files.set(s.name, set);
  }
  return (scn, kernel) => {
    const who = (files.get(scn.name)?.size ?? 1) > 1 ? scn.file : scn.name;
    return kernel === null ? who : `${who} [${kernel}]`;
  };
}

function namePos(scn: Scenario): Pos {
  return scn.namePos ?? scn.pos;
}

/** The case of `daxsim run`: it fails when the shown run broke any promise. */
export function runCase(scn: Scenario, r: RunResult, how: string, searched?: number): ReportCase {
  const ids: string[] = [];
  for (const v of r.violations) if (!ids.includes(v.id)) ids.push(v.id);
  const at = r.violations.find((v) => v.op !== null)?.op?.pos ?? namePos(scn);
  const c: ReportCase = {
    name: caseNamer([scn])(scn, r.kernel),
    scenario: scn.name,
    file: scn.file,
    kernel: r.kernel,
    line: at.line,
    col: at.col,
    expected: null,
    seen: ids.map((id) => ({ id, seed: r.seed })),
    status: r.violations.length > 0 ? 'fail' : 'pass',
    missing: [],
    unexpected: ids,
    schedules: 1,
    exploration: 'single',
    shown: { result: r, how },
    reproduce: reproduceLine(r),
  };
  if (searched !== undefined) c.searched = searched;
  return c;
}

export interface VerdictOutcome {
  kernel: string;
  expected: Verdict;
  /** id -> the first seed that showed it (null when explored exhaustively), in the order first seen */
  seen: Map<string, number | null>;
  schedules: number;
  exploration: 'sampled' | 'exhaustive';
  /** the first run that disagrees with the expectation, replayed with its trace recorded */
  failing: { result: RunResult; seed: number | null } | null;
}

/** The case of one scenario × kernel verdict (check; fuzz and explore later). */
export function verdictCase(scn: Scenario, entry: ExpectEntry | undefined, o: VerdictOutcome, name: string): ReportCase {
  const want = new Set(o.expected === 'clean' ? [] : o.expected);
  const unexpected = [...o.seen.keys()].filter((id) => !want.has(id));
  const missing = [...want].filter((id) => !o.seen.has(id));
  const status = unexpected.length === 0 && missing.length === 0 ? 'pass' : 'fail';
  let at = namePos(scn);
  if (status === 'fail') {
    const vs = o.failing?.result.violations.filter((v) => unexpected.includes(v.id)) ?? [];
    const op = vs.find((v) => v.op !== null)?.op?.pos;
    at = op ?? entry?.pos ?? at;
  }
  return {
    name,
    scenario: scn.name,
    file: scn.file,
    kernel: o.kernel,
    line: at.line,
    col: at.col,
    expected: o.expected,
    seen: [...o.seen].map(([id, seed]) => ({ id, seed })),
    status,
    missing,
    unexpected,
    schedules: o.schedules,
    exploration: o.exploration,
    shown: status === 'fail' && o.failing
      ? { result: o.failing.result, how: o.failing.seed === null ? `the first explored execution that disagrees with expect: ${o.kernel}` : `seed ${o.failing.seed}, the first schedule that disagrees with expect: ${o.kernel}` }
      : null,
    reproduce: status === 'fail' && o.failing ? reproduceLine(o.failing.result) : null,
  };
}

/** A scenario with nothing to judge (no expect: block). */
export function skippedCase(scn: Scenario, name: string, reason: string): ReportCase {
  const at = namePos(scn);
  return {
    name,
    scenario: scn.name,
    file: scn.file,
    kernel: null,
    line: at.line,
    col: at.col,
    expected: null,
    seen: [],
    status: 'skip',
    missing: [],
    unexpected: [],
    schedules: 0,
    exploration: 'single',
    shown: null,
    reproduce: null,
    reason,
  };
}
