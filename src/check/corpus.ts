// The regression corpus: small files, one per shrunk failing schedule that
// `fuzz --save-failures` found, which `check --corpus` replays.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { InputError, diag, type Diagnostic } from '../scenario/diagnostic.js';

export const CORPUS_FORMAT = 1;

export interface CorpusEntry {
  /** corpus file format version */
  format: number;
  /** daxsim's version when it was saved */
  daxsim: string;
  /** the scenario file, as given to fuzz */
  scenario: string;
  kernel: string;
  /** the violation id the schedule shows */
  violation: string;
  /** the shrunk schedule token (it carries its own format version) */
  schedule: string;
}

/** A stable file name: scenario name, kernel, id and a hash of the token. */
export function corpusFileName(scenarioName: string, e: CorpusEntry): string {
  const h = createHash('sha256').update(`${e.scenario}\n${e.kernel}\n${e.violation}\n${e.schedule}`).digest('hex').slice(0, 12);
  return `${scenarioName}.${e.kernel}.${e.violation}.${h}.json`;
}

export function corpusText(e: CorpusEntry): string {
  return JSON.stringify(e, null, 2) + '\n';
}

/** Every *.json entry of a corpus directory, sorted by name; a malformed one is an input error at its position. */
export function readCorpus(dir: string): { path: string; entry: CorpusEntry }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    throw new InputError([diag(dir, { line: 1, col: 1 }, 'cannot read the corpus directory')]);
  }
  const out: { path: string; entry: CorpusEntry }[] = [];
  const bad: Diagnostic[] = [];
  for (const n of names) {
    const path = join(dir, n);
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      bad.push(diag(path, { line: 1, col: 1 }, `not a corpus entry: ${e instanceof Error ? e.message : String(e)}`));
      continue;
    }
    const o = v as Partial<CorpusEntry>;
    if (typeof o !== 'object' || o === null) {
      bad.push(diag(path, { line: 1, col: 1 }, 'not a corpus entry: expected a JSON object'));
      continue;
    }
    if (o.format !== CORPUS_FORMAT) {
      bad.push(diag(path, { line: 1, col: 1 }, `corpus entry format ${String(o.format)} is not supported by this daxsim (it reads format ${CORPUS_FORMAT})`));
      continue;
    }
    const missing = (['daxsim', 'scenario', 'kernel', 'violation', 'schedule'] as const).filter((k) => typeof o[k] !== 'string');
    if (missing.length) {
      bad.push(diag(path, { line: 1, col: 1 }, `corpus entry lacks ${missing.join(', ')}`));
      continue;
    }
    out.push({ path, entry: o as CorpusEntry });
  }
  if (bad.length) throw new InputError(bad);
  return out;
}
