// Shared test helpers: load a scenario from text, run main() in-process.
import { loadScenario } from '../src/scenario/load.js';
import { vocabulary } from '../src/cli/vocab.js';
import { main } from '../src/cli/main.js';
import { runScenario, type RunResult, type RunOptions } from '../src/check/run.js';
import type { Scenario } from '../src/scenario/types.js';

export function scenario(text: string, file = 'test.yaml'): Scenario {
  return loadScenario(text, file, vocabulary());
}

export function run(scn: Scenario, opts: RunOptions): RunResult {
  return runScenario(scn, opts);
}

/** Violation ids seen over seeds 0..n-1, with the first seed of each. */
export function seen(scn: Scenario, kernel: string, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let s = 0; s < n; s++) {
    for (const v of runScenario(scn, { kernel, seed: String(s) }).violations) if (!m.has(v.id)) m.set(v.id, s);
  }
  return m;
}

export interface Captured {
  code: number;
  out: string;
  err: string;
}

export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: { write: (s: string) => (out += s), isTTY: false },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    env,
  });
  return { code, out, err };
}

/** The texts of a run's trace events, as `thread: text`. */
export function events(r: RunResult): string[] {
  return r.trace.map((e) => `${e.thread >= 0 ? r.threads[e.thread] : '-'}: ${e.text}`);
}

/** Asserts that `needles` occur in `hay` in this order (each matched by substring). */
export function inOrder(hay: string[], needles: string[]): boolean {
  let i = 0;
  for (const h of hay) if (i < needles.length && h.includes(needles[i]!)) i++;
  return i === needles.length;
}
