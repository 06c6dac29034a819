// `--reporter github`: the full pretty report, plus GitHub Actions workflow
// commands (`::error file=…,line=…,col=…,title=…::message`) that annotate the
// scenario line of the op where a violation happened. GitHub keeps at most 10
// error annotations per step and drops the rest silently, so the text report
// is always printed too; a failing check case's trace goes in a collapsed
// `::group::` of the log.
//
// Escaping is the toolkit's (actions/toolkit packages/core/src/command.ts):
// message data `%` `\r` `\n`; property values additionally `:` and `,`.
import type { ChalkInstance } from 'chalk';
import { Chalk } from 'chalk';
import { PrettyReporter, printable, promiseOf, renderRun } from './pretty.js';
import { caseSummary, type ReportCase, type ReportEnd, type ReportStart, type Reporter, type Sink } from './model.js';

const plain = new Chalk({ level: 0 });

export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export interface Annotation {
  file: string;
  line: number;
  col: number;
  title: string;
  message: string;
}

/** One workflow command line (with its newline). */
export function errorCommand(a: Annotation): string {
  const props = `file=${escapeProperty(a.file)},line=${a.line},col=${a.col},title=${escapeProperty(a.title)}`;
  return `::error ${props}::${escapeData(a.message)}\n`;
}

/** The annotations of one case: one per violation of a `run`; one per failed `check` case. */
export function annotations(c: ReportCase): Annotation[] {
  if (c.status !== 'fail') return [];
  const r = c.shown?.result;
  if (c.expected === null) {
    if (!r) return [];
    return r.violations.map((v) => ({
      file: c.file,
      line: v.op?.pos.line ?? c.line,
      col: v.op?.pos.col ?? c.col,
      title: `daxsim: ${v.id} in ${c.scenario} on ${c.kernel}`,
      message: `${v.thread ? `${v.thread}, ` : ''}step ${v.step}: ${printable(v.message)}\nThe promise broken: ${promiseOf(v.id)}.${c.reproduce ? `\n${c.reproduce}` : ''}`,
    }));
  }
  const lines = [caseSummary(c)];
  if (c.missing.length) lines.push(`not seen: ${c.missing.join(', ')}`);
  const unexpected = r ? r.violations.filter((v) => c.unexpected.includes(v.id)) : [];
  for (const v of unexpected) lines.push(`${v.id}: ${printable(v.message)}`);
  if (c.reproduce) lines.push(c.reproduce);
  return [{ file: c.file, line: c.line, col: c.col, title: `daxsim: ${c.scenario} on ${c.kernel} does not match expect:`, message: lines.join('\n') }];
}

export class GithubReporter implements Reporter {
  private readonly pretty: PrettyReporter;
  private command: ReportStart['command'] = 'run';
  constructor(private readonly out: Sink, c: ChalkInstance) {
    this.pretty = new PrettyReporter(out, c);
  }

  start(s: ReportStart): void {
    this.command = s.command;
    this.pretty.start(s);
  }

  case(c: ReportCase): void {
    this.pretty.case(c);
    if (this.command !== 'run' && c.status === 'fail' && c.shown) {
      this.out.write(`::group::${escapeData(`trace: ${c.name}`)}\n`);
      this.out.write(renderRun(c.shown.result, plain, c.shown.how));
      this.out.write('::endgroup::\n');
    }
    for (const a of annotations(c)) this.out.write(errorCommand(a));
  }

  end(e: ReportEnd): void {
    this.pretty.end();
    void e;
  }
}
