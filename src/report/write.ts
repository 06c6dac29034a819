// Writing report and trace files atomically: the text goes to a temporary file
// in the same directory, which is then renamed over the target, so a reader
// (or an interrupted run) never sees half a file. On any error the temporary
// file is removed and nothing is left.
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Sink } from './model.js';

let counter = 0;

/** Why `path` cannot be written, checked before a long run starts; null when it looks writable. */
export function unwritable(path: string): string | null {
  if (path === '') return 'an empty path';
  let st;
  try {
    st = statSync(dirname(path));
  } catch {
    return `its directory ${dirname(path)} does not exist`;
  }
  if (!st.isDirectory()) return `${dirname(path)} is not a directory`;
  try {
    if (statSync(path).isDirectory()) return 'it is a directory';
  } catch {
    // does not exist yet: fine
  }
  return null;
}

/** Writes `text` to `path` through a temporary file and a rename; throws (leaving nothing) on error. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++counter}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw e;
  }
}

/** A sink that keeps what is written until commit() writes it atomically to a file. */
export class FileSink implements Sink {
  private readonly parts: string[] = [];
  constructor(readonly path: string) {}
  write(s: string): void {
    this.parts.push(s);
  }
  commit(): void {
    writeFileAtomic(this.path, this.parts.join(''));
  }
}
