// Persistent-memory blocks. Each block remembers its owner (file, page) so the
// checkers can tell a mapping or an access that reached someone else's block.
// Content is a small token, not 4 KiB: a block never written since boot holds
// `stale@<nr>`, so an unzeroed block handed to a file is visible as stale data.
import type { Sim } from '../sim/engine.js';
import type { PageValue } from '../scenario/types.js';

export interface Owner {
  file: string;
  page: number;
}

export class Block {
  readonly nr: number;
  /** the shared object standing for the block (content, owner, who maps it) */
  readonly obj: number;
  private readonly sim: Sim;
  private _owner: Owner | null = null;
  private _content: PageValue;
  /** PTEs that map it, as `vma:page` (the reverse map the stale-mapping check reads) */
  readonly mappers = new Set<string>();
  constructor(sim: Sim, nr: number, obj: number) {
    this.sim = sim;
    this.nr = nr;
    this.obj = obj;
    this._content = `stale@${nr}`;
  }
  get owner(): Owner | null {
    this.sim.touch(this.obj, false);
    return this._owner;
  }
  set owner(o: Owner | null) {
    this.sim.touch(this.obj, true);
    this._owner = o;
  }
  get content(): PageValue {
    this.sim.touch(this.obj, false);
    return this._content;
  }
  set content(v: PageValue) {
    this.sim.touch(this.obj, true);
    this._content = v;
  }
  peekOwner(): Owner | null {
    return this._owner;
  }
  peekContent(): PageValue {
    return this._content;
  }
}

export class Pmem {
  readonly blocks: Block[] = [];
  /** the allocator's free-space state (ext4's bitmaps): every allocation and free writes it */
  readonly allocObj: number;
  constructor(sim: Sim, count: number) {
    const base = sim.obj(count + 1);
    for (let nr = 0; nr < count; nr++) this.blocks.push(new Block(sim, nr, base + nr));
    this.allocObj = base + count;
  }
  block(nr: number): Block {
    const b = this.blocks[nr];
    if (b === undefined) throw new Error(`pmem: no block ${nr}`);
    return b;
  }
}
