// The address_space of a DAX file: the radix tree (`mapping->page_tree`) with
// its `tree_lock`, page-cache hole pages with their page lock, the i_mmap list
// of VMAs and `i_mmap_rwsem`.
import type { Sim } from '../sim/engine.js';
import { RwSem, Spinlock, mightSleep } from '../sim/sync.js';
import {
  HashedWaitTable, WaitQueueHead, autoremoveWakeFunction, finishWait, initWaitEntry, prepareToWait,
  prepareToWaitExclusive, schedule, waitqueueActive, wakeUp, type WaitQueueEntry,
} from '../sim/waitqueue.js';
import type { Vma } from './pagetable.js';
import { RadixTree } from './radix-tree.js';

/**
 * A page-cache page standing for a hole (v4.6–v4.12): a zeroed struct page,
 * locked with PG_locked, mapped read-only into shared mappings.
 */
export class HolePage {
  readonly kind = 'page';
  readonly id: number;
  readonly index: number;
  /** the object id of the struct page (flags, mapping, mapcount) */
  readonly obj: number;
  private readonly sim: Sim;
  private _mapping: AddressSpace | null;
  private _locked: string | null = null;
  private _mapcount = 0;
  /** waiters on PG_locked (bit_waitqueue() hashes (page, bit); one queue per page here) */
  readonly wq: WaitQueueHead<null>;
  /** where it is mapped (`vma:page`), for the stale-mapping check */
  readonly mappers = new Set<string>();
  constructor(sim: Sim, id: number, mapping: AddressSpace, index: number) {
    this.sim = sim;
    this.id = id;
    this._mapping = mapping;
    this.index = index;
    this.obj = sim.obj();
    this.wq = new WaitQueueHead(sim, `page ${id}`);
  }
  get label(): string {
    return `hole page #${this.id}`;
  }
  /** page->mapping; NULL once deleted from the page cache (truncate, or replaced by a block) */
  get mapping(): AddressSpace | null {
    this.sim.touch(this.obj, false);
    return this._mapping;
  }
  set mapping(m: AddressSpace | null) {
    this.sim.touch(this.obj, true);
    this._mapping = m;
  }
  /** PG_locked, with the owning thread for reports */
  get locked(): string | null {
    this.sim.touch(this.obj, false);
    return this._locked;
  }
  set locked(v: string | null) {
    this.sim.touch(this.obj, true);
    this._locked = v;
  }
  /** page_mapcount(): PTEs that map this page */
  get mapcount(): number {
    this.sim.touch(this.obj, false);
    return this._mapcount;
  }
  set mapcount(n: number) {
    this.sim.touch(this.obj, true);
    this._mapcount = n;
  }
  /** page->mapping without a footprint (reports) */
  peekMapping(): AddressSpace | null {
    return this._mapping;
  }
}

/**
 * An exceptional DAX entry. Entries are replaced, never mutated, as
 * `radix_tree_replace_slot()` replaces the slot's value: `locked` is the
 * RADIX_DAX_ENTRY_LOCK bit (v4.7+), `block` the sector's block (null for the
 * empty locked entry that grab_mapping_entry() inserts).
 */
export interface DaxEntry {
  readonly kind: 'dax';
  readonly block: number | null;
  readonly locked: boolean;
  /** the thread that set the lock bit, for reports only (the kernel does not record it) */
  readonly lockedBy: string | null;
  /**
   * v4.9–v4.16 (642261ac995e): the RADIX_DAX_PMD / RADIX_DAX_HZP / RADIX_DAX_EMPTY
   * bits (src/kernel/dax-iomap.ts); absent from v4.7–v4.8 entries, which have none.
   */
  readonly flags?: number;
  /** v4.5–v4.6 only: RADIX_DAX_TYPE(entry) == RADIX_DAX_PMD (a single slot at the PMD index; no multi-order entries then) */
  readonly pmdType?: boolean;
}

/** RADIX_DAX_PMD, v4.9–v4.16 (include/linux/dax.h): such entries are multi-order (dax_radix_order() = PMD_SHIFT - PAGE_SHIFT). */
function isMultiOrderEntry(e: TreeEntry): boolean {
  return e.kind === 'dax' && e.flags !== undefined && (e.flags & (1 << 3)) !== 0;
}

export type TreeEntry = HolePage | DaxEntry;

export function daxEntry(block: number | null, locked: boolean, lockedBy: string | null): DaxEntry {
  return { kind: 'dax', block, locked, lockedBy };
}

export class AddressSpace {
  readonly file: string;
  /** a stand-in for the struct's address, hashed with the index into the DAX wait table */
  readonly addr: bigint;
  /** page_tree: index -> entry; each slot, and its tags, is a shared object */
  readonly tree: RadixTree<TreeEntry>;
  readonly treeLock: Spinlock;
  private readonly sim: Sim;
  /** the shared object standing for nrpages and nrexceptional (read locklessly by writeback and write(2)) */
  readonly countsObj: number;
  private _nrexceptional = 0;
  private _nrpages = 0;
  /** i_mmap: the VMAs (shared and private) mapping this file, in insertion order */
  readonly iMmap: Vma[] = [];
  readonly iMmapRwsem: RwSem;
  /** index -> its dax_entry_waitqueue() head (a cache of the hash) */
  readonly waitqueues = new Map<number, WaitQueueHead<EntryKey>>();

  /** `serial` numbers the files of a scenario in order (it places the fake struct address) */
  constructor(sim: Sim, file: string, serial: number) {
    this.file = file;
    this.addr = 0xffff880012340000n + BigInt(serial) * 0x1000n;
    this.tree = new RadixTree<TreeEntry>(sim, isMultiOrderEntry);
    this.treeLock = new Spinlock(sim, `tree_lock ${file}`, 'mapping->tree_lock');
    this.iMmapRwsem = new RwSem(sim, `i_mmap_rwsem ${file}`, 'mapping->i_mmap_rwsem');
    this.sim = sim;
    this.countsObj = sim.obj();
  }

  /** mapping->nrexceptional */
  get nrexceptional(): number {
    this.sim.touch(this.countsObj, false);
    return this._nrexceptional;
  }
  set nrexceptional(n: number) {
    this.sim.touch(this.countsObj, true);
    this._nrexceptional = n;
  }
  /** mapping->nrpages */
  get nrpages(): number {
    this.sim.touch(this.countsObj, false);
    return this._nrpages;
  }
  set nrpages(n: number) {
    this.sim.touch(this.countsObj, true);
    this._nrpages = n;
  }
}

// include/linux/pagemap.h lock_page() -> mm/filemap.c __lock_page(), v4.6–v4.10:
// __wait_on_bit_lock(): exclusive waiters, re-test after every wakeup.
export function* lockPage(sim: Sim, page: HolePage): Generator<void, void, void> {
  yield;
  if (page.locked === null) {
    page.locked = sim.me.name;
    return;
  }
  const e: WaitQueueEntry<null> = initWaitEntry<null>(sim, null);
  for (;;) {
    prepareToWaitExclusive(sim, page.wq, e);
    if (page.locked === null) break;
    // woken (or the wakeup came first): the re-test runs in the step that resumes us
    yield* schedule(sim, `lock_page(${page.label})`, () => page.locked === null);
  }
  finishWait(sim, page.wq, e);
  page.locked = sim.me.name;
}

// mm/filemap.c unlock_page() -> wake_up_page(): wakes one exclusive waiter.
export function unlockPage(sim: Sim, page: HolePage): void {
  if (page.locked === null) {
    sim.violate('kernel-warn', `unlock_page(${page.label}) on an unlocked page (VM_BUG_ON_PAGE(!PageLocked(page)))`);
    return;
  }
  page.locked = null;
  wakeUp(sim, page.wq, 1, null);
}

// ---------------------------------------------------------------------------
// Page-cache lookups and insertion (mm/filemap.c), as DAX uses them for holes.

/** The caller's context: the engine, the DAX wait table and a page-id source. */
export interface MappingCtx {
  readonly sim: Sim;
  readonly daxWaitTable: HashedWaitTable<EntryKey>;
  readonly hooks: { pageCacheDeleted(page: HolePage): void };
  newPageId(): number;
}

// mm/filemap.c find_get_page() = pagecache_get_page(mapping, index, 0, 0), v4.6–v4.12:
// an RCU lookup; exceptional entries read as "no page".
export function* findGetPage(c: MappingCtx, mapping: AddressSpace, index: number): Generator<void, HolePage | null, void> {
  yield;
  const e = mapping.tree.get(index);
  return e !== undefined && e.kind === 'page' ? e : null;
}

// mm/filemap.c pagecache_get_page(FGP_LOCK) = find_lock_page(), v4.6–v4.12:
// lock, then re-check page->mapping (truncated pages are skipped by retrying).
export function* findLockPage(c: MappingCtx, mapping: AddressSpace, index: number): Generator<void, HolePage | null, void> {
  for (;;) {
    const page = yield* findGetPage(c, mapping, index);
    if (page === null) return null;
    yield* lockPage(c.sim, page);
    if (page.mapping === mapping) return page;
    unlockPage(c.sim, page);
  }
}

/**
 * How mm/filemap.c page_cache_tree_insert() treats a DAX exceptional entry in the slot:
 * `entryLock` off (v4.6): WARN and -EINVAL; on (v4.7, ac401cc78242): replace the locked
 * empty entry and wake entry-lock waiters, one or (`wakeAll`, 965d004af540, v4.10) all;
 * `emptyBits` (v4.9, 642261ac995e): the entry expected is dax_radix_locked_entry(0, RADIX_DAX_EMPTY).
 */
export interface PageCacheDax {
  entryLock: boolean;
  emptyBits: boolean;
  wakeAll: boolean;
}
export const PAGE_CACHE_DAX_V46: PageCacheDax = { entryLock: false, emptyBits: false, wakeAll: false };
export const PAGE_CACHE_DAX_V47: PageCacheDax = { entryLock: true, emptyBits: false, wakeAll: false };

// mm/filemap.c pagecache_get_page(FGP_LOCK|FGP_ACCESSED|FGP_CREAT) = find_or_create_page(),
// v4.6–v4.12: a new zeroed page is locked before add_to_page_cache_lru(); -EEXIST retries,
// any other insertion error returns NULL (the DAX callers turn that into VM_FAULT_OOM).
export function* findOrCreatePage(c: MappingCtx, mapping: AddressSpace, index: number, dax: PageCacheDax): Generator<void, HolePage | null, void> {
  for (;;) {
    const found = yield* findLockPage(c, mapping, index);
    if (found !== null) return found;
    mightSleep(c.sim, '__page_cache_alloc(GFP_KERNEL)');
    const page = new HolePage(c.sim, c.newPageId(), mapping, index);
    page.locked = c.sim.me.name; // __SetPageLocked() before insertion
    const err = yield* addToPageCache(c, mapping, page, dax);
    if (err === 0) {
      if (c.sim.rec) c.sim.log(`find_or_create_page(${mapping.file}:${index}) -> new ${page.label}`);
      return page;
    }
    page.mapping = null;
    if (err !== -EEXIST) {
      if (c.sim.rec) c.sim.log(`find_or_create_page(${mapping.file}:${index}) -> NULL (${errName(err)})`);
      return null;
    }
  }
}

// mm/filemap.c __add_to_page_cache_locked(): radix_tree_maybe_preload() (preemption
// off), tree_lock, page_cache_tree_insert(), unlock, radix_tree_preload_end().
function* addToPageCache(c: MappingCtx, mapping: AddressSpace, page: HolePage, dax: PageCacheDax): Generator<void, number, void> {
  yield* radixTreePreload(c.sim);
  yield* mapping.treeLock.lock(c.sim);
  const err = pageCacheTreeInsert(c, mapping, page, dax);
  mapping.treeLock.unlock(c.sim);
  radixTreePreloadEnd(c.sim);
  return err;
}

// mm/filemap.c page_cache_tree_insert(), under tree_lock.
//   v4.6: an exceptional entry in a DAX mapping: WARN_ON(dax_mapping(mapping)), -EINVAL.
//   v4.7 (ac401cc78242): the only exceptional entry allowed is the empty locked one
//   (WARN_ON_ONCE otherwise); it is replaced and one entry-lock waiter is woken.
//   v4.9 (642261ac995e): the same test against dax_radix_locked_entry(0, RADIX_DAX_EMPTY).
//   v4.10 (965d004af540 "dax: fix deadlock with DAX 4k holes"): every waiter is woken.
//   (The v4.9+ text wakes before __radix_tree_replace(); both happen under tree_lock.)
function pageCacheTreeInsert(c: MappingCtx, mapping: AddressSpace, page: HolePage, dax: PageCacheDax): number {
  const p = mapping.tree.get(page.index);
  if (p !== undefined) {
    if (p.kind === 'page') return -EEXIST;
    if (!dax.entryLock) {
      c.sim.violate('kernel-warn', `WARN_ON(dax_mapping(mapping)) in page_cache_tree_insert(): ${mapping.file}:${page.index} already holds a DAX entry`, `pcti-v46`);
      return -EINVAL;
    }
    if (!dax.emptyBits && !(p.block === null && p.locked)) {
      c.sim.violate('kernel-warn', `WARN_ON_ONCE(p != RADIX_TREE_EXCEPTIONAL_ENTRY | RADIX_DAX_ENTRY_LOCK) in page_cache_tree_insert(): ${mapping.file}:${page.index} holds ${describeEntry(p)}`, `pcti-v47`);
    }
    // RADIX_DAX_EMPTY = 1 << (RADIX_TREE_EXCEPTIONAL_SHIFT + 3), include/linux/dax.h v4.9–v4.13
    if (dax.emptyBits && !(p.block === null && p.locked && p.flags === 1 << 5)) {
      c.sim.violate('kernel-warn', `WARN_ON_ONCE(p != dax_radix_locked_entry(0, RADIX_DAX_EMPTY)) in page_cache_tree_insert(): ${mapping.file}:${page.index} holds ${describeEntry(p)}`, `pcti-v49`);
    }
    mapping.nrexceptional--;
    mapping.tree.set(page.index, page);
    mapping.nrpages++;
    // v4.9+: the key's entry_start is PMD-aligned when p is a PMD entry (RADIX_DAX_PMD = 1 << 3; 63e95b5c4f16)
    const entryStart = p.flags !== undefined && (p.flags & (1 << 3)) !== 0 ? page.index & ~511 : page.index;
    daxWakeMappingEntryWaiter(c, mapping, entryStart, dax.wakeAll);
    return 0;
  }
  mapping.tree.set(page.index, page);
  mapping.nrpages++;
  return 0;
}

// mm/filemap.c __delete_from_page_cache(): called under tree_lock. DAX mappings keep no shadow entry.
export function deleteFromPageCacheLocked(c: MappingCtx, mapping: AddressSpace, page: HolePage): void {
  if (mapping.tree.get(page.index) === page) {
    mapping.tree.delete(page.index);
    mapping.nrpages--;
  }
  page.mapping = null;
  c.hooks.pageCacheDeleted(page);
}

// mm/filemap.c delete_from_page_cache(), v4.6–v4.12: tree_lock around __delete_from_page_cache().
export function* deleteFromPageCache(c: MappingCtx, mapping: AddressSpace, page: HolePage): Generator<void, void, void> {
  yield* mapping.treeLock.lock(c.sim);
  deleteFromPageCacheLocked(c, mapping, page);
  mapping.treeLock.unlock(c.sim);
  if (c.sim.rec) c.sim.log(`delete_from_page_cache(${page.label})`);
}

// mm/filemap.c wait_on_page_locked() -> wait_on_page_bit(): a non-exclusive wait.
export function* waitOnPageLocked(sim: Sim, page: HolePage): Generator<void, void, void> {
  yield;
  if (page.locked === null) return;
  const e = initWaitEntry<null>(sim, null);
  for (;;) {
    prepareToWait(sim, page.wq, e);
    if (page.locked === null) break;
    yield* schedule(sim, `wait_on_page_locked(${page.label})`, () => page.locked === null);
  }
  finishWait(sim, page.wq, e);
}

// lib/radix-tree.c radix_tree_preload(): may allocate (sleep), returns with preemption disabled.
export function* radixTreePreload(sim: Sim): Generator<void, void, void> {
  yield;
  mightSleep(sim, 'radix_tree_preload()');
  sim.me.preempt++;
}

// include/linux/radix-tree.h radix_tree_preload_end(): preempt_enable().
export function radixTreePreloadEnd(sim: Sim): void {
  sim.me.preempt--;
}

// ---------------------------------------------------------------------------
// The DAX entry lock, fs/dax.c v4.7–v4.8 (ac401cc78242): the lock bit lives in
// the exceptional entry; waiters sleep exclusively on a hashed wait table.

export interface EntryKey {
  mapping: AddressSpace;
  index: number;
}

export function describeEntry(e: TreeEntry | undefined): string {
  if (e === undefined) return 'no entry';
  if (e.kind === 'page') return e.label;
  const f = e.flags ?? 0;
  const size = f & (1 << 3) || e.pmdType ? 'PMD ' : '';
  // RADIX_DAX_HZP / RADIX_DAX_ZERO_PAGE = 1 << 4 (v4.9+): a zero-page entry (the huge zero page for a PMD entry)
  const what = f & (1 << 4) ? (size ? 'huge zero' : 'zero') : e.block === null ? 'empty' : `blk ${e.block}`;
  return `${size}${what} entry${e.locked ? ' (locked)' : ''}`;
}

// fs/dax.c dax_entry_waitqueue(), v4.7–v4.8: hash_long(mapping ^ index, DAX_WAIT_TABLE_BITS).
export function daxEntryWaitqueue(c: MappingCtx, mapping: AddressSpace, index: number): WaitQueueHead<EntryKey> {
  let wq = mapping.waitqueues.get(index);
  if (wq === undefined) mapping.waitqueues.set(index, (wq = c.daxWaitTable.head(mapping.addr ^ BigInt(index))));
  return wq;
}

// fs/dax.c wake_exceptional_entry_func(), v4.7–v4.19: only a waiter for this key
// ({mapping, index}; from v4.9 the index is the entry's start, 63e95b5c4f16).
export function wakeExceptionalEntryFunc(entry: WaitQueueEntry<EntryKey>, key: EntryKey | null, sim: Sim): number {
  if (key === null || entry.key === null || key.mapping !== entry.key.mapping || key.index !== entry.key.index) return 0;
  return autoremoveWakeFunction(entry, null, sim);
}

/** The entry-lock sleeper's condition: the slot no longer holds a locked exceptional entry. */
export function isUnlocked(mapping: AddressSpace, index: number): boolean {
  const e = mapping.tree.get(index);
  return e === undefined || e.kind !== 'dax' || !e.locked;
}

// fs/dax.c get_unlocked_mapping_entry(), v4.7–v4.8: called and returns with tree_lock held.
export function* getUnlockedMappingEntry(c: MappingCtx, mapping: AddressSpace, index: number): Generator<void, TreeEntry | undefined, void> {
  const sim = c.sim;
  const wq = daxEntryWaitqueue(c, mapping, index);
  const ewait = initWaitEntry<EntryKey>(sim, { mapping, index }, wakeExceptionalEntryFunc);
  for (;;) {
    const ret = mapping.tree.get(index);
    if (ret === undefined || ret.kind !== 'dax' || !ret.locked) return ret;
    prepareToWaitExclusive(sim, wq, ewait);
    mapping.treeLock.unlock(sim);
    yield* schedule(sim, `get_unlocked_mapping_entry(${mapping.file}:${index}) [entry locked by ${ret.lockedBy ?? '?'}]`, () => isUnlocked(mapping, index));
    finishWait(sim, wq, ewait);
    yield* mapping.treeLock.lock(sim);
  }
}

// fs/dax.c grab_mapping_entry(), v4.7–v4.8: returns a locked entry: a new empty
// one, an existing DAX entry with the lock bit set, or a hole page locked with
// lock_page(). (ERR_PTR(-ENOMEM) from the preload is not modelled: allocations succeed.)
export function* grabMappingEntry(c: MappingCtx, mapping: AddressSpace, index: number): Generator<void, TreeEntry, void> {
  const sim = c.sim;
  for (;;) {
    yield* mapping.treeLock.lock(sim);
    const ret = yield* getUnlockedMappingEntry(c, mapping, index);
    if (ret === undefined) {
      mapping.treeLock.unlock(sim);
      yield* radixTreePreload(sim);
      yield* mapping.treeLock.lock(sim);
      if (mapping.tree.has(index)) {
        // radix_tree_insert() -> -EEXIST: "Someone already created the entry?"
        radixTreePreloadEnd(sim);
        mapping.treeLock.unlock(sim);
        continue;
      }
      const e = daxEntry(null, true, sim.me.name);
      mapping.tree.set(index, e);
      radixTreePreloadEnd(sim);
      mapping.nrexceptional++;
      mapping.treeLock.unlock(sim);
      if (sim.rec) sim.log(`grab_mapping_entry(${mapping.file}:${index}) -> new empty entry, locked`);
      return e;
    }
    if (ret.kind === 'page') {
      mapping.treeLock.unlock(sim);
      yield* lockPage(sim, ret);
      if (ret.mapping !== mapping) {
        unlockPage(sim, ret);
        continue;
      }
      if (sim.rec) sim.log(`grab_mapping_entry(${mapping.file}:${index}) -> ${ret.label}, page locked`);
      return ret;
    }
    const locked = daxEntry(ret.block, true, sim.me.name);
    mapping.tree.set(index, locked); // lock_slot()
    mapping.treeLock.unlock(sim);
    if (sim.rec) sim.log(`grab_mapping_entry(${mapping.file}:${index}) -> ${describeEntry(ret)}, locked`);
    return locked;
  }
}

// fs/dax.c dax_wake_mapping_entry_waiter(), v4.7–v4.8: waitqueue_active() peek, then
// __wake_up(nr_exclusive = wake_all ? 0 : 1) with the {mapping, index} key.
export function daxWakeMappingEntryWaiter(c: MappingCtx, mapping: AddressSpace, index: number, wakeAll: boolean): void {
  const wq = daxEntryWaitqueue(c, mapping, index);
  if (waitqueueActive(c.sim, wq)) wakeUp(c.sim, wq, wakeAll ? 0 : 1, { mapping, index });
}

// fs/dax.c dax_unlock_mapping_entry(), v4.7–v4.8
export function* daxUnlockMappingEntry(c: MappingCtx, mapping: AddressSpace, index: number): Generator<void, void, void> {
  const sim = c.sim;
  yield* mapping.treeLock.lock(sim);
  const ret = mapping.tree.get(index);
  if (ret === undefined || ret.kind !== 'dax' || !ret.locked) {
    sim.violate('kernel-warn', `WARN_ON_ONCE in dax_unlock_mapping_entry(): ${mapping.file}:${index} holds ${describeEntry(ret)}, not a locked DAX entry`, 'dax_unlock_mapping_entry');
    mapping.treeLock.unlock(sim);
    return;
  }
  mapping.tree.set(index, daxEntry(ret.block, false, null)); // unlock_slot()
  mapping.treeLock.unlock(sim);
  daxWakeMappingEntryWaiter(c, mapping, index, false);
}

// fs/dax.c put_locked_mapping_entry(), v4.7–v4.8
export function* putLockedMappingEntry(c: MappingCtx, mapping: AddressSpace, index: number, entry: TreeEntry): Generator<void, void, void> {
  if (entry.kind === 'page') {
    yield;
    unlockPage(c.sim, entry);
  } else {
    yield* daxUnlockMappingEntry(c, mapping, index);
  }
}

// fs/dax.c put_unlocked_mapping_entry(), v4.7–v4.8: pass the wakeup on to the next waiter.
export function putUnlockedMappingEntry(c: MappingCtx, mapping: AddressSpace, index: number, entry: TreeEntry | undefined): void {
  if (entry === undefined || entry.kind !== 'dax') return;
  daxWakeMappingEntryWaiter(c, mapping, index, false);
}

// fs/dax.c dax_delete_mapping_entry(), v4.7–v4.8: wait for the entry lock, delete, wake all.
export function* daxDeleteMappingEntry(c: MappingCtx, mapping: AddressSpace, index: number): Generator<void, number, void> {
  const sim = c.sim;
  yield* mapping.treeLock.lock(sim);
  const entry = yield* getUnlockedMappingEntry(c, mapping, index);
  if (entry === undefined || entry.kind !== 'dax') {
    sim.violate('kernel-warn', `WARN_ON_ONCE in dax_delete_mapping_entry(): ${mapping.file}:${index} holds ${describeEntry(entry)}, not a DAX entry`, 'dax_delete_mapping_entry');
    mapping.treeLock.unlock(sim);
    return 0;
  }
  mapping.tree.delete(index);
  mapping.nrexceptional--;
  mapping.treeLock.unlock(sim);
  if (sim.rec) sim.log(`dax_delete_mapping_entry(${mapping.file}:${index})`);
  daxWakeMappingEntryWaiter(c, mapping, index, true);
  return 1;
}

export const EEXIST = 17;
export const EINVAL = 22;
export const EIO = 5;
export const ENOMEM = 12;
export const EBUSY = 16;
export const EFAULT = 14;
export const ENOSPC = 28;

export function errName(err: number): string {
  const names: Record<number, string> = { [-EEXIST]: '-EEXIST', [-EINVAL]: '-EINVAL', [-EIO]: '-EIO', [-ENOMEM]: '-ENOMEM', [-EBUSY]: '-EBUSY', [-ENOSPC]: '-ENOSPC', [-EFAULT]: '-EFAULT' };
  return names[err] ?? String(err);
}

/** An errno as an op result word: -EIO -> `EIO`. */
export function errWord(err: number): string {
  return errName(err).replace(/^-/, '');
}
