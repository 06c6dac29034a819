// Persistent-memory blocks. Each block remembers its owner (file, page) so the
// checkers can tell a mapping or an access that reached someone else's block.
// Content is a small token, not 4 KiB: a block never written since boot holds
// `stale@<nr>`, so an unzeroed block handed to a file is visible as stale data.
//
// The CPU cache (DESIGN: "a store sits in a cache line until flushed"): a block
// has its media value (what survives a power failure) and at most one dirty
// cache line holding a newer value. A CPU store through a mapping dirties the
// line (`store()`); loads and copy_to_iter() see the line if it is dirty
// (`content`); wb_cache_pmem() (CLWB) writes the line back (`wbCache()`); the
// non-temporal copy of copy_from_iter_pmem(), clear_pmem() and the pmem
// driver's zeroing bypass the cache and leave no dirty line (`content = v`).
// A crash drops every dirty line (`Pmem.powerFail()`).
//
// Simplified: a write-back or a non-temporal store counts as durable at once.
// On x86 it is durable only after the next sfence (wmb_pmem(), notes
// kernel-rw-writeback.md B.7); every modelled path that writes back or
// copies fences before its op returns (dax_io() and
// dax_writeback_mapping_range() end with wmb_pmem() in v4.6; ext4_sync_file()
// flushes the device), and a crash happens only after every thread has
// finished, so the unfenced window is never observable here.
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
  /** the value on the media: what a power failure leaves */
  private _content: PageValue;
  /** a dirty CPU cache line with a newer value than the media, or null (clean or not cached) */
  private _line: PageValue | null = null;
  /**
   * A media error (poison) in the block, known to the pmem driver: it is in the
   * namespace's badblocks list (pmem->bb), as after an address range scrub. The
   * model keeps one state for "the media is poisoned" and "the driver knows it".
   */
  private _bad = false;
  /** PTEs that map it, as `vma:page` (the reverse map the stale-mapping check reads; DAX PMDs: Pmem.pmdMappersOf()) */
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
  /** What a CPU load (or copy_to_iter()) sees: the dirty line if there is one, else the media. */
  get content(): PageValue {
    this.sim.touch(this.obj, false);
    return this._line ?? this._content;
  }
  /**
   * A write that bypasses the cache and reaches the media: the non-temporal
   * stores of copy_from_iter_pmem() / memcpy_to_pmem() (an NT store to a cached
   * line evicts it), clear_pmem() (memset + CLWB), the driver's zeroing.
   */
  set content(v: PageValue) {
    this.sim.touch(this.obj, true);
    this._content = v;
    this._line = null;
  }
  /** A CPU store through a write-back mapping: the line is dirty until written back. */
  store(v: PageValue): void {
    this.sim.touch(this.obj, true);
    this._line = v;
  }
  /** arch_wb_cache_pmem(): CLWB of the block's lines; a dirty line reaches the media. */
  wbCache(): boolean {
    this.sim.touch(this.obj, true);
    if (this._line === null) return false;
    this._content = this._line;
    this._line = null;
    return true;
  }
  /** A dirty line is held for this block (reads the block). */
  get dirty(): boolean {
    this.sim.touch(this.obj, false);
    return this._line !== null;
  }
  /** Poisoned (and in the badblocks list). */
  get bad(): boolean {
    this.sim.touch(this.obj, false);
    return this._bad;
  }
  set bad(v: boolean) {
    this.sim.touch(this.obj, true);
    this._bad = v;
  }
  peekBad(): boolean {
    return this._bad;
  }
  peekOwner(): Owner | null {
    return this._owner;
  }
  /** What a load would see, without a footprint. */
  peekContent(): PageValue {
    return this._line ?? this._content;
  }
  /** The media value, without a footprint. */
  peekMedia(): PageValue {
    return this._content;
  }
  /** The dirty line's value, or null, without a footprint. */
  peekLine(): PageValue | null {
    return this._line;
  }
  /** Power failure: the dirty line is lost (called after the run, outside any step). */
  dropLine(): void {
    this._line = null;
  }
}

/** Blocks per 2 MiB group (HPAGE_PMD_NR): a DAX PMD maps one group, 2 MiB-aligned. */
const PMD_BLOCKS = 512;

/** A DAX PMD (pmd_devmap) that maps the 512 blocks from `block` as `file` pages `page`.. (the PMD rmap). */
export interface PmdMapper {
  /** `vma:pmd<index>` */
  readonly key: string;
  readonly file: string;
  /** the file page the PMD's first block stands for */
  readonly page: number;
  readonly block: number;
}

export class Pmem {
  /** how many blocks the namespace has */
  readonly count: number;
  /** the allocator's free-space state (ext4's bitmaps): every allocation and free writes it */
  readonly allocObj: number;
  private readonly sim: Sim;
  private readonly base: number;
  /**
   * Blocks made so far. A block is made on first use (its object id is reserved
   * up front, so ids do not depend on the order of use); a block never used is
   * free, clean, not poisoned and holds `stale@<nr>`, as a made one starts.
   */
  private readonly made: (Block | undefined)[];
  /**
   * The PMD reverse map, per 2 MiB group of blocks: the DAX PMDs that map the
   * group. A PMD counts as a mapper of each of its 512 blocks (pmdMappersOf()),
   * without 512 entries: each group is one shared object, written when a PMD
   * starts or stops mapping it and read by every owner change of one of its
   * blocks (the stale-mapping check), so the two are ordered in every
   * reordering while owner changes stay independent of each other.
   */
  private readonly pmdRmap: (Map<string, PmdMapper> | undefined)[];
  private readonly pmdBase: number;
  constructor(sim: Sim, count: number) {
    this.sim = sim;
    this.count = count;
    this.base = sim.obj(count + 1);
    this.made = new Array<Block | undefined>(count);
    this.allocObj = this.base + count;
    const groups = Math.ceil(count / PMD_BLOCKS);
    this.pmdBase = sim.obj(Math.max(groups, 1));
    this.pmdRmap = new Array<Map<string, PmdMapper> | undefined>(groups);
  }
  /** A DAX PMD starts mapping its 512 blocks (set_pmd_at() of a devmap pmd). */
  pmdMapAdd(m: PmdMapper): void {
    for (let g = Math.floor(m.block / PMD_BLOCKS); g <= Math.floor((m.block + PMD_BLOCKS - 1) / PMD_BLOCKS); g++) {
      this.sim.touch(this.pmdBase + g, true);
      (this.pmdRmap[g] ??= new Map()).set(m.key, m);
    }
  }
  /** The DAX PMD `key` that mapped the 512 blocks from `block` no longer does (zapped, split, overwritten). */
  pmdMapRemove(key: string, block: number): void {
    for (let g = Math.floor(block / PMD_BLOCKS); g <= Math.floor((block + PMD_BLOCKS - 1) / PMD_BLOCKS); g++) {
      this.sim.touch(this.pmdBase + g, true);
      this.pmdRmap[g]?.delete(key);
    }
  }
  /** The DAX PMDs that map block `nr`, in key order (reads the block's group). */
  pmdMappersOf(nr: number): PmdMapper[] {
    const g = Math.floor(nr / PMD_BLOCKS);
    this.sim.touch(this.pmdBase + g, false);
    const m = this.pmdRmap[g];
    if (m === undefined || m.size === 0) return [];
    return [...m.values()].filter((x) => nr >= x.block && nr < x.block + PMD_BLOCKS).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  block(nr: number): Block {
    if (!(nr >= 0 && nr < this.count)) throw new Error(`pmem: no block ${nr}`);
    return (this.made[nr] ??= new Block(this.sim, nr, this.base + nr));
  }
  /** The owner of block `nr`, without a footprint and without making the block. */
  peekOwner(nr: number): Owner | null {
    return this.made[nr]?.peekOwner() ?? null;
  }
  /** `final: {crash: true}`: power fails after every thread finished; unflushed dirty lines are lost. */
  powerFail(): number[] {
    const lost: number[] = [];
    for (const b of this.made) {
      if (b !== undefined && b.peekLine() !== null) {
        lost.push(b.nr);
        b.dropLine();
      }
    }
    return lost;
  }
}
