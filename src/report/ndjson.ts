// `--reporter ndjson`: one JSON object per line (https://github.com/ndjson/ndjson-spec),
// streamed as cases finish. Every object has `type`; the first one (`start`)
// carries `version`, bumped when a field changes meaning or goes away. The
// fields are listed in the README ("NDJSON events"); a consumer should ignore
// types and fields it does not know.
//
//   start      {type, version, daxsim, command, cases, runs?}
//   event      {type, case, step, thread, kind, text, other?}   the shown run's trace
//   violation  {type, case, id, step, thread, message, file, line, col}
//   case       {type, name, scenario, file, line, col, kernel, status, expected,
//               seen, missing, unexpected, schedules, exploration, seed, schedule, reproduce, reason?}
//   end        {type, total, passed, failed, skipped, exitCode}
import { tally, type ReportCase, type ReportEnd, type ReportStart, type Reporter, type Sink } from './model.js';

export const NDJSON_VERSION = 1;

export class NdjsonReporter implements Reporter {
  private readonly cases: ReportCase[] = [];
  constructor(private readonly out: Sink) {}

  private emit(o: Record<string, unknown>): void {
    // JSON.stringify escapes every control character, so a line never holds a raw newline.
    this.out.write(JSON.stringify(o) + '\n');
  }

  start(s: ReportStart): void {
    const o: Record<string, unknown> = { type: 'start', version: NDJSON_VERSION, daxsim: s.daxsim, command: s.command, cases: s.cases };
    if (s.runs !== undefined) o.runs = s.runs;
    this.emit(o);
  }

  case(c: ReportCase): void {
    this.cases.push(c);
    const r = c.shown?.result;
    if (r) {
      const name = (t: number): string | null => (t >= 0 ? r.threads[t] ?? null : null);
      for (const e of r.trace) {
        const o: Record<string, unknown> = { type: 'event', case: c.name, step: e.step, thread: name(e.thread), kind: e.kind, text: e.text };
        if (e.other !== undefined) o.other = name(e.other);
        this.emit(o);
      }
      for (const v of r.violations) {
        this.emit({
          type: 'violation',
          case: c.name,
          id: v.id,
          step: v.step,
          thread: v.thread,
          message: v.message,
          file: r.file,
          line: v.op?.pos.line ?? null,
          col: v.op?.pos.col ?? null,
        });
      }
    }
    const o: Record<string, unknown> = {
      type: 'case',
      name: c.name,
      scenario: c.scenario,
      file: c.file,
      line: c.line,
      col: c.col,
      kernel: c.kernel,
      status: c.status,
      expected: c.expected,
      seen: Object.fromEntries(c.seen.map((s) => [s.id, s.seed === null ? null : String(s.seed)])),
      missing: c.missing,
      unexpected: c.unexpected,
      schedules: c.schedules,
      exploration: c.exploration,
      seed: r ? r.seed : null,
      schedule: r ? r.schedule : null,
      reproduce: c.reproduce,
    };
    if (c.reason !== undefined) o.reason = c.reason;
    this.emit(o);
  }

  end(e: ReportEnd): void {
    this.emit({ type: 'end', ...tally(this.cases), exitCode: e.exitCode });
  }
}
