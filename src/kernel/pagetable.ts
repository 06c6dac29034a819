// Page tables of the simulated process: one VMA per scenario map, PTEs that map
// a pmem block (a DAX pfn, `pte_special`/devmap), a page-cache hole page, or,
// in a private (MAP_PRIVATE) mapping, an anonymous page made by a COW fault.
import type { Sim } from '../sim/engine.js';
import { SharedIntMap } from '../sim/shared.js';
import { Spinlock } from '../sim/sync.js';
import type { AddressSpace, HolePage } from './mapping.js';
import type { PageValue } from '../scenario/types.js';
import type { KernelState } from './state.js';
import { flushTlbMmRange } from './tlb.js';

/**
 * An anonymous page of a private mapping (do_cow_fault() / wp_page_copy()): DRAM,
 * not pmem, so no cache-line or crash state; its content is the COW copy and then
 * what the process stores into it. One object per page, created by the fault.
 */
export class AnonPage {
  readonly kind = 'anon';
  readonly id: number;
  readonly obj: number;
  private readonly sim: Sim;
  private _content: PageValue;
  constructor(sim: Sim, id: number, obj: number, content: PageValue) {
    this.sim = sim;
    this.id = id;
    this.obj = obj;
    this._content = content;
  }
  get label(): string {
    return `anon page #${this.id}`;
  }
  get content(): PageValue {
    this.sim.touch(this.obj, false);
    return this._content;
  }
  set content(v: PageValue) {
    this.sim.touch(this.obj, true);
    this._content = v;
  }
  peekContent(): PageValue {
    return this._content;
  }
}

export type Pte =
  | { readonly kind: 'pfn'; readonly block: number; readonly write: boolean; readonly dirty: boolean }
  | { readonly kind: 'page'; readonly page: HolePage; readonly write: boolean; readonly dirty: boolean }
  | { readonly kind: 'anon'; readonly page: AnonPage; readonly write: boolean; readonly dirty: boolean }
  // v4.14+ (91d25ba8a6b0): a read-only pte_special mapping of the shared 4k zero page (my_zero_pfn())
  | { readonly kind: 'zero'; readonly write: false; readonly dirty: boolean };

export class Vma {
  readonly name: string;
  readonly mapping: AddressSpace;
  readonly shared: boolean;
  /** file page -> PTE (the VMA maps the whole file from offset 0); each PTE is a shared object */
  readonly ptes: SharedIntMap<Pte>;
  /** the split page-table lock of the PTE page (pte_lockptr()); one PTE page covers the small files of a scenario */
  readonly ptl: Spinlock;
  /** VM_SYNC: mapped with MAP_SHARED_VALIDATE | MAP_SYNC (v4.15, b6fb293f2497) */
  vmSync = false;
  /** VM_WRITE: mapped with PROT_WRITE (setup `readonly: true` clears it) */
  vmWrite = true;
  /** munmap()ed: detached from the mm, so find_vma() no longer finds it (read and written under mmap_sem) */
  unmapped = false;
  /** the shared object standing for the VMA's place in the mm (find_vma()) */
  readonly obj: number;
  /** the PMD level, for a VMA of a `huge: true` file (null: a page table everywhere) */
  pmd: PmdLevel | null = null;
  constructor(sim: Sim, name: string, mapping: AddressSpace, shared: boolean) {
    this.name = name;
    this.obj = sim.obj();
    this.mapping = mapping;
    this.shared = shared;
    this.ptes = new SharedIntMap<Pte>(sim);
    this.ptl = new Spinlock(sim, `ptl ${name}`, 'ptlock');
  }
}

export function describePte(pte: Pte | undefined): string {
  if (pte === undefined) return 'none';
  const target = pte.kind === 'pfn' ? `blk ${pte.block}` : pte.kind === 'zero' ? 'zero page' : pte.page.label;
  // (an anon page's label names it as such)
  return `${target}${pte.write ? ' rw' : ' ro'}`;
}

function unlinkOld(k: KernelState, vma: Vma, page: number, old: Pte | undefined): void {
  if (old === undefined) return;
  const key = `${vma.name}:${page}`;
  if (old.kind === 'zero') return; // the zero page is not rmapped (vm_normal_page() is NULL)
  if (old.kind === 'anon') {
    k.sim.touch(old.page.obj, true); // page_remove_rmap()
  } else if (old.kind === 'page') {
    old.page.mapcount--;
    old.page.mappers.delete(key);
  } else {
    const b = k.pmem.block(old.block);
    k.sim.touch(b.obj, true);
    b.mappers.delete(key);
  }
}

/** Install a PTE (set_pte_at): keeps mapcounts and the reverse maps, then lets the checker look. Caller holds vma.ptl. */
export function setPte(k: KernelState, vma: Vma, page: number, pte: Pte): void {
  if (vma.pmd !== null) {
    const pmd = vma.pmd.pmds.get(page >> PMD_ORDER);
    if (pmd !== undefined && pmd.kind !== 'table') {
      pteIntoHugePage(k, vma, page, pte, pmd);
      return;
    }
    if (pmd === undefined) {
      // a caller that did not pte_alloc() first (every modelled path does): populate here
      vma.pmd.pmds.set(page >> PMD_ORDER, PMD_TABLE);
      mmOf(k).nrPtes++;
    }
    const old = vma.ptes.get(page);
    rssAccount(k, vma, old, -1);
    rssAccount(k, vma, pte, 1);
  }
  unlinkOld(k, vma, page, vma.ptes.get(page));
  const key = `${vma.name}:${page}`;
  if (pte.kind === 'zero') {
    // no rmap for the zero page
  } else if (pte.kind === 'anon') {
    k.sim.touch(pte.page.obj, true); // page_add_new_anon_rmap()
  } else if (pte.kind === 'page') {
    pte.page.mapcount++;
    pte.page.mappers.add(key);
  } else {
    const b = k.pmem.block(pte.block);
    k.sim.touch(b.obj, true);
    b.mappers.add(key);
  }
  vma.ptes.set(page, pte);
  k.hooks.pteInstalled(vma, page, pte);
}

/** Clear a PTE (ptep_get_and_clear + page_remove_rmap). Caller holds vma.ptl. */
export function clearPte(k: KernelState, vma: Vma, page: number): void {
  const old = vma.ptes.get(page);
  if (old === undefined) return;
  rssAccount(k, vma, old, -1);
  unlinkOld(k, vma, page, old);
  vma.ptes.delete(page);
}

// mm/memory.c unmap_mapping_range(), v4.6–v4.19: i_mmap_lock_write(), then
// zap_page_range_single() of the range in every VMA of i_mmap (under each
// VMA's ptl). `nr` = 0 means "to the end of the file". Without `evenCows`,
// details.check_mapping = mapping and zap_pte_range() skips a page whose
// page->mapping is not the file's ("unmap shared but keep private pages"):
// the anonymous COW pages of private VMAs. DAX pfn PTEs (pte_special, so
// vm_normal_page() is NULL) and hole pages are zapped either way (store ids
// 5301939, 25046350100: zap_pte_range()).
export function* unmapMappingRange(k: KernelState, mapping: AddressSpace, first: number, nr: number, evenCows = false): Generator<void, void, void> {
  const sim = k.sim;
  yield* mapping.iMmapRwsem.downWrite(sim);
  if (sim.rec) sim.log(`unmap_mapping_range(${mapping.file}:${first}${nr === 0 ? '-' : nr > 1 ? `-${first + nr - 1}` : ''}${evenCows ? ', even_cows' : ''})`);
  const last = nr === 0 ? Number.MAX_SAFE_INTEGER : first + nr - 1;
  for (const vma of mapping.iMmap) {
    const zappedPmds = vma.pmd !== null ? yield* zapHugePmds(k, vma, first, last) : 0;
    yield* vma.ptl.lock(sim);
    const zapped: number[] = [];
    for (const page of vma.ptes.keys()) {
      if (page >= first && page <= last) {
        if (!evenCows && vma.ptes.get(page)!.kind === 'anon') continue;
        clearPte(k, vma, page);
        zapped.push(page);
      }
    }
    if (zapped.length > 0 && sim.rec) sim.log(`zap ${vma.name}:${zapped.join(',')}`);
    vma.ptl.unlock(sim);
    // tlb_finish_mmu(): an x86 TLB flush waits for CPUs with interrupts off (gup-fast), tlb.ts;
    // zapped huge PMDs are flushed by the same tlb_finish_mmu() (zap_huge_pmd() -> tlb_remove_pmd_tlb_entry())
    if (zapped.length > 0 || zappedPmds > 0) yield* flushTlbMmRange(k);
  }
  mapping.iMmapRwsem.upWrite(sim);
}

// ---------------------------------------------------------------------------
// The PMD level (src/kernel/huge.ts has the PMD fault paths). Only the VMAs of
// `huge: true` files get one (`vma.pmd`): a VMA of a smaller file can never be
// mapped by a PMD (dax_iomap_pmd_fault() and __dax_pmd_fault() fall back when
// the 2 MiB range passes i_size), so for them the PMD is always a page table
// and nothing below changes. State is kept per PMD index (page >> 9), never
// per page of a huge mapping.

/** HPAGE_PMD_NR: pages per PMD (x86-64, 4 KiB pages) */
export const HPAGE_PMD_NR = 512;
export const PMD_ORDER = 9;

/**
 * *pmd of one 2 MiB range: absent = pmd_none; a page table (pmd_populate());
 * the huge zero page (pmd_trans_huge(), read-only); a DAX PMD (pmd_devmap(),
 * pmd_trans_huge() is false for it on x86 since 5c7fb56e5e3f) mapping the 512
 * blocks from `block`.
 */
export type Pmd =
  | { readonly kind: 'table' }
  | { readonly kind: 'huge-zero' }
  | { readonly kind: 'devmap'; readonly block: number; readonly write: boolean; readonly dirty: boolean };

export const PMD_TABLE: Pmd = { kind: 'table' };

export function describePmd(pmd: Pmd | undefined): string {
  if (pmd === undefined) return 'none';
  if (pmd.kind === 'table') return 'page table';
  if (pmd.kind === 'huge-zero') return 'huge zero page ro';
  return `DAX PMD blk ${pmd.block}-${pmd.block + HPAGE_PMD_NR - 1}${pmd.write ? ' rw' : ' ro'}`;
}

/** A PTE the hardware can never reach: in a page table a PMD was installed over, or written through pte_offset_map() of a huge PMD. */
export interface LostPte {
  page: number;
  pte: Pte;
  /** 'table': its page table was overwritten by a huge PMD; 'huge': it was written into the huge page itself */
  where: 'table' | 'huge';
}

export class PmdLevel {
  /** PMD index -> *pmd; each index is a shared object */
  readonly pmds: SharedIntMap<Pmd>;
  /** pmd_lock(mm, pmd) (the split PMD lock of the PMD page; one PMD page covers the VMA) */
  readonly lock: Spinlock;
  /** PTEs that page-table teardown will never see (they keep their rss) */
  readonly lost: LostPte[] = [];
  /** the VMA's length in pages (it maps the file from offset 0, as large as the file was at setup) */
  readonly pages: number;
  constructor(sim: Sim, vmaName: string, pages: number) {
    this.pages = pages;
    this.pmds = new SharedIntMap<Pmd>(sim);
    this.lock = new Spinlock(sim, `pmd_lock ${vmaName}`, 'pmd_lock');
  }
}

/**
 * struct mm_struct's page-table counters: nr_ptes (PTE pages) and rss_stat
 * (MM_FILEPAGES = 0, MM_ANONPAGES = 1). Kept only for VMAs with a PMD level.
 * The kernel keeps them per task and folds them in (SPLIT_RSS_COUNTING); they
 * are only read at exit, so the model counts without footprints.
 */
export interface MmCounters {
  nrPtes: number;
  rss: [number, number];
}
const mms = new WeakMap<KernelState, MmCounters>();
export function mmOf(k: KernelState): MmCounters {
  let m = mms.get(k);
  if (m === undefined) mms.set(k, (m = { nrPtes: 0, rss: [0, 0] }));
  return m;
}
export const MM_FILEPAGES = 0;
export const MM_ANONPAGES = 1;

/** The rss counter a mapped PTE counts in (mm_counter() / mm_counter_file()); a pfn PTE (insert_pfn(), pte_special) counts in none. */
function rssIndex(pte: Pte): number | null {
  if (pte.kind === 'anon') return MM_ANONPAGES; // mm_counter(): an anonymous COW page
  return pte.kind === 'page' ? MM_FILEPAGES : null;
}

/** Account a PTE appearing or going away in a VMA with a PMD level. */
export function rssAccount(k: KernelState, vma: Vma, pte: Pte | undefined, delta: number): void {
  if (vma.pmd === null || pte === undefined) return;
  const i = rssIndex(pte);
  if (i !== null) mmOf(k).rss[i as 0 | 1] += delta;
}

/** *pmd for a page of a VMA: a VMA without a PMD level has page tables everywhere. */
export function pmdOf(vma: Vma, page: number): Pmd | undefined {
  return vma.pmd === null ? PMD_TABLE : vma.pmd.pmds.get(page >> PMD_ORDER);
}

// mm/memory.c __pte_alloc(), v4.6–v4.19 (pte_alloc() is `pmd_none(*pmd) && __pte_alloc()`):
// a PTE page allocated outside the lock is populated under pmd_lock if the pmd is still
// none (mm->nr_ptes++), else freed. (Allocation failure is not modelled.)
export function* pteAlloc(k: KernelState, vma: Vma, page: number): Generator<void, void, void> {
  const lvl = vma.pmd;
  if (lvl === null) return;
  const i = page >> PMD_ORDER;
  yield; // pmd_none(*pmd)
  if (lvl.pmds.get(i) !== undefined) return;
  yield* lvl.lock.lock(k.sim);
  if (lvl.pmds.get(i) === undefined) {
    lvl.pmds.set(i, PMD_TABLE); // atomic_long_inc(&mm->nr_ptes); pmd_populate()
    mmOf(k).nrPtes++;
    if (k.sim.rec) k.sim.log(`__pte_alloc(${vma.name} pmd ${i}): page table`);
  }
  lvl.lock.unlock(k.sim);
}

/**
 * A PTE store through pte_offset_map() while *pmd is a huge PMD (a caller that
 * did not re-check the pmd after it stopped being none): the "page table" is
 * the huge page itself. The 8-byte PTE lands in the first 4 KiB of the huge
 * page (a DAX block or the huge zero page), where no teardown will find it;
 * its rss stays counted. (The data corruption that store causes is not
 * modelled.) Caller holds vma.ptl.
 */
function pteIntoHugePage(k: KernelState, vma: Vma, page: number, pte: Pte, pmd: Pmd): void {
  vma.pmd!.lost.push({ page, pte, where: 'huge' });
  rssAccount(k, vma, pte, 1);
  if (pte.kind === 'page') pte.page.mapcount++;
  if (k.sim.rec) k.sim.log(`set_pte_at(${vma.name}:${page}) writes into the ${describePmd(pmd)} (pte_offset_map() of a huge pmd)`);
}

/**
 * set_pmd_at() of a huge PMD (caller holds the pmd lock): a page table the pmd
 * pointed to is not freed; its PTEs become unreachable (nr_ptes stays counted).
 */
export function setHugePmd(k: KernelState, vma: Vma, index: number, pmd: Pmd): void {
  const lvl = vma.pmd!;
  const old = lvl.pmds.get(index);
  if (old !== undefined && old.kind === 'table') {
    const first = index << PMD_ORDER;
    const last = first + HPAGE_PMD_NR - 1;
    for (const page of vma.ptes.keys()) {
      if (page < first || page > last) continue;
      const pte = vma.ptes.get(page)!;
      lvl.lost.push({ page, pte, where: 'table' });
      // the MMU no longer reaches it (the reverse maps of the checkers forget it); a hole page keeps its mapcount
      const key = `${vma.name}:${page}`;
      if (pte.kind === 'page') pte.page.mappers.delete(key);
      else if (pte.kind === 'pfn') {
        const b = k.pmem.block(pte.block);
        k.sim.touch(b.obj, true);
        b.mappers.delete(key);
      }
      vma.ptes.delete(page);
    }
    if (k.sim.rec) k.sim.log(`set_pmd_at(${vma.name} pmd ${index}) over a page table: the PTE page is leaked`);
  }
  if (old !== undefined) hugePmdUnmapped(k, vma, index, old);
  lvl.pmds.set(index, pmd);
  if (pmd.kind === 'devmap') {
    k.pmem.pmdMapAdd({ key: pmdKey(vma, index), file: vma.mapping.file, page: index << PMD_ORDER, block: pmd.block });
    k.hooks.pmdInstalled?.(vma, index, pmd);
  }
}

function pmdKey(vma: Vma, index: number): string {
  return `${vma.name}:pmd${index}`;
}

/**
 * The checkers' PMD reverse map when a huge pmd goes away (zapped, split, cleared as
 * bad, or replaced): a DAX PMD stops counting as a mapper of its 512 blocks; the
 * huge zero page maps no file block. Caller changes *pmd in the same step.
 */
export function hugePmdUnmapped(k: KernelState, vma: Vma, index: number, old: Pmd): void {
  if (old.kind === 'devmap') k.pmem.pmdMapRemove(pmdKey(vma, index), old.block);
}

// mm/huge_memory.c zap_huge_pmd() / __split_huge_pmd_locked(), v4.6–v4.19, for a DAX pmd.
/** zap_huge_pmd() / __split_huge_pmd() of a DAX VMA (both just clear a huge pmd; v4.6–v4.19). Caller holds the pmd lock. */
export function clearHugePmd(k: KernelState, vma: Vma, index: number): void {
  const lvl = vma.pmd!;
  const old = lvl.pmds.get(index);
  if (old === undefined || old.kind === 'table') return;
  lvl.pmds.delete(index);
  hugePmdUnmapped(k, vma, index, old);
  if (k.sim.rec) k.sim.log(`zap ${vma.name} pmd ${index} (${describePmd(old)})`);
}

// mm/huge_memory.c split_huge_pmd() -> __split_huge_pmd(), v4.6–v4.19, for a DAX VMA:
// under pmd_lock, a huge zero or devmap pmd is cleared (pmdp_huge_clear_flush_notify();
// "if (vma_is_dax(vma)) return;"); a page table or none is left alone.
export function* splitHugePmd(k: KernelState, vma: Vma, page: number): Generator<void, void, void> {
  const lvl = vma.pmd;
  if (lvl === null) return;
  const i = page >> PMD_ORDER;
  yield; // pmd_trans_huge(*pmd) || pmd_devmap(*pmd) (unlocked test in split_huge_pmd())
  const pmd = lvl.pmds.get(i);
  if (pmd === undefined || pmd.kind === 'table') return;
  yield* lvl.lock.lock(k.sim);
  clearHugePmd(k, vma, i);
  lvl.lock.unlock(k.sim);
}

// mm/memory.c zap_pmd_range(), v4.6–v4.19, the huge-pmd branch only.
/** zap_pmd_range() of [first, last] in a VMA with a PMD level: huge PMDs in the range are zapped or split (both clear them for DAX). */
function* zapHugePmds(k: KernelState, vma: Vma, first: number, last: number): Generator<void, number, void> {
  const lvl = vma.pmd!;
  let zapped = 0;
  for (const i of lvl.pmds.keys()) {
    const start = i << PMD_ORDER;
    if (start + HPAGE_PMD_NR - 1 < first || start > last) continue;
    const pmd = lvl.pmds.get(i);
    if (pmd === undefined || pmd.kind === 'table') continue;
    yield* lvl.lock.lock(k.sim);
    clearHugePmd(k, vma, i);
    lvl.lock.unlock(k.sim);
    zapped++;
  }
  return zapped;
}

/** unmap_vmas() of a whole VMA with a PMD level: its huge PMDs are zapped (zap_huge_pmd()), before its PTEs. */
export function* zapVmaHugePmds(k: KernelState, vma: Vma): Generator<void, number, void> {
  return vma.pmd !== null ? yield* zapHugePmds(k, vma, 0, Number.MAX_SAFE_INTEGER) : 0;
}

// mm/memory.c free_pgtables() -> free_pmd_range() / free_pte_range(), v4.6–v4.19, for a VMA
// with a PMD level: every page table still hung from a pmd is freed (mm->nr_ptes--). A page
// table a huge PMD was set over is not reachable any more and is never freed.
export function freePgtables(k: KernelState, vma: Vma): void {
  const lvl = vma.pmd;
  if (lvl === null) return;
  for (const i of lvl.pmds.keys()) {
    if (lvl.pmds.get(i)?.kind !== 'table') continue;
    lvl.pmds.delete(i);
    mmOf(k).nrPtes--;
  }
}

// kernel/fork.c check_mm() after exit_mmap() (mm/mmap.c: unmap_vmas() then free_pgtables()),
// v4.6–v4.19: every PTE still reachable is zapped (its rss given back), every PTE page still
// hung from a pmd is freed (nr_ptes--); then
//   "BUG: Bad rss-counter state mm:%p idx:%d val:%ld" for each non-zero rss counter, and
//   "BUG: non-zero nr_ptes on freeing mm: %ld".
// Run after every thread has finished (the process exits); reports kernel-warn.
export function exitMmap(k: KernelState): void {
  const mm = mmOf(k);
  let any = false;
  for (const vma of k.vmas.values()) {
    if (vma.pmd === null) continue;
    any = true;
    for (const [page, pte] of vma.ptes.peekEntries()) if (vma.pmd.pmds.peek(page >> PMD_ORDER)?.kind === 'table') rssAccount(k, vma, pte, -1);
    for (const [, pmd] of vma.pmd.pmds.peekEntries()) if (pmd.kind === 'table') mm.nrPtes--;
  }
  if (!any) return;
  k.sim.current = null;
  for (const idx of [MM_FILEPAGES, MM_ANONPAGES]) {
    if (mm.rss[idx] !== 0) k.sim.violate('kernel-warn', `BUG: Bad rss-counter state mm idx:${idx} val:${mm.rss[idx]} (kernel/fork.c check_mm(): PTEs no page-table walk can reach)`, `rss-counter:${idx}`, null);
  }
  if (mm.nrPtes !== 0) k.sim.violate('kernel-warn', `BUG: non-zero nr_ptes on freeing mm: ${mm.nrPtes} (a page table was overwritten by a huge PMD and never freed)`, 'nr_ptes', null);
}
