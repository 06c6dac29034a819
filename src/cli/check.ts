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
import { chalkFor, type Io } from './io.js';
import { vocabulary } from './vocab.js';

export interface CheckOpts {
  runs: number;
  reporter: 'pretty' | 'json';
  maxSteps?: number;
  color?: boolean;
}

export interface PairResult {
  file: string;
  scenario: string;
  kernel: string;
  expected: 'clean' | string[];
  /** id -> the first seed that showed it */
  seen: Map<string, number>;
  matched: boolean;
  schedules: number;
  /** a replay line for the first schedule that disagrees with the expectation */
  reproduce: string | null;
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

export function checkPair(scn: Scenario, kernelName: string, expected: 'clean' | string[], runs: number, maxSteps?: number): PairResult {
  const seen = new Map<string, number>();
  const want = new Set(expected === 'clean' ? [] : expected);
  let reproduce: string | null = null;
  for (let s = 0; s < runs; s++) {
    const r = runScenario(scn, { kernel: kernelName, seed: String(s), maxSteps });
    for (const v of r.violations) {
      if (!seen.has(v.id)) seen.set(v.id, s);
      if (!want.has(v.id) && reproduce === null) reproduce = reproduceLine(r);
    }
  }
  const matched = [...seen.keys()].every((id) => want.has(id)) && [...want].every((id) => seen.has(id));
  return { file: scn.file, scenario: scn.name, kernel: kernelName, expected, seen, matched, schedules: runs, reproduce };
}

export function checkCommand(paths: readonly string[], opts: CheckOpts, io: Io): number {
  const files = scenarioFiles(paths);
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
  if (diags.length) throw new InputError(diags);

  const c = chalkFor(opts.color, io.env, io.stdout);
  const results: PairResult[] = [];
  const lines: string[] = [];
  for (const scn of scenarios) {
    if (scn.expect.length === 0) {
      lines.push(`${c.yellow('-')} ${scn.file}: no expect: block, nothing to check`);
      continue;
    }
    for (const e of scn.expect) {
      const r = checkPair(scn, e.kernel, e.verdict, opts.runs, opts.maxSteps);
      results.push(r);
      lines.push(renderPair(r, c));
    }
  }
  const ok = results.filter((r) => r.matched).length;
  if (opts.reporter === 'json') {
    io.stdout.write(JSON.stringify({
      version: 1,
      runs: opts.runs,
      matched: ok,
      total: results.length,
      results: results.map((r) => ({
        file: r.file,
        scenario: r.scenario,
        kernel: r.kernel,
        expected: r.expected,
        seen: Object.fromEntries(r.seen),
        matched: r.matched,
        schedules: r.schedules,
        exploration: 'sampled',
        reproduce: r.reproduce,
      })),
    }, null, 2) + '\n');
  } else {
    io.stdout.write(lines.join('\n') + '\n');
    io.stdout.write(`\n${ok} of ${results.length} verdicts matched (sampled: ${opts.runs} random schedules per scenario and kernel; a sampled clean is evidence, not a proof)\n`);
  }
  return ok === results.length ? 0 : 1;
}

function renderPair(r: PairResult, c: ReturnType<typeof chalkFor>): string {
  const exp = r.expected === 'clean' ? 'clean' : `[${r.expected.join(', ')}]`;
  const seen = r.seen.size === 0 ? 'no violation' : [...r.seen].map(([id, s]) => `${id} (seed ${s})`).join(', ');
  const mark = r.matched ? c.green('✓') : c.red('✗');
  let s = `${mark} ${r.file}  ${r.kernel}  expected ${exp}, saw ${seen} in ${r.schedules} schedules`;
  if (!r.matched) {
    const want = new Set(r.expected === 'clean' ? [] : r.expected);
    const missing = [...want].filter((id) => !r.seen.has(id));
    if (missing.length) s += `\n    not seen: ${missing.join(', ')}`;
    if (r.reproduce) s += `\n    ${r.reproduce}`;
  }
  return s;
}
