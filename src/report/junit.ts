// `--reporter junit`: JUnit XML for CI test-report views (GitLab, Jenkins,
// GitHub test-report actions). One <testsuite> per scenario file, one
// <testcase> per scenario × kernel with a unique name, `file` and `line`
// attributes (read by GitLab and the GitHub JUnit actions), and for a failed
// case a <failure> holding the trace and the reproduce line.
//
// The document follows the Jenkins xunit-plugin junit-10.xsd: its required
// attributes (testsuite name/tests/failures/errors, testcase name), its
// element order, no attributes it does not declare except testcase `file`
// and `line`, which that XSD lacks but the report views read. No timestamp,
// hostname or time attributes: the output is the same bytes on every machine.
import { renderRun } from './pretty.js';
import { caseSummary, tally, verdictText, type ReportCase, type ReportStart, type Reporter, type Sink } from './model.js';
import { Chalk } from 'chalk';

const plain = new Chalk({ level: 0 });

/** Characters XML 1.0 cannot hold at all (not even escaped): C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF. */
const INVALID_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function removeInvalidXmlChars(s: string): string {
  return s.replace(INVALID_XML, '');
}

/** Escapes text content. */
export function xmlText(s: string): string {
  return removeInvalidXmlChars(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value (quotes, and whitespace that attribute normalisation would fold). */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function attrs(a: Record<string, string | number | undefined>): string {
  let s = '';
  for (const [k, v] of Object.entries(a)) if (v !== undefined) s += ` ${k}="${xmlAttr(String(v))}"`;
  return s;
}

/** The text of a failed case: what disagreed, then the shown run's trace (which ends with its reproduce line). */
export function failureText(c: ReportCase): string {
  const parts: string[] = [];
  if (c.expected !== null) {
    parts.push(caseSummary(c));
    if (c.missing.length) parts.push(`not seen: ${c.missing.join(', ')}`);
    if (c.unexpected.length) parts.push(`not expected: ${c.unexpected.join(', ')}`);
    parts.push('');
  }
  if (c.shown) parts.push(renderRun(c.shown.result, plain, c.shown.how).trimEnd());
  else if (c.reproduce) parts.push(c.reproduce);
  return parts.join('\n').trimEnd() + '\n';
}

function failureMessage(c: ReportCase): string {
  if (c.expected === null) {
    const ids = c.seen.map((s) => s.id);
    return `${ids.length} violation${ids.length === 1 ? '' : 's'}: ${ids.join(', ')}`;
  }
  const bits: string[] = [];
  if (c.unexpected.length) bits.push(`saw ${c.unexpected.join(', ')}`);
  if (c.missing.length) bits.push(`never saw ${c.missing.join(', ')}`);
  return `expected ${verdictText(c.expected)}: ${bits.join('; ')}`;
}

export class JunitReporter implements Reporter {
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
    const byFile = new Map<string, ReportCase[]>();
    for (const c of this.cases) {
      const list = byFile.get(c.file);
      if (list) list.push(c);
      else byFile.set(c.file, [c]);
    }
    const all = tally(this.cases);
    const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
    lines.push(`<testsuites${attrs({ name: `daxsim ${s.command}`, tests: all.total, failures: all.failed, errors: 0 })}>`);
    for (const [file, cases] of byFile) {
      const t = tally(cases);
      lines.push(`  <testsuite${attrs({ name: file, tests: t.total, failures: t.failed, errors: 0, skipped: t.skipped })}>`);
      lines.push('    <properties>');
      lines.push(`      <property${attrs({ name: 'daxsim', value: s.daxsim })}/>`);
      lines.push(`      <property${attrs({ name: 'scenario', value: cases[0]!.scenario })}/>`);
      lines.push('    </properties>');
      for (const c of cases) {
        const head = `    <testcase${attrs({ name: c.name, classname: `daxsim.${c.scenario}`, file: c.file, line: c.line })}`;
        if (c.status === 'skip') {
          lines.push(`${head}>`);
          lines.push(`      <skipped${attrs({ message: c.reason ?? 'skipped' })}/>`);
          lines.push('    </testcase>');
          continue;
        }
        lines.push(`${head}>`);
        if (c.status === 'fail') {
          lines.push(`      <failure${attrs({ message: failureMessage(c), type: c.expected === null ? 'violation' : 'verdict' })}>${xmlText(failureText(c))}</failure>`);
        }
        lines.push(`      <system-out>${xmlText(`${caseSummary(c)} (${c.exploration})`)}</system-out>`);
        lines.push('    </testcase>');
      }
      lines.push('  </testsuite>');
    }
    lines.push('</testsuites>');
    this.out.write(lines.join('\n') + '\n');
  }
}
