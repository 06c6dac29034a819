// The machine report of one run: one JSON document (events, violations, schedule token).
import type { RunResult } from '../check/run.js';
import { reproduceLine } from './pretty.js';
import type { ReportCase, ReportStart, Reporter, Sink } from './model.js';

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

/** A case as the JSON documents write it (check's `results` entries). */
export function caseToJson(c: ReportCase): Record<string, unknown> {
  return {
    file: c.file,
    scenario: c.scenario,
    kernel: c.kernel,
    expected: c.expected,
    seen: Object.fromEntries(c.seen.map((s) => [s.id, s.seed])),
    matched: c.status === 'pass',
    schedules: c.schedules,
    exploration: c.exploration,
    reproduce: c.reproduce,
  };
}

/**
 * `--reporter json`: one document at the end. `run` writes its run (runToJson);
 * `check` writes `{version, runs, matched, total, results, skipped}`.
 */
export class JsonReporter implements Reporter {
  private begin: ReportStart | null = null;
  private readonly cases: ReportCase[] = [];
  constructor(private readonly out: Sink) {}

  start(s: ReportStart): void {
    this.begin = s;
  }

  case(c: ReportCase): void {
    this.cases.push(c);
  }

  end(): void {
    const s = this.begin!;
    if (s.command === 'run') {
      for (const c of this.cases) {
        if (!c.shown) continue;
        const extra = c.searched !== undefined ? { searched: c.searched } : {};
        this.out.write(JSON.stringify(runToJson(c.shown.result, extra), null, 2) + '\n');
      }
      return;
    }
    const judged = this.cases.filter((c) => c.status !== 'skip');
    const doc: Record<string, unknown> = { version: JSON_REPORT_VERSION };
    if (s.command !== 'check') doc.command = s.command;
    if (s.runs !== undefined) doc.runs = s.runs;
    doc.matched = judged.filter((c) => c.status === 'pass').length;
    doc.total = judged.length;
    doc.results = judged.map(caseToJson);
    doc.skipped = this.cases.filter((c) => c.status === 'skip').map((c) => ({ file: c.file, scenario: c.scenario, reason: c.reason ?? null }));
    this.out.write(JSON.stringify(doc, null, 2) + '\n');
  }
}
