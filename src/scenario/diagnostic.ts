// One diagnostic model for every input error: `file:line:col: message`.
import type { Pos } from './types.js';

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
}

/** Thrown for bad input; the CLI prints its diagnostics and exits 2. */
export class InputError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'InputError';
    this.diagnostics = diagnostics;
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

export function diag(file: string, pos: Pos, message: string): Diagnostic {
  return { file, line: pos.line, col: pos.col, message };
}
