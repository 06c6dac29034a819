// A small XML 1.0 reader and a structural check of JUnit XML against the rules
// of the Jenkins xunit-plugin junit-10.xsd (the "common JUnit XSD"): which
// elements may appear where, which attributes each may carry, which are
// required. One documented extension: <testcase> may also carry `file` and
// `line`, which GitLab and the GitHub JUnit actions read but the XSD lacks.
// Written for the tests, so it rejects anything daxsim should never write
// (comments, CDATA, DOCTYPE, processing instructions after the prolog).

export interface XmlElement {
  name: string;
  attrs: Map<string, string>;
  children: XmlElement[];
  /** text content, entities decoded (only for elements with text) */
  text: string;
  line: number;
}

const VALID_CHAR = /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*/;

export class XmlError extends Error {}

function decode(s: string, line: number): string {
  return s.replace(/&([^;&\s]*);?/g, (m, ref: string) => {
    if (!m.endsWith(';')) throw new XmlError(`line ${line}: bare '&'`);
    if (ref === 'amp') return '&';
    if (ref === 'lt') return '<';
    if (ref === 'gt') return '>';
    if (ref === 'quot') return '"';
    if (ref === 'apos') return "'";
    const num = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(ref);
    if (num) {
      const cp = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2]!, 10);
      const ch = String.fromCodePoint(cp);
      if (!VALID_CHAR.test(ch)) throw new XmlError(`line ${line}: character reference to an invalid character &${ref};`);
      return ch;
    }
    throw new XmlError(`line ${line}: unknown entity &${ref};`);
  });
}

/** Parses a whole document: an XML declaration, then exactly one element. Throws XmlError when it is not well-formed. */
export function parseXml(doc: string): XmlElement {
  if (!VALID_CHAR.test(doc)) throw new XmlError('the document holds characters XML 1.0 does not allow');
  let i = 0;
  let line = 1;
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) if (doc[i + k] === '\n') line++;
    i += n;
  };
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(doc);
  if (!decl) throw new XmlError('no <?xml version="1.0" encoding="UTF-8"?> declaration');
  advance(decl[0].length);
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  while (i < doc.length) {
    if (doc.startsWith('</', i)) {
      const m = /^<\/([A-Za-z_][A-Za-z0-9_.:-]*)\s*>/.exec(doc.slice(i));
      if (!m) throw new XmlError(`line ${line}: bad end tag`);
      const top = stack.pop();
      if (!top || top.name !== m[1]) throw new XmlError(`line ${line}: </${m[1]}> does not close <${top?.name}>`);
      advance(m[0].length);
      continue;
    }
    if (doc[i] === '<') {
      if (/^<[!?]/.test(doc.slice(i, i + 2))) throw new XmlError(`line ${line}: comments, CDATA, DOCTYPE and PIs are not expected`);
      advance(1);
      const nm = NAME.exec(doc.slice(i));
      if (!nm) throw new XmlError(`line ${line}: bad element name`);
      const el: XmlElement = { name: nm[0], attrs: new Map(), children: [], text: '', line };
      advance(nm[0].length);
      for (;;) {
        const ws = /^\s*/.exec(doc.slice(i))![0];
        advance(ws.length);
        if (doc.startsWith('/>', i)) {
          advance(2);
          break;
        }
        if (doc[i] === '>') {
          advance(1);
          stack.push(el);
          break;
        }
        if (ws.length === 0) throw new XmlError(`line ${line}: attributes must be separated by white space`);
        const a = /^([A-Za-z_][A-Za-z0-9_.:-]*)="([^"<]*)"/.exec(doc.slice(i));
        if (!a) throw new XmlError(`line ${line}: bad attribute in <${el.name}>`);
        if (el.attrs.has(a[1]!)) throw new XmlError(`line ${line}: duplicate attribute ${a[1]}`);
        el.attrs.set(a[1]!, decode(a[2]!, line));
        advance(a[0].length);
      }
      const parent = stack[stack.length - (stack[stack.length - 1] === el ? 2 : 1)];
      if (parent) parent.children.push(el);
      else if (root === null) root = el;
      else throw new XmlError(`line ${line}: a second root element <${el.name}>`);
      continue;
    }
    const next = doc.indexOf('<', i);
    const raw = doc.slice(i, next < 0 ? doc.length : next);
    if (raw.includes('>') && raw.includes(']]>')) throw new XmlError(`line ${line}: ']]>' in text`);
    const top = stack[stack.length - 1];
    if (!top) {
      if (raw.trim() !== '') throw new XmlError(`line ${line}: text outside the root element`);
    } else {
      top.text += decode(raw, line);
    }
    advance(raw.length);
  }
  if (stack.length) throw new XmlError(`<${stack[stack.length - 1]!.name}> is never closed`);
  if (!root) throw new XmlError('no root element');
  return root;
}

interface Rule {
  required: string[];
  optional: string[];
  children: string[];
  text: boolean;
}

// The content model of junit-10.xsd (plus testcase file/line).
const RULES: Record<string, Rule> = {
  testsuites: { required: [], optional: ['name', 'time', 'tests', 'failures', 'errors'], children: ['testsuite'], text: false },
  testsuite: {
    required: ['name', 'tests', 'failures', 'errors'],
    optional: ['group', 'time', 'skipped', 'timestamp', 'hostname', 'id', 'package', 'file', 'log', 'url'],
    children: ['testsuite', 'properties', 'testcase', 'system-out', 'system-err'],
    text: false,
  },
  properties: { required: [], optional: [], children: ['property'], text: false },
  property: { required: ['name', 'value'], optional: [], children: [], text: false },
  testcase: {
    required: ['name'],
    optional: ['time', 'classname', 'group', 'file', 'line'],
    children: ['skipped', 'error', 'failure', 'rerunFailure', 'rerunError', 'flakyFailure', 'flakyError', 'system-out', 'system-err'],
    text: false,
  },
  failure: { required: [], optional: ['type', 'message'], children: [], text: true },
  error: { required: [], optional: ['type', 'message'], children: [], text: true },
  skipped: { required: [], optional: ['type', 'message'], children: [], text: true },
  'system-out': { required: [], optional: [], children: [], text: true },
  'system-err': { required: [], optional: [], children: [], text: true },
};

const SUREFIRE_TIME = /^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$/;

/** Every way `root` breaks the junit-10 content model (an empty list when it conforms). */
export function junitProblems(root: XmlElement): string[] {
  const problems: string[] = [];
  if (root.name !== 'testsuites' && root.name !== 'testsuite') problems.push(`root element <${root.name}>`);
  const walk = (el: XmlElement) => {
    const rule = RULES[el.name];
    if (!rule) {
      problems.push(`line ${el.line}: unknown element <${el.name}>`);
      return;
    }
    for (const a of rule.required) if (!el.attrs.has(a)) problems.push(`line ${el.line}: <${el.name}> lacks required attribute ${a}`);
    for (const a of el.attrs.keys()) {
      if (!rule.required.includes(a) && !rule.optional.includes(a)) problems.push(`line ${el.line}: <${el.name}> may not carry ${a}`);
    }
    if ((el.name === 'testsuite' || el.name === 'testsuites') && el.attrs.has('time') && !SUREFIRE_TIME.test(el.attrs.get('time')!)) {
      problems.push(`line ${el.line}: bad time ${el.attrs.get('time')}`);
    }
    if (el.name === 'testcase' && el.attrs.has('line') && !/^[1-9][0-9]*$/.test(el.attrs.get('line')!)) {
      problems.push(`line ${el.line}: testcase line must be a positive integer`);
    }
    if (!rule.text && el.text.trim() !== '') problems.push(`line ${el.line}: <${el.name}> may not hold text`);
    for (const c of el.children) {
      if (!rule.children.includes(c.name)) problems.push(`line ${c.line}: <${c.name}> may not appear in <${el.name}>`);
      walk(c);
    }
  };
  walk(root);
  return problems;
}

/** Elements named `name` anywhere under `el`, in document order. */
export function all(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.name === name) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}
