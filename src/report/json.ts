// The machine report of one run: one JSON document (events, violations, schedule token).
import type { RunResult } from '../check/run.js';
import { reproduceLine } from './pretty.js';

export const JSON_REPORT_VERSION = 1;

export function runToJson(r: RunResult, extra: Record<string, unknown> = {}): object {
  return {
    version: JSON_REPORT_VERSION,
    scenario: r.scenario,
    file: r.file,
    kernel: r.kernel,
    flags: r.flags,
    seed: r.seed,
    schedule: r.schedule,
    steps: r.steps,
    threads: r.threads,
    ...extra,
    events: r.trace.map((e) => ({ step: e.step, thread: e.thread >= 0 ? r.threads[e.thread] : null, kind: e.kind, text: e.text })),
    violations: r.violations.map((v) => ({
      id: v.id,
      step: v.step,
      thread: v.thread,
      message: v.message,
      line: v.op?.pos.line ?? null,
      col: v.op?.pos.col ?? null,
    })),
    reproduce: reproduceLine(r),
  };
}
