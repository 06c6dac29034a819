// Persistent-memory blocks. Each block remembers its owner (file, page) so the
// checkers can tell a mapping or an access that reached someone else's block.
// Content is a small token, not 4 KiB: a block never written since boot holds
// `stale@<nr>`, so an unzeroed block handed to a file is visible as stale data.
import type { PageValue } from '../scenario/types.js';

export interface Owner {
  file: string;
  page: number;
}

export interface Block {
  readonly nr: number;
  owner: Owner | null;
  content: PageValue;
}

export class Pmem {
  readonly blocks: Block[] = [];
  constructor(count: number) {
    for (let nr = 0; nr < count; nr++) this.blocks.push({ nr, owner: null, content: `stale@${nr}` });
  }
  block(nr: number): Block {
    const b = this.blocks[nr];
    if (b === undefined) throw new Error(`pmem: no block ${nr}`);
    return b;
  }
}
