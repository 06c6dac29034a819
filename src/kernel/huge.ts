// PMD (2 MiB) faults: the PMD level of mm/memory.c's fault dispatch, the huge
// PMD helpers of mm/huge_memory.c, and the DAX PMD fault handlers of fs/dax.c:
// the get_block-era __dax_pmd_fault() (v4.6) and dax_iomap_pmd_fault()
// (v4.9–v4.19; ext4 reaches it from v4.10). What v4.14–v4.19 change around
// it is elsewhere: 2 MiB zero entries beside 4k ZERO entries (dax-iomap.ts),
// the page association of a 2 MiB entry's 512 pages (dax-pfn.ts, v4.17 code,
// v4.18 profile), dax_layout_busy_page() over 2 MiB entries (layout.ts), pins
// of PMD pages (gup.ts); here 957ac8c421ad's i_size test (v4.15) and the
// synchronous (MAP_SYNC) PMD fault: caa51d26f85c's VM_FAULT_NEEDDSYNC and
// dax_finish_sync_fault(PE_SIZE_PMD) (v4.15). The page-table state (pmd none /
// page table / huge zero page / DAX PMD, the pmd lock, nr_ptes and rss) is in
// pagetable.ts; multi-order (2 MiB) tree entries in radix-tree.ts; the PMD
// requests and the PMD downgrade of grab_mapping_entry() in dax-iomap.ts.
//
// Sources (notes/kernel-pmd.md quotes them): v4.6 fs/dax.c __dax_pmd_fault(),
// store id 11726779; v4.9 fs/dax.c dax_iomap_pmd_fault(), dax_pmd_insert_mapping(),
// dax_pmd_load_hole(), 706997388; the v4.10 order, 24765410162; v4.12, 1521764;
// insert_pfn_pmd() of a v4.5–v4.9-era mm/huge_memory.c, 11896472; the
// postings of e2093926a098 (38003748326) and of "mm: avoid spurious 'bad pmd'
// warning messages" (37874005091), which quote the mm/memory.c checks.
//
// Sources for v4.14–v4.19: notes/kernel-pmd-v4.14plus.md (v4.14 fs/dax.c,
// 24324988927; 4.19.y, 3323916569).
//
// Not modelled: PUD faults; COW (private mappings fall back before any PMD
// work, as the code does, and the PTE path refuses them); the PMD colour check
// (v4.13+, fffa281b48a9 from memory: scenario maps are 2 MiB-aligned, so it
// always passes); the data a
// PTE written through pte_offset_map() of a huge pmd corrupts (pagetable.ts).
// fsync/msync of 2 MiB entries and the write-protection of DAX PMDs by
// dax_mapping_entry_mkclean() (f729c8c9b24f) are in writeback.ts.
import {
  FAULT_FLAG_WRITE, VM_FAULT_NEEDDSYNC, VM_FAULT_NOPAGE, VM_FAULT_SIGBUS, faultName, handlePteFault, iSizeRead, where,
  type FsOps, type Vmf,
} from './fault.js';
import {
  describeEntry, errName, type AddressSpace,
} from './mapping.js';
import {
  HPAGE_PMD_NR, PMD_ORDER, describePmd, hugePmdUnmapped, pteAlloc, setHugePmd, splitHugePmd, type Pmd, type Vma,
} from './pagetable.js';
import { truncatePagecacheRange } from './truncate.js';
import { bdevDirectAccessRange } from './media.js';
import {
  IOMAP_FAULT, IOMAP_WRITE, PG_PMD_COLOUR, RADIX_DAX_HZP, RADIX_DAX_PMD, daxInsertMappingEntryV49, daxIsPmdEntry, getUnlockedMappingEntryV49,
  grabMappingEntryPmdV49, lockSlot, putLockedMappingEntryV49, putUnlockedMappingEntryV49, type EntryRef, type Iomap, type IomapOps,
} from './dax-iomap.js';
import { vfsFsyncRange } from './writeback.js';
import { PAGECACHE_TAG_DIRTY } from './radix-tree.js';
import type { Inode, KernelState } from './state.js';

/** include/linux/mm.h, v4.6–v4.19 */
export const VM_FAULT_FALLBACK = 0x0800;

function pmdWrite(pmd: Pmd): boolean {
  return pmd.kind === 'devmap' && pmd.write;
}

// ---------------------------------------------------------------------------
// mm/memory.c

// mm/memory.c create_huge_pmd(), v4.6–v4.19, for a file VMA: ->pmd_fault (v4.6–v4.10) /
// ->huge_fault(PE_SIZE_PMD) (v4.11+, the same handler here), or VM_FAULT_FALLBACK.
function* createHugePmd(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, flags: number): Generator<void, number, void> {
  if (fs.pmdFault === undefined) return VM_FAULT_FALLBACK;
  return yield* k.sim.fn('->pmd_fault', fs.pmdFault(k, vma, { pgoff, flags, page: null }));
}

// mm/memory.c wp_huge_pmd(), v4.6–v4.19, for a file VMA: a write to a read-only huge pmd
// goes to ->pmd_fault / ->huge_fault as well (the DAX handler upgrades or falls back).
function* wpHugePmd(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, flags: number): Generator<void, number, void> {
  if (fs.pmdFault === undefined) {
    yield* splitHugePmd(k, vma, pgoff); // "COW handled on pte level: split pmd"
    return VM_FAULT_FALLBACK;
  }
  return yield* k.sim.fn('->pmd_fault', fs.pmdFault(k, vma, { pgoff, flags, page: null }));
}

// mm/huge_memory.c huge_pmd_set_accessed(), v4.6–v4.19: under the pmd lock, if the pmd is
// unchanged, make it young (and dirty for a write to a writable one). Returns 0.
function* hugePmdSetAccessed(k: KernelState, vma: Vma, index: number, orig: Pmd, flags: number): Generator<void, void, void> {
  const lvl = vma.pmd!;
  yield* lvl.lock.lock(k.sim);
  if (lvl.pmds.get(index) === orig && flags & FAULT_FLAG_WRITE && orig.kind === 'devmap' && !orig.dirty) {
    lvl.pmds.set(index, { ...orig, dirty: true });
  }
  lvl.lock.unlock(k.sim);
}

/**
 * The test of a present pmd in handle_pte_fault() and pte_alloc_one_map(), v4.8–v4.19:
 * `pmd_trans_unstable(pmd) || pmd_devmap(*pmd)` until v4.11, `pmd_devmap(*pmd) ||
 * pmd_trans_unstable(pmd)` from v4.12 ("mm: avoid spurious 'bad pmd' warning
 * messages"). pmd_trans_unstable() is pmd_none_or_trans_huge_or_clear_bad(): true for
 * none and trans-huge (the huge zero page); a DAX PMD is neither, and pmd_bad() holds
 * for it, so pmd_clear_bad() prints "bad pmd" and clears it. True: return and retry.
 * (Reads *pmd: the caller yields before it.)
 */
export function pmdUnstable(k: KernelState, vma: Vma, index: number, caller: string): boolean {
  const lvl = vma.pmd!;
  const pmd = lvl.pmds.get(index);
  if (k.flags.mm_pmd_devmap_checked_first && pmd !== undefined && pmd.kind === 'devmap') return true;
  if (pmd === undefined || pmd.kind === 'huge-zero') return true;
  if (pmd.kind === 'devmap') {
    // mm/pgtable-generic.c pmd_clear_bad(): pmd_ERROR(*pmd); pmd_clear(pmd) (no lock, no TLB flush)
    k.sim.violate('kernel-warn', `mm/pgtable-generic.c: bad pmd (${describePmd(pmd)} of ${vma.name} pmd ${index}, from pmd_trans_unstable() in ${caller}()); pmd_clear_bad() clears it`, `bad-pmd:${vma.name}:${index}`);
    lvl.pmds.delete(index);
    hugePmdUnmapped(k, vma, index, pmd);
    return true;
  }
  return false;
}

// mm/memory.c pte_alloc_one_map(), v4.8–v4.19, as alloc_set_pte() (finish_fault()) calls it
// when handle_pte_fault() left vmf->pte NULL: allocate the page table if the pmd is none
// (under pmd_lock), then the unstable test of pmdUnstable(): VM_FAULT_NOPAGE if the pmd is
// (now) huge. 0: the caller may take the PTE lock. A VMA without a PMD level: 0.
export function* pteAllocOneMap(k: KernelState, vma: Vma, pgoff: number): Generator<void, number, void> {
  if (vma.pmd === null || !k.flags.mm_pte_alloc_deferred) return 0;
  yield* pteAlloc(k, vma, pgoff);
  yield; // map_pte:
  return pmdUnstable(k, vma, pgoff >> PMD_ORDER, 'pte_alloc_one_map') ? VM_FAULT_NOPAGE : 0;
}

/**
 * mm/memory.c __handle_mm_fault(), v4.6–v4.19, at the PMD level (no PUD faults), and the
 * start of handle_pte_fault(). `huge` stands for transparent_hugepage_enabled(vma) at
 * this address: a `fault` op with `huge: true`. A none pmd then goes to create_huge_pmd();
 * a huge pmd (huge zero or DAX) is upgraded by wp_huge_pmd() for a write to a read-only
 * one, else made young (huge_pmd_set_accessed(): the access is served by the PMD).
 * What falls back goes on to the PTE level:
 *   v4.6–v4.7: pte_alloc() here, then "if an huge pmd materialized from under us just
 *     retry later" (pmd_trans_huge() || pmd_devmap()), then handle_pte_fault();
 *   v4.8+ (7267ec008b5c): handle_pte_fault() leaves a none pmd for the code that sets the
 *     PTE to fill, and tests a present one with pmdUnstable().
 * VMAs without a PMD level go straight to handle_pte_fault(), as before.
 */
export function* handleMmFault(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, flags: number, huge: boolean): Generator<void, number, void> {
  const lvl = vma.pmd;
  if (lvl === null) return yield* handlePteFault(k, fs, vma, pgoff, flags);
  const sim = k.sim;
  const index = pgoff >> PMD_ORDER;
  yield; // orig_pmd = *pmd
  const orig = lvl.pmds.get(index);
  if (orig === undefined && huge) {
    const ret = yield* createHugePmd(k, fs, vma, pgoff, flags);
    if (!(ret & VM_FAULT_FALLBACK)) return ret;
    if (sim.rec) sim.log(`create_huge_pmd -> VM_FAULT_FALLBACK`);
  } else if (orig !== undefined && orig.kind !== 'table') {
    if (flags & FAULT_FLAG_WRITE && !pmdWrite(orig)) {
      const ret = yield* wpHugePmd(k, fs, vma, pgoff, flags);
      if (!(ret & VM_FAULT_FALLBACK)) return ret;
      if (sim.rec) sim.log(`wp_huge_pmd -> VM_FAULT_FALLBACK`);
    } else {
      yield* hugePmdSetAccessed(k, vma, index, orig, flags);
      if (sim.rec) sim.log(`__handle_mm_fault: served by the ${describePmd(orig)}`);
      return 0;
    }
  }
  if (!k.flags.mm_pte_alloc_deferred) {
    yield* pteAlloc(k, vma, pgoff);
    yield;
    const now = lvl.pmds.get(index);
    if (now !== undefined && now.kind !== 'table') return 0;
    return yield* handlePteFault(k, fs, vma, pgoff, flags);
  }
  yield; // handle_pte_fault(): pmd_none(*vmf->pmd)?
  if (lvl.pmds.get(index) !== undefined) {
    yield;
    if (pmdUnstable(k, vma, index, 'handle_pte_fault')) return 0;
  }
  return yield* handlePteFault(k, fs, vma, pgoff, flags);
}

// ---------------------------------------------------------------------------
// mm/huge_memory.c

// mm/huge_memory.c vmf_insert_pfn_pmd() -> insert_pfn_pmd(), v4.5–v4.19 (text of a
// v4.5–v4.9-era copy, store id 11896472; believed unchanged to v4.19 — the pmd_none()
// test came later, from memory): under pmd_lock, set_pmd_at() of a devmap PMD (dirty and
// writable for a write fault), whatever *pmd held: a page table it replaces is leaked.
export function* vmfInsertPfnPmd(k: KernelState, vma: Vma, index: number, block: number, write: boolean): Generator<void, number, void> {
  const lvl = vma.pmd!;
  yield* lvl.lock.lock(k.sim);
  const pmd: Pmd = { kind: 'devmap', block, write, dirty: write };
  setHugePmd(k, vma, index, pmd);
  lvl.lock.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`vmf_insert_pfn_pmd(${vma.name} pmd ${index}) -> ${describePmd(pmd)}`);
  return VM_FAULT_NOPAGE;
}

// ---------------------------------------------------------------------------
// fs/dax.c, v4.6: the get_block PMD fault.

/** What the filesystem's get_block says for a PMD request (bh.b_size in pages; 0: buffer_size_valid() is false). */
export interface BhRange {
  mapped: boolean;
  unwritten: boolean;
  isNew: boolean;
  block: number | null;
  len: number;
}
export type GetBlockRange = (k: KernelState, inode: Inode, head: number, create: boolean) => Generator<void, BhRange | number, void>;

// fs/dax.c dax_radix_entry(mapping, index, sector, pmd_entry = true, dirty = true), v4.5–v4.6
// (notes/kernel-v4.6-v4.7.md §1.3): a PMD entry already at the PMD index is only tagged; a PTE
// entry there is deleted and replaced (single-slot entries: no multi-order tree in v4.6).
function* daxRadixEntryPmdV46(k: KernelState, mapping: AddressSpace, index: number, block: number): Generator<void, number, void> {
  yield* mapping.treeLock.lock(k.sim);
  let error = 0;
  const entry = mapping.tree.get(index);
  if (entry !== undefined && entry.kind === 'page') {
    k.sim.violate('kernel-warn', `WARN_ON_ONCE(type != RADIX_DAX_PTE && type != RADIX_DAX_PMD) in dax_radix_entry(): ${mapping.file}:${index} holds ${entry.label}`, 'dax_radix_entry');
    error = -5;
  } else {
    if (entry === undefined || !entry.pmdType) {
      if (entry !== undefined) {
        mapping.tree.delete(index);
        mapping.nrexceptional--;
      }
      mapping.tree.set(index, { kind: 'dax', block, locked: false, lockedBy: null, pmdType: true });
      mapping.nrexceptional++;
    }
    mapping.tree.tagSet(index, PAGECACHE_TAG_DIRTY);
  }
  mapping.treeLock.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`dax_radix_entry(${mapping.file}:${index}, PMD, dirty) -> ${error ? errName(error) : describeEntry(mapping.tree.get(index))}`);
  return error;
}

/** The pages the VMA maps (it maps the file from offset 0 as large as the file was at setup). */
function vmaPages(vma: Vma): number {
  return vma.pmd!.pages;
}

// fs/dax.c __dax_pmd_fault(), v4.5–v4.6 (store id 11726779), with the filesystem's get_block
// for PMD_SIZE: no entry lock; a COW write splits and falls back; the PMD must lie inside
// the VMA and i_size; get_block, and for a write to a hole get_block(create) of 2 MiB;
// an extent shorter than 2 MiB (or a hole whose size the fs does not report:
// buffer_size_valid()) falls back; after an allocation, truncate_pagecache_range() of the
// 2 MiB; then under i_mmap_lock_read: i_size again, the huge zero page for a read of a hole
// (not reached on ext4, which does not size holes before v4.9), else zero new blocks, a dirty
// PMD radix entry for a write, and vmf_insert_pfn_pmd().
export function* daxPmdFaultV46(k: KernelState, getBlock: GetBlockRange, vma: Vma, vmf: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  const inode = k.inode(mapping.file);
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  const head = vmf.pgoff & ~PG_PMD_COLOUR;
  const index = vmf.pgoff >> PMD_ORDER;
  const fallback = (why: string): number => {
    if (sim.rec) sim.log(`__dax_pmd_fault: ${why} -> VM_FAULT_FALLBACK`);
    return VM_FAULT_FALLBACK;
  };
  // "Fall back to PTEs if we're going to COW"
  if (write && !vma.shared) {
    yield* splitHugePmd(k, vma, vmf.pgoff);
    return fallback('cow write');
  }
  if (head + HPAGE_PMD_NR > vmaPages(vma)) return fallback('vma end unaligned');
  let size = yield* iSizeRead(k, vma);
  if (head >= size) return VM_FAULT_SIGBUS;
  if ((head | PG_PMD_COLOUR) >= size) return fallback('offset + huge page size > file size');
  let bh = yield* getBlock(k, inode, head, false);
  if (typeof bh === 'number') return VM_FAULT_SIGBUS;
  let alloc = false;
  if (!bh.mapped && write) {
    bh = yield* getBlock(k, inode, head, true);
    if (typeof bh === 'number') return VM_FAULT_SIGBUS;
    alloc = true;
  }
  if (sim.rec) sim.log(`get_block(${where(vma, head)}, PMD_SIZE${alloc ? ', create' : ''}) -> ${bh.mapped ? `blk ${bh.block} +${bh.len}` : `hole${bh.len ? ` +${bh.len}` : ''}`}`);
  // "If the filesystem isn't willing to tell us the length of a hole, just fall back to PTEs."
  if (bh.len < HPAGE_PMD_NR) return fallback('allocated block too small');
  // "If we allocated new storage, make sure no process has any zero pages covering this hole"
  if (alloc) yield* sim.fn('truncate_pagecache_range', truncatePagecacheRange(k, mapping, head, head + PG_PMD_COLOUR));
  const iMmapLock = k.flags.dax_fault_i_mmap_lock;
  if (iMmapLock) yield* mapping.iMmapRwsem.downRead(sim);
  let result = 0;
  size = yield* iSizeRead(k, vma);
  if (head >= size) {
    result = VM_FAULT_SIGBUS;
  } else if ((head | PG_PMD_COLOUR) >= size) {
    result = fallback('offset + huge page size > file size');
  } else if (!write && !bh.mapped) {
    throw new Error('model: __dax_pmd_fault() huge zero page: ext4 reports no hole size in v4.6');
  } else if (bdevDirectAccessRange(k, bh.block!, HPAGE_PMD_NR, '__dax_pmd_fault') < 0) {
    // dax_map_atomic() of PMD_SIZE: "if (length < 0) { result = VM_FAULT_SIGBUS; goto out; }" (v4.6; the
    // v4.7 badblocks series made it a fallback, "dax: fallback from pmd to pte on error"). v4.6's
    // pmem_direct_access() does not consult badblocks, so only an unaligned partition fails here.
    result = VM_FAULT_SIGBUS;
  } else if (bh.block! % HPAGE_PMD_NR !== 0) {
    result = fallback('pfn unaligned');
  } else {
    if (bh.unwritten || bh.isNew) {
      yield;
      for (let i = 0; i < HPAGE_PMD_NR; i++) k.pmem.block(bh.block! + i).content = 0; // clear_pmem(); wmb_pmem()
    }
    // "we can just skip inserting a radix tree entry completely on the initial read"
    const error = write ? yield* daxRadixEntryPmdV46(k, mapping, head, bh.block!) : 0;
    if (error) result = fallback('PMD radix insertion failed');
    else result = yield* vmfInsertPfnPmd(k, vma, index, bh.block!, write);
  }
  if (iMmapLock) mapping.iMmapRwsem.upRead(sim);
  if (sim.rec) sim.log(`__dax_pmd_fault -> ${result === VM_FAULT_FALLBACK ? 'VM_FAULT_FALLBACK' : faultName(result)}`);
  return result;
}

// ---------------------------------------------------------------------------
// fs/dax.c, v4.9–v4.12: the iomap PMD fault.

// fs/dax.c dax_pmd_insert_mapping(), v4.9–v4.12 (v4.9 706997388, v4.12 1521764): dax_map_atomic()
// of 2 MiB (an error or a block that is not 2 MiB-aligned falls back: "pfn & PG_PMD_COLOUR"), the
// PMD entry, vmf_insert_pfn_pmd().
function* daxPmdInsertMapping(k: KernelState, vma: Vma, vmf: Vmf, iomap: Iomap, write: boolean, entryp: EntryRef): Generator<void, number, void> {
  const block = iomap.block!;
  // "if (length < 0) /* dax_map_atomic() failed */ goto fallback;" (v4.12: dax_direct_access(), "goto
  // unlock_fallback"): a known bad block anywhere in the 2 MiB (-EIO) sends the fault to PTEs,
  // which map the good pages and fail only on the bad one
  if (bdevDirectAccessRange(k, block, HPAGE_PMD_NR, 'dax_pmd_insert_mapping') < 0) {
    if (k.sim.rec) k.sim.log('dax_pmd_insert_mapping: dax_map_atomic(PMD_SIZE) failed -> VM_FAULT_FALLBACK');
    return VM_FAULT_FALLBACK;
  }
  if (block % HPAGE_PMD_NR !== 0) return VM_FAULT_FALLBACK;
  entryp.e = yield* daxInsertMappingEntryV49(k, vma, vmf, entryp.e, block, RADIX_DAX_PMD);
  return yield* vmfInsertPfnPmd(k, vma, vmf.pgoff >> PMD_ORDER, block, write);
}

// fs/dax.c dax_pmd_load_hole(), v4.9–v4.19 (store ids 706997388, 24324988927, 3323916569;
// the bit is RADIX_DAX_ZERO_PAGE from v4.14, the same bit): the entry becomes a 2 MiB
// huge-zero entry first (v4.19: its pfn is the huge zero page's, no page association:
// dax_entry_size() is 0 for a zero entry); then under pmd_lock, a pmd that is no longer none falls back
// (the HZP entry stays), else the huge zero page is mapped read-only.
function* daxPmdLoadHole(k: KernelState, vma: Vma, vmf: Vmf, entryp: EntryRef): Generator<void, number, void> {
  const lvl = vma.pmd!;
  const index = vmf.pgoff >> PMD_ORDER;
  // mm_get_huge_zero_page() succeeds
  entryp.e = yield* daxInsertMappingEntryV49(k, vma, vmf, entryp.e, null, RADIX_DAX_PMD | RADIX_DAX_HZP);
  yield* lvl.lock.lock(k.sim);
  if (lvl.pmds.get(index) !== undefined) {
    lvl.lock.unlock(k.sim);
    if (k.sim.rec) k.sim.log(`dax_pmd_load_hole: pmd no longer none -> VM_FAULT_FALLBACK`);
    return VM_FAULT_FALLBACK;
  }
  setHugePmd(k, vma, index, { kind: 'huge-zero' });
  lvl.lock.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`dax_pmd_load_hole: ${vma.name} pmd ${index} -> huge zero page`);
  return VM_FAULT_NOPAGE;
}

// fs/dax.c dax_iomap_pmd_fault(), v4.9–v4.19 (v4.9: 706997388; v4.10 order: 24765410162;
// v4.12: 1521764; v4.14: 24324988927; 4.19.y: 3323916569, whose vmf_insert_pfn_pmd(vmf, pfn,
// write) is a later stable signature). v4.15 (957ac8c421ad): DIV_ROUND_UP(i_size) for max_pgoff. Falls back for a COW write, a PMD outside the VMA or i_size, a failed
// grab (a 4k entry or hole page in the range: -EEXIST), an extent or hole shorter than
// 2 MiB; fallback splits the pmd. Order:
//   v4.9, v4.12 (876f29460cbd): entry lock, ->iomap_begin(PMD_SIZE), install, ->iomap_end(), unlock;
//   v4.10–v4.11 (9f141d6ef625): ->iomap_begin() first, entry lock, install, unlock, ->iomap_end().
//   v4.12 (e2093926a098): after the entry lock, a pmd that is a page table (a racing PTE
//   fault's) makes the fault return 0 (retry), with no ->iomap_begin().
export function* daxIomapPmdFault(k: KernelState, ops: IomapOps, vma: Vma, vmf0: Vmf): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  const inode = k.inode(mapping.file);
  const write = (vmf0.flags & FAULT_FLAG_WRITE) !== 0;
  const iomapFlags = IOMAP_FAULT | (write ? IOMAP_WRITE : 0);
  const head = vmf0.pgoff & ~PG_PMD_COLOUR;
  const index = head >> PMD_ORDER;
  const iomapFirst = k.flags.dax_iomap_begin_before_entry_lock;
  // the local struct vm_fault of v4.9 / vmf->pgoff set to the PMD-aligned index (v4.10+)
  const vmf: Vmf = { pgoff: head, flags: vmf0.flags, page: null };
  let result = VM_FAULT_FALLBACK;
  const done = function* (): Generator<void, number, void> {
    if (result === VM_FAULT_FALLBACK) yield* splitHugePmd(k, vma, head); // count_vm_event(THP_FAULT_FALLBACK)
    if (sim.rec) sim.log(`dax_iomap_pmd_fault -> ${result === VM_FAULT_FALLBACK ? 'VM_FAULT_FALLBACK' : faultName(result)}`);
    return result;
  };
  // "Fall back to PTEs if we're going to COW"
  if (write && !vma.shared) return yield* done();
  // "If the PMD would extend outside the VMA"
  if (head + HPAGE_PMD_NR > vmaPages(vma)) return yield* done();
  const size = yield* iSizeRead(k, vma);
  // v4.9–v4.14: max_pgoff = (i_size_read(inode) - 1) >> PAGE_SHIFT, an unsigned long: ULONG_MAX
  // for an empty file, so neither test below holds. 957ac8c421ad (v4.15): DIV_ROUND_UP(i_size,
  // PAGE_SIZE) with >= tests, the same as size - 1 with > for every other size.
  const maxPgoff = size === 0 && !k.flags.dax_pmd_fault_size_round_up ? Number.MAX_SAFE_INTEGER : size - 1;
  if (head > maxPgoff) {
    if (sim.rec) sim.log(`dax_iomap_pmd_fault: i_size ${size} <= ${head} -> VM_FAULT_SIGBUS`);
    return VM_FAULT_SIGBUS;
  }
  // "If the PMD would extend beyond the file size"
  if ((head | PG_PMD_COLOUR) > maxPgoff) return yield* done();

  let iomap: Iomap | number | null = null;
  let entryp: EntryRef | null = null;
  const iomapBegin = function* (): Generator<void, Iomap | number, void> {
    const r = yield* ops.iomapBegin(k, inode, head, iomapFlags, HPAGE_PMD_NR);
    if (sim.rec) sim.log(`->iomap_begin(${where(vma, head)}, PMD_SIZE${write ? ', IOMAP_WRITE' : ''}) -> ${typeof r === 'number' ? errName(r) : `${r.type}${r.block !== null ? ` blk ${r.block}` : ''} +${r.length ?? 1}`}`);
    return r;
  };
  const grab = function* (): Generator<void, boolean, void> {
    const e = yield* grabMappingEntryPmdV49(k, mapping, head);
    if (typeof e === 'number') return false;
    entryp = { e };
    return true;
  };
  const short = (m: Iomap): boolean => (m.length ?? 1) < HPAGE_PMD_NR;
  const iomapEnd = function* (): Generator<void, void, void> {
    if (iomap === null || typeof iomap === 'number') return;
    // copied = 0 on fallback; the return value is ignored (v4.9: an error turns the result into a fallback; ext4's is 0)
    yield* ops.iomapEnd(k, inode, head, result === VM_FAULT_FALLBACK ? 0 : HPAGE_PMD_NR, iomapFlags, iomap);
  };
  const unlockEntry = function* (): Generator<void, void, void> {
    if (entryp !== null) yield* putLockedMappingEntryV49(k, mapping, head, (entryp as EntryRef).e);
  };

  if (iomapFirst) {
    iomap = yield* iomapBegin();
    if (typeof iomap === 'number') return yield* done();
    if (short(iomap) || !(yield* grab())) {
      yield* iomapEnd();
      return yield* done();
    }
  } else {
    if (!(yield* grab())) return yield* done();
    if (k.flags.dax_pmd_pte_collision_checks) {
      // "we have raced with a PTE fault that overlaps with the PMD we need to set up. If so just return and the fault will be retried."
      yield;
      const pmd = vma.pmd!.pmds.get(index);
      if (pmd !== undefined && pmd.kind === 'table') {
        result = 0;
        if (sim.rec) sim.log(`dax_iomap_pmd_fault: pmd is a page table -> 0 (retry)`);
        yield* unlockEntry();
        return yield* done();
      }
    }
    iomap = yield* iomapBegin();
    if (typeof iomap === 'number') {
      yield* unlockEntry();
      return yield* done();
    }
    if (short(iomap)) {
      yield* iomapEnd();
      yield* unlockEntry();
      return yield* done();
    }
  }
  const m = iomap as Iomap;
  const ep = entryp as unknown as EntryRef;
  // v4.15 (caa51d26f85c): dax_fault_is_synchronous(): IOMAP_WRITE, VM_SYNC and IOMAP_F_DIRTY
  const sync = k.flags.dax_map_sync && write && vma.vmSync && m.dirty === true;
  if (m.type === 'mapped' && sync) {
    // "If we are doing synchronous page fault and inode needs fsync, we can insert PMD into
    // page tables only after that happens. Skip insertion for now and return the pfn so that
    // caller can insert it after fsync is done." dax_iomap_pfn() refuses a block that is not
    // 2 MiB-aligned first (goto finish_iomap: fallback); the entry goes in clean (write && !sync).
    if (m.block! % HPAGE_PMD_NR === 0) {
      ep.e = yield* daxInsertMappingEntryV49(k, vma, { ...vmf, flags: vmf.flags & ~FAULT_FLAG_WRITE }, ep.e, m.block!, RADIX_DAX_PMD);
      vmf0.syncPfn = m.block!;
      result = VM_FAULT_NEEDDSYNC;
      if (sim.rec) sim.log(`dax_iomap_pmd_fault: synchronous fault, blk ${m.block} not mapped yet -> VM_FAULT_NEEDDSYNC`);
    }
  } else if (m.type === 'mapped') {
    result = yield* daxPmdInsertMapping(k, vma, vmf, m, write, ep);
  } else if (write) {
    // "if (WARN_ON_ONCE(write)) goto finish_iomap": the fs should have allocated
    sim.violate('kernel-warn', `WARN_ON_ONCE(write) in dax_iomap_pmd_fault(): a write fault got IOMAP_${m.type.toUpperCase()} at ${where(vma, head)}`, 'dax_iomap_pmd_fault-write');
  } else {
    result = yield* daxPmdLoadHole(k, vma, vmf, ep);
  }
  if (iomapFirst) {
    yield* unlockEntry();
    yield* iomapEnd();
  } else {
    yield* iomapEnd();
    yield* unlockEntry();
  }
  return yield* done();
}


// fs/dax.c dax_finish_sync_fault(vmf, PE_SIZE_PMD, pfn) and dax_insert_pfn_mkwrite(vmf,
// PE_SIZE_PMD, pfn), v4.15–v4.19 (4.19.y text, store id 3323916569): called by ext4 after its
// handle is stopped, under i_mmap_sem: vfs_fsync_range() of PMD_SIZE from vmf->pgoff (the
// faulting page, not the 2 MiB-aligned index) with datasync, which commits the allocation;
// then, under tree_lock, wait for the entry; "Did we race with someone splitting entry or
// so?" — no entry, or not a PMD entry: VM_FAULT_NOPAGE (the access faults again); else tag
// it DIRTY, lock it, vmf_insert_pfn_pmd(..., FAULT_FLAG_WRITE) and unlock it.
export function* daxFinishSyncFaultPmd(k: KernelState, vma: Vma, vmf: Vmf, block: number): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  const index = vmf.pgoff;
  const err = yield* vfsFsyncRange(k, k.inode(mapping.file), { first: index, last: index + HPAGE_PMD_NR - 1 });
  if (err) return VM_FAULT_SIGBUS;
  yield* mapping.treeLock.lock(sim);
  const entry = yield* getUnlockedMappingEntryV49(k, mapping, index);
  if (entry === undefined || entry.kind !== 'dax' || !daxIsPmdEntry(entry)) {
    putUnlockedMappingEntryV49(k, mapping, index, entry);
    mapping.treeLock.unlock(sim);
    if (sim.rec) sim.log(`dax_insert_pfn_mkwrite(${where(vma, index)}, PMD): ${describeEntry(entry)} -> VM_FAULT_NOPAGE`);
    return VM_FAULT_NOPAGE;
  }
  mapping.tree.tagSet(index, PAGECACHE_TAG_DIRTY);
  const locked = lockSlot(sim, mapping, index, entry);
  mapping.treeLock.unlock(sim);
  if (sim.rec) sim.log(`dax_insert_pfn_mkwrite(${where(vma, index)}, PMD): ${describeEntry(entry)} tagged DIRTY, locked`);
  const ret = yield* vmfInsertPfnPmd(k, vma, index >> PMD_ORDER, block, true);
  yield* putLockedMappingEntryV49(k, mapping, index, locked);
  return ret;
}
