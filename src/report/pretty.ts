// The human report of one run: the interleaving as one column per thread (the
// way kernel commit messages draw races), then the violations, then the line
// that reproduces the run.
import type { ChalkInstance } from 'chalk';
import type { RunResult } from '../check/run.js';
import { INVARIANTS } from '../check/invariants.js';

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
  for (const e of shown) if (e.thread >= 0) cols[e.thread]!.push(e.text);
  const width = r.threads.map((name, i) => Math.min(MAX_COL, Math.max(name.length, ...cols[i]!.map((t) => t.length + 2))));
  const lines: string[] = [];
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - s.length));
  lines.push(c.bold(`${pad('step', 6)}${r.threads.map((name, i) => pad(name, width[i]! + 2)).join('').trimEnd()}`));
  let lastStep = -1;
  for (const e of shown) {
    const col = e.thread < 0 ? 0 : e.thread;
    let text = e.text;
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
    out.push(`    ${v.message}`);
  }
  return out.join('\n') + '\n';
}

export function renderRun(r: RunResult, c: ChalkInstance, header: string): string {
  const flags = Object.entries(r.flags).map(([k, v]) => `${k}=${v ? 'on' : 'off'}`).join(' ');
  let s = `${c.bold(r.scenario)} on ${r.kernel} (${flags}), ${header}\n\n`;
  s += renderTrace(r, c);
  s += '\n' + renderViolations(r, c);
  s += `\n${reproduceLine(r)}\n`;
  return s;
}
