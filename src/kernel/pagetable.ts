// Page tables of the simulated process: one VMA per scenario map, PTEs that map
// either a pmem block (a DAX pfn, `pte_special`/devmap) or a page-cache hole page.
import type { Sim } from '../sim/engine.js';
import { Spinlock } from '../sim/sync.js';
import type { AddressSpace, HolePage } from './mapping.js';

export type Pte =
  | { readonly kind: 'pfn'; readonly block: number; readonly write: boolean; readonly dirty: boolean }
  | { readonly kind: 'page'; readonly page: HolePage; readonly write: boolean; readonly dirty: boolean };

export class Vma {
  readonly name: string;
  readonly mapping: AddressSpace;
  readonly shared: boolean;
  /** file page -> PTE (the VMA maps the whole file from offset 0) */
  readonly ptes = new Map<number, Pte>();
  /** the split page-table lock of the PTE page (pte_lockptr()); one PTE page covers the small files of a scenario */
  readonly ptl: Spinlock;
  /** munmap()ed */
  unmapped = false;
  constructor(name: string, mapping: AddressSpace, shared: boolean) {
    this.name = name;
    this.mapping = mapping;
    this.shared = shared;
    this.ptl = new Spinlock(`ptl ${name}`, 'ptlock');
  }
}

export function describePte(pte: Pte | undefined): string {
  if (pte === undefined) return 'none';
  const target = pte.kind === 'pfn' ? `blk ${pte.block}` : pte.page.label;
  return `${target}${pte.write ? ' rw' : ' ro'}`;
}

/** Install a PTE; a hole page gains a mapcount. Caller holds vma.ptl. */
export function setPte(vma: Vma, page: number, pte: Pte): void {
  const old = vma.ptes.get(page);
  if (old?.kind === 'page') old.page.mapcount--;
  if (pte.kind === 'page') pte.page.mapcount++;
  vma.ptes.set(page, pte);
}

/** Clear a PTE (ptep_get_and_clear + page_remove_rmap). Caller holds vma.ptl. */
export function clearPte(vma: Vma, page: number): void {
  const old = vma.ptes.get(page);
  if (old === undefined) return;
  if (old.kind === 'page') old.page.mapcount--;
  vma.ptes.delete(page);
}

// mm/memory.c unmap_mapping_range(), v4.6–v4.19: i_mmap_lock_write(), then
// zap_page_range_single() of the range in every VMA of i_mmap (under each
// VMA's ptl). `nr` = 0 means "to the end of the file". DAX mappings are
// VM_SHARED, so even_cows does not matter for them.
export function* unmapMappingRange(sim: Sim, mapping: AddressSpace, first: number, nr: number): Generator<void, void, void> {
  yield* mapping.iMmapRwsem.downWrite(sim);
  sim.log(`unmap_mapping_range(${mapping.file}:${first}${nr === 0 ? '-' : nr > 1 ? `-${first + nr - 1}` : ''})`);
  const last = nr === 0 ? Number.MAX_SAFE_INTEGER : first + nr - 1;
  for (const vma of mapping.iMmap) {
    yield* vma.ptl.lock(sim);
    const zapped: number[] = [];
    for (const page of [...vma.ptes.keys()].sort((a, b) => a - b)) {
      if (page >= first && page <= last) {
        clearPte(vma, page);
        zapped.push(page);
      }
    }
    if (zapped.length > 0) sim.log(`zap ${vma.name}:${zapped.join(',')}`);
    vma.ptl.unlock(sim);
  }
  mapping.iMmapRwsem.upWrite(sim);
}
