// The simulated machine of one run: pmem, inodes with their block maps and
// locks, address spaces, the process's VMAs and mmap_sem.
import type { Sim } from '../sim/engine.js';
import { RwSem } from '../sim/sync.js';
import type { FsName, PageValue } from '../scenario/types.js';
import { AddressSpace, type EntryKey, type HolePage } from './mapping.js';
import { HashedWaitTable } from '../sim/waitqueue.js';
import { SharedIntMap } from '../sim/shared.js';
import type { Pmd, Pte, Vma } from './pagetable.js';
import { Pmem, type Block } from './pmem.js';
import type { OpEvent } from './kernel.js';
import type { Flags } from './versions.js';

export interface Extent {
  readonly block: number;
  /** an allocated but unwritten extent: reads must return zeros */
  readonly unwritten: boolean;
}

export class Inode {
  readonly name: string;
  private readonly sim: Sim;
  /** i_size, in pages (scenarios address whole pages) */
  private _size: number;
  /** the shared object standing for i_size */
  readonly sizeObj: number;
  /** the file's logical page -> physical block map (the extent tree) */
  readonly extents: SharedIntMap<Extent>;
  readonly mapping: AddressSpace;
  /** inode->i_mutex (v4.6) / i_rwsem (v4.7+, 9902af79c01a), always taken exclusively here */
  readonly iRwsem: RwSem;
  /** ext4: EXT4_I(inode)->i_mmap_sem (ea3d7209ca01, v4.5) */
  readonly iMmapSem: RwSem;
  /** ext4: EXT4_I(inode)->i_data_sem, protects the extent tree */
  readonly iDataSem: RwSem;
  /** every size i_size has had, in order (for "no truncation below it") */
  readonly sizeHistory: number[];
  /** the checkers' per-file history of ops (op starts and ends write it) */
  readonly histObj: number;

  constructor(sim: Sim, name: string, size: number, serial: number) {
    this.sim = sim;
    this.name = name;
    this._size = size;
    this.sizeHistory = [size];
    this.sizeObj = sim.obj();
    this.histObj = sim.obj();
    this.extents = new SharedIntMap<Extent>(sim);
    this.mapping = new AddressSpace(sim, name, serial);
    this.iRwsem = new RwSem(sim, `i_rwsem ${name}`, 'inode->i_rwsem');
    this.iMmapSem = new RwSem(sim, `i_mmap_sem ${name}`, 'ext4 i_mmap_sem');
    this.iDataSem = new RwSem(sim, `i_data_sem ${name}`, 'ext4 i_data_sem', true);
  }

  /** i_size_read() */
  get size(): number {
    this.sim.touch(this.sizeObj, false);
    return this._size;
  }

  /** i_size_write() */
  setSize(pages: number): void {
    this.sim.touch(this.sizeObj, true);
    this._size = pages;
    this.sizeHistory.push(pages);
  }

  peekSize(): number {
    return this._size;
  }
}

/** Where the checkers watch the kernel: every op's end, and the events that can leave a mapping stale. */
export interface KernelHooks {
  opDone(ev: OpEvent): void;
  pteInstalled(vma: Vma, page: number, pte: Pte): void;
  blockOwnerChanged(b: Block): void;
  pageCacheDeleted(page: HolePage): void;
  /** a DAX PMD (set_pmd_at() of a devmap pmd) now maps the 512 blocks from pmd.block as the VMA's PMD `index` */
  pmdInstalled?(vma: Vma, index: number, pmd: Pmd & { kind: 'devmap' }): void;
  /** a COW fault copied `value` from the file's block at (vma's file, page) into a private page */
  cowCopied?(vma: Vma, page: number, value: PageValue): void;
}

const NO_HOOKS: KernelHooks = { opDone: () => {}, pteInstalled: () => {}, blockOwnerChanged: () => {}, pageCacheDeleted: () => {} };

/** One completed or running store/write/truncate to a file page, for stale-read checks. */
export interface WriteRecord {
  value: PageValue;
  start: number;
  /** step of completion; null while in flight */
  end: number | null;
}

export class KernelState {
  readonly sim: Sim;
  readonly flags: Flags;
  readonly fs: FsName;
  readonly pmem: Pmem;
  readonly inodes = new Map<string, Inode>();
  readonly vmas = new Map<string, Vma>();
  /** current->mm->mmap_sem (one process) */
  readonly mmapSem: RwSem;
  /** fs/dax.c wait_table[DAX_WAIT_TABLE_ENTRIES] (DAX_WAIT_TABLE_BITS = 12) */
  readonly daxWaitTable: HashedWaitTable<EntryKey>;
  hooks: KernelHooks = NO_HOOKS;
  /** file -> page -> every write to it, in start order */
  readonly writes = new Map<string, Map<number, WriteRecord[]>>();
  private nextPageId = 1;
  /** thread id -> the op it is running (media errors are noted on it) */
  readonly running = new Map<number, OpEvent>();
  /** the scenario has bad blocks or poison ops: only then do DAX accesses look at Block.bad */
  media = false;
  /** setup.partition_offset is not a multiple of PAGE_SIZE: bdev_direct_access() fails with -EINVAL */
  partitionMisaligned = false;
  /** mount -o dax failed (bdev_dax_supported(), v4.7+): the errno, else 0 */
  mountError = 0;

  constructor(sim: Sim, flags: Flags, fs: FsName, blocks: number) {
    this.sim = sim;
    this.flags = flags;
    this.fs = fs;
    this.pmem = new Pmem(sim, blocks);
    this.mmapSem = new RwSem(sim, 'mmap_sem', 'mm->mmap_sem', true);
    this.daxWaitTable = new HashedWaitTable<EntryKey>(sim, 'dax wait_table', 12);
  }

  inode(name: string): Inode {
    const i = this.inodes.get(name);
    if (i === undefined) throw new Error(`no inode ${name}`);
    return i;
  }

  newPageId(): number {
    return this.nextPageId++;
  }

  writeLog(file: string, page: number): WriteRecord[] {
    let m = this.writes.get(file);
    if (m === undefined) this.writes.set(file, (m = new Map()));
    let l = m.get(page);
    if (l === undefined) m.set(page, (l = []));
    return l;
  }
}
