// `--reporter tap`: TAP version 13 (https://testanything.org/tap-version-13-specification.html).
// One test point per case, each followed by a YAML diagnostics block indented
// two spaces between `---` and `...`; a skipped scenario is `ok N - ... # SKIP`.
// The plan `1..N` comes last, as the spec allows, so it always counts what was printed.
import { Chalk } from 'chalk';
import { stringify } from 'yaml';
import { renderRun } from './pretty.js';
import { caseSummary, tally, type ReportCase, type ReportStart, type Reporter, type Sink } from './model.js';

const plain = new Chalk({ level: 0 });

/** A test point's description: one line, no `#` (it would start a directive). */
function description(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}

/** The YAML block: every line indented two spaces, between `---` and `...`. */
function yamlBlock(o: Record<string, unknown>): string {
  const body = stringify(o, { lineWidth: 0 }).trimEnd();
  return ['  ---', ...body.split('\n').map((l) => (l === '' ? '' : `  ${l}`)), '  ...'].join('\n') + '\n';
}

export class TapReporter implements Reporter {
  private readonly cases: ReportCase[] = [];
  private begin: ReportStart | null = null;
  constructor(private readonly out: Sink) {}

  start(s: ReportStart): void {
    this.begin = s;
    this.out.write('TAP version 13\n');
  }

  case(c: ReportCase): void {
    this.cases.push(c);
    const n = this.cases.length;
    if (c.status === 'skip') {
      this.out.write(`ok ${n} - ${description(c.name)} # SKIP ${description(c.reason ?? 'skipped')}\n`);
      return;
    }
    this.out.write(`${c.status === 'pass' ? 'ok' : 'not ok'} ${n} - ${description(c.name)}\n`);
    const d: Record<string, unknown> = {
      message: caseSummary(c),
      file: c.file,
      line: c.line,
      col: c.col,
      kernel: c.kernel,
      expected: c.expected ?? 'no violation',
      seen: Object.fromEntries(c.seen.map((s) => [s.id, s.seed === null ? null : String(s.seed)])),
      schedules: c.schedules,
      exploration: c.exploration,
    };
    if (c.status === 'fail') {
      if (c.missing.length) d.missing = c.missing;
      if (c.unexpected.length) d.unexpected = c.unexpected;
      if (c.reproduce) d.reproduce = c.reproduce;
      if (c.shown) d.trace = renderRun(c.shown.result, plain, c.shown.how);
    }
    this.out.write(yamlBlock(d));
  }

  end(): void {
    const t = tally(this.cases);
    this.out.write(`1..${t.total}\n`);
    const what = this.begin?.command === 'run' ? 'runs without a violation' : 'verdicts matched';
    this.out.write(`# ${t.passed} of ${t.passed + t.failed} ${what}${t.skipped ? `, ${t.skipped} skipped` : ''}\n`);
  }
}
