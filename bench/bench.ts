// daxsim benchmark: prints a table of figures; asserts nothing (targets are in the README).
// Run: npm run bench [-- --quick]
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { loadScenarioFile } from '../src/scenario/load.js';
import { vocabulary } from '../src/cli/vocab.js';
import { kernelFor, buildRun, finishRun } from '../src/check/run.js';
import { estimateSteps, runChunk, strategyFor, type FuzzConfig } from '../src/check/fuzz.js';
import { exploreScenario } from '../src/check/explore.js';
import type { Scenario } from '../src/scenario/types.js';
import type { Flags } from '../src/kernel/versions.js';

const quick = process.argv.includes('--quick');
const BASES = quick ? 5 : 20;
const CAP = 10_000;

function now(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** Schedules per second and steps per second of random fuzzing, no trace, one core. */
function throughput(scn: Scenario, flags: Flags): { schedules: number; steps: number } {
  const cfg: FuzzConfig = { strategy: 'random', depth: 1 };
  runChunk(scn, flags, cfg, 0, 500, { i: 1, n: 1 }, 1); // warm up
  let runs = 0;
  let steps = 0;
  const t0 = now();
  let seed = 1000;
  while (now() - t0 < (quick ? 0.3 : 1.5)) {
    const r = runChunk(scn, flags, cfg, seed, seed + 256, { i: 1, n: 1 }, 1);
    seed += 256;
    runs += r.runs;
    steps += r.steps;
  }
  const dt = now() - t0;
  return { schedules: runs / dt, steps: steps / dt };
}

/** Schedules until the first violation for one seed base, or null past CAP. */
function toFirst(scn: Scenario, flags: Flags, cfg: FuzzConfig, base: number, k: number): number | null {
  for (let i = 0; i < CAP; i++) {
    const { sim, model } = buildRun(scn, flags, {});
    finishRun(scn, sim, model, strategyFor(base + i, cfg, scn.threads.length, k).strategy);
    if (sim.violations.length > 0) return i + 1;
  }
  return null;
}

function median(xs: (number | null)[]): string {
  const v = xs.map((x) => (x === null ? Infinity : x)).sort((a, b) => a - b);
  const m = v[Math.floor((v.length - 1) / 2)]!;
  return m === Infinity ? `>${CAP}` : String(m);
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

const rows: string[][] = [];
const header = ['scenario', 'kernel', 'thr', 'steps/s', 'sched/s', 'rnd→1st', 'pct1→1st', 'pct2→1st', 'pct3→1st', 'dpor→1st', 'dpor execs', 'dfs execs', 'explore s'];
const vocab = vocabulary();
for (const f of readdirSync('scenarios').filter((n) => n.endsWith('.yaml')).sort()) {
  const scn = loadScenarioFile(`scenarios/${f}`, vocab);
  for (const e of scn.expect) {
    const { flags } = kernelFor(scn, e.kernel);
    const tp = throughput(scn, flags);
    const k = estimateSteps(scn, flags);
    const buggy = e.verdict !== 'clean';
    const firsts = (cfg: FuzzConfig) => (buggy ? median(Array.from({ length: BASES }, (_, b) => toFirst(scn, flags, cfg, (b + 1) * 1_000_000, k))) : '-');
    const t0 = now();
    const d = exploreScenario(scn, { kernel: e.kernel });
    const exploreS = now() - t0;
    const dfs = exploreScenario(scn, { kernel: e.kernel, dpor: false, maxExecutions: quick ? 20_000 : 50_000 });
    const firstDpor = d.violations.length ? String(Math.min(...d.violations.map((v) => v.firstAt))) : '-';
    rows.push([
      scn.name, e.kernel, String(scn.threads.length), fmt(tp.steps), fmt(tp.schedules),
      firsts({ strategy: 'random', depth: 1 }), firsts({ strategy: 'pct', depth: 1 }), firsts({ strategy: 'pct', depth: 2 }), firsts({ strategy: 'pct', depth: 3 }),
      firstDpor, String(d.executions), dfs.complete ? String(dfs.executions) : `>${dfs.executions}`, exploreS.toFixed(2),
    ]);
  }
}

function table(h: string[], rs: string[][]): string {
  const w = h.map((x, i) => Math.max(x.length, ...rs.map((r) => r[i]!.length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
  return [line(h), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...rs.map(line)].join('\n');
}

console.log(`daxsim bench on ${os.cpus()[0]?.model ?? 'unknown cpu'} (${os.cpus().length} cores), Node ${process.version}${quick ? ', --quick' : ''}`);
console.log(`schedules to the first violation: median over ${BASES} seed bases (- = the kernel is expected clean)\n`);
console.log(table(header, rows));

// Workers: fuzz throughput with --jobs 1 and --jobs 2 (whole CLI runs, so worker start-up counts).
const fuzzRuns = quick ? 40_000 : 200_000;
const scen = 'scenarios/write-fault-vs-read-fault-hole.yaml';
const timeJobs = (j: number) => {
  const t0 = now();
  const r = spawnSync(process.execPath, ['bin/daxsim.js', 'fuzz', scen, '--kernel', 'v4.7', '--strategy', 'random', '--runs', String(fuzzRuns), '--jobs', String(j)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return fuzzRuns / (now() - t0);
};
const j1 = timeJobs(1);
const j2 = timeJobs(2);
console.log(`\nfuzz ${fuzzRuns} schedules of ${scen} (v4.7, clean): --jobs 1 ${fmt(j1)}/s, --jobs 2 ${fmt(j2)}/s, speed-up ${(j2 / j1).toFixed(2)}x`);

// Memory: peak RSS of a long fuzz run in one process.
const memRuns = quick ? 100_000 : 1_000_000;
const mem = spawnSync(process.execPath, ['-e', `
  const { loadScenarioFile } = await import('./dist/src/scenario/load.js');
  const { vocabulary } = await import('./dist/src/cli/vocab.js');
  const { kernelFor } = await import('./dist/src/check/run.js');
  const { runChunk } = await import('./dist/src/check/fuzz.js');
  const scn = loadScenarioFile('${scen}', vocabulary());
  const { flags } = kernelFor(scn, 'v4.7');
  for (let s = 0; s < ${memRuns}; s += 4096) runChunk(scn, flags, { strategy: 'random', depth: 1 }, s, Math.min(${memRuns}, s + 4096), { i: 1, n: 1 }, 1);
  console.log(process.resourceUsage().maxRSS);
`], { encoding: 'utf8', env: { ...process.env } });
if (mem.status !== 0) throw new Error(mem.stderr);
console.log(`fuzz ${memRuns} schedules in one process: peak RSS ${(Number(mem.stdout.trim()) / 1024).toFixed(0)} MB`);
