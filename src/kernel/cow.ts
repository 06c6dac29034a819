// Private (MAP_PRIVATE) mappings of a DAX file: the generic mm/memory.c side of
// COW faults (do_cow_fault(), wp_page_copy()), the copy into the COW page that
// the DAX handlers do (copy_user_bh() / copy_user_dax() / clear_user_highpage()),
// A read fault on a private mapping is an ordinary read fault: the
// DAX handler maps the block's pfn (or the hole page) read-only, since a private
// writable VMA's vm_page_prot (PAGE_COPY) has no write bit. munmap() (mmap.ts) zaps
// the anonymous pages with the rest.
//
// Versions (notes/kernel-cow.md quotes the source):
//   v4.6: the DAX handler returns VM_FAULT_LOCKED with vmf->page NULL and holds
//     i_mmap_lock_read (taken after the copy, with an i_size re-check); do_cow_fault()
//     drops it after installing the COW page (store id 11726779; the `-` lines of
//     bc2466e42573, id 45345104542).
//   v4.7–v4.9 (bc2466e42573): the handler returns VM_FAULT_DAX_LOCKED with vmf->entry
//     still locked; do_cow_fault() calls dax_unlock_mapping_entry() after the install.
//   v4.10–v4.19 (b1aa812b2108): the handler installs the COW page itself with
//     finish_fault() under the entry lock and returns VM_FAULT_DONE_COW.
// Not modelled: fork (so an anon page is never shared or read-only), swap, KSM,
// get_user_pages on private mappings (refused up front).
import { mightSleep } from '../sim/sync.js';
import type { PageValue } from '../scenario/types.js';
import {
  VM_FAULT_DAX_LOCKED, VM_FAULT_DONE_COW, VM_FAULT_ERROR, VM_FAULT_NOPAGE, VM_FAULT_RETRY, VM_FAULT_WRITE,
  doFaultHandler, faultName, type FsOps, type Vmf,
} from './fault.js';
import { daxUnlockMappingEntry, unlockPage } from './mapping.js';
import { daxUnlockMappingEntryV49 } from './dax-iomap.js';
import { AnonPage, clearPte, describePte, setPte, type Pte, type Vma } from './pagetable.js';
import type { KernelState } from './state.js';

/** The write-log key of a private mapping's anonymous pages (the checkers compare loads of them with it). */
export function privateLogKey(vma: Vma): string {
  return `${vma.name}(private)`;
}

// mm/memory.c alloc_page_vma(GFP_HIGHUSER_MOVABLE) after anon_vma_prepare() and
// mem_cgroup_try_charge(), v4.6–v4.19: a new anonymous page (allocation never fails here).
function* allocAnonPage(k: KernelState): Generator<void, AnonPage, void> {
  yield;
  mightSleep(k.sim, 'alloc_page_vma(GFP_HIGHUSER_MOVABLE)');
  return new AnonPage(k.sim, k.newPageId(), k.sim.obj(), 0);
}

// fs/dax.c copy_user_bh() (v4.6–v4.7) / copy_user_dax() (v4.8–v4.19): map the block
// (dax_map_atomic() / dax_direct_access()) and copy_user_page() its 4 KiB into the COW
// page: a CPU read of the block, which sees a dirty cache line.
export function* copyUserDax(k: KernelState, vma: Vma, pgoff: number, block: number, cow: AnonPage): Generator<void, void, void> {
  yield;
  const v = k.pmem.block(block).content;
  cow.content = v;
  if (k.sim.rec) k.sim.log(`copy_user_dax(blk ${block} -> ${cow.label}) = ${String(v)}`);
  k.hooks.cowCopied?.(vma, pgoff, v);
}

// include/linux/highmem.h clear_user_highpage(): a hole or unwritten extent reads as zeros.
export function clearUserHighpage(k: KernelState, cow: AnonPage): void {
  cow.content = 0;
  if (k.sim.rec) k.sim.log(`clear_user_highpage(${cow.label})`);
}

/** Record the content a COW page starts with as a write of the private view (the checkers read loads of it against this). */
function recordPrivate(k: KernelState, vma: Vma, pgoff: number, page: AnonPage): void {
  const step = k.sim.step;
  k.writeLog(privateLogKey(vma), pgoff).push({ value: page.peekContent(), start: step, end: step });
}

// mm/memory.c do_set_pte(vma, address, page, pte, write = true, anon = true) (v4.6–v4.9) /
// alloc_set_pte() for a COW page (v4.10–v4.19): under ptl, a PTE that is no longer
// none loses (!pte_same / !pte_none: the new page is dropped); else the anon page is
// mapped dirty and writable (maybe_mkwrite(pte_mkdirty())) with page_add_new_anon_rmap().
// Returns whether it was installed. Caller holds vma.ptl.
export function setCowPte(k: KernelState, vma: Vma, pgoff: number, page: AnonPage): boolean {
  if (vma.ptes.has(pgoff)) {
    if (k.sim.rec) k.sim.log(`cow: ${vma.name}:${pgoff} already maps ${describePte(vma.ptes.get(pgoff))}, ${page.label} dropped`);
    return false;
  }
  setPte(k, vma, pgoff, { kind: 'anon', page, write: true, dirty: true });
  recordPrivate(k, vma, pgoff, page);
  if (k.sim.rec) k.sim.log(`cow: map ${vma.name}:${pgoff} -> ${page.label} rw (${String(page.peekContent())})`);
  return true;
}

// mm/memory.c do_cow_fault(), v4.6–v4.19: a write fault with no PTE on a private
// mapping. Allocate the COW page, call ->fault with vmf->cow_page, then:
//   v4.10–v4.19 (b1aa812b2108): DAX returns VM_FAULT_DONE_COW, having installed it.
//   v4.6–v4.9: copy from a returned page (a locked hole page, VM_FAULT_LOCKED), install
//     the COW page under ptl, then release what the handler held across the install:
//     the hole page's lock; the DAX entry lock (VM_FAULT_DAX_LOCKED, bc2466e42573, v4.7);
//     or, with neither, i_mmap_lock_read. (The model drops i_mmap_lock only when the
//     handler takes it, dax_fault_i_mmap_lock: 4d9a2c874667 removed it from the whole
//     fault path, so the combination "dax_cow_entry_lock off, dax_fault_i_mmap_lock off"
//     stands for that commit applied without bc2466e42573.)
export function* doCowFault(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, flags: number): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = vma.mapping;
  const newPage = yield* allocAnonPage(k);
  const vmf: Vmf = { pgoff, flags, page: null, cowPage: newPage, entry: null };
  const ret = yield* doFaultHandler(k, fs, vma, vmf);
  // uncharge_out: mem_cgroup_cancel_charge(); put_page(new_page)
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  if (k.flags.dax_cow_finish_fault) {
    if (ret & VM_FAULT_DONE_COW) return ret;
    throw new Error(`model: a v4.10+ DAX COW fault at ${vma.name}:${pgoff} returned ${faultName(ret)} without VM_FAULT_DONE_COW`);
  }
  const daxLocked = (ret & VM_FAULT_DAX_LOCKED) !== 0;
  const faultPage = daxLocked ? null : vmf.page;
  if (faultPage !== null) {
    // copy_user_highpage(new_page, fault_page): the hole page is zeros
    newPage.content = 0;
  }
  // __SetPageUptodate(new_page); pte_offset_map_lock()
  yield* vma.ptl.lock(sim);
  setCowPte(k, vma, pgoff, newPage);
  vma.ptl.unlock(sim);
  if (sim.rec) sim.log(`do_cow_fault: release ${faultPage !== null ? faultPage.label : daxLocked ? 'the DAX entry lock' : k.flags.dax_fault_i_mmap_lock ? 'i_mmap_lock' : 'nothing'}`);
  if (faultPage !== null) {
    unlockPage(sim, faultPage); // unlock_page(fault_page); put_page(fault_page)
  } else if (daxLocked) {
    // dax_unlock_mapping_entry(vma->vm_file->f_mapping, pgoff) (bc2466e42573)
    if (k.flags.dax_radix_pmd_entries) yield* daxUnlockMappingEntryV49(k, mapping, pgoff);
    else yield* daxUnlockMappingEntry(k, mapping, pgoff);
  } else if (k.flags.dax_fault_i_mmap_lock) {
    // "The fault handler has no page to lock, so it holds i_mmap_lock for read to protect against truncate."
    mapping.iMmapRwsem.upRead(sim);
  }
  return ret;
}

// mm/memory.c do_wp_page() on a private mapping -> wp_page_copy(), v4.6–v4.19: a write to
// a read-only PTE (a DAX pfn, for which vm_normal_page() is NULL, or a hole page, which is
// not anonymous). Called with ptl held (dropped first). The copy: cow_user_page() reads a
// pfn "from the original user address" (__copy_from_user_inatomic(), zeros if that faults),
// copy_user_highpage() a page. Then under ptl: if the PTE is still `orig`, replace it
// with the new anon page, dirty and writable (ptep_clear_flush_notify(); set_pte_at_notify()).
export function* wpPageCopy(k: KernelState, vma: Vma, pgoff: number, orig: Pte): Generator<void, number, void> {
  const sim = k.sim;
  vma.ptl.unlock(sim); // get_page(old_page) for a page; pte_unmap_unlock()
  const newPage = yield* allocAnonPage(k);
  if (sim.rec) sim.log(`wp_page_copy(${vma.name}:${pgoff}: ${describePte(orig)} -> ${newPage.label})`);
  if (orig.kind === 'pfn') {
    yield; // the copy from the user address walks the PTE as the MMU does
    const now = vma.ptes.get(pgoff);
    let v: PageValue = 0;
    if (now !== undefined && now.kind === 'pfn') {
      v = k.pmem.block(now.block).content;
      k.hooks.cowCopied?.(vma, pgoff, v);
    } else if (now !== undefined && now.kind === 'anon') {
      v = now.page.content;
    }
    newPage.content = v; // (a fault in __copy_from_user_inatomic(): clear_page())
  } else {
    newPage.content = 0; // copy_user_highpage() from the hole page; v4.14+ zero page (is_zero_pfn()): alloc_zeroed_user_highpage_movable()
  }
  yield* vma.ptl.lock(sim);
  let copied = false;
  if (vma.ptes.get(pgoff) === orig) {
    clearPte(k, vma, pgoff); // ptep_clear_flush_notify(); page_remove_rmap(old_page)
    copied = setCowPte(k, vma, pgoff, newPage);
  } else if (sim.rec) {
    sim.log(`wp_page_copy: ${vma.name}:${pgoff} changed meanwhile, ${newPage.label} dropped`);
  }
  vma.ptl.unlock(sim);
  return copied ? VM_FAULT_WRITE : 0;
}
