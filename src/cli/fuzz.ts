// daxsim fuzz: many schedules per scenario from seeds; stops at the lowest
// failing seed (or collects every distinct violation with --keep-going),
// shrinks the failing schedule, prints its trace and the line that replays it.
import { InvalidArgumentError } from 'commander';
import { loadScenarioFile } from '../scenario/load.js';
import type { Scenario } from '../scenario/types.js';
import { assertSupported, kernelFor, runScenario, type RunResult } from '../check/run.js';
import { estimateSteps, shrinkToken, type ChunkResult, type FuzzConfig, type SeedFailure, type StrategyName } from '../check/fuzz.js';
import { PctStrategy } from '../sim/strategy.js';
import { decodeSchedule } from '../sim/schedule.js';
import { renderTrace, renderViolations, reproduceLine } from '../report/pretty.js';
import { runToJson } from '../report/json.js';
import { chalkFor, type Io } from './io.js';
import { runChunks } from './pool.js';
import { checkKernelFlag } from './run.js';
import { vocabulary } from './vocab.js';
import { CORPUS_FORMAT, corpusFileName, corpusText, type CorpusEntry } from '../check/corpus.js';
import { caseNamer, openReport, writeOut } from './report.js';
import type { ReporterName } from '../report/index.js';
import type { ReportCase } from '../report/model.js';
import { VERSION } from '../version.js';
import { InputError } from '../scenario/diagnostic.js';
import { statSync } from 'node:fs';
import { join } from 'node:path';

export interface FuzzOpts {
  kernel?: string;
  strategy: StrategyName;
  depth: number;
  runs: number;
  time?: number;
  jobs: number;
  shard: { i: number; n: number };
  keepGoing?: boolean;
  reporter: ReporterName;
  reporterOut?: string;
  maxSteps?: number;
  color?: boolean;
  /** write each shrunk failing schedule here as a corpus entry */
  saveFailures?: string;
}

export const CHUNK = 256;

export function parseShard(v: string): { i: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (m === null) throw new InvalidArgumentError('expected i/n, e.g. 2/8');
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || i < 1 || i > n) throw new InvalidArgumentError('expected 1 <= i <= n');
  return { i, n };
}

/** One distinct violation (by id and place) over the seeds run. */
interface Distinct {
  id: string;
  place: string;
  message: string;
  firstSeed: number;
  choices: number[];
  count: number;
}

export interface FuzzOutcome {
  file: string;
  scenario: string;
  kernel: string;
  label: string;
  runs: number;
  steps: number;
  /** the last seed run +1 (seeds [0, seedsCovered) of the shard were run) */
  seedsCovered: number;
  k: number;
  distinct: Distinct[];
  shown: RunResult | null;
  shrunk: { from: { preemptions: number; steps: number }; to: { preemptions: number; steps: number } } | null;
  interrupted: boolean;
}

/** Context switches of a schedule (thread changes between consecutive steps). */
function contextSwitches(choices: number[]): number {
  let p = 0;
  for (let i = 1; i < choices.length; i++) if (choices[i] !== choices[i - 1]) p++;
  return p;
}

export async function fuzzScenario(file: string, scn: Scenario, opts: FuzzOpts, shouldStop: () => boolean, progress: (runs: number, found: number) => void): Promise<FuzzOutcome> {
  const kernel = kernelFor(scn, opts.kernel);
  assertSupported(scn, kernel);
  const cfg: FuzzConfig = { strategy: opts.strategy, depth: opts.depth, maxSteps: opts.maxSteps };
  const k = estimateSteps(scn, kernel.flags, opts.maxSteps);
  const distinct = new Map<string, Distinct>();
  let runs = 0;
  let steps = 0;
  let covered = 0;
  let first: SeedFailure | null = null;
  let interrupted = false;
  const onChunk = (r: ChunkResult): boolean => {
    runs += r.runs;
    steps += r.steps;
    covered = r.end;
    for (const f of r.failures) {
      if (first === null) first = f;
      for (const v of f.violations) {
        const key = `${v.id}\u0000${v.place}`;
        const d = distinct.get(key);
        if (d === undefined) distinct.set(key, { id: v.id, place: v.place, message: v.message, firstSeed: f.seed, choices: f.choices, count: 1 });
        else d.count++;
      }
    }
    progress(runs, distinct.size);
    return opts.keepGoing === true || first === null;
  };
  await runChunks(
    { file, scn, kernel: kernel.name, flags: kernel.flags, cfg, shard: opts.shard, k, runs: opts.runs, chunk: CHUNK },
    opts.jobs,
    onChunk,
    () => {
      if (shouldStop()) {
        interrupted = true;
        return true;
      }
      return false;
    },
  );
  const label = opts.strategy === 'pct' ? `pct d=${opts.depth}` : opts.strategy;
  let shown: RunResult | null = null;
  let shrunk: FuzzOutcome['shrunk'] = null;
  const firstFailure = first as SeedFailure | null;
  if (firstFailure !== null) {
    const id = firstFailure.violations[0]!.id;
    const s = shrinkToken(scn, kernel.flags, firstFailure.choices, id, opts.maxSteps);
    shown = runScenario(scn, { kernel: kernel.name, schedule: s.token, record: true, maxSteps: opts.maxSteps });
    shrunk = { from: { preemptions: contextSwitches(firstFailure.choices), steps: firstFailure.choices.length }, to: { preemptions: contextSwitches(decodeSchedule(s.token)), steps: s.steps } };
  }
  let sorted = [...distinct.values()].sort((a, b) => a.firstSeed - b.firstSeed || a.id.localeCompare(b.id) || a.place.localeCompare(b.place));
  if (firstFailure !== null && opts.keepGoing !== true) {
    // Stopping at the first failure: report that seed only, and the seeds up to it.
    const f = firstFailure;
    sorted = sorted.filter((d) => d.firstSeed === f.seed).map((d) => ({ ...d, count: 1 }));
    covered = f.seed + 1;
    runs = 0;
    for (let seed = 0; seed <= f.seed; seed++) if (seed % opts.shard.n === opts.shard.i - 1) runs++;
  }
  return { file, scenario: scn.name, kernel: kernel.name, label, runs, steps, seedsCovered: covered, k, distinct: sorted, shown, shrunk, interrupted };
}

/** After a clean PCT run: the paper's bound on missing a depth-d bug. */
export function pctBound(n: number, k: number, d: number, runs: number): number {
  return Math.pow(1 - PctStrategy.hitProbability(n, k, d), runs);
}

function fmtBound(p: number): string {
  return p < 1e-4 ? p.toExponential(2) : p.toFixed(4);
}

export function renderFuzz(o: FuzzOutcome, opts: FuzzOpts, c: ReturnType<typeof chalkFor>, nThreads: number): string {
  const shard = opts.shard.n > 1 ? `, shard ${opts.shard.i} of ${opts.shard.n}` : '';
  let s = `${c.bold(o.scenario)} on ${o.kernel}: ${o.runs} schedules (${o.label}, seeds 0..${o.seedsCovered - 1}${shard})${o.interrupted ? ', interrupted' : ''}\n`;
  if (o.distinct.length === 0) {
    s += c.green('no violation') + ' in these schedules (sampled, not a proof)\n';
    if (opts.strategy === 'pct') {
      const p = pctBound(nThreads, o.k, opts.depth, o.runs);
      s += `PCT bound: P(miss a depth-${opts.depth} bug) <= (1 - 1/(n*k^(d-1)))^runs = (1 - 1/(${nThreads}*${o.k}^${opts.depth - 1}))^${o.runs} = ${fmtBound(p)} (n=${nThreads} threads, k=${o.k} steps)\n`;
    }
    return s;
  }
  for (const d of o.distinct) {
    s += `${c.red('✗ ' + d.id)} at ${d.place === '-' ? 'no op' : d.place}: first at seed ${d.firstSeed}, in ${d.count} schedule${d.count === 1 ? '' : 's'}\n    ${d.message}\n`;
  }
  if (o.shown !== null && o.shrunk !== null) {
    s += `\nseed ${o.distinct[0]!.firstSeed}, shrunk from ${o.shrunk.from.preemptions} context switches and ${o.shrunk.from.steps} steps to ${o.shrunk.to.preemptions} and ${o.shrunk.to.steps}:\n\n`;
    s += renderTrace(o.shown, c);
    s += '\n' + renderViolations(o.shown, c);
    s += `\n${reproduceLine(o.shown)}\n`;
  }
  return s;
}

/** One corpus entry per distinct violation id (shrunk for that id), written atomically. */
function saveFailures(file: string, scn: Scenario, o: FuzzOutcome, opts: FuzzOpts): string[] {
  const kernel = kernelFor(scn, opts.kernel);
  const names: string[] = [];
  const done = new Set<string>();
  for (const d of o.distinct) {
    if (done.has(d.id)) continue;
    done.add(d.id);
    const s = shrinkToken(scn, kernel.flags, d.choices, d.id, opts.maxSteps);
    const entry: CorpusEntry = { format: CORPUS_FORMAT, daxsim: VERSION, scenario: file, kernel: kernel.name, violation: d.id, schedule: s.token };
    const name = corpusFileName(scn.name, entry);
    writeOut('--save-failures', join(opts.saveFailures!, name), corpusText(entry));
    names.push(name);
  }
  return names;
}

export async function fuzzCommand(files: string[], opts: FuzzOpts, io: Io, shouldStop: () => boolean): Promise<number> {
  checkKernelFlag(opts.kernel);
  if (opts.saveFailures !== undefined) {
    try {
      if (!statSync(opts.saveFailures).isDirectory()) throw new Error('not a directory');
    } catch {
      throw new InputError([{ file: '--save-failures', line: 1, col: 1, message: `${opts.saveFailures} is not a directory` }]);
    }
  }
  const vocab = vocabulary();
  const scns = files.map((f) => ({ f, scn: loadScenarioFile(f, vocab) }));
  for (const { scn } of scns) assertSupported(scn, kernelFor(scn, opts.kernel));
  const c = chalkFor(opts.color, io.env, io.stdout);
  const tty = io.stderr.isTTY === true && !io.env.CI && opts.reporter === 'pretty';
  // pretty (and json) on stdout are fuzz's own; every other format, or --reporter-out, goes through the report model
  const session = opts.reporterOut !== undefined || (opts.reporter !== 'pretty' && opts.reporter !== 'json') ? openReport(opts, io) : null;
  const name = caseNamer(scns.map((x) => x.scn));
  session?.reporter.start({ command: 'fuzz', daxsim: VERSION, cases: scns.length, runs: opts.runs });
  let failed = false;
  let interrupted = false;
  const docs: object[] = [];
  const t0 = process.hrtime.bigint();
  const deadline = opts.time !== undefined ? t0 + BigInt(Math.round(opts.time * 1e9)) : null;
  const stop = () => shouldStop() || (deadline !== null && process.hrtime.bigint() > deadline);
  for (const { f, scn } of scns) {
    let last = 0n;
    const o = await fuzzScenario(f, scn, opts, stop, (runs, found) => {
      if (!tty) return;
      const now = process.hrtime.bigint();
      if (now - last < 200_000_000n) return;
      last = now;
      const secs = Number(now - t0) / 1e9;
      io.stderr.write(`\r${scn.name}: ${runs} schedules, ${found} violations, ${Math.round(runs / Math.max(secs, 1e-3))} schedules/s, ${secs.toFixed(1)} s `);
    });
    if (tty) io.stderr.write('\r\x1b[K');
    if (o.distinct.length > 0) failed = true;
    if (opts.saveFailures !== undefined && o.distinct.length > 0) {
      const saved = saveFailures(f, scn, o, opts);
      if (opts.reporter === 'pretty') io.stdout.write(`saved ${saved.length} corpus entr${saved.length === 1 ? 'y' : 'ies'} to ${opts.saveFailures}: ${saved.join(', ')}\n`);
    }
    if (o.interrupted && shouldStop()) interrupted = true;
    if (session !== null) {
      session.reporter.case(fuzzCase(scn, o, name(scn, o.kernel)));
    } else if (opts.reporter === 'json') {
      docs.push({
        file: o.file,
        scenario: o.scenario,
        kernel: o.kernel,
        strategy: o.label,
        schedules: o.runs,
        seeds: [0, o.seedsCovered],
        shard: opts.shard,
        interrupted: o.interrupted,
        violations: o.distinct.map((d) => ({ id: d.id, place: d.place, message: d.message, firstSeed: d.firstSeed, count: d.count })),
        pctBound: opts.strategy === 'pct' && o.distinct.length === 0 ? pctBound(scn.threads.length, o.k, opts.depth, o.runs) : null,
        shown: o.shown ? runToJson(o.shown) : null,
      });
    } else {
      io.stdout.write(renderFuzz(o, opts, c, scn.threads.length) + '\n');
    }
    if (interrupted) break;
  }
  const code = interrupted ? 130 : failed ? 1 : 0;
  if (session !== null) {
    session.reporter.end({ exitCode: code });
    session.finish();
  } else if (opts.reporter === 'json') {
    io.stdout.write(JSON.stringify({ version: 1, results: docs }, null, 2) + '\n');
  }
  return code;
}

/** A fuzzed scenario as a report case: it fails when any schedule broke a promise. */
function fuzzCase(scn: Scenario, o: FuzzOutcome, caseName: string): ReportCase {
  const firstOp = o.shown?.violations.find((v) => v.op !== null)?.op?.pos ?? scn.namePos ?? scn.pos;
  const ids = [...new Set(o.distinct.map((d) => d.id))];
  return {
    name: caseName,
    scenario: scn.name,
    file: scn.file,
    kernel: o.kernel,
    line: firstOp.line,
    col: firstOp.col,
    expected: null,
    seen: ids.map((id) => ({ id, seed: o.distinct.find((d) => d.id === id)!.firstSeed })),
    status: ids.length > 0 ? 'fail' : 'pass',
    missing: [],
    unexpected: ids,
    schedules: o.runs,
    exploration: 'sampled',
    shown: o.shown !== null ? { result: o.shown, how: `seed ${o.distinct[0]!.firstSeed}, shrunk` } : null,
    reproduce: o.shown !== null ? reproduceLine(o.shown) : null,
  };
}
