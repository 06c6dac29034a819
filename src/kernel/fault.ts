// The page-fault paths: the DAX handlers of fs/dax.c (v4.6 and v4.7 shapes)
// and the generic mm/memory.c + arch code that calls them.
import { mightSleep } from '../sim/sync.js';
import {
  EBUSY, EIO, ENOMEM, daxEntry, deleteFromPageCache, deleteFromPageCacheLocked, describeEntry, errName, findGetPage,
  findLockPage, findOrCreatePage, grabMappingEntry, lockPage, putLockedMappingEntry, putUnlockedMappingEntry,
  getUnlockedMappingEntry, daxUnlockMappingEntry, radixTreePreload, radixTreePreloadEnd, unlockPage, waitOnPageLocked, PAGE_CACHE_DAX_V46, PAGE_CACHE_DAX_V47,
  type HolePage, type TreeEntry,
} from './mapping.js';
import { describePte, pteAlloc, setPte, unmapMappingRange, type AnonPage, type Pte, type Vma } from './pagetable.js';
import { clearUserHighpage, copyUserDax, doCowFault, setCowPte, wpPageCopy } from './cow.js';
import { handleMmFault, pteAllocOneMap } from './huge.js';
import { PAGECACHE_TAG_DIRTY } from './radix-tree.js';
import type { KernelState } from './state.js';
import { bdevDirectAccess } from './media.js';

export const VM_FAULT_OOM = 0x0001;
export const VM_FAULT_SIGBUS = 0x0002;
export const VM_FAULT_MAJOR = 0x0004;
/** not a handle_mm_fault() result here: the fault handler's bad_area() (no VMA) -> SIGSEGV */
export const VM_FAULT_SIGSEGV = 0x0040;
export const VM_FAULT_NOPAGE = 0x0100;
export const VM_FAULT_LOCKED = 0x0200;
export const VM_FAULT_RETRY = 0x0400;
export const VM_FAULT_WRITE = 0x0008;
export const VM_FAULT_DAX_LOCKED = 0x1000;
/** v4.10–v4.19 (b1aa812b2108): ->fault has fully handled COW (0x1000 in the kernel, where VM_FAULT_DAX_LOCKED no longer exists) */
export const VM_FAULT_DONE_COW = 0x2000;
/** include/linux/mm.h, v4.15+ (caa51d26f85c's series): "->fault did not modify page tables and needs fsync() to complete (for synchronous page faults in DAX)" (0x2000 in the kernel; the model's VM_FAULT_DONE_COW holds that bit) */
export const VM_FAULT_NEEDDSYNC = 0x4000;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS;

export const FAULT_FLAG_WRITE = 0x01;
export const FAULT_FLAG_MKWRITE = 0x02;
export const FAULT_FLAG_ALLOW_RETRY = 0x04;
export const FAULT_FLAG_KILLABLE = 0x10;
export const FAULT_FLAG_TRIED = 0x20;
export const FAULT_FLAG_USER = 0x40;

export interface Vmf {
  pgoff: number;
  flags: number;
  /** the page a ->fault handler returns (a hole page), or the page of a page_mkwrite */
  page: HolePage | null;
  /** vmf->orig_pte of a write-protect fault (v4.10 finish_mkwrite_fault() compares it) */
  origPte?: Pte;
  /** vmf->cow_page: the new anonymous page of a COW fault on a private mapping (do_cow_fault()) */
  cowPage?: AnonPage | null;
  /** vmf->entry: the locked DAX entry a COW fault returns with VM_FAULT_DAX_LOCKED (v4.7–v4.9) */
  entry?: TreeEntry | null;
  /** the pfn (block) dax_iomap_fault() hands back with VM_FAULT_NEEDDSYNC (its `pfn_t *pfnp`, v4.15+) */
  syncPfn?: number;
}

/** What a filesystem's get_block reports (the buffer_head state bits the DAX code reads). */
export interface Bh {
  mapped: boolean;
  unwritten: boolean;
  isNew: boolean;
  block: number | null;
}

/** The filesystem half: its vm_operations and its DAX get_block. */
export interface FsOps {
  fault(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void>;
  pageMkwrite(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void>;
  pfnMkwrite(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void>;
  getBlock(k: KernelState, vma: Vma, page: number, create: boolean): Generator<void, Bh | number, void>;
  /** ->pmd_fault (v4.6–v4.10) / ->huge_fault(PE_SIZE_PMD) (v4.11+), src/kernel/huge.ts; absent: no PMD faults */
  pmdFault?(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void>;
}

export function faultName(ret: number): string {
  const parts: string[] = [];
  if (ret & VM_FAULT_OOM) parts.push('VM_FAULT_OOM');
  if (ret & VM_FAULT_SIGBUS) parts.push('VM_FAULT_SIGBUS');
  if (ret & VM_FAULT_SIGSEGV) parts.push('VM_FAULT_SIGSEGV');
  if (ret & VM_FAULT_NOPAGE) parts.push('VM_FAULT_NOPAGE');
  if (ret & VM_FAULT_LOCKED) parts.push('VM_FAULT_LOCKED');
  if (ret & VM_FAULT_RETRY) parts.push('VM_FAULT_RETRY');
  if (ret & VM_FAULT_DAX_LOCKED) parts.push('VM_FAULT_DAX_LOCKED');
  if (ret & VM_FAULT_DONE_COW) parts.push('VM_FAULT_DONE_COW');
  if (ret & VM_FAULT_WRITE) parts.push('VM_FAULT_WRITE');
  if (ret & VM_FAULT_NEEDDSYNC) parts.push('VM_FAULT_NEEDDSYNC');
  if (ret & VM_FAULT_MAJOR) parts.push('VM_FAULT_MAJOR');
  return parts.length ? parts.join('|') : '0';
}

export function where(vma: Vma, pgoff: number): string {
  return `${vma.mapping.file}:${pgoff}`;
}

function bhName(bh: Bh): string {
  if (bh.unwritten) return `unwritten blk ${bh.block}`;
  return bh.mapped ? `blk ${bh.block}` : 'hole';
}

export function* getBlockLogged(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, create: boolean): Generator<void, Bh | number, void> {
  const r = yield* k.sim.fn('get_block', fs.getBlock(k, vma, pgoff, create));
  if (k.sim.rec) k.sim.log(`get_block(${where(vma, pgoff)}${create ? ', create' : ''}) -> ${typeof r === 'number' ? errName(r) : bhName(r)}`);
  return r;
}

/** i_size_read() in pages: a read of shared state, so a scheduling point. */
export function* iSizeRead(k: KernelState, vma: Vma): Generator<void, number, void> {
  yield;
  const size = k.inode(vma.mapping.file).size;
  if (k.sim.rec) k.sim.log(`i_size_read(${vma.mapping.file}) = ${size}`);
  return size;
}

// mm/memory.c insert_pfn() via vm_insert_mixed(), v4.6–v4.14: -EBUSY if a PTE is
// present; otherwise a pte_special/devmap PTE with vma->vm_page_prot, which is
// write-protected for a DAX VMA (it has ->pfn_mkwrite, so vma_wants_writenotify()):
// the first store takes a second fault through wp_pfn_shared().
export function* vmInsertMixed(k: KernelState, vma: Vma, pgoff: number, block: number): Generator<void, number, void> {
  // insert_pfn() -> get_locked_pte() -> pte_alloc_map_lock(): a none pmd gets a page table;
  // a huge one is not tested for (setPte() then writes into the huge page)
  if (vma.pmd !== null) yield* pteAlloc(k, vma, pgoff);
  yield* vma.ptl.lock(k.sim);
  let ret = 0;
  if (vma.ptes.has(pgoff)) {
    ret = -EBUSY;
  } else {
    setPte(k, vma, pgoff, { kind: 'pfn', block, write: false, dirty: false });
  }
  vma.ptl.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`vm_insert_mixed(${vma.name}:${pgoff} -> blk ${block})${ret ? ` -> ${errName(ret)}` : ''}`);
  return ret;
}

export function errToFault(error: number, major: number): number {
  if (error === -ENOMEM) return VM_FAULT_OOM | major;
  // "-EBUSY is fine, somebody else faulted on the same PTE"
  if (error < 0 && error !== -EBUSY) return VM_FAULT_SIGBUS | major;
  return VM_FAULT_NOPAGE | major;
}

// ---------------------------------------------------------------------------
// v4.6: fs/dax.c before entry locking (read from store id 11726779, v4.6 +
// aef39ab1534d; the v4.6 tag's hole test is kept, see daxFaultV46).

// fs/dax.c dax_radix_entry(), v4.5–v4.6 (PTE entries only; NO_SECTOR = block null)
function* daxRadixEntryV46(k: KernelState, vma: Vma, index: number, block: number | null, dirty: boolean): Generator<void, number, void> {
  const mapping = vma.mapping;
  yield* mapping.treeLock.lock(k.sim);
  let error = 0;
  // "entry = radix_tree_lookup(page_tree, pmd_index); if (entry && RADIX_DAX_TYPE(entry) == RADIX_DAX_PMD) { index = pmd_index; goto dirty; }"
  // (skipped for a file no VMA can map with a PMD: no PMD entry can be in its tree)
  const pmdIndex = index & ~511;
  const pmdEntry = pmdIndex !== index && mapping.iMmap.some((v) => v.pmd !== null) ? mapping.tree.get(pmdIndex) : undefined;
  if (pmdEntry !== undefined && pmdEntry.kind === 'dax' && pmdEntry.pmdType) index = pmdIndex;
  const entry = mapping.tree.get(index);
  if (entry !== undefined) {
    if (entry.kind !== 'dax') {
      // WARN_ON_ONCE(type != RADIX_DAX_PTE && type != RADIX_DAX_PMD): a page-cache page sits here
      k.sim.violate('kernel-warn', `WARN_ON_ONCE(type != RADIX_DAX_PTE && type != RADIX_DAX_PMD) in dax_radix_entry(): ${where(vma, index)} holds ${entry.label}`, 'dax_radix_entry');
      error = -EIO;
    }
    // an existing PTE entry keeps its sector; only the dirty tag is set
  } else if (block !== null) {
    mapping.tree.set(index, daxEntry(block, false, null));
    mapping.nrexceptional++;
  }
  // dirty: radix_tree_tag_set(page_tree, index, PAGECACHE_TAG_DIRTY) (NO_SECTOR with no entry skips it)
  if (dirty && error === 0 && (entry !== undefined || block !== null)) mapping.tree.tagSet(index, PAGECACHE_TAG_DIRTY);
  mapping.treeLock.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`dax_radix_entry(${where(vma, index)}${block !== null ? `, blk ${block}` : ', NO_SECTOR'}) -> ${error ? errName(error) : describeEntry(mapping.tree.get(index))}`);
  return error;
}

// fs/dax.c dax_insert_mapping(), v4.3–v4.6: under i_mmap_lock_read, re-check i_size
// (the XIP truncate protocol of 0f90cc6609c7), zero new/unwritten blocks, add the
// radix entry, then the PTE.
function* daxInsertMappingV46(k: KernelState, vma: Vma, vmf: Vmf, bh: Bh): Generator<void, number, void> {
  const mapping = vma.mapping;
  const sim = k.sim;
  const iMmapLock = k.flags.dax_fault_i_mmap_lock;
  if (iMmapLock) yield* mapping.iMmapRwsem.downRead(sim);
  let error = 0;
  const size = yield* iSizeRead(k, vma);
  if (iMmapLock && vmf.pgoff >= size) {
    error = -EIO;
    if (sim.rec) sim.log(`dax_insert_mapping: i_size ${size} <= ${vmf.pgoff} -> -EIO`);
  } else if ((error = bdevDirectAccess(k, bh.block!, 'dax_map_atomic')) === 0) {
    if (bh.unwritten || bh.isNew) {
      yield;
      k.pmem.block(bh.block!).content = 0; // clear_pmem(); wmb_pmem() (the CPU: poison stays)
    }
    error = yield* daxRadixEntryV46(k, vma, vmf.pgoff, bh.block!, (vmf.flags & FAULT_FLAG_WRITE) !== 0);
    if (error === 0) error = yield* vmInsertMixed(k, vma, vmf.pgoff, bh.block!);
  }
  if (iMmapLock) mapping.iMmapRwsem.upRead(sim);
  return error;
}

// fs/dax.c dax_load_hole(), v4.5–v4.6: a page-cache page for a read of a hole,
// i_size re-checked under its page lock.
function* daxLoadHoleV46(k: KernelState, vma: Vma, page: HolePage | null, vmf: Vmf): Generator<void, number, void> {
  if (page === null) page = yield* findOrCreatePage(k, vma.mapping, vmf.pgoff, PAGE_CACHE_DAX_V46);
  if (page === null) return VM_FAULT_OOM;
  const size = yield* iSizeRead(k, vma);
  if (vmf.pgoff >= size) {
    unlockPage(k.sim, page);
    if (k.sim.rec) k.sim.log(`dax_load_hole: i_size ${size} <= ${vmf.pgoff} -> VM_FAULT_SIGBUS`);
    return VM_FAULT_SIGBUS;
  }
  vmf.page = page;
  if (k.sim.rec) k.sim.log(`dax_load_hole: ${page.label} in tree, locked`);
  return VM_FAULT_LOCKED;
}

// mm/filemap.c lock_page_or_retry() -> __lock_page_or_retry(), v4.6–v4.7: with
// FAULT_FLAG_ALLOW_RETRY, drop mmap_sem, wait for the unlock and return 0 (retry).
function* lockPageOrRetry(k: KernelState, page: HolePage, flags: number): Generator<void, boolean, void> {
  yield;
  mightSleep(k.sim, 'lock_page_or_retry()');
  if (page.locked === null) {
    page.locked = k.sim.me.name; // trylock_page()
    return true;
  }
  if (flags & FAULT_FLAG_ALLOW_RETRY) {
    k.mmapSem.upRead(k.sim);
    yield* waitOnPageLocked(k.sim, page);
    return false;
  }
  yield* lockPage(k.sim, page);
  return true;
}

// fs/dax.c __dax_fault(), v4.6 (store id 11726779; the hole test is the v4.6 tag's
// `!buffer_mapped && !buffer_unwritten`, removed by aef39ab1534d in v4.7). A COW
// fault (vmf->cow_page) allocates nothing: it copies the block or zeroes the page
// and returns VM_FAULT_LOCKED, with the hole page locked, or holding i_mmap_lock_read.
export function* daxFaultV46(k: KernelState, fs: FsOps, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  let size = yield* iSizeRead(k, vma);
  if (vmf.pgoff >= size) {
    if (sim.rec) sim.log(`__dax_fault: i_size ${size} <= ${vmf.pgoff} -> VM_FAULT_SIGBUS`);
    return VM_FAULT_SIGBUS;
  }
  let major = 0;
  let error = 0;
  let page: HolePage | null;
  for (;;) {
    page = yield* findGetPage(k, mapping, vmf.pgoff);
    if (page === null) break;
    if (!(yield* lockPageOrRetry(k, page, vmf.flags))) {
      if (sim.rec) sim.log(`__dax_fault: ${page.label} locked -> VM_FAULT_RETRY`);
      return VM_FAULT_RETRY;
    }
    if (page.mapping !== mapping) {
      unlockPage(sim, page);
      continue;
    }
    size = yield* iSizeRead(k, vma);
    if (vmf.pgoff >= size) {
      // "We have a struct page covering a hole in the file from a read fault and we've raced with a truncate"
      error = -EIO;
      unlockPage(sim, page);
      return errToFault(error, major);
    }
    break;
  }

  let bh = yield* getBlockLogged(k, fs, vma, vmf.pgoff, false);
  if (typeof bh === 'number') {
    if (page !== null) unlockPage(sim, page);
    return errToFault(bh, major);
  }
  const cow = vmf.cowPage ?? null;
  // v4.6: `!buffer_mapped(&bh) && !buffer_unwritten(&bh) && !vmf->cow_page`;
  // aef39ab1534d (v4.7) dropped the unwritten test so that a write fault converts the extent
  if (!bh.mapped && (k.flags.dax_fault_unwritten_create || !bh.unwritten) && cow === null) {
    if (vmf.flags & FAULT_FLAG_WRITE) {
      bh = yield* getBlockLogged(k, fs, vma, vmf.pgoff, true);
      major = VM_FAULT_MAJOR;
      if (typeof bh === 'number') {
        if (page !== null) unlockPage(sim, page);
        return errToFault(bh, major);
      }
    } else {
      return yield* daxLoadHoleV46(k, vma, page, vmf);
    }
  }

  if (cow !== null) {
    // buffer_written(&bh) ? copy_user_bh() : clear_user_highpage()
    if (bh.mapped && !bh.unwritten) yield* copyUserDax(k, vma, vmf.pgoff, bh.block!, cow);
    else clearUserHighpage(k, cow);
    vmf.page = page;
    if (page === null) {
      // "The fault handler has no page to lock, so it holds i_mmap_lock for read to
      // protect against truncate" (do_cow_fault() drops it after the install)
      if (k.flags.dax_fault_i_mmap_lock) {
        yield* mapping.iMmapRwsem.downRead(sim);
        // "Check we didn't race with truncate"
        size = yield* iSizeRead(k, vma);
        if (vmf.pgoff >= size) {
          mapping.iMmapRwsem.upRead(sim);
          if (sim.rec) sim.log(`__dax_fault (cow): i_size ${size} <= ${vmf.pgoff} -> -EIO`);
          return errToFault(-EIO, major);
        }
      }
    }
    if (sim.rec) sim.log(`__dax_fault (cow) -> VM_FAULT_LOCKED${page === null ? (k.flags.dax_fault_i_mmap_lock ? ', i_mmap_lock held' : '') : `, ${page.label}`}`);
    return VM_FAULT_LOCKED;
  }

  // Check we didn't race with a read fault installing a new page
  if (page === null && major) {
    page = yield* findLockPage(k, mapping, vmf.pgoff);
    if (sim.rec) sim.log(`find_lock_page(${where(vma, vmf.pgoff)}) -> ${page === null ? 'NULL' : page.label}`);
  }
  if (page !== null) {
    yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, vmf.pgoff, 1));
    yield* deleteFromPageCache(k, mapping, page);
    unlockPage(sim, page);
    page = null;
  }
  if (bh.block === null) throw new Error(`model: get_block returned no block for a write fault at ${where(vma, vmf.pgoff)}`);
  error = yield* daxInsertMappingV46(k, vma, vmf, bh);
  if (bh.unwritten && !(vmf.flags & FAULT_FLAG_WRITE)) {
    sim.violate('kernel-warn', `WARN_ON_ONCE(!(vmf->flags & FAULT_FLAG_WRITE)) in __dax_fault(): unwritten buffer on a read fault at ${where(vma, vmf.pgoff)}`, '__dax_fault-unwritten');
  }
  const ret = errToFault(error, major);
  if (sim.rec) sim.log(`__dax_fault -> ${faultName(ret)}${error ? ` (${errName(error)})` : ''}`);
  return ret;
}

// fs/dax.c dax_pfn_mkwrite(), v4.5–v4.6: set the dirty tag of the existing entry
// (NO_SECTOR); an index that holds a page hits the WARN in dax_radix_entry().
export function* daxPfnMkwriteV46(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const error = yield* daxRadixEntryV46(k, vma, vmf.pgoff, null, true);
  if (error === -ENOMEM) return VM_FAULT_OOM;
  if (error) return VM_FAULT_SIGBUS;
  return VM_FAULT_NOPAGE;
}

// ---------------------------------------------------------------------------
// v4.7: fs/dax.c with entry locking (ac401cc78242; read from store ids
// 24459562991 (v4.7, comments stripped) and 48298668521 (v4.8, same helpers)).

// fs/dax.c dax_load_hole(), v4.7–v4.8: the page replaces the locked empty entry.
function* daxLoadHoleV47(k: KernelState, vma: Vma, entry: TreeEntry, vmf: Vmf): Generator<void, number, void> {
  if (entry.kind === 'page') {
    vmf.page = entry;
    if (k.sim.rec) k.sim.log(`dax_load_hole: ${entry.label} already there`);
    return VM_FAULT_LOCKED;
  }
  const page = yield* findOrCreatePage(k, vma.mapping, vmf.pgoff, PAGE_CACHE_DAX_V47);
  if (page === null) {
    yield* putLockedMappingEntry(k, vma.mapping, vmf.pgoff, entry);
    return VM_FAULT_OOM;
  }
  vmf.page = page;
  if (k.sim.rec) k.sim.log(`dax_load_hole: ${page.label} replaces the locked entry`);
  return VM_FAULT_LOCKED;
}

// fs/dax.c dax_insert_mapping_entry(), v4.7–v4.8: the new entry is created locked;
// a hole page is unmapped, deleted and replaced; a write fault tags it DIRTY.
function* daxInsertMappingEntryV47(k: KernelState, vma: Vma, vmf: Vmf, entry: TreeEntry, block: number): Generator<void, TreeEntry, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  const holeFill = entry.kind === 'page';
  if (holeFill) {
    // "Unmap the page now before we remove it from page cache below. The page is locked so it cannot be faulted in again."
    yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, vmf.pgoff, 1));
    yield* radixTreePreload(sim);
  }
  yield* mapping.treeLock.lock(sim);
  const newEntry = daxEntry(block, true, sim.me.name);
  if (entry.kind === 'page') {
    deleteFromPageCacheLocked(k, mapping, entry);
    mapping.tree.set(vmf.pgoff, newEntry);
    mapping.nrexceptional++;
  } else {
    const ret = mapping.tree.get(vmf.pgoff);
    if (ret !== entry) {
      sim.violate('kernel-warn', `WARN_ON_ONCE(ret != entry) in dax_insert_mapping_entry(): ${where(vma, vmf.pgoff)} holds ${describeEntry(ret)}, not the entry this fault locked`, 'dax_insert_mapping_entry');
    }
    mapping.tree.set(vmf.pgoff, newEntry); // radix_tree_replace_slot()
  }
  if (vmf.flags & FAULT_FLAG_WRITE) mapping.tree.tagSet(vmf.pgoff, PAGECACHE_TAG_DIRTY);
  mapping.treeLock.unlock(sim);
  if (entry.kind === 'page') {
    radixTreePreloadEnd(sim);
    unlockPage(sim, entry);
  }
  if (sim.rec) sim.log(`dax_insert_mapping_entry(${where(vma, vmf.pgoff)}) -> blk ${block}, locked${holeFill ? `, replaced ${entry.kind === 'page' ? entry.label : ''}` : ''}`);
  return newEntry;
}

// fs/dax.c dax_fault() COW branch, v4.7–v4.8 (store id 24459562991; the form before
// bc2466e42573 from the `-` lines of its posting, id 45345104542): copy the block (a
// written buffer) or zero the page, then return with the hole page locked
// (VM_FAULT_LOCKED), or with the entry locked (VM_FAULT_DAX_LOCKED, vmf->entry) for
// do_cow_fault() to unlock after the install. Before bc2466e42573: unlock the entry,
// take i_mmap_lock_read (no i_size re-check) and return VM_FAULT_LOCKED, vmf->page NULL.
function* daxCowV47(k: KernelState, vma: Vma, vmf: Vmf, bh: Bh, entry: TreeEntry): Generator<void, number, void> {
  const sim = k.sim;
  const cow = vmf.cowPage!;
  if (bh.mapped && !bh.unwritten) yield* copyUserDax(k, vma, vmf.pgoff, bh.block!, cow);
  else clearUserHighpage(k, cow);
  if (entry.kind === 'page') {
    vmf.page = entry;
    if (sim.rec) sim.log(`dax_fault (cow) -> VM_FAULT_LOCKED, ${entry.label}`);
    return VM_FAULT_LOCKED;
  }
  if (k.flags.dax_cow_entry_lock) {
    vmf.entry = entry;
    if (sim.rec) sim.log('dax_fault (cow) -> VM_FAULT_DAX_LOCKED, entry still locked');
    return VM_FAULT_DAX_LOCKED;
  }
  yield* daxUnlockMappingEntry(k, vma.mapping, vmf.pgoff); // unlock_mapping_entry()
  if (k.flags.dax_fault_i_mmap_lock) yield* vma.mapping.iMmapRwsem.downRead(sim);
  vmf.page = null;
  if (sim.rec) sim.log(`dax_fault (cow) -> VM_FAULT_LOCKED, entry unlocked${k.flags.dax_fault_i_mmap_lock ? ', i_mmap_lock held' : ''}`);
  return VM_FAULT_LOCKED;
}

// fs/dax.c dax_fault(), v4.7 (store id 24459562991): entry lock held from before
// get_block until the PTE is in; a COW fault returns with it held (daxCowV47).
export function* daxFaultV47(k: KernelState, fs: FsOps, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  // "Caller is supposed to hold locks serializing us with truncate / punch hole so this is a reliable test."
  const size = yield* iSizeRead(k, vma);
  if (vmf.pgoff >= size) {
    if (sim.rec) sim.log(`dax_fault: i_size ${size} <= ${vmf.pgoff} -> VM_FAULT_SIGBUS`);
    return VM_FAULT_SIGBUS;
  }
  let entry = yield* k.sim.fn('grab_mapping_entry', grabMappingEntry(k, mapping, vmf.pgoff));
  let major = 0;
  let error = 0;
  let bh = yield* getBlockLogged(k, fs, vma, vmf.pgoff, false);
  if (typeof bh === 'number') {
    error = bh;
  } else if (vmf.cowPage) {
    return yield* daxCowV47(k, vma, vmf, bh, entry);
  } else {
    // aef39ab1534d: `!buffer_mapped(&bh)`; before it `!buffer_mapped(&bh) && !buffer_unwritten(&bh)`
    if (!bh.mapped && (k.flags.dax_fault_unwritten_create || !bh.unwritten)) {
      if (vmf.flags & FAULT_FLAG_WRITE) {
        bh = yield* getBlockLogged(k, fs, vma, vmf.pgoff, true);
        major = VM_FAULT_MAJOR;
        if (typeof bh === 'number') error = bh;
      } else {
        return yield* daxLoadHoleV47(k, vma, entry, vmf);
      }
    }
    if (typeof bh !== 'number') {
      if (bh.unwritten || bh.isNew) {
        // "Filesystem should not return unwritten buffers to us!"
        sim.violate('kernel-warn', `WARN_ON_ONCE(buffer_unwritten(&bh) || buffer_new(&bh)) in dax_fault() at ${where(vma, vmf.pgoff)}`, 'dax_fault-bh');
      }
      if (bh.block === null) {
        throw new Error(`model: get_block(create) left ${where(vma, vmf.pgoff)} unmapped`);
      } else {
        // dax_insert_mapping(): dax_map_atomic() (its error ends the fault), then the entry, then the PTE
        error = bdevDirectAccess(k, bh.block!, 'dax_map_atomic');
        if (error === 0) {
          entry = yield* daxInsertMappingEntryV47(k, vma, vmf, entry, bh.block!);
          error = yield* vmInsertMixed(k, vma, vmf.pgoff, bh.block!);
        }
      }
    }
  }
  yield* putLockedMappingEntry(k, mapping, vmf.pgoff, entry);
  const ret = errToFault(error, major);
  if (sim.rec) sim.log(`dax_fault -> ${faultName(ret)}${error ? ` (${errName(error)})` : ''}`);
  return ret;
}

// fs/dax.c dax_pfn_mkwrite(), v4.7–v4.9: wait for the entry to be unlocked, set
// its dirty tag without locking it, pass the wakeup on. Always VM_FAULT_NOPAGE.
export function* daxPfnMkwriteV47(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const mapping = vma.mapping;
  yield* mapping.treeLock.lock(k.sim);
  const entry = yield* getUnlockedMappingEntry(k, mapping, vmf.pgoff);
  if (entry !== undefined && entry.kind === 'dax') {
    mapping.tree.tagSet(vmf.pgoff, PAGECACHE_TAG_DIRTY);
    putUnlockedMappingEntry(k, mapping, vmf.pgoff, entry);
    if (k.sim.rec) k.sim.log(`dax_pfn_mkwrite(${where(vma, vmf.pgoff)}): entry tagged DIRTY`);
  }
  mapping.treeLock.unlock(k.sim);
  return VM_FAULT_NOPAGE;
}

// ---------------------------------------------------------------------------
// Generic fault code, mm/memory.c v4.6–v4.7 (PTE level, shared file mappings).

// mm/memory.c __do_fault(), v4.6–v4.19: call ->fault; lock a returned page unless
// VM_FAULT_LOCKED. (v4.7–v4.9: VM_FAULT_DAX_LOCKED returns vmf->entry, with no page.)
export function* doFaultHandler(k: KernelState, fs: FsOps, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const ret = yield* k.sim.fn('->fault', fs.fault(k, vma, vmf));
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  if (vmf.page === null) return ret;
  if (!(ret & VM_FAULT_LOCKED)) yield* lockPage(k.sim, vmf.page);
  return ret;
}

// mm/memory.c do_read_fault() / do_shared_fault(), v4.6–v4.7, for a DAX VMA (no
// ->map_pages): the handler either installed a PFN itself (VM_FAULT_NOPAGE) or
// returns a locked hole page to be mapped read-only under the PTE lock.
function* doFault(k: KernelState, fs: FsOps, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const ret = yield* doFaultHandler(k, fs, vma, vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  const page = vmf.page!;
  if (vmf.flags & FAULT_FLAG_WRITE) {
    // do_shared_fault() with a page: not reachable for DAX, whose write faults allocate and return NOPAGE
    throw new Error(`model: a shared DAX write fault returned ${page.label}`);
  }
  // v4.8+ (7267ec008b5c): alloc_set_pte() -> pte_alloc_one_map() (VMAs with a PMD level only)
  const mapRet = vma.pmd !== null ? yield* pteAllocOneMap(k, vma, vmf.pgoff) : 0;
  if (mapRet) {
    unlockPage(k.sim, page);
    return mapRet;
  }
  yield* vma.ptl.lock(k.sim);
  if (vma.ptes.has(vmf.pgoff)) {
    // !pte_same(*pte, orig_pte): someone mapped it meanwhile
    vma.ptl.unlock(k.sim);
    unlockPage(k.sim, page);
    return ret;
  }
  setPte(k, vma, vmf.pgoff, { kind: 'page', page, write: false, dirty: false }); // do_set_pte(): read-only
  vma.ptl.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`do_read_fault: map ${vma.name}:${vmf.pgoff} -> ${page.label} ro`);
  unlockPage(k.sim, page);
  return ret;
}

// mm/memory.c wp_page_reuse(), v4.6–v4.7: make the PTE young, dirty and writable. Caller holds ptl.
export function wpPageReuse(k: KernelState, vma: Vma, pgoff: number, orig: Pte): void {
  if (orig.kind === 'zero') throw new Error(`model: wp_page_reuse() of the zero page at ${vma.name}:${pgoff}`);
  setPte(k, vma, pgoff, { ...orig, write: true, dirty: true });
  vma.ptl.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`wp_page_reuse: ${vma.name}:${pgoff} -> ${describePte(vma.ptes.get(pgoff))}`);
}

// mm/memory.c finish_fault() -> alloc_set_pte(), v4.10–v4.19: "Did we COW the page?"
// (FAULT_FLAG_WRITE on a private VMA): map vmf->cow_page, dirty and writable, as an
// anonymous page; else map vmf->page read-only. Under ptl; VM_FAULT_NOPAGE if a PTE
// is already there.
export function* finishFault(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  if (vmf.flags & FAULT_FLAG_WRITE && !vma.shared) {
    yield* vma.ptl.lock(k.sim);
    const ok = setCowPte(k, vma, vmf.pgoff, vmf.cowPage!);
    vma.ptl.unlock(k.sim);
    return ok ? 0 : VM_FAULT_NOPAGE;
  }
  const page = vmf.page!;
  const mapRet = vma.pmd !== null ? yield* pteAllocOneMap(k, vma, vmf.pgoff) : 0; // VMAs with a PMD level only
  if (mapRet) return mapRet;
  yield* vma.ptl.lock(k.sim);
  if (vma.ptes.has(vmf.pgoff)) {
    vma.ptl.unlock(k.sim);
    return VM_FAULT_NOPAGE;
  }
  setPte(k, vma, vmf.pgoff, { kind: 'page', page, write: false, dirty: false });
  vma.ptl.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`finish_fault: map ${vma.name}:${vmf.pgoff} -> ${page.label} ro`);
  return 0;
}

// mm/memory.c finish_mkwrite_fault(), v4.10–v4.19 (the helper 2f89dc12a25d's series
// added): retake ptl; if the PTE is still vmf->orig_pte make it writable and dirty
// (wp_page_reuse()), else VM_FAULT_NOPAGE.
export function* finishMkwriteFault(k: KernelState, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  yield* vma.ptl.lock(k.sim);
  if (vmf.origPte === undefined || vma.ptes.get(vmf.pgoff) !== vmf.origPte) {
    vma.ptl.unlock(k.sim);
    if (k.sim.rec) k.sim.log('finish_mkwrite_fault: PTE changed meanwhile');
    return VM_FAULT_NOPAGE;
  }
  wpPageReuse(k, vma, vmf.pgoff, vmf.origPte);
  return 0;
}

// mm/memory.c do_wp_page() -> wp_pfn_shared() / wp_page_shared(), v4.6–v4.10: a
// write to a present read-only PTE of a shared mapping. Called with ptl held.
function* doWpPage(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, orig: Pte): Generator<void, number, void> {
  const sim = k.sim;
  vma.ptl.unlock(sim);
  if (orig.kind === 'anon') throw new Error(`model: an anonymous page in the shared mapping ${vma.name}`);
  // a pte_special/devmap PTE (a DAX pfn, or from v4.14 the zero page): vm_normal_page() is NULL
  if (orig.kind === 'pfn' || orig.kind === 'zero') {
    // wp_pfn_shared(): ->pfn_mkwrite, then re-check the PTE under ptl
    const vmf: Vmf = { pgoff, flags: FAULT_FLAG_WRITE | FAULT_FLAG_MKWRITE, page: null, origPte: orig };
    const ret = yield* k.sim.fn('->pfn_mkwrite', fs.pfnMkwrite(k, vma, vmf));
    if (k.flags.dax_pfn_mkwrite_under_entry_lock) {
      // v4.10 (the series of 2f89dc12a25d): a handler that returns VM_FAULT_NOPAGE has
      // updated the PTE itself; otherwise finish_mkwrite_fault().
      if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) return ret;
      return yield* finishMkwriteFault(k, vma, vmf);
    }
    if (ret & VM_FAULT_ERROR) return ret;
    yield* vma.ptl.lock(sim);
    if (vma.ptes.get(pgoff) !== orig) {
      vma.ptl.unlock(sim);
      if (sim.rec) sim.log('wp_pfn_shared: PTE changed meanwhile, retry');
      return 0;
    }
    wpPageReuse(k, vma, pgoff, orig);
    return 0;
  }
  // wp_page_shared() -> do_page_mkwrite(): ->page_mkwrite with the page; DAX
  // replaces the hole page and returns VM_FAULT_NOPAGE, so the write faults again.
  const vmf: Vmf = { pgoff: orig.page.index, flags: FAULT_FLAG_WRITE | FAULT_FLAG_MKWRITE, page: orig.page };
  const ret = yield* k.sim.fn('->page_mkwrite', fs.pageMkwrite(k, vma, vmf));
  if (ret === 0 || ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) return ret;
  throw new Error(`model: DAX ->page_mkwrite returned ${faultName(ret)}`);
}

// mm/memory.c handle_pte_fault(), v4.6–v4.19 (PTE level): no PTE -> do_fault(): a read
// fault, a COW fault (write, !VM_SHARED) or a shared write fault; a write to a read-only
// PTE -> do_wp_page(): wp_pfn_shared()/wp_page_shared() when VM_SHARED, else wp_page_copy().
export function* handlePteFault(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, flags: number): Generator<void, number, void> {
  yield; // entry = *pte (a lockless read)
  const entry = vma.ptes.get(pgoff);
  if (entry === undefined) {
    if (flags & FAULT_FLAG_WRITE && !vma.shared) return yield* doCowFault(k, fs, vma, pgoff, flags);
    return yield* doFault(k, fs, vma, { pgoff, flags, page: null });
  }
  yield* vma.ptl.lock(k.sim);
  if (vma.ptes.get(pgoff) !== entry) {
    vma.ptl.unlock(k.sim);
    return 0;
  }
  if (flags & FAULT_FLAG_WRITE && !entry.write) {
    if (entry.kind === 'anon') throw new Error(`model: a read-only anonymous PTE at ${vma.name}:${pgoff} (no fork is modelled)`);
    // vm_normal_page() is NULL for a DAX pfn; a hole page is not anonymous: "Ok, we need to copy"
    if (!vma.shared) return yield* wpPageCopy(k, vma, pgoff, entry);
    return yield* doWpPage(k, fs, vma, pgoff, entry);
  }
  if (flags & FAULT_FLAG_WRITE) setPte(k, vma, pgoff, { ...entry, dirty: true });
  vma.ptl.unlock(k.sim);
  return 0;
}

/**
 * arch/x86/mm/fault.c __do_page_fault(), v4.6–v4.7, from a user access:
 * mmap_sem for read around handle_mm_fault(); VM_FAULT_RETRY retries once
 * with FAULT_FLAG_TRIED (mmap_sem was dropped by the handler).
 * Returns the final VM_FAULT bits.
 */
export function* userFault(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, write: boolean, huge = false): Generator<void, number, void> {
  let flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0);
  for (;;) {
    yield* k.mmapSem.downRead(k.sim);
    // find_vma(): a munmap()ed map is gone -> bad_area() -> SIGSEGV
    k.sim.touch(vma.obj, false);
    if (vma.unmapped) {
      k.mmapSem.upRead(k.sim);
      if (k.sim.rec) k.sim.log(`find_vma(${vma.name}) -> NULL: bad_area`);
      return VM_FAULT_SIGSEGV;
    }
    if (write && !vma.vmWrite) {
      // access_error(): a write to a VMA without VM_WRITE -> bad_area_access_error() -> SIGSEGV
      k.mmapSem.upRead(k.sim);
      if (k.sim.rec) k.sim.log(`access_error(${vma.name}): write to a PROT_READ mapping: bad_area_access_error`);
      return VM_FAULT_SIGSEGV;
    }
    // a VMA with a PMD level (huge files) goes through the PMD dispatch of __handle_mm_fault() (huge.ts)
    const ret = yield* k.sim.fn('handle_mm_fault', vma.pmd !== null ? handleMmFault(k, fs, vma, pgoff, flags, huge) : handlePteFault(k, fs, vma, pgoff, flags));
    if (ret & VM_FAULT_RETRY) {
      if (flags & FAULT_FLAG_ALLOW_RETRY) {
        flags &= ~FAULT_FLAG_ALLOW_RETRY;
        flags |= FAULT_FLAG_TRIED;
        continue;
      }
      return ret;
    }
    k.mmapSem.upRead(k.sim);
    return ret;
  }
}
