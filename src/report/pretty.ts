// The human report of one run: the interleaving as one column per thread (the
// way kernel commit messages draw races), then the violations, then the line
// that reproduces the run.
import type { ChalkInstance } from 'chalk';
import type { RunResult } from '../check/run.js';
import { INVARIANTS } from '../check/invariants.js';
import { findProfile } from '../kernel/versions.js';
import { caseSummary, tally, type ReportCase, type ReportStart, type Reporter, type Sink, type Tally } from './model.js';

const MAX_COL = 64;

function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const out: string[] = [];
  let rest = text;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(' ', width);
    if (cut <= width / 2) cut = width;
    out.push(rest.slice(0, cut));
    rest = '  ' + rest.slice(cut).trimStart();
  }
  out.push(rest);
  return out;
}

/**
 * Text from a scenario (a stored value may hold anything) made safe for a
 * terminal or a CI log: control characters, which could move the cursor,
 * start a new line that a CI runner reads as a command, or change colours,
 * are shown as escapes (`\n`, `\x1b`).
 */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\t') return '\\t';
    if (ch === '\r') return '\\r';
    const n = ch.charCodeAt(0);
    return n > 0xff ? `\\u${n.toString(16).padStart(4, '0')}` : `\\x${n.toString(16).padStart(2, '0')}`;
  });
}

export function reproduceLine(r: RunResult): string {
  return `Reproduce: daxsim run ${r.file} --kernel ${r.kernel} --schedule ${r.schedule}`;
}

export function promiseOf(id: string): string {
  return INVARIANTS.find((i) => i.id === id)?.promise ?? '';
}

/** The trace table. Each event sits in its thread's column; the step is shown on its first line. */
export function renderTrace(r: RunResult, c: ChalkInstance): string {
  const n = r.threads.length;
  const cols: string[][] = r.threads.map(() => []);
  const shown = r.trace.filter((e) => e.kind !== 'enter' && e.kind !== 'exit' && e.kind !== 'wake');
  for (const e of shown) if (e.thread >= 0) cols[e.thread]!.push(printable(e.text));
  const width = r.threads.map((name, i) => Math.min(MAX_COL, Math.max(name.length, ...cols[i]!.map((t) => t.length + 2))));
  const lines: string[] = [];
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - s.length));
  lines.push(c.bold(`${pad('step', 6)}${r.threads.map((name, i) => pad(name, width[i]! + 2)).join('').trimEnd()}`));
  let lastStep = -1;
  for (const e of shown) {
    const col = e.thread < 0 ? 0 : e.thread;
    let text = printable(e.text);
    let style = (s: string) => s;
    if (e.kind === 'op') {
      text = `── ${text}`;
      style = c.cyan;
    } else if (e.kind === 'result') {
      text = `└─ ${text}`;
      style = c.cyan;
    } else if (e.kind === 'violation') {
      text = `✗ ${text}`;
      style = c.red;
    }
    const parts = wrap(text, width[col]!);
    parts.forEach((part, k) => {
      const stepCol = k === 0 && e.step !== lastStep ? String(e.step).padStart(4) + '  ' : '      ';
      let lead = '';
      for (let i = 0; i < col; i++) lead += ' '.repeat(width[i]! + 2);
      lines.push(`${stepCol}${lead}${style(part)}`.trimEnd());
    });
    lastStep = e.step;
  }
  void n;
  return lines.join('\n') + '\n';
}

/** The violations, one paragraph each: id, step, thread, the promise broken, what happened. */
export function renderViolations(r: RunResult, c: ChalkInstance): string {
  if (r.violations.length === 0) return c.green('no violation') + '\n';
  const out: string[] = [];
  for (const v of r.violations) {
    const where = v.op ? ` (${r.file}:${v.op.pos.line}:${v.op.pos.col})` : '';
    out.push(`${c.red('✗ ' + v.id)} at step ${v.step}${v.thread ? `, ${v.thread}` : ''}${where}: ${promiseOf(v.id)}.`);
    out.push(`    ${printable(v.message)}`);
  }
  return out.join('\n') + '\n';
}

/** The flags a run changed from its profile (the scenario's overrides), as `name=on|off`. */
export function flagOverrides(r: RunResult): string {
  const base = findProfile(r.kernel)?.flags as Record<string, boolean> | undefined;
  return Object.entries(r.flags)
    .filter(([k, v]) => base === undefined || base[k] !== v)
    .map(([k, v]) => `${k}=${v ? 'on' : 'off'}`)
    .join(' ');
}

export function renderRun(r: RunResult, c: ChalkInstance, header: string): string {
  const over = flagOverrides(r);
  let s = `${c.bold(r.scenario)} on ${r.kernel}${over ? ` with ${over}` : ''}, ${header}\n\n`;
  s += renderTrace(r, c);
  s += '\n' + renderViolations(r, c);
  s += `\n${reproduceLine(r)}\n`;
  return s;
}

/** One line per case of `check` (plus what was not seen and the reproduce line when it failed). */
export function renderCheckCase(k: ReportCase, c: ChalkInstance): string {
  if (k.status === 'skip') return `${c.yellow('-')} ${k.file}: ${k.reason ?? 'skipped'}`;
  const mark = k.status === 'pass' ? c.green('✓') : c.red('✗');
  let s = `${mark} ${k.file}  ${k.kernel}  ${caseSummary(k)}`;
  if (k.status === 'fail') {
    if (k.missing.length) s += `\n    not seen: ${k.missing.join(', ')}`;
    if (k.reproduce) s += `\n    ${k.reproduce}`;
  }
  return s;
}

/** The summary line under `check`'s cases. */
export function renderCheckSummary(t: Tally, runs: number | undefined, cases: readonly ReportCase[] = []): string {
  const matched = t.passed;
  const of = t.passed + t.failed;
  const proved = cases.filter((k) => k.status !== 'skip' && k.exploration === 'exhaustive').length;
  const sampled = cases.filter((k) => k.status !== 'skip' && k.exploration === 'sampled').length;
  const parts: string[] = [];
  if (proved > 0) parts.push(`${proved} by exhaustive DPOR exploration, a proof`);
  if (sampled > 0) parts.push(`${sampled} sampled${runs !== undefined ? ` with ${runs} random schedules each` : ''}: a sampled clean is evidence, not a proof`);
  return `${matched} of ${of} verdicts matched${parts.length ? ` (${parts.join('; ')})` : ''}`;
}

/** The human report: `run` prints the interleaving; `check` one line per case and a summary. */
export class PrettyReporter implements Reporter {
  private begin: ReportStart | null = null;
  private readonly cases: ReportCase[] = [];
  constructor(private readonly out: Sink, private readonly c: ChalkInstance) {}

  start(s: ReportStart): void {
    this.begin = s;
  }

  case(k: ReportCase): void {
    this.cases.push(k);
    if (this.begin?.command === 'run') {
      if (k.shown) this.out.write(renderRun(k.shown.result, this.c, k.shown.how));
    } else {
      this.out.write(renderCheckCase(k, this.c) + '\n');
    }
  }

  end(): void {
    if (this.begin?.command === 'run') return;
    this.out.write(`\n${renderCheckSummary(tally(this.cases), this.begin?.runs, this.cases)}\n`);
  }
}
