// daxsim run: one scenario, one kernel, one schedule; the interleaving and its verdict.
import { findProfile, PROFILES } from '../kernel/versions.js';
import { runScenario, kernelFor, assertSupported, type RunResult } from '../check/run.js';
import { loadScenarioFile } from '../scenario/load.js';
import { InputError } from '../scenario/diagnostic.js';
import { chromeTraceJson, toChromeTrace } from '../report/perfetto.js';
import { type Io } from './io.js';
import { vocabulary } from './vocab.js';
import { checkOutPath, openReport, runCase, writeOut, type ReportOpts } from './report.js';
import { VERSION } from '../version.js';

export interface RunOpts extends ReportOpts {
  kernel?: string;
  seed?: string;
  schedule?: string;
  runs: number;
  maxSteps?: number;
  /** write the shown run as a Chrome Trace Event file (Perfetto) */
  traceOut?: string;
}

export function checkKernelFlag(name: string | undefined): void {
  if (name !== undefined && findProfile(name) === undefined) {
    throw new InputError([{ file: '--kernel', line: 1, col: 1, message: `unknown kernel profile '${name}' (profiles: ${PROFILES.map((p) => p.name).join(', ')})` }]);
  }
}

export function runCommand(file: string, opts: RunOpts, io: Io): number {
  checkKernelFlag(opts.kernel);
  checkOutPath('--trace-out', opts.traceOut);
  const report = openReport(opts, io);
  const scn = loadScenarioFile(file, vocabulary());
  const kernel = kernelFor(scn, opts.kernel);
  assertSupported(scn, kernel);
  const base = { kernel: kernel.name, maxSteps: opts.maxSteps };
  let r: RunResult;
  let header: string;
  let searched: number | undefined;
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
    searched = opts.runs;
  }
  const code = r.violations.length > 0 ? 1 : 0;
  if (opts.traceOut !== undefined) writeOut('--trace-out', opts.traceOut, chromeTraceJson(toChromeTrace(r, VERSION)));
  const out = report.reporter;
  out.start({ command: 'run', daxsim: VERSION, cases: 1 });
  out.case(runCase(scn, r, header, searched));
  out.end({ exitCode: code });
  report.finish();
  return code;
}
