// fs/dax.c and mm/memory.c pieces of v4.14–v4.19: the shared zero page in
// place of hole pages (91d25ba8a6b0, v4.14), vm_insert_mixed_mkwrite() (the
// same series), and the v4.17 association of a filesystem-DAX page with the
// file that maps it (pfn entries, 3fe0791c295c; page->mapping, d2c997c0f145).
//
// Sources (quoted in notes/kernel-v4.13-v4.19.md): 4.19.y fs/dax.c, store id
// 3323916569 (dax_entry_size(), dax_associate_entry(), dax_disassociate_entry(),
// dax_busy_page(), dax_load_hole()); v4.14 fs/dax.c (comments stripped), store
// id 24324988927; insert_pfn() with mkwrite as Jan Kara's 2018 fix found it,
// store id 34596280142 (its `-` lines), and the v4.14 posting, 38283011035.
//
// PMD entries (dax_entry_size() PMD_SIZE) are (dis)associated and scanned over
// their 512 pfns (v4.18+ profiles, notes/kernel-pmd-v4.14plus.md).
// Not modelled: CONFIG_FS_DAX_LIMITED, page->index beyond what the checks read.
import type { Sim } from '../sim/engine.js';
import { EBUSY, errName, type AddressSpace, type DaxEntry } from './mapping.js';
import { pageRefCount, pinState } from './gup.js';
import { describePte, setPte, type Vma } from './pagetable.js';
import type { KernelState } from './state.js';

/** RADIX_DAX_ZERO_PAGE (v4.14+; the bit was RADIX_DAX_HZP before): RADIX_TREE_EXCEPTIONAL_SHIFT + 2 */
export const RADIX_DAX_ZERO_PAGE = 1 << 4;
const RADIX_DAX_PMD = 1 << 3;
const RADIX_DAX_EMPTY = 1 << 5;

// fs/dax.c dax_entry_size(), v4.17–v4.19: 0 for ZERO and EMPTY entries, else PAGE_SIZE
// or PMD_SIZE (in pages here: 0, 1 or 512).
export function daxEntrySize(e: DaxEntry): number {
  const f = e.flags ?? 0;
  if (f & RADIX_DAX_ZERO_PAGE) return 0;
  if (f & RADIX_DAX_EMPTY) return 0;
  if (f & RADIX_DAX_PMD) return 512;
  return 1;
}

// fs/dax.c dax_associate_entry(), v4.17–v4.19 (d2c997c0f145): for every pfn of the entry
// (for_each_mapped_pfn: none for ZERO/EMPTY, 512 for a PMD entry), WARN_ON_ONCE(page->mapping),
// then set page->mapping and page->index (from the index of the entry's first page:
// linear_page_index(vma, address & ~(size - 1))). Caller holds tree_lock (xa_lock_irq).
export function daxAssociateEntry(k: KernelState, e: DaxEntry, mapping: AddressSpace, index: number): void {
  const size = daxEntrySize(e);
  if (size === 0 || e.block === null) return;
  const assoc = pinState(k).assoc;
  const first = index & ~(size - 1);
  for (let i = 0; i < size; i++) {
    const block = e.block + i;
    const old = assoc.get(block);
    if (old !== undefined) {
      k.sim.violate('kernel-warn', `WARN_ON_ONCE(page->mapping) in dax_associate_entry(): the page of blk ${block} still belongs to ${old.file}:${old.index}`, `assoc:${block}`);
    }
    assoc.set(block, { file: mapping.file, index: first + i });
  }
}

// fs/dax.c dax_disassociate_entry(), v4.17–v4.19 (d2c997c0f145): for every pfn of the
// entry (512 for a PMD entry), WARN_ON_ONCE(trunc && page_ref_count(page) > 1) (truncate or
// punch collides with a pinned page), WARN_ON_ONCE(page->mapping && page->mapping !=
// mapping), then clear page->mapping/index. Caller holds tree_lock.
export function daxDisassociateEntry(k: KernelState, e: DaxEntry, mapping: AddressSpace, trunc: boolean): void {
  const size = daxEntrySize(e);
  if (size === 0 || e.block === null) return;
  const assoc = pinState(k).assoc;
  for (let i = 0; i < size; i++) {
    const block = e.block + i;
    const refs = pageRefCount(k, block);
    if (trunc && refs > 1) {
      k.sim.violate('kernel-warn', `WARN_ON_ONCE(trunc && page_ref_count(page) > 1) in dax_disassociate_entry(): ${mapping.file}'s entry for blk ${block} is deleted while its page is referenced (refcount ${refs})`, `disassoc-busy:${block}`);
    }
    const cur = assoc.get(block);
    if (cur !== undefined && cur.file !== mapping.file) {
      k.sim.violate('kernel-warn', `WARN_ON_ONCE(page->mapping && page->mapping != mapping) in dax_disassociate_entry(): blk ${block} belongs to ${cur.file}`, `disassoc-other:${block}`);
    }
    assoc.delete(block);
  }
}

// fs/dax.c dax_busy_page(), v4.18–v4.19 (5fac7408d828): the first page of the entry (of
// its 512 for a PMD entry) whose refcount is above 1 (null for ZERO/EMPTY entries, which
// map no pfn).
export function daxBusyPage(k: KernelState, e: DaxEntry): number | null {
  const size = daxEntrySize(e);
  if (size === 0 || e.block === null) return null;
  for (let i = 0; i < size; i++) if (pageRefCount(k, e.block + i) > 1) return e.block + i;
  return null;
}

// mm/memory.c insert_pfn(vma, addr, pfn, prot, mkwrite = true) via vm_insert_mixed_mkwrite(),
// v4.14–v4.19 (store ids 38283011035, 34596280142): under the PTE lock; a present PTE for
// another pfn is WARN_ON_ONCE and -EBUSY; the same pfn, or none, becomes young, dirty and
// writable (maybe_mkwrite(): the VMA is VM_WRITE|VM_SHARED). Returns 0 or -EBUSY.
export function* vmInsertMixedMkwrite(k: KernelState, vma: Vma, pgoff: number, block: number): Generator<void, number, void> {
  const sim: Sim = k.sim;
  yield* vma.ptl.lock(sim);
  let ret = 0;
  const old = vma.ptes.get(pgoff);
  if (old !== undefined && (old.kind !== 'pfn' || old.block !== block)) {
    // "In the mkwrite case we are creating a writable PTE for a shared mapping and we expect the PFNs to match."
    sim.violate('kernel-warn', `WARN_ON_ONCE(pte_pfn(*pte) != pfn_t_to_pfn(pfn)) in insert_pfn(): ${vma.name}:${pgoff} maps ${describePte(old)}, not blk ${block}`, `insert_pfn:${vma.name}:${pgoff}`);
    ret = -EBUSY;
  } else {
    setPte(k, vma, pgoff, { kind: 'pfn', block, write: true, dirty: true });
  }
  vma.ptl.unlock(sim);
  if (sim.rec) sim.log(`vm_insert_mixed_mkwrite(${vma.name}:${pgoff} -> blk ${block})${ret ? ` -> ${errName(ret)}` : ' rw'}`);
  return ret;
}

// mm/memory.c insert_pfn() via vm_insert_mixed() of the zero pfn, v4.14–v4.19: -EBUSY if a
// PTE is present, else a read-only pte_special PTE for the zero page.
export function* vmInsertMixedZero(k: KernelState, vma: Vma, pgoff: number): Generator<void, number, void> {
  yield* vma.ptl.lock(k.sim);
  let ret = 0;
  if (vma.ptes.has(pgoff)) ret = -EBUSY;
  else setPte(k, vma, pgoff, { kind: 'zero', write: false, dirty: false });
  vma.ptl.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`vm_insert_mixed(${vma.name}:${pgoff} -> zero page)${ret ? ` -> ${errName(ret)}` : ''}`);
  return ret;
}
