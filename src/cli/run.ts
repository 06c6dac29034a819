// daxsim run: one scenario, one kernel, one schedule; the interleaving and its verdict.
import { findProfile, PROFILES } from '../kernel/versions.js';
import { runScenario, kernelFor, assertSupported, type RunResult } from '../check/run.js';
import { loadScenarioFile } from '../scenario/load.js';
import { InputError } from '../scenario/diagnostic.js';
import { renderRun } from '../report/pretty.js';
import { runToJson } from '../report/json.js';
import { chalkFor, type Io } from './io.js';
import { vocabulary } from './vocab.js';

export interface RunOpts {
  kernel?: string;
  seed?: string;
  schedule?: string;
  runs: number;
  reporter: 'pretty' | 'json';
  maxSteps?: number;
  color?: boolean;
}

export function checkKernelFlag(name: string | undefined): void {
  if (name !== undefined && findProfile(name) === undefined) {
    throw new InputError([{ file: '--kernel', line: 1, col: 1, message: `unknown kernel profile '${name}' (profiles: ${PROFILES.map((p) => p.name).join(', ')})` }]);
  }
}

export function runCommand(file: string, opts: RunOpts, io: Io): number {
  checkKernelFlag(opts.kernel);
  const scn = loadScenarioFile(file, vocabulary());
  const kernel = kernelFor(scn, opts.kernel);
  assertSupported(scn, kernel);
  const base = { kernel: kernel.name, maxSteps: opts.maxSteps };
  let r: RunResult;
  let header: string;
  const extra: Record<string, unknown> = {};
  if (opts.schedule !== undefined) {
    r = runScenario(scn, { ...base, schedule: opts.schedule, record: true });
    header = 'replayed schedule';
  } else if (opts.seed !== undefined) {
    r = runScenario(scn, { ...base, seed: opts.seed, record: true });
    header = `seed ${opts.seed}`;
  } else {
    let failing: string | null = null;
    for (let s = 0; s < opts.runs; s++) {
      if (runScenario(scn, { ...base, seed: String(s) }).violations.length > 0) {
        failing = String(s);
        break;
      }
    }
    r = runScenario(scn, { ...base, seed: failing ?? '0', record: true });
    header = failing !== null
      ? `seed ${failing}, the first of seeds 0..${opts.runs - 1} that fails`
      : `no violation in seeds 0..${opts.runs - 1} (sampled, not a proof); seed 0 shown`;
    extra.searched = opts.runs;
  }
  if (opts.reporter === 'json') {
    io.stdout.write(JSON.stringify(runToJson(r, extra), null, 2) + '\n');
  } else {
    io.stdout.write(renderRun(r, chalkFor(opts.color, io.env, io.stdout), header));
  }
  return r.violations.length > 0 ? 1 : 0;
}
