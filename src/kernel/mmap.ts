// munmap(2): tearing down one scenario map. The map covers the whole file, so
// the partial-unmap and VMA-splitting paths of do_munmap() never run here.
import type { KernelState } from './state.js';
import { clearPte, freePgtables, zapVmaHugePmds, type Vma } from './pagetable.js';
import { flushTlbMmRange } from './tlb.js';

// mm/mmap.c vm_munmap() -> do_munmap(), v4.6–v4.19 (down_write_killable() of
// mmap_sem since v4.8; a fatal signal is not modelled, so both are down_write):
// find_vma() — nothing to unmap returns 0; detach_vmas_to_be_unmapped() (the VMA
// leaves the mm: later faults find no VMA); unmap_region(): unmap_vmas() zaps
// the PTEs under the PTE lock (a DAX pfn is pte_special/devmap: vm_normal_page()
// gives no page, so no refcount or rmap change), free_pgtables() ->
// unlink_file_vma() takes i_mmap_lock_write and removes the VMA from the file's
// i_mmap tree; remove_vma_list() drops the file reference.
export function* vmMunmap(k: KernelState, vma: Vma): Generator<void, number, void> {
  const sim = k.sim;
  yield* k.mmapSem.downWrite(sim);
  sim.touch(vma.obj, true);
  if (vma.unmapped) {
    k.mmapSem.upWrite(sim);
    return 0;
  }
  // detach_vmas_to_be_unmapped()
  vma.unmapped = true;
  // unmap_region(): unmap_vmas() -> zap_pmd_range() (huge PMDs of a huge file's VMA) -> zap_pte_range()
  const zappedPmds = yield* zapVmaHugePmds(k, vma);
  yield* vma.ptl.lock(sim);
  const zapped = [...vma.ptes.keys()].sort((a, b) => a - b);
  for (const page of zapped) clearPte(k, vma, page);
  if (sim.rec) sim.log(`munmap ${vma.name}: zap ${zapped.length ? zapped.join(',') : 'nothing'}`);
  vma.ptl.unlock(sim);
  // tlb_finish_mmu(): the x86 TLB flush waits for CPUs with interrupts off (gup-fast), tlb.ts
  if (zapped.length > 0 || zappedPmds > 0) yield* flushTlbMmRange(k);
  // free_pgtables(): the page tables of a huge file's VMA (nr_ptes), then unlink_file_vma()
  freePgtables(k, vma);
  const mapping = vma.mapping;
  yield* mapping.iMmapRwsem.downWrite(sim);
  const i = mapping.iMmap.indexOf(vma);
  if (i >= 0) mapping.iMmap.splice(i, 1);
  mapping.iMmapRwsem.upWrite(sim);
  k.mmapSem.upWrite(sim);
  return 0;
}
