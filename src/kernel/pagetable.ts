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
    // tlb_finish_mmu(): an x86 TLB flush waits for CPUs with interrupts off (gup-fast), tlb.ts
    if (zapped.length > 0) yield* flushTlbMmRange(k);
  }
  mapping.iMmapRwsem.upWrite(sim);
}
