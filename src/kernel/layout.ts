// Layout breaking for pinned filesystem-DAX pages (races-and-design.md 1.34,
// §2.6): before a filesystem frees blocks that may be mapped, it unmaps the
// file and waits until no page of it is referenced by anyone but the
// page cache's own idle count of 1 (a get_user_pages() pin, an O_DIRECT
// in flight). fs/dax.c dax_layout_busy_page() (5fac7408d828, v4.18) finds a
// busy page; ext4_break_layouts() (430657b6be89, v4.19) drops i_mmap_sem and
// sleeps on the page's _refcount with ___wait_var_event() until the last
// put_page() wakes it (generic_dax_pagefree() -> wake_up_var(), gup.ts).
//
// Sources (notes/kernel-v4.13-v4.19.md): 4.19.y fs/dax.c, store id 3323916569
// (dax_layout_busy_page(), dax_busy_page()); ext4_break_layouts() and its
// callers as the `-` lines of later diffs show them (store ids 32192407951,
// 20517456069, 45481242031); the wake_up_var() hunk of 5fac7408d828 (store id
// 28201334556, v9 6/9). ___wait_var_event() is include/linux/wait_bit.h
// (v4.16+, 6b2bb7265f0b) from memory, not re-read.
import { finishWait, initWaitEntry, prepareToWait, schedule } from '../sim/waitqueue.js';
import { daxIsPmdEntry, getUnlockedMappingEntryV49, putUnlockedMappingEntryV49 } from './dax-iomap.js';
import { daxBusyPage } from './dax-pfn.js';
import { pageRefCount, varWaitqueue, varWakeFunction, type VarKey } from './gup.js';
import type { AddressSpace } from './mapping.js';
import { HPAGE_PMD_NR, unmapMappingRange } from './pagetable.js';
import type { Inode, KernelState } from './state.js';
import { lookupEntries } from './truncate.js';

// fs/dax.c dax_layout_busy_page(), v4.18–v4.19 (5fac7408d828; store id 3323916569):
// nothing to do unless the file is mmapped (mapping_mapped()); unmap the whole file
// (unmap_mapping_range(mapping, 0, 0, 0)), so that new references must come through
// the slow path, which blocks on the filesystem lock the caller holds; then walk the
// entries (pagevec_lookup_entries(), PAGEVEC_SIZE at a time), each looked at under
// tree_lock after waiting for its entry lock, and return the first page whose refcount
// is above 1 (dax_busy_page()), or NULL. Returns the page's block. The next lookup starts
// one index after the last entry seen; from d7782145e1ad (flag dax_layout_busy_page_pmd_index)
// 512 after a 2 MiB entry that ends the pagevec (the 4.19.y text, store id 3323916569).
export function* daxLayoutBusyPage(k: KernelState, mapping: AddressSpace): Generator<void, number | null, void> {
  const sim = k.sim;
  yield; // mapping_mapped(): i_mmap is not empty (the scenario's maps never go away)
  if (mapping.iMmap.length === 0) return null;
  // "If we race get_user_pages_fast() here either we'll see the elevated page count in
  // the pagevec_lookup and wait, or get_user_pages_fast() will see that the page it took
  // a reference against is no longer mapped in the page tables and bail to the
  // get_user_pages() slow path."
  yield* sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, 0, 0));
  let index = 0;
  for (;;) {
    const pvec = yield* lookupEntries(k, mapping, index, Number.MAX_SAFE_INTEGER);
    if (pvec.length === 0) break;
    let page: number | null = null;
    let nrPages = 1;
    for (let j = 0; j < pvec.length; j++) {
      const [i, ent] = pvec[j]!;
      index = i;
      if (ent.kind !== 'dax') {
        sim.violate('kernel-warn', `WARN_ON_ONCE(!radix_tree_exceptional_entry(pvec_ent)) in dax_layout_busy_page(): ${mapping.file}:${i} holds ${ent.label}`, `busy-page-exc:${mapping.file}:${i}`);
        continue;
      }
      yield* mapping.treeLock.lock(sim);
      const entry = yield* getUnlockedMappingEntryV49(k, mapping, i);
      if (entry !== undefined && entry.kind === 'dax') {
        page = daxBusyPage(k, entry);
        // d7782145e1ad: "Account for multi-order entries at the end of the pagevec."
        if (k.flags.dax_layout_busy_page_pmd_index && j + 1 >= pvec.length) nrPages = daxIsPmdEntry(entry) ? HPAGE_PMD_NR : 1;
      }
      putUnlockedMappingEntryV49(k, mapping, i, entry);
      mapping.treeLock.unlock(sim);
      if (page !== null) break;
    }
    // before d7782145e1ad: index++, and a 2 MiB entry is found again from its next index
    index += nrPages;
    if (page !== null) {
      if (sim.rec) sim.log(`dax_layout_busy_page(${mapping.file}) -> page of blk ${page} (refcount ${pageRefCount(k, page)})`);
      return page;
    }
  }
  if (sim.rec) sim.log(`dax_layout_busy_page(${mapping.file}) -> NULL`);
  return null;
}

// include/linux/wait_bit.h ___wait_var_event(&page->_refcount, atomic_read(&page->_refcount)
// == 1, TASK_INTERRUPTIBLE, 0, 0, cmd), v4.16–v4.19 (from memory): a non-exclusive
// entry keyed by the variable; prepare_to_wait_event(), test the condition, run `cmd`
// (which schedules), repeat; finish_wait(). No signal ever arrives here, so it returns 0.
export function* waitVarRefcountIdle(k: KernelState, block: number, cmd: (what: string, idle: () => boolean) => Generator<void, void, void>): Generator<void, number, void> {
  const sim = k.sim;
  const wq = varWaitqueue(k, block);
  const e = initWaitEntry<VarKey>(sim, { block }, varWakeFunction);
  const idle = () => pageRefCount(k, block) === 1;
  for (;;) {
    prepareToWait(sim, wq, e); // prepare_to_wait_event(): TASK_INTERRUPTIBLE
    if (idle()) break;
    yield* cmd(`___wait_var_event(blk ${block} page refcount == 1)`, idle);
  }
  finishWait(sim, wq, e);
  return 0;
}

// fs/ext4/inode.c ext4_break_layouts(), v4.19 (430657b6be89 "ext4: handle layout changes to
// pinned DAX mappings"): called with i_mmap_sem held for write. While
// dax_layout_busy_page() finds a busy page, wait for it to go idle with
// ext4_wait_dax_page() as the command: up_write(i_mmap_sem); schedule(); down_write().
export function* ext4BreakLayouts(k: KernelState, inode: Inode): Generator<void, number, void> {
  const sim = k.sim;
  const ei = inode.iMmapSem;
  for (;;) {
    const page = yield* sim.fn('dax_layout_busy_page', daxLayoutBusyPage(k, inode.mapping));
    if (page === null) return 0;
    const error = yield* waitVarRefcountIdle(k, page, function* (what, idle) {
      // fs/ext4/inode.c ext4_wait_dax_page(), v4.19
      ei.upWrite(sim);
      yield* schedule(sim, what, idle);
      yield* ei.downWrite(sim);
    });
    if (error !== 0) return error;
  }
}
