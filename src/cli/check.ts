// daxsim check: every scenario under every kernel of its expect: block, with
// herd7-style verdicts: `clean` = no violation in any explored schedule; a
// list of ids = each seen in some schedule and no other id seen.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runScenario, assertSupported, kernelFor } from '../check/run.js';
import { loadScenarioFile } from '../scenario/load.js';
import { InputError, diag, type Diagnostic } from '../scenario/diagnostic.js';
import type { Scenario } from '../scenario/types.js';
import { reproduceLine } from '../report/pretty.js';
import { exploreScenario } from '../check/explore.js';
import { readCorpus, type CorpusEntry } from '../check/corpus.js';
import { ScheduleMismatch } from '../sim/strategy.js';
import { BadToken } from '../sim/schedule.js';
import type { RunResult } from '../check/run.js';
import type { ReportCase } from '../report/model.js';
import { basename } from 'node:path';
import { type Io } from './io.js';
import { vocabulary } from './vocab.js';
import { caseNamer, openReport, skippedCase, verdictCase, type ReportOpts } from './report.js';
import { VERSION } from '../version.js';

export interface CheckOpts extends ReportOpts {
  runs: number;
  /** false: always sample (--no-explore) */
  explore?: boolean;
  /** a regression corpus directory to replay (fuzz --save-failures) */
  corpus?: string;
  maxSteps?: number;
  /** DPOR's execution budget before falling back to sampling (default CHECK_EXPLORE_BUDGET) */
  maxExecutions?: number;
}

export interface PairResult {
  file: string;
  scenario: string;
  kernel: string;
  expected: 'clean' | string[];
  /** id -> the first seed that showed it (null when explored exhaustively) */
  seen: Map<string, number | null>;
  matched: boolean;
  schedules: number;
  /** a replay line for the first schedule that disagrees with the expectation */
  reproduce: string | null;
  /** that schedule: its seed and token */
  failing: { seed: number | null; schedule: string } | null;
  /** exhaustive: DPOR explored every interleaving (a proof); sampled: random seeds */
  exploration: 'sampled' | 'exhaustive';
}

/** Scenario files named by the arguments: files as given, directories' *.yaml / *.yml sorted. */
export function scenarioFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const bad: Diagnostic[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      bad.push(diag(p, { line: 1, col: 1 }, 'no such file or directory'));
      continue;
    }
    if (st.isDirectory()) {
      const names = readdirSync(p).filter((n) => /\.ya?ml$/.test(n)).sort();
      if (names.length === 0) bad.push(diag(p, { line: 1, col: 1 }, 'no *.yaml scenarios in this directory'));
      for (const n of names) out.push(join(p, n));
    } else {
      out.push(p);
    }
  }
  if (bad.length) throw new InputError(bad);
  return out;
}

/** Executions `check` lets DPOR take before it falls back to sampling (--max-executions). */
export const CHECK_EXPLORE_BUDGET = 50_000;

/**
 * One verdict: proved by exhaustive DPOR exploration when the reduced space is
 * small enough (`budget` executions), else sampled with `runs` seeds.
 */
export function checkPair(scn: Scenario, kernelName: string, expected: 'clean' | string[], runs: number, maxSteps?: number, tryExplore = true, budget = CHECK_EXPLORE_BUDGET): PairResult {
  const want = new Set(expected === 'clean' ? [] : expected);
  if (tryExplore) {
    const x = exploreScenario(scn, { kernel: kernelName, maxExecutions: budget });
    if (x.complete) {
      const seen = new Map<string, number | null>(x.violations.map((v) => [v.id, null]));
      const bad = x.violations.find((v) => !want.has(v.id));
      const failing = bad === undefined ? null : { seed: null, schedule: x.tokens.get(bad.id)! };
      const matched = [...seen.keys()].every((id) => want.has(id)) && [...want].every((id) => seen.has(id));
      const reproduce = failing === null ? null : `Reproduce: daxsim run ${scn.file} --kernel ${x.kernel} --schedule ${failing.schedule}`;
      return { file: scn.file, scenario: scn.name, kernel: kernelName, expected, seen, matched, schedules: x.executions, reproduce, failing, exploration: 'exhaustive' };
    }
  }
  const seen = new Map<string, number | null>();
  let reproduce: string | null = null;
  let failing: PairResult['failing'] = null;
  for (let s = 0; s < runs; s++) {
    const r = runScenario(scn, { kernel: kernelName, seed: String(s), maxSteps });
    for (const v of r.violations) {
      if (!seen.has(v.id)) seen.set(v.id, s);
      if (!want.has(v.id) && reproduce === null) {
        reproduce = reproduceLine(r);
        failing = { seed: s, schedule: r.schedule };
      }
    }
  }
  const matched = [...seen.keys()].every((id) => want.has(id)) && [...want].every((id) => seen.has(id));
  return { file: scn.file, scenario: scn.name, kernel: kernelName, expected, seen, matched, schedules: runs, reproduce, failing, exploration: 'sampled' };
}

/** One corpus entry replayed: does it still show its violation, and should it? */
export interface CorpusReplay {
  path: string;
  entry: CorpusEntry;
  scn: Scenario;
  /** the scenario expects this id on this kernel (or says nothing about the kernel): it must still show */
  mustShow: boolean;
  shown: boolean;
  /** why the token no longer replays at all (it was recorded for another scenario or kernel shape) */
  mismatch: string | null;
  result: RunResult | null;
}

export function replayCorpusEntry(path: string, entry: CorpusEntry, scn: Scenario, maxSteps?: number): CorpusReplay {
  const e = scn.expect.find((x) => x.kernel === entry.kernel);
  const mustShow = e === undefined || (e.verdict !== 'clean' && e.verdict.includes(entry.violation));
  try {
    const result = runScenario(scn, { kernel: entry.kernel, schedule: entry.schedule, record: true, maxSteps });
    return { path, entry, scn, mustShow, shown: result.violations.some((v) => v.id === entry.violation), mismatch: null, result };
  } catch (err) {
    if (err instanceof ScheduleMismatch) return { path, entry, scn, mustShow, shown: false, mismatch: err.message, result: null };
    if (err instanceof BadToken) throw new InputError([{ file: path, line: 1, col: 1, message: err.message }]);
    throw err;
  }
}

function corpusCase(r: CorpusReplay): ReportCase {
  const ok = r.shown === r.mustShow;
  const pos = r.scn.namePos ?? r.scn.pos;
  const what = r.mustShow
    ? ok ? `still shows ${r.entry.violation}` : r.mismatch !== null ? `no longer replays (${r.mismatch})` : `no longer shows ${r.entry.violation}`
    : ok ? `no longer shows ${r.entry.violation}, as expect: ${r.entry.kernel} says` : `shows ${r.entry.violation} again, though expect: ${r.entry.kernel} says it is fixed`;
  return {
    name: `corpus ${basename(r.path)}`,
    scenario: r.scn.name,
    file: r.entry.scenario,
    kernel: r.entry.kernel,
    line: pos.line,
    col: pos.col,
    expected: r.mustShow ? [r.entry.violation] : 'clean',
    seen: r.result === null ? [] : [...new Set(r.result.violations.map((v) => v.id))].map((id) => ({ id, seed: null })),
    status: ok ? 'pass' : 'fail',
    missing: r.mustShow && !r.shown ? [r.entry.violation] : [],
    unexpected: !r.mustShow && r.shown ? [r.entry.violation] : [],
    schedules: 1,
    exploration: 'single',
    shown: !ok && r.result !== null ? { result: r.result, how: `corpus entry ${basename(r.path)}: ${what}` } : null,
    reproduce: r.result !== null ? reproduceLine(r.result) : null,
    reason: what,
  };
}

export function checkCommand(paths: readonly string[], opts: CheckOpts, io: Io): number {
  if (paths.length === 0 && opts.corpus === undefined) {
    throw new InputError([{ file: 'check', line: 1, col: 1, message: 'give scenario files or directories, or --corpus DIR' }]);
  }
  const files = paths.length ? scenarioFiles(paths) : [];
  const corpus = opts.corpus !== undefined ? readCorpus(opts.corpus) : [];
  const report = openReport(opts, io);
  const vocab = vocabulary();
  const scenarios: Scenario[] = [];
  const diags: Diagnostic[] = [];
  for (const f of files) {
    try {
      const scn = loadScenarioFile(f, vocab);
      for (const e of scn.expect) assertSupported(scn, kernelFor(scn, e.kernel));
      scenarios.push(scn);
    } catch (e) {
      if (e instanceof InputError) diags.push(...e.diagnostics);
      else throw e;
    }
  }
  const corpusScenarios = new Map<string, Scenario>();
  for (const { entry } of corpus) {
    if (corpusScenarios.has(entry.scenario)) continue;
    try {
      const scn = loadScenarioFile(entry.scenario, vocab);
      assertSupported(scn, kernelFor(scn, entry.kernel));
      corpusScenarios.set(entry.scenario, scn);
    } catch (e) {
      if (e instanceof InputError) diags.push(...e.diagnostics);
      else throw e;
    }
  }
  if (diags.length) throw new InputError(diags);

  const out = report.reporter;
  const name = caseNamer(scenarios);
  out.start({ command: 'check', daxsim: VERSION, runs: opts.runs, cases: scenarios.reduce((n, scn) => n + Math.max(1, scn.expect.length), 0) + corpus.length });
  let failed = 0;
  for (const scn of scenarios) {
    if (scn.expect.length === 0) {
      out.case(skippedCase(scn, name(scn, null), 'no expect: block, nothing to check'));
      continue;
    }
    for (const e of scn.expect) {
      const r = checkPair(scn, e.kernel, e.verdict, opts.runs, opts.maxSteps, opts.explore !== false, opts.maxExecutions);
      // The first disagreeing schedule is replayed with its trace recorded, for the reports.
      const failing = r.failing === null ? null : { seed: r.failing.seed, result: runScenario(scn, { kernel: r.kernel, schedule: r.failing.schedule, record: true, maxSteps: opts.maxSteps }) };
      const c = verdictCase(scn, e, { kernel: r.kernel, expected: r.expected, seen: r.seen, schedules: r.schedules, exploration: r.exploration, failing }, name(scn, e.kernel));
      if (c.status === 'fail') failed++;
      out.case(c);
    }
  }
  for (const { path, entry } of corpus) {
    const c = corpusCase(replayCorpusEntry(path, entry, corpusScenarios.get(entry.scenario)!, opts.maxSteps));
    if (c.status === 'fail') failed++;
    out.case(c);
  }
  const code = failed === 0 ? 0 : 1;
  out.end({ exitCode: code });
  report.finish();
  return code;
}
