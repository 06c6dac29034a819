// YAML scenario text -> typed Scenario (DESIGN §3, format v1). Every problem is
// reported as `file:line:col: message`; all of them are collected and thrown
// together as one InputError, sorted by position. Never a stack trace.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Scalar, YAMLError, YAMLMap, YAMLSeq } from 'yaml';
import { InputError, diag } from './diagnostic.js';
import type { Diagnostic } from './diagnostic.js';
import {
  LIMITS,
  OP_KINDS,
  type BadBlock,
  type ExpectEntry,
  type FileSetup,
  type FinalSpec,
  type FsName,
  type KernelSpec,
  type MapSetup,
  type Op,
  type OpKind,
  type PageValue,
  type Pos,
  type ResultValue,
  type Scenario,
  type ThreadSpec,
  type TlbFlushMode,
  type Vocabulary,
} from './types.js';

/** At most this many alias (`*name`) expansions per document. */
export const MAX_ALIASES = 100;
/** At most this many nested flow collections (`[`, `{`) or compact block entries (`- - -`). */
export const MAX_NESTING = 64;
/** Lines indented deeper than this many columns are refused (deep block nesting). */
export const MAX_INDENT = 256;
/** At most this many diagnostics are reported for one file. */
export const MAX_DIAGNOSTICS = 100;

export const FS_NAMES: readonly FsName[] = ['ext2', 'ext4', 'xfs'];

export const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
export const KEBAB_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const TOP_KEYS = ['name', 'description', 'refs', 'kernel', 'fs', 'setup', 'threads', 'final', 'expect'] as const;
export const SETUP_KEYS = ['files', 'maps', 'badblocks', 'partition_offset', 'tlb_flush'] as const;
export const TLB_FLUSH_MODES: readonly TlbFlushMode[] = ['ipi', 'hypercall'];
export const FILE_KEYS = ['pages', 'written', 'unwritten', 'huge'] as const;
export const MAP_KEYS = ['file', 'private', 'sync', 'readonly'] as const;
export const BADBLOCK_KEYS = ['file', 'page'] as const;
export const FINAL_KEYS = ['crash', 'files', 'allocated'] as const;

/** The kind of value an op argument takes. */
export type ArgKind = 'map' | 'file' | 'pin' | 'page' | 'pages' | 'count' | 'bool' | 'value' | 'name' | 'userbuf';

export interface ArgSpec {
  name: string;
  kind: ArgKind;
  required: boolean;
}

const a = (name: string, kind: ArgKind, required = true): ArgSpec => ({ name, kind, required });

/** Arguments of every op (DESIGN §3 table), in their documented order; `expect` is added to all. */
export const OP_ARGS: Readonly<Record<OpKind, readonly ArgSpec[]>> = {
  fault: [a('map', 'map'), a('page', 'page'), a('write', 'bool', false), a('huge', 'bool', false)],
  load: [a('map', 'map'), a('page', 'page')],
  store: [a('map', 'map'), a('page', 'page'), a('value', 'value')],
  read: [a('file', 'file'), a('page', 'page'), a('pages', 'count', false), a('into', 'userbuf', false)],
  // a write needs `value` or `from` (checked in op())
  write: [a('file', 'file'), a('page', 'page'), a('value', 'value', false), a('pages', 'count', false), a('from', 'userbuf', false)],
  truncate: [a('file', 'file'), a('pages', 'pages')],
  punch: [a('file', 'file'), a('page', 'page'), a('pages', 'count', false)],
  fsync: [a('file', 'file')],
  msync: [a('map', 'map')],
  munmap: [a('map', 'map')],
  pin: [a('map', 'map'), a('page', 'page'), a('longterm', 'bool', false), a('write', 'bool', false), a('as', 'name'), a('fast', 'bool', false)],
  dma: [a('pin', 'pin'), a('value', 'value')],
  unpin: [a('pin', 'pin')],
  poison: [a('file', 'file'), a('page', 'page')],
  clear: [a('file', 'file'), a('page', 'page')],
  fallocate: [a('file', 'file'), a('page', 'page'), a('pages', 'count', false), a('keep_size', 'bool', false)],
};

// ---------------------------------------------------------------------------
// Public API

/** Parses and validates scenario text; throws InputError listing every problem found. */
export function loadScenario(text: string, file: string, vocab: Vocabulary): Scenario {
  const start: Pos = { line: 1, col: 1 };
  if (typeof text !== 'string') throw new InputError([diag(file, start, 'input is not text')]);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LIMITS.fileBytes) {
    const n = bytes;
    throw new InputError([diag(file, start, `input is too large: ${n} bytes (the limit is ${LIMITS.fileBytes} bytes)`)]);
  }
  if (!isWellFormed(text)) {
    throw new InputError([diag(file, start, 'input is not valid UTF-8 (it contains an unpaired surrogate)')]);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark is not content
  const nesting = checkNesting(text);
  if (nesting) throw new InputError([diag(file, nesting.pos, nesting.message)]);

  const lc = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, strict: true });
  } catch (e) {
    throw new InputError([diag(file, start, `invalid YAML: ${lowerFirst(errorText(e))}`)]);
  }
  const loader = new Loader(file, text, lc, doc, vocab);
  let scenario: Scenario | undefined;
  try {
    scenario = loader.run();
  } catch (e) {
    if (e instanceof InputError) throw e;
    // A bug in the loader must still not surface as a stack trace to users.
    loader.diags.push(diag(file, start, `internal error while loading the scenario: ${errorText(e)}`));
  }
  const diags = finish(loader.diags);
  if (diags.length > 0 || !scenario) throw new InputError(diags.length ? diags : [diag(file, start, 'invalid scenario')]);
  return scenario;
}

/**
 * Reads at most `max` bytes: a device or pipe named as the scenario
 * (/dev/zero, /dev/stdin) is read no further than the size limit, so it can
 * neither hang the loader on an endless stream nor exhaust memory.
 */
function readAtMost(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < max) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, max - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** Reads a scenario file (UTF-8, at most LIMITS.fileBytes) and loads it. */
export function loadScenarioFile(path: string, vocab: Vocabulary): Scenario {
  const start: Pos = { line: 1, col: 1 };
  let buf: Buffer;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError([diag(path, start, 'cannot read scenario: it is a directory')]);
    if (st.isFile() && st.size > LIMITS.fileBytes) {
      throw new InputError([diag(path, start, `input is too large: ${st.size} bytes (the limit is ${LIMITS.fileBytes} bytes)`)]);
    }
    buf = readAtMost(path, LIMITS.fileBytes + 1);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError([diag(path, start, `cannot read scenario: ${fsErrorText(e)}`)]);
  }
  if (buf.length > LIMITS.fileBytes) {
    throw new InputError([diag(path, start, `input is too large: ${buf.length} bytes (the limit is ${LIMITS.fileBytes} bytes)`)]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    const at = firstInvalidUtf8(buf);
    const byte = at >= 0 && at < buf.length ? ` (invalid byte 0x${buf[at]!.toString(16).padStart(2, '0')} at offset ${at})` : '';
    throw new InputError([diag(path, start, `input is not valid UTF-8${byte}`)]);
  }
  return loadScenario(text, path, vocab);
}

/**
 * The closest candidate to a misspelt word: Levenshtein distance ≤ 2 (and less
 * than the word's length), or a prefix either way (both at least 2 long); none
 * when two candidates tie.
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  let tie = false;
  for (const c of candidates) {
    if (c === input) return undefined;
    const prefix = Math.min(input.length, c.length) >= 2 && (c.startsWith(input) || input.startsWith(c));
    if (!prefix && Math.abs(c.length - input.length) > 2) continue;
    const d = levenshtein(input, c);
    if (!prefix && !(d <= 2 && d < input.length)) continue;
    if (d < bestD) {
      best = c;
      bestD = d;
      tie = false;
    } else if (d === bestD) {
      tie = true;
    }
  }
  return tie ? undefined : best;
}

/** Natural order for version-like names: v4.6 < v4.9 < v4.9.140 < v4.14. */
export function naturalCompare(x: string, y: string): number {
  const re = /(\d+)|(\D+)/g;
  const xs = x.match(re) ?? [];
  const ys = y.match(re) ?? [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const p = xs[i]!;
    const q = ys[i]!;
    if (p === q) continue;
    const pn = /^\d/.test(p);
    const qn = /^\d/.test(q);
    if (pn && qn) {
      const d = Number(p) - Number(q);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return p < q ? -1 : 1;
  }
  if (xs.length !== ys.length) return xs.length < ys.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Helpers

function levenshtein(s: string, t: string): number {
  if (s.length > 64 || t.length > 64) return Math.max(s.length, t.length);
  const prev = new Array<number>(t.length + 1);
  for (let j = 0; j <= t.length; j++) prev[j] = j;
  for (let i = 1; i <= s.length; i++) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= t.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diagonal + (s[i - 1] === t[j - 1] ? 0 : 1));
      diagonal = up;
    }
  }
  return prev[t.length]!;
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function fsErrorText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return lowerFirst(errorText(e).split('\n')[0] ?? 'unknown error');
  }
}

function isWellFormed(s: string): boolean {
  const f = (s as unknown as { isWellFormed?: () => boolean }).isWellFormed;
  if (typeof f === 'function') return f.call(s);
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** Offset of the first byte that makes `buf` invalid UTF-8, or -1. */
function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i + k;
    }
    i += n + 1;
  }
  return -1;
}

/**
 * A cheap lexical pass that refuses pathologically deep nesting before the YAML
 * parser (which recurses) sees it: flow collections nested deeper than
 * MAX_NESTING, compact block entries (`- - - x`) deeper than MAX_NESTING, lines
 * indented more than MAX_INDENT columns.
 */
function checkNesting(text: string): { pos: Pos; message: string } | undefined {
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  let last = '\n'; // last significant character; '\n' at the start of a line
  let quote = '';
  const n = text.length;
  let i = 0;
  let atLineStart = true;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      atLineStart = true;
      if (!quote) last = '\n';
      i++;
      continue;
    }
    if (quote === '"') {
      if (c === '\\') i += text[i + 1] === '\n' ? 1 : 2;
      else {
        if (c === '"') quote = '';
        i++;
      }
      continue;
    }
    if (quote === "'") {
      if (c === "'") {
        if (text[i + 1] === "'") i++;
        else quote = '';
      }
      i++;
      continue;
    }
    if (atLineStart) {
      atLineStart = false;
      let j = i;
      while (j < n && text[j] === ' ') j++;
      if (j - i > MAX_INDENT) {
        return { pos: { line, col: 1 }, message: `line indented too deeply (more than ${MAX_INDENT} columns)` };
      }
      // compact block entries on one line: `- - - x`, `? - x`
      let k = j;
      let entries = 0;
      while (k < n && (text[k] === '-' || text[k] === '?' || text[k] === ':') && (text[k + 1] === ' ' || text[k + 1] === '\t')) {
        entries++;
        k += 2;
        while (k < n && (text[k] === ' ' || text[k] === '\t')) k++;
        if (entries > MAX_NESTING) {
          return { pos: { line, col: k - lineStart + 1 }, message: `nesting too deep (more than ${MAX_NESTING} levels)` };
        }
      }
      if (j > i) {
        i = j;
        continue;
      }
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' && (i === 0 || /[\s]/.test(text[i - 1]!))) {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    const nodeStart = last === '\n' || last === '-' || last === ':' || last === ',' || last === '[' || last === '{' || last === '?';
    if ((c === '"' || c === "'") && nodeStart) quote = c;
    else if ((c === '[' || c === '{') && nodeStart) {
      depth++;
      if (depth > MAX_NESTING) {
        return { pos: { line, col: i - lineStart + 1 }, message: `nesting too deep (more than ${MAX_NESTING} levels)` };
      }
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
    last = c;
    i++;
  }
  return undefined;
}

function finish(diags: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  const sorted = diags
    .map((d, i) => ({ d, i }))
    .sort((x, y) => x.d.line - y.d.line || x.d.col - y.d.col || x.i - y.i)
    .map((x) => x.d);
  for (const d of sorted) {
    const k = `${d.line}:${d.col}:${d.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(d);
  }
  if (out.length > MAX_DIAGNOSTICS) {
    const rest = out.length - MAX_DIAGNOSTICS;
    const cut = out.slice(0, MAX_DIAGNOSTICS);
    const lastD = cut[cut.length - 1]!;
    cut.push({ ...lastD, message: `too many errors: ${rest} more not shown` });
    return cut;
  }
  return out;
}

/** `'text'` with control characters escaped, shortened when long. */
function q(s: string): string {
  const short = s.length > 40 ? s.slice(0, 37) + '...' : s;
  return `'${JSON.stringify(short).slice(1, -1).replace(/\\"/g, '"')}'`;
}

function list(xs: readonly string[]): string {
  return xs.join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `prefix.key`, or `prefix['key']` when the key is not a plain name. */
function dotted(prefix: string, key: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(key) ? `${prefix}.${key}` : `${prefix}[${q(key)}]`;
}

function fmtPos(p: Pos): string {
  return `${p.line}:${p.col}`;
}

const pageTooBig = (n: string): string =>
  `page ${n} is out of range (the limit is ${LIMITS.pagesPerFile - 1}: a file has at most ${LIMITS.pagesPerFile} pages)`;
const pagesTooBig = (n: string): string => `too many pages: ${n} (the limit is ${LIMITS.pagesPerFile} pages per file)`;

// ---------------------------------------------------------------------------
// The walker

/** Marks a node that could not be resolved (its problem is already reported). */
const BAD = Symbol('bad');
type Node = unknown;

interface Entry {
  key: string;
  keyPos: Pos;
  value: Node;
  valuePos: Pos;
}

interface PinDef {
  name: string;
  thread: number;
  index: number;
  pos: Pos;
}

interface PinUse {
  name: string;
  thread: number;
  index: number;
  pos: Pos;
}

class Loader {
  readonly diags: Diagnostic[] = [];
  private aliases = 0;
  private readonly dupKeyOffsets = new Set<number>();
  private readonly profiles: string[];

  private files = new Map<string, FileSetup>();
  private filesKnown = true;
  private maps = new Map<string, MapSetup>();
  private mapsKnown = true;
  private readonly pinDefs = new Map<string, PinDef>();
  private readonly pinUses: PinUse[] = [];

  constructor(
    private readonly file: string,
    private readonly text: string,
    private readonly lc: LineCounter,
    private readonly doc: Document.Parsed,
    private readonly vocab: Vocabulary,
  ) {
    this.profiles = [...vocab.kernels.keys()].sort(naturalCompare);
  }

  private err(pos: Pos, message: string): void {
    this.diags.push(diag(this.file, pos, message));
  }

  private posAt(offset: number): Pos {
    const p = this.lc.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line: p.line, col: p.col };
  }

  /** Position of a node (or of an alias pointing at it), else `fallback`. */
  private pos(node: Node, fallback: Pos): Pos {
    const r = (node as { range?: unknown } | null | undefined)?.range;
    if (Array.isArray(r) && typeof r[0] === 'number') return this.posAt(r[0]);
    return fallback;
  }

  /** Follows an alias to its anchored node, within the MAX_ALIASES budget. */
  private deref(node: Node): Node {
    if (!isAlias(node)) return node;
    this.aliases++;
    const p = this.pos(node, { line: 1, col: 1 });
    if (this.aliases === MAX_ALIASES + 1) {
      this.err(p, `too many alias expansions (the limit is ${MAX_ALIASES})`);
      return BAD;
    }
    if (this.aliases > MAX_ALIASES) return BAD;
    let target: Node;
    try {
      target = node.resolve(this.doc);
    } catch {
      target = undefined;
    }
    if (target === undefined || isAlias(target)) {
      this.err(p, `unknown alias '*${node.source}' (no anchor '&${node.source}' before it)`);
      return BAD;
    }
    return target;
  }

  /** What a node is, for "expected X, got Y". */
  private describe(node: Node): string {
    if (node === undefined || node === null) return 'nothing';
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a sequence';
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || v === undefined) return 'null';
      if (typeof v === 'string') return v === '' ? 'an empty string' : `string ${q(v)}`;
      if (typeof v === 'number' || typeof v === 'bigint') return `number ${node.source ?? String(v)}`;
      if (typeof v === 'boolean') return `boolean ${v}`;
      if (v instanceof Date) return `a timestamp`;
      return `a ${typeof v}`;
    }
    return 'an unsupported value';
  }

  private expected(node: Node, what: string, field: string, fallback: Pos): void {
    if (node === BAD) return;
    this.err(this.pos(node, fallback), `expected ${what} for ${field}, got ${this.describe(node)}`);
  }

  /** The text of a scalar key (numbers keep their source spelling, so `4.10` stays `4.10`). */
  private keyText(node: Scalar): string {
    const v = node.value;
    if (typeof v === 'string') return v;
    if (v === null || v === undefined) return node.source ?? '';
    return node.source ?? String(v);
  }

  /** The entries of a mapping, duplicates reported and dropped (the first wins). */
  private entries(map: YAMLMap, where: string): Entry[] {
    const out: Entry[] = [];
    const first = new Map<string, Pos>();
    const mapPos = this.pos(map, { line: 1, col: 1 });
    for (const pair of map.items) {
      const keyNode = this.deref(pair.key);
      if (keyNode === BAD) continue;
      const keyPos = this.pos(pair.key, this.pos(pair.value, mapPos));
      if (!isScalar(keyNode)) {
        this.err(keyPos, `expected a plain key ${where}, got ${this.describe(keyNode)}`);
        continue;
      }
      const key = this.keyText(keyNode);
      const prev = first.get(key);
      if (prev) {
        this.err(keyPos, `duplicate key ${q(key)} ${where} (first at ${fmtPos(prev)})`);
        const r = (pair.key as { range?: [number, number, number] } | null)?.range;
        if (r) this.dupKeyOffsets.add(r[0]);
        continue;
      }
      first.set(key, keyPos);
      const value = this.deref(pair.value);
      out.push({ key, keyPos, value, valuePos: this.pos(pair.value, keyPos) });
    }
    return out;
  }

  /** Entries of a mapping with a fixed set of keys: unknown keys and missing required keys reported. */
  private fields(map: YAMLMap, allowed: readonly string[], where: string, required: readonly string[]): Map<string, Entry> {
    const out = new Map<string, Entry>();
    for (const e of this.entries(map, where)) {
      if (!allowed.includes(e.key)) {
        const dym = didYouMean(e.key, allowed);
        this.err(e.keyPos, `unknown key ${q(e.key)} ${where} (expected one of: ${list(allowed)})${dym ? `; did you mean '${dym}'?` : ''}`);
        continue;
      }
      out.set(e.key, e);
    }
    const missing = required.filter((k) => !out.has(k));
    if (missing.length > 0) {
      const pos = this.pos(map, { line: 1, col: 1 });
      const keys = missing.map((k) => `'${k}'`).join(', ');
      this.err(pos, `missing required key${missing.length > 1 ? 's' : ''} ${keys} ${where}`);
    }
    return out;
  }

  // --- scalar readers -------------------------------------------------------

  private string(e: Entry, field = q(e.key)): string | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'string') return e.value.value;
    this.expected(e.value, 'a string', field, e.valuePos);
    return undefined;
  }

  private bool(e: Entry): boolean | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'boolean') return e.value.value;
    this.expected(e.value, 'a boolean (true or false)', q(e.key), e.valuePos);
    return undefined;
  }

  /** An integer in [min, max]; `what` names it in messages. */
  private int(node: Node, fallback: Pos, field: string, min: 0 | 1, max: number, tooBig?: (n: string) => string): number | undefined {
    const what = min === 1 ? 'a positive integer' : 'a non-negative integer';
    if (isScalar(node) && typeof node.value === 'number' && Number.isSafeInteger(node.value)) {
      const v = node.value;
      if (v < min) {
        this.expected(node, what, field, fallback);
        return undefined;
      }
      if (v > max) {
        const src = node.source ?? String(v);
        this.err(this.pos(node, fallback), tooBig ? tooBig(src) : `${field} is out of range: got ${src}, expected at most ${max}`);
        return undefined;
      }
      return v;
    }
    this.expected(node, what, field, fallback);
    return undefined;
  }

  /** A page number written as a mapping key (`0:` or `"0":`). */
  private pageKey(e: Entry, field: string, max: number): number | undefined {
    const m = /^(0|[1-9][0-9]*)$/.exec(e.key);
    if (!m || !Number.isSafeInteger(Number(e.key))) {
      this.err(e.keyPos, `expected a page number as key in ${field}, got ${q(e.key)}`);
      return undefined;
    }
    const n = Number(e.key);
    if (n > max) {
      this.err(e.keyPos, `page ${n} in ${field} is out of range: expected at most ${max}`);
      return undefined;
    }
    return n;
  }

  private pageValue(node: Node, fallback: Pos, field: string): PageValue | undefined {
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'string' && v !== '') return v;
      if (v === 0) return 0;
      if (typeof v === 'number') {
        const src = node.source ?? String(v);
        this.err(this.pos(node, fallback), `expected a string token or 0 for ${field}, got number ${src} (quote it: "${src}")`);
        return undefined;
      }
    }
    this.expected(node, 'a string token or 0', field, fallback);
    return undefined;
  }

  private ident(e: Entry, what: string): string | undefined {
    const s = this.string(e);
    if (s === undefined) return undefined;
    if (!IDENT_RE.test(s)) {
      this.err(e.valuePos, `invalid ${what} name ${q(s)} (expected a letter or '_' followed by letters, digits, '_' or '-')`);
      return undefined;
    }
    return s;
  }

  private keyIdent(e: Entry, what: string): boolean {
    if (!IDENT_RE.test(e.key)) {
      this.err(e.keyPos, `invalid ${what} name ${q(e.key)} (expected a letter or '_' followed by letters, digits, '_' or '-')`);
      return false;
    }
    return true;
  }

  private asMap(e: Entry, what: string): YAMLMap | undefined {
    if (isMap(e.value)) return e.value;
    this.expected(e.value, 'a mapping', what, e.valuePos);
    return undefined;
  }

  private asSeq(e: Entry, what: string): YAMLSeq | undefined {
    if (isSeq(e.value)) return e.value;
    this.expected(e.value, 'a sequence', what, e.valuePos);
    return undefined;
  }

  // --- references -----------------------------------------------------------

  private fileRef(e: Entry): string | undefined {
    const name = this.ident(e, 'file');
    if (name === undefined) return undefined;
    if (this.filesKnown && !this.files.has(name)) {
      const names = [...this.files.keys()].filter((k) => IDENT_RE.test(k));
      const dym = didYouMean(name, names);
      this.err(
        e.valuePos,
        `unknown file ${q(name)} (${names.length ? `files defined: ${list(names)}` : 'no files defined in setup.files'})${dym ? `; did you mean '${dym}'?` : ''}`,
      );
    }
    return name;
  }

  private mapRef(e: Entry): string | undefined {
    const name = this.ident(e, 'map');
    if (name === undefined) return undefined;
    if (this.mapsKnown && !this.maps.has(name)) {
      const names = [...this.maps.keys()].filter((k) => IDENT_RE.test(k));
      const dym = didYouMean(name, names);
      this.err(
        e.valuePos,
        `unknown map ${q(name)} (${names.length ? `maps defined: ${list(names)}` : 'no maps defined in setup.maps'})${dym ? `; did you mean '${dym}'?` : ''}`,
      );
    }
    return name;
  }

  private profileName(node: Node, fallback: Pos, field: string): string | undefined {
    if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) {
      this.expected(node, 'a kernel profile name', field, fallback);
      return undefined;
    }
    const name = typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
    return this.checkProfile(name, this.pos(node, fallback)) ? name : undefined;
  }

  private checkProfile(name: string, pos: Pos): boolean {
    if (this.vocab.kernels.has(name)) return true;
    const dym = didYouMean(name, this.profiles);
    this.err(pos, `unknown kernel profile ${q(name)} (profiles: ${list(this.profiles)})${dym ? `; did you mean '${dym}'?` : ''}`);
    return false;
  }

  // --- sections ---------------------------------------------------------------

  run(): Scenario | undefined {
    // Syntax errors stop here; duplicate keys and warnings do not stop the walk.
    const dups = this.doc.errors.filter((e) => e.code === 'DUPLICATE_KEY');
    this.reportYamlErrors(this.doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY'));
    if (this.diags.length > 0) {
      this.reportYamlErrors(dups);
      return undefined;
    }
    this.reportYamlErrors(this.doc.warnings);
    const scenario = this.walk();
    // yaml's duplicate-key errors the walker did not see (e.g. inside an unknown key's value)
    this.reportYamlErrors(dups.filter((e) => !this.dupKeyOffsets.has(e.pos[0])));
    return scenario;
  }

  private walk(): Scenario | undefined {

    const start: Pos = { line: 1, col: 1 };
    const root = this.deref(this.doc.contents);
    if (root === BAD) return undefined;
    if (!isMap(root)) {
      const got = root === null || (isScalar(root) && root.value === null) ? 'an empty document' : this.describe(root);
      this.err(this.pos(root, start), `expected a scenario mapping (with at least 'name' and 'threads') at the top level, got ${got}`);
      return undefined;
    }
    const top = this.fields(root, TOP_KEYS, 'at the top level', ['name', 'threads']);

    const scenario: Scenario = {
      file: this.file,
      name: '',
      description: '',
      refs: [],
      kernel: null,
      fs: 'ext4',
      files: [],
      maps: [],
      badblocks: [],
      threads: [],
      final: null,
      expect: [],
      pos: this.pos(root, start),
    };

    const name = top.get('name');
    if (name) {
      scenario.namePos = name.keyPos;
      const s = this.string(name);
      if (s !== undefined) {
        if (KEBAB_RE.test(s)) scenario.name = s;
        else this.err(name.valuePos, `name must be kebab-case (lowercase letters and digits joined by single '-'), got ${q(s)}`);
      }
    }
    const description = top.get('description');
    if (description) scenario.description = this.string(description) ?? '';
    const refs = top.get('refs');
    if (refs) scenario.refs = this.refs(refs);
    const kernel = top.get('kernel');
    if (kernel) scenario.kernel = this.kernel(kernel);
    const fs = top.get('fs');
    if (fs) {
      scenario.fsPos = fs.valuePos;
      const s = this.string(fs);
      if (s !== undefined) {
        if ((FS_NAMES as readonly string[]).includes(s)) scenario.fs = s as FsName;
        else {
          const dym = didYouMean(s, FS_NAMES);
          this.err(fs.valuePos, `unknown fs ${q(s)} (expected one of: ${list(FS_NAMES)})${dym ? `; did you mean '${dym}'?` : ''}`);
        }
      }
    }
    const setup = top.get('setup');
    if (setup) this.setup(setup, scenario);
    const threads = top.get('threads');
    if (threads) scenario.threads = this.threads(threads);
    const final = top.get('final');
    if (final) scenario.final = this.final(final);
    const expect = top.get('expect');
    if (expect) scenario.expect = this.expectBlock(expect);

    return scenario;
  }

  private reportYamlErrors(errors: readonly YAMLError[]): void {
    for (const e of errors) {
      const off = Array.isArray(e.pos) ? e.pos[0] : 0;
      const pos = this.posAt(off);
      if (e.code === 'DUPLICATE_KEY') {
        const end = Array.isArray(e.pos) ? e.pos[1] : off;
        const key = this.text.slice(off, Math.max(off, Math.min(end, off + 60))).trim();
        this.err(pos, `duplicate key ${q(key)}`);
        continue;
      }
      if (e.code === 'MULTIPLE_DOCS') {
        this.err(pos, "expected a single YAML document, found a second one (remove the '---')");
        continue;
      }
      if (e.code === 'RESOURCE_EXHAUSTION') {
        this.err(pos, 'nesting too deep');
        continue;
      }
      let msg = lowerFirst(e.message.split('\n')[0]!.replace(/\.$/, ''));
      if (msg.length > 120) msg = msg.slice(0, 117) + '...';
      this.err(pos, `invalid YAML: ${msg}`);
    }
  }

  private refs(e: Entry): string[] {
    const out: string[] = [];
    const seq = this.asSeq(e, "'refs'");
    if (!seq) return out;
    for (const item of seq.items) {
      const v = this.deref(item);
      if (isScalar(v) && typeof v.value === 'string') out.push(v.value);
      else if (isScalar(v) && typeof v.value === 'number') out.push(v.source ?? String(v.value)); // an all-digit commit id
      else this.expected(v, 'a string', "an entry of 'refs'", e.valuePos);
    }
    return out;
  }

  private kernel(e: Entry): KernelSpec | null {
    const v = e.value;
    if (isScalar(v)) {
      const base = this.profileName(v, e.valuePos, "'kernel'");
      if (base === undefined) return null;
      return { base, flags: {}, pos: e.valuePos, flagPos: {} };
    }
    if (!isMap(v)) {
      this.expected(v, "a kernel profile name or {base: <profile>, <flag>: <bool>...}", "'kernel'", e.valuePos);
      return null;
    }
    const entries = this.entries(v, 'in kernel');
    const baseE = entries.find((x) => x.key === 'base');
    let base: string | undefined;
    if (!baseE) this.err(this.pos(v, e.valuePos), "missing required key 'base' in kernel");
    else base = this.profileName(baseE.value, baseE.valuePos, "'base'");
    const known = base !== undefined ? this.vocab.kernels.get(base) : undefined;
    const flagNames = known ? [...known].sort(naturalCompare) : [];
    const spec: KernelSpec = { base: base ?? '', flags: {}, pos: baseE ? baseE.valuePos : e.valuePos, flagPos: {} };
    for (const x of entries) {
      if (x.key === 'base') continue;
      if (known && !known.has(x.key)) {
        const dym = didYouMean(x.key, flagNames);
        const allowed = flagNames.length ? `flags of ${base}: ${list(flagNames)}` : `${base} has no flags`;
        this.err(x.keyPos, `unknown flag ${q(x.key)} for kernel ${base} (${allowed})${dym ? `; did you mean '${dym}'?` : ''}`);
        continue;
      }
      const b = this.bool(x);
      if (b === undefined) continue;
      spec.flags[x.key] = b;
      spec.flagPos[x.key] = x.keyPos;
    }
    return base === undefined ? null : spec;
  }

  private setup(e: Entry, sc: Scenario): void {
    const m = this.asMap(e, "'setup'");
    if (!m) {
      this.filesKnown = false;
      this.mapsKnown = false;
      return;
    }
    const f = this.fields(m, SETUP_KEYS, 'in setup', []);
    const files = f.get('files');
    if (files) sc.files = this.setupFiles(files);
    const maps = f.get('maps');
    if (maps) sc.maps = this.setupMaps(maps);
    const bb = f.get('badblocks');
    if (bb) sc.badblocks = this.badblocks(bb);
    const po = f.get('partition_offset');
    if (po) {
      const n = this.int(po.value, po.valuePos, "'partition_offset'", 0, 2 ** 40);
      if (n !== undefined && n % 512 !== 0) {
        this.err(po.valuePos, `'partition_offset' is in bytes and must be a multiple of the 512-byte sector, got ${n}`);
      } else if (n !== undefined) {
        sc.partitionOffset = n;
        sc.partitionOffsetPos = po.keyPos;
      }
    }
    const tf = f.get('tlb_flush');
    if (tf) {
      const t = this.string(tf);
      if (t !== undefined) {
        if ((TLB_FLUSH_MODES as readonly string[]).includes(t)) {
          sc.tlbFlush = t as TlbFlushMode;
          sc.tlbFlushPos = tf.keyPos;
        } else {
          const dym = didYouMean(t, TLB_FLUSH_MODES);
          this.err(tf.valuePos, `unknown tlb_flush ${q(t)} (expected one of: ${list(TLB_FLUSH_MODES)})${dym ? `; did you mean '${dym}'?` : ''}`);
        }
      }
    }
  }

  private setupFiles(e: Entry): FileSetup[] {
    const out: FileSetup[] = [];
    const m = this.asMap(e, "'files'");
    if (!m) {
      this.filesKnown = false;
      return out;
    }
    const entries = this.entries(m, 'in setup.files');
    entries.forEach((x, i) => {
      if (i === LIMITS.files) this.err(x.keyPos, `too many files: ${entries.length} (the limit is ${LIMITS.files})`);
      this.keyIdent(x, 'file');
      const where = `in file ${q(x.key)}`;
      const fs: FileSetup = { name: x.key, pages: 0, written: new Map(), unwritten: [], huge: false, pos: x.keyPos };
      this.files.set(x.key, fs);
      out.push(fs);
      const fm = this.asMap(x, `file ${q(x.key)}`);
      if (!fm) return;
      const f = this.fields(fm, FILE_KEYS, where, ['pages']);
      let pagesOk = false;
      const pages = f.get('pages');
      if (pages) {
        const n = this.int(
          pages.value,
          pages.valuePos,
          "'pages'",
          0,
          LIMITS.pagesPerFile,
          (src) => `too many pages in file ${q(x.key)}: ${src} (the limit is ${LIMITS.pagesPerFile})`,
        );
        if (n !== undefined) {
          fs.pages = n;
          pagesOk = true;
        }
      }
      const beyond = (n: number, pos: Pos): boolean => {
        if (pagesOk && n >= fs.pages) {
          this.err(pos, `page ${n} is beyond the end of file ${q(x.key)} (${plural(fs.pages, 'page')})`);
          return true;
        }
        return false;
      };
      const written = f.get('written');
      const writtenPos = new Map<number, Pos>();
      if (written) {
        const wm = this.asMap(written, "'written'");
        if (wm) {
          for (const w of this.entries(wm, "in 'written'")) {
            const n = this.pageKey(w, "'written'", LIMITS.pagesPerFile - 1);
            const v = this.pageValue(w.value, w.valuePos, `page ${n ?? q(w.key)} in 'written'`);
            if (n === undefined || beyond(n, w.keyPos)) continue;
            if (writtenPos.has(n)) {
              this.err(w.keyPos, `duplicate page ${n} in 'written' (first at ${fmtPos(writtenPos.get(n)!)})`);
              continue;
            }
            writtenPos.set(n, w.keyPos);
            if (v !== undefined) fs.written.set(n, v);
          }
        }
      }
      const unwritten = f.get('unwritten');
      if (unwritten) {
        const seq = this.asSeq(unwritten, "'unwritten'");
        if (seq) {
          const seen = new Set<number>();
          for (const item of seq.items) {
            const node = this.deref(item);
            const p = this.pos(item, unwritten.valuePos);
            const n = this.int(node, p, "a page in 'unwritten'", 0, LIMITS.pagesPerFile - 1, pageTooBig);
            if (n === undefined || beyond(n, p)) continue;
            if (seen.has(n)) {
              this.err(p, `duplicate page ${n} in 'unwritten'`);
              continue;
            }
            seen.add(n);
            if (writtenPos.has(n)) {
              this.err(p, `page ${n} of file ${q(x.key)} is both written and unwritten`);
              continue;
            }
            fs.unwritten.push(n);
          }
        }
      }
      const huge = f.get('huge');
      if (huge) fs.huge = this.bool(huge) ?? false;
    });
    return out;
  }

  private setupMaps(e: Entry): MapSetup[] {
    const out: MapSetup[] = [];
    const m = this.asMap(e, "'maps'");
    if (!m) {
      this.mapsKnown = false;
      return out;
    }
    const entries = this.entries(m, 'in setup.maps');
    entries.forEach((x, i) => {
      if (i === LIMITS.maps) this.err(x.keyPos, `too many maps: ${entries.length} (the limit is ${LIMITS.maps})`);
      this.keyIdent(x, 'map');
      const ms: MapSetup = { name: x.key, file: '', private: false, sync: false, readonly: false, pos: x.keyPos };
      this.maps.set(x.key, ms);
      out.push(ms);
      const mm = this.asMap(x, `map ${q(x.key)}`);
      if (!mm) return;
      const f = this.fields(mm, MAP_KEYS, `in map ${q(x.key)}`, ['file']);
      const file = f.get('file');
      if (file) ms.file = this.fileRef(file) ?? '';
      const priv = f.get('private');
      if (priv) ms.private = this.bool(priv) ?? false;
      const sync = f.get('sync');
      if (sync) ms.sync = this.bool(sync) ?? false;
      const ro = f.get('readonly');
      if (ro) ms.readonly = this.bool(ro) ?? false;
    });
    return out;
  }

  private badblocks(e: Entry): BadBlock[] {
    const out: BadBlock[] = [];
    const seq = this.asSeq(e, "'badblocks'");
    if (!seq) return out;
    for (const item of seq.items) {
      const node = this.deref(item);
      const p = this.pos(item, e.valuePos);
      if (!isMap(node)) {
        this.expected(node, '{file: <file>, page: <page>}', "a badblocks entry", p);
        continue;
      }
      const f = this.fields(node, BADBLOCK_KEYS, 'in a badblocks entry', ['file', 'page']);
      const fe = f.get('file');
      const pe = f.get('page');
      const file = fe ? this.fileRef(fe) : undefined;
      const page = pe ? this.int(pe.value, pe.valuePos, "'page'", 0, LIMITS.pagesPerFile - 1, pageTooBig) : undefined;
      if (file === undefined || page === undefined) continue;
      const fs = this.files.get(file);
      if (fs && pe && page >= fs.pages) {
        this.err(pe.valuePos, `page ${page} is beyond the end of file ${q(file)} (${plural(fs.pages, 'page')})`);
        continue;
      }
      out.push({ file, page, pos: p });
    }
    return out;
  }

  private threads(e: Entry): ThreadSpec[] {
    const out: ThreadSpec[] = [];
    const m = this.asMap(e, "'threads'");
    if (!m) return out;
    const entries = this.entries(m, 'in threads');
    if (entries.length === 0) this.err(e.valuePos, "expected at least one thread in 'threads'");
    entries.forEach((x, ti) => {
      if (ti === LIMITS.threads) this.err(x.keyPos, `too many threads: ${entries.length} (the limit is ${LIMITS.threads})`);
      this.keyIdent(x, 'thread');
      const t: ThreadSpec = { name: x.key, ops: [], pos: x.keyPos };
      out.push(t);
      if (!isSeq(x.value)) {
        this.expected(x.value, 'a sequence of operations', `thread ${q(x.key)}`, x.valuePos);
        return;
      }
      const items = x.value.items;
      if (items.length === 0) this.err(x.valuePos, `thread ${q(x.key)} has no operations`);
      items.forEach((item, oi) => {
        const p = this.pos(item, x.valuePos);
        if (oi === LIMITS.opsPerThread) {
          this.err(p, `too many operations in thread ${q(x.key)}: ${items.length} (the limit is ${LIMITS.opsPerThread})`);
        }
        const op = this.op(this.deref(item), p, ti, t.ops.length);
        if (op) t.ops.push(op);
      });
    });
    this.checkPins();
    return out;
  }

  private op(node: Node, p: Pos, thread: number, index: number): Op | undefined {
    if (node === BAD) return undefined;
    if (!isMap(node)) {
      this.err(p, `expected an operation (a mapping with one key, the op name, e.g. {fault: {map: m, page: 0}}), got ${this.describe(node)}`);
      return undefined;
    }
    const entries = this.entries(node, 'in an operation');
    if (entries.length === 0) {
      if (node.items.length === 0) this.err(p, 'expected an operation (a mapping with one key, the op name), got an empty mapping');
      return undefined;
    }
    const first = entries[0]!;
    if (entries.length > 1) {
      const keys = entries.map((x) => x.key);
      const second = entries[1]!;
      const args = (OP_KINDS as readonly string[]).includes(first.key) ? OP_ARGS[first.key as OpKind].map((s) => s.name) : [];
      const misIndented = args.length > 0 && entries.slice(1).every((x) => args.includes(x.key) || x.key === 'expect');
      this.err(
        second.keyPos,
        `expected one operation per list item, got ${keys.length} keys (${list(keys.map(q))}); ` +
          (misIndented ? `indent the arguments under '${first.key}'` : "start each operation with '-'"),
      );
      if (misIndented) return undefined;
    }
    if (!(OP_KINDS as readonly string[]).includes(first.key)) {
      const dym = didYouMean(first.key, OP_KINDS);
      this.err(first.keyPos, `unknown operation ${q(first.key)} (expected one of: ${list(OP_KINDS)})${dym ? `; did you mean '${dym}'?` : ''}`);
      return undefined;
    }
    const kind = first.key as OpKind;
    const specs = OP_ARGS[kind];
    if (!isMap(first.value)) {
      const shape = specs.map((s) => (s.required ? s.name : `${s.name}?`)).join(', ');
      this.expected(first.value, `arguments {${shape}}`, kind, first.valuePos);
      return undefined;
    }
    const f = this.fields(
      first.value,
      [...specs.map((s) => s.name), 'expect'],
      `in ${kind}`,
      specs.filter((s) => s.required).map((s) => s.name),
    );
    const op: Record<string, unknown> = { kind };
    let ok = true;
    for (const s of specs) {
      const x = f.get(s.name);
      if (!x) {
        if (s.required) ok = false;
        else if (s.kind === 'bool') op[s.name] = false;
        else if (s.kind === 'count') op[s.name] = 1;
        continue;
      }
      const v = this.arg(s, x, thread, index);
      if (v === undefined) ok = false;
      else op[s.name] = v;
    }
    const ex = f.get('expect');
    if (ex) {
      const results = this.results(ex);
      if (results === undefined) ok = false;
      else op.expect = results;
    }
    op.pos = first.keyPos;
    if (kind === 'write' && ok) {
      // value: the data itself; from: a page of a mapping the kernel copies it from (copy_from_user)
      if ((op.value === undefined) === (op.from === undefined)) {
        this.err(first.keyPos, op.value === undefined ? "write needs 'value' or 'from' (a page of a mapping to copy from)" : "write takes 'value' or 'from', not both");
        ok = false;
      }
    }
    if ((kind === 'write' || kind === 'read') && ok && (op.from !== undefined || op.into !== undefined) && op.pages !== 1) {
      this.err(first.keyPos, `a ${kind} with a mapping as its buffer covers one page (pages: 1)`);
      ok = false;
    }
    return ok ? (op as unknown as Op) : undefined;
  }

  private arg(s: ArgSpec, x: Entry, thread: number, index: number): unknown {
    switch (s.kind) {
      case 'map':
        return this.mapRef(x);
      case 'file':
        return this.fileRef(x);
      case 'pin': {
        const name = this.ident(x, 'pin');
        if (name !== undefined) this.pinUses.push({ name, thread, index, pos: x.valuePos });
        return name;
      }
      case 'name': {
        const name = this.ident(x, 'pin');
        if (name === undefined) return undefined;
        const prev = this.pinDefs.get(name);
        if (prev) this.err(x.valuePos, `duplicate pin name ${q(name)} (first defined at ${fmtPos(prev.pos)})`);
        else this.pinDefs.set(name, { name, thread, index, pos: x.valuePos });
        return name;
      }
      case 'page':
        return this.int(x.value, x.valuePos, "'page'", 0, LIMITS.pagesPerFile - 1, pageTooBig);
      case 'pages':
        return this.int(x.value, x.valuePos, "'pages'", 0, LIMITS.pagesPerFile, pagesTooBig);
      case 'count':
        return this.int(x.value, x.valuePos, `'${s.name}'`, 1, LIMITS.pagesPerFile, pagesTooBig);
      case 'bool':
        return this.bool(x);
      case 'value':
        return this.pageValue(x.value, x.valuePos, `'${s.name}'`);
      case 'userbuf': {
        if (!isMap(x.value)) {
          this.expected(x.value, '{map: <map>, page: <page>}', `'${s.name}'`, x.valuePos);
          return undefined;
        }
        const f = this.fields(x.value, ['map', 'page'], `in '${s.name}'`, ['map', 'page']);
        const me = f.get('map');
        const pe = f.get('page');
        const map = me ? this.mapRef(me) : undefined;
        const page = pe ? this.int(pe.value, pe.valuePos, "'page'", 0, LIMITS.pagesPerFile - 1, pageTooBig) : undefined;
        if (map === undefined || page === undefined) return undefined;
        return { map, page };
      }
    }
  }

  private checkPins(): void {
    const names = [...this.pinDefs.keys()];
    for (const u of this.pinUses) {
      const d = this.pinDefs.get(u.name);
      if (!d) {
        const dym = didYouMean(u.name, names);
        const defined = names.length ? `pins defined: ${list(names)}` : `no pins defined; create one with pin: {map: ..., page: ..., as: ${u.name}}`;
        this.err(u.pos, `unknown pin ${q(u.name)} (${defined})${dym ? `; did you mean '${dym}'?` : ''}`);
      } else if (d.thread === u.thread && d.index >= u.index) {
        this.err(u.pos, `pin ${q(u.name)} is used before the pin operation that creates it (at ${fmtPos(d.pos)})`);
      }
    }
  }

  private results(e: Entry): ResultValue[] | undefined {
    const one = (node: Node, p: Pos): ResultValue | undefined => {
      if (isScalar(node)) {
        const v = node.value;
        if (typeof v === 'string' && v !== '') return v;
        if (typeof v === 'number' && Number.isFinite(v)) return v;
      }
      this.expected(node, 'a result (a word such as ok or SIGBUS, or a value)', "'expect'", p);
      return undefined;
    };
    if (isSeq(e.value)) {
      if (e.value.items.length === 0) {
        this.err(e.valuePos, "expected at least one allowed result in 'expect', got an empty list");
        return undefined;
      }
      const out: ResultValue[] = [];
      let ok = true;
      for (const item of e.value.items) {
        const r = one(this.deref(item), this.pos(item, e.valuePos));
        if (r === undefined) ok = false;
        else out.push(r);
      }
      return ok ? out : undefined;
    }
    const r = one(e.value, e.valuePos);
    return r === undefined ? undefined : [r];
  }

  private final(e: Entry): FinalSpec | null {
    const m = this.asMap(e, "'final'");
    if (!m) return null;
    const f = this.fields(m, FINAL_KEYS, 'in final', []);
    const spec: FinalSpec = { crash: false, files: new Map(), allocated: new Map(), pos: e.keyPos };
    const crash = f.get('crash');
    if (crash) {
      spec.crash = this.bool(crash) ?? false;
      spec.crashPos = crash.valuePos;
    }
    const files = f.get('files');
    if (files) {
      const fm = this.asMap(files, "'files' in final");
      if (fm) {
        for (const x of this.entries(fm, 'in final.files')) {
          if (this.filesKnown && !this.files.has(x.key)) {
            const names = [...this.files.keys()].filter((k) => IDENT_RE.test(k));
            const dym = didYouMean(x.key, names);
            this.err(
              x.keyPos,
              `unknown file ${q(x.key)} (${names.length ? `files defined: ${list(names)}` : 'no files defined in setup.files'})${dym ? `; did you mean '${dym}'?` : ''}`,
            );
          }
          const pages = new Map<number, PageValue>();
          spec.files.set(x.key, pages);
          const pm = this.asMap(x, `file ${q(x.key)} in final.files`);
          if (!pm) continue;
          const where = dotted('final.files', x.key);
          for (const pe of this.entries(pm, `in ${where}`)) {
            const n = this.pageKey(pe, where, LIMITS.pagesPerFile - 1);
            const v = this.pageValue(pe.value, pe.valuePos, `page ${n ?? q(pe.key)} in ${where}`);
            if (n !== undefined && v !== undefined) {
              if (pages.has(n)) this.err(pe.keyPos, `duplicate page ${n} in ${where}`);
              else pages.set(n, v);
            }
          }
        }
      }
    }
    const allocated = f.get('allocated');
    if (allocated) {
      const am = this.asMap(allocated, "'allocated' in final");
      if (am) {
        for (const x of this.entries(am, 'in final.allocated')) {
          if (this.filesKnown && !this.files.has(x.key)) {
            const names = [...this.files.keys()].filter((k) => IDENT_RE.test(k));
            this.err(x.keyPos, `unknown file ${q(x.key)} (${names.length ? `files defined: ${list(names)}` : 'no files defined in setup.files'})`);
          }
          const where = dotted('final.allocated', x.key);
          const seq = this.asSeq(x, `file ${q(x.key)} in final.allocated`);
          if (!seq) continue;
          const pages: number[] = [];
          for (const item of seq.items) {
            const p = this.pos(item, x.valuePos);
            const n = this.int(this.deref(item), p, `a page in ${where}`, 0, LIMITS.pagesPerFile - 1, pageTooBig);
            if (n === undefined) continue;
            if (pages.includes(n)) this.err(p, `duplicate page ${n} in ${where}`);
            else pages.push(n);
          }
          spec.allocated.set(x.key, pages);
        }
      }
    }
    return spec;
  }

  private expectBlock(e: Entry): ExpectEntry[] {
    const out: ExpectEntry[] = [];
    const m = this.asMap(e, "'expect'");
    if (!m) return out;
    const ids = [...this.vocab.invariantIds].sort(naturalCompare);
    for (const x of this.entries(m, 'in expect')) {
      const known = this.checkProfile(x.key, x.keyPos);
      const v = x.value;
      let verdict: ExpectEntry['verdict'] | undefined;
      if (isScalar(v) && typeof v.value === 'string') {
        if (v.value === 'clean') verdict = 'clean';
        else if (this.vocab.invariantIds.has(v.value)) {
          this.err(x.valuePos, `expected 'clean' or a list of invariant ids for ${q(x.key)}, got string ${q(v.value)}; write [${v.value}]`);
        } else {
          const dym = didYouMean(v.value, ['clean', ...ids]);
          this.err(x.valuePos, `expected 'clean' or a list of invariant ids for ${q(x.key)}, got string ${q(v.value)}${dym ? `; did you mean '${dym}'?` : ''}`);
        }
      } else if (isSeq(v)) {
        if (v.items.length === 0) {
          this.err(x.valuePos, `expected 'clean' or a non-empty list of invariant ids for ${q(x.key)}, got an empty list`);
        } else {
          const list_: string[] = [];
          let ok = true;
          for (const item of v.items) {
            const node = this.deref(item);
            const p = this.pos(item, x.valuePos);
            if (!isScalar(node) || typeof node.value !== 'string') {
              this.expected(node, 'an invariant id', `an entry of ${dotted('expect', x.key)}`, p);
              ok = false;
              continue;
            }
            const id = node.value;
            if (!this.vocab.invariantIds.has(id)) {
              const dym = didYouMean(id, ids);
              this.err(p, `unknown invariant id ${q(id)} (expected one of: ${list(ids)})${dym ? `; did you mean '${dym}'?` : ''}`);
              ok = false;
              continue;
            }
            if (list_.includes(id)) {
              this.err(p, `duplicate invariant id ${q(id)} in ${dotted('expect', x.key)}`);
              ok = false;
              continue;
            }
            list_.push(id);
          }
          if (ok) verdict = list_;
        }
      } else {
        this.expected(v, "'clean' or a list of invariant ids", q(x.key), x.valuePos);
      }
      if (known && verdict !== undefined) out.push({ kernel: x.key, verdict, pos: x.keyPos });
    }
    return out;
  }
}
