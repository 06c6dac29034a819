// Page tables of the simulated process: one VMA per scenario map, PTEs that map
// either a pmem block (a DAX pfn, `pte_special`/devmap) or a page-cache hole page.
import type { Sim } from '../sim/engine.js';
import { SharedIntMap } from '../sim/shared.js';
import { Spinlock } from '../sim/sync.js';
import type { AddressSpace, HolePage } from './mapping.js';
import type { KernelState } from './state.js';

export type Pte =
  | { readonly kind: 'pfn'; readonly block: number; readonly write: boolean; readonly dirty: boolean }
  | { readonly kind: 'page'; readonly page: HolePage; readonly write: boolean; readonly dirty: boolean };

export class Vma {
  readonly name: string;
  readonly mapping: AddressSpace;
  readonly shared: boolean;
  /** file page -> PTE (the VMA maps the whole file from offset 0); each PTE is a shared object */
  readonly ptes: SharedIntMap<Pte>;
  /** the split page-table lock of the PTE page (pte_lockptr()); one PTE page covers the small files of a scenario */
  readonly ptl: Spinlock;
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
  const target = pte.kind === 'pfn' ? `blk ${pte.block}` : pte.page.label;
  return `${target}${pte.write ? ' rw' : ' ro'}`;
}

function unlinkOld(k: KernelState, vma: Vma, page: number, old: Pte | undefined): void {
  if (old === undefined) return;
  const key = `${vma.name}:${page}`;
  if (old.kind === 'page') {
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
  if (pte.kind === 'page') {
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
// VMA's ptl). `nr` = 0 means "to the end of the file". DAX mappings are
// VM_SHARED, so even_cows does not matter for them.
export function* unmapMappingRange(k: KernelState, mapping: AddressSpace, first: number, nr: number): Generator<void, void, void> {
  const sim = k.sim;
  yield* mapping.iMmapRwsem.downWrite(sim);
  if (sim.rec) sim.log(`unmap_mapping_range(${mapping.file}:${first}${nr === 0 ? '-' : nr > 1 ? `-${first + nr - 1}` : ''})`);
  const last = nr === 0 ? Number.MAX_SAFE_INTEGER : first + nr - 1;
  for (const vma of mapping.iMmap) {
    yield* vma.ptl.lock(sim);
    const zapped: number[] = [];
    for (const page of vma.ptes.keys()) {
      if (page >= first && page <= last) {
        clearPte(k, vma, page);
        zapped.push(page);
      }
    }
    if (zapped.length > 0 && sim.rec) sim.log(`zap ${vma.name}:${zapped.join(',')}`);
    vma.ptl.unlock(sim);
  }
  mapping.iMmapRwsem.upWrite(sim);
}
