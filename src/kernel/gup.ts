// Pinning DAX pages for I/O: get_user_pages() on a DAX mapping takes a
// reference on the ZONE_DEVICE struct page of the pmem block (3565fce3a659,
// v4.5), a device then writes into the block until the pin is dropped. Before
// v4.18 nothing in truncate or hole punch waits for such a reference, so the
// block can be freed and handed to another file while the device still
// writes to it (races-and-design.md 1.34); get_user_pages_longterm()
// (2bb6d2837083, v4.15; 4.9.y by v4.9.140) refuses filesystem-DAX VMAs.
//
// get_user_pages_fast() (the generic mm/gup.c walk, v4.14–v4.19) is modelled at
// the PTE level; from v4.18 the last put of a filesystem-DAX page wakes
// whoever waits for it to go idle (generic_dax_pagefree() -> wake_up_var(),
// 5fac7408d828), which is what ext4_break_layouts() (v4.19) sleeps on.
//
// Before v4.13 x86 had its own walk (arch/x86/mm/gup.c): no PTE re-check, and
// until ef947b2 (v4.11) no permission check for DAX PTEs (S6, generic/462).
//
// VMAs of huge files have a PMD level: the slow path follows a DAX PMD with
// follow_devmap_pmd() under the pmd lock and the huge zero page with
// follow_trans_huge_pmd(); gup-fast takes a DAX PMD's pages in
// __gup_device_huge_pmd(), which re-reads the pmd after taking the references
// only from "mm: fix __gup_device_huge vs unmap" (v4.18, 1.35; flag
// gup_fast_device_huge_recheck). Sources: notes/kernel-pmd-v4.14plus.md.
//
// Not modelled: a long-term pin through gup-fast (FOLL_LONGTERM in gup-fast is
// v5.2, 1.36); pins of more than one page; PUDs. The walk is ordered against
// unmapping by its re-checks and by the x86 TLB-shootdown IPI, which waits for
// gup-fast's interrupts-off walk unless setup.tlb_flush is `hypercall` (tlb.ts).
import type { Sim } from '../sim/engine.js';
import { SharedIntMap } from '../sim/shared.js';
import { HashedWaitTable, autoremoveWakeFunction, wakeUp, waitqueueActive, type WaitQueueEntry } from '../sim/waitqueue.js';
import type { PageValue } from '../scenario/types.js';
import { FAULT_FLAG_WRITE, VM_FAULT_ERROR, VM_FAULT_OOM, handlePteFault, type FsOps } from './fault.js';
import { handleMmFault } from './huge.js';
import type { HolePage } from './mapping.js';
import { HPAGE_PMD_NR, PMD_ORDER, describePmd, type Pmd, type Vma } from './pagetable.js';
import type { KernelState } from './state.js';
import { localIrqDisable, localIrqEnable } from './tlb.js';

/** What a pin holds a reference on: a pmem block's ZONE_DEVICE page, a page-cache hole page, (v4.14+) the shared zero page, or a page of the huge zero page (`huge`). */
export type Pinned = { kind: 'pfn'; block: number; file: string; page: number } | { kind: 'page'; page: HolePage } | { kind: 'zero'; huge?: boolean };

/** page->mapping / page->index of a filesystem-DAX page (v4.17+, dax_associate_entry()). */
export interface PageAssoc {
  file: string;
  index: number;
}

/** The key of a wait_var_event() sleeper: the variable's address (here: the block whose _refcount it is). */
export interface VarKey {
  block: number;
}

/** Per-machine pin state: page refcounts of pmem blocks and the pins by name. */
export class PinState {
  /** block -> page_ref_count() of its ZONE_DEVICE page; idle at 1 until v6.x */
  readonly refs: SharedIntMap<number>;
  readonly pins: SharedIntMap<Pinned>;
  /** pin name -> its key in `pins` */
  readonly names = new Map<string, number>();
  /**
   * block -> references gup-fast holds between taking them and its re-check of the pte/pmd
   * (page_cache_get_speculative(), __gup_device_huge() before the pmd_val() test): counted in
   * page_ref_count() (the kernel's own tests see them), but dropped again if the re-check
   * fails, so the checkers do not count them as pins
   */
  readonly speculative: SharedIntMap<number>;
  /** block -> page->mapping/index of its ZONE_DEVICE page (v4.17+: dax_associate_entry()); absent = NULL */
  readonly assoc: SharedIntMap<PageAssoc>;
  /** kernel/sched/wait_bit.c bit_wait_table[WAIT_TABLE_SIZE] (WAIT_TABLE_BITS = 8), as __var_waitqueue() hashes into it */
  readonly varWaitTable: HashedWaitTable<VarKey>;
  constructor(sim: Sim) {
    this.refs = new SharedIntMap<number>(sim);
    this.pins = new SharedIntMap<Pinned>(sim);
    this.assoc = new SharedIntMap<PageAssoc>(sim);
    this.speculative = new SharedIntMap<number>(sim);
    this.varWaitTable = new HashedWaitTable<VarKey>(sim, 'bit_wait_table', 8);
  }
  key(name: string): number {
    let k = this.names.get(name);
    if (k === undefined) this.names.set(name, (k = this.names.size));
    return k;
  }
}

const pinStates = new WeakMap<KernelState, PinState>();

export function pinState(k: KernelState): PinState {
  let p = pinStates.get(k);
  if (p === undefined) pinStates.set(k, (p = new PinState(k.sim)));
  return p;
}

/** page_ref_count() of a block's page (1 when idle). */
export function pageRefCount(k: KernelState, block: number): number {
  return pinState(k).refs.get(block) ?? 1;
}

/** page_ref_count() less the references gup-fast has not yet confirmed by its re-check (for the checkers). */
export function pinnedRefCount(k: KernelState, block: number): number {
  return pageRefCount(k, block) - (pinState(k).speculative.get(block) ?? 0);
}

/** gup-fast's reference before its re-check: a get_page() the re-check may take back. */
function getPageSpeculative(k: KernelState, block: number): void {
  getPage(k, block);
  const p = pinState(k);
  p.speculative.set(block, (p.speculative.get(block) ?? 0) + 1);
}

/** The re-check is over: the reference is kept (`keep`) or put back. */
function endSpeculative(k: KernelState, block: number, keep: boolean): void {
  const p = pinState(k);
  const n = (p.speculative.get(block) ?? 0) - 1;
  if (n > 0) p.speculative.set(block, n);
  else p.speculative.delete(block);
  if (!keep) putPage(k, block);
}

// include/linux/mm.h get_page() on a ZONE_DEVICE page
function getPage(k: KernelState, block: number): void {
  const p = pinState(k);
  p.refs.set(block, (p.refs.get(block) ?? 1) + 1);
}

/** A stand-in for &page->_refcount of a block's struct page (a vmemmap address; struct page is 64 bytes). */
function refcountAddr(block: number): bigint {
  return 0xffffea0000000000n + BigInt(block) * 64n;
}

/** __var_waitqueue(&page->_refcount): the bit_wait_table head the address hashes to. */
export function varWaitqueue(k: KernelState, block: number) {
  return pinState(k).varWaitTable.head(refcountAddr(block));
}

// kernel/sched/wait_bit.c var_wake_function(), v4.16–v4.19 (6b2bb7265f0b "sched/wait:
// Introduce wait_var_event()"): only a waiter for this variable.
export function varWakeFunction(entry: WaitQueueEntry<VarKey>, key: VarKey | null, sim: Sim): number {
  if (key === null || entry.key === null || key.block !== entry.key.block) return 0;
  return autoremoveWakeFunction(entry, null, sim);
}

// kernel/sched/wait_bit.c wake_up_var() -> __wake_up_bit(), v4.16–v4.19: a
// waitqueue_active() peek, then __wake_up(wq, TASK_NORMAL, 1, &key).
function wakeUpVar(k: KernelState, block: number): void {
  const wq = varWaitqueue(k, block);
  if (waitqueueActive(k.sim, wq)) wakeUp(k.sim, wq, 1, { block });
}

// include/linux/mm.h put_page() on a ZONE_DEVICE page:
//   v4.5–v4.17: the last put brings the count back to 1 (idle); nothing waits for that.
//   v4.18 (5fac7408d828, with "mm, dev_pagemap: introduce CONFIG_DEV_PAGEMAP_OPS"):
//   put_devmap_managed_page(): when the count drops to 1 the pgmap's ->page_free()
//   runs, for filesystem DAX generic_dax_pagefree() -> wake_up_var(&page->_refcount).
function putPage(k: KernelState, block: number): void {
  const p = pinState(k);
  const n = (p.refs.get(block) ?? 1) - 1;
  if (n < 1) k.sim.violate('refcount', `put_page() on blk ${block} takes its page refcount below 1`, `under:${block}`);
  p.refs.set(block, Math.max(1, n));
  if (n === 1 && k.flags.dax_layout_busy_page) {
    if (k.sim.rec) k.sim.log(`put_devmap_managed_page(blk ${block}): refcount 1 -> generic_dax_pagefree(): wake_up_var(&page->_refcount)`);
    wakeUpVar(k, block);
  }
}

// mm/gup.c follow_page_pte(), v4.5–v4.17: under the PTE lock; a write pin needs a
// writable PTE; a devmap PTE gives its ZONE_DEVICE page (get_dev_pagemap()),
// referenced with get_page() (FOLL_GET). NULL means "fault it in".
function* followPagePte(k: KernelState, vma: Vma, pgoff: number, write: boolean): Generator<void, Pinned | null, void> {
  yield* vma.ptl.lock(k.sim);
  const pte = vma.ptes.get(pgoff);
  let got: Pinned | null = null;
  if (pte !== undefined && (!write || pte.write)) {
    if (pte.kind === 'pfn') {
      getPage(k, pte.block);
      got = { kind: 'pfn', block: pte.block, file: vma.mapping.file, page: pgoff };
    } else if (pte.kind === 'zero') {
      // v4.14+: vm_normal_page() is NULL for the special zero-pfn PTE; is_zero_pfn() -> pte_page(), get_page()
      got = { kind: 'zero' };
    } else if (pte.kind === 'page') {
      got = { kind: 'page', page: pte.page }; // a normal page: vm_normal_page() + get_page()
    } else {
      throw new Error(`model: get_user_pages on ${vma.name}'s anonymous page (pins of private mappings are refused up front)`);
    }
  }
  vma.ptl.unlock(k.sim);
  return got;
}

// mm/huge_memory.c follow_devmap_pmd(), v4.5–v4.19 (3565fce3a659; a v4.19-era text, store id
// 9763267886): called under the pmd lock; a write needs a writable pmd; a pmd that is no
// longer present and devmap gives NULL; else get_dev_pagemap() of the pfn at the address's
// offset in the 2 MiB and get_page() on that 4 KiB page (FOLL_GET).
function followDevmapPmd(k: KernelState, vma: Vma, index: number, pgoff: number, write: boolean): Pinned | null {
  const pmd = vma.pmd!.pmds.get(index);
  if (pmd === undefined || pmd.kind !== 'devmap') return null;
  if (write && !pmd.write) return null; // "if (flags & FOLL_WRITE && !pmd_write(*pmd)) return NULL;"
  const block = pmd.block + (pgoff & (HPAGE_PMD_NR - 1)); // pfn += (addr & ~PMD_MASK) >> PAGE_SHIFT
  getPage(k, block);
  return { kind: 'pfn', block, file: vma.mapping.file, page: pgoff };
}

// mm/gup.c follow_page_mask() (v4.6–v4.12; from v4.13 its follow_pmd_mask(), store id
// 55928715667), the PMD level, for a VMA with one: a none pmd -> NULL (no_page_table());
// pmd_devmap() -> follow_devmap_pmd() under the pmd lock; a pmd that is not
// pmd_trans_huge() -> follow_page_pte() (whose pmd_bad() test gives NULL for a DAX PMD
// follow_devmap_pmd() refused); the huge zero page (pmd_trans_huge()) -> under the pmd
// lock, follow_trans_huge_pmd(): NULL for a write (it is read-only; can_follow_write_pmd()),
// else the page with a reference (from memory: FOLL_GET -> get_page()). A VMA without a
// PMD level: follow_page_pte().
function* followPageMask(k: KernelState, vma: Vma, pgoff: number, write: boolean): Generator<void, Pinned | null, void> {
  const lvl = vma.pmd;
  if (lvl === null) return yield* followPagePte(k, vma, pgoff, write);
  const index = pgoff >> PMD_ORDER;
  yield; // pmd_none(*pmd), pmd_devmap(*pmd): unlocked reads
  const pmd = lvl.pmds.get(index);
  if (pmd === undefined) return null;
  if (pmd.kind === 'devmap') {
    yield* lvl.lock.lock(k.sim);
    const page = followDevmapPmd(k, vma, index, pgoff, write);
    lvl.lock.unlock(k.sim);
    if (page !== null) {
      if (k.sim.rec && page.kind === 'pfn') k.sim.log(`follow_devmap_pmd(${vma.name}:${pgoff}): get_page(blk ${page.block}), page ref ${pinState(k).refs.peek(page.block) ?? 1}`);
      return page;
    }
    yield; // if (likely(!pmd_trans_huge(*pmd))) return follow_page_pte(...)
    const now = lvl.pmds.get(index);
    if (now === undefined || now.kind === 'devmap') return null; // follow_page_pte(): pmd_bad() -> no_page_table()
    if (now.kind === 'table') return yield* followPagePte(k, vma, pgoff, write);
  } else if (pmd.kind === 'table') {
    return yield* followPagePte(k, vma, pgoff, write);
  }
  // pmd_trans_huge(): the huge zero page
  yield* lvl.lock.lock(k.sim);
  const now = lvl.pmds.get(index);
  let got: Pinned | null = null;
  let pte = false;
  if (now === undefined || now.kind === 'devmap') got = null;
  else if (now.kind === 'table') pte = true; // "if (unlikely(!pmd_trans_huge(*pmd))) ... return follow_page_pte()"
  else if (!write) got = { kind: 'zero', huge: true }; // follow_trans_huge_pmd(): get_page() of the huge zero page
  lvl.lock.unlock(k.sim);
  if (pte) return yield* followPagePte(k, vma, pgoff, write);
  return got;
}

// mm/gup.c __get_user_pages() for one page, v4.6–v4.17: follow the page, or fault
// it in (faultin_page(): handle_mm_fault() with FAULT_FLAG_WRITE for FOLL_WRITE,
// no FAULT_FLAG_ALLOW_RETRY) and try again. The caller holds mmap_sem for read.
// A VMA with a PMD level faults through __handle_mm_fault()'s PMD dispatch (huge.ts);
// as for loads and stores, a none pmd is not given to create_huge_pmd() (the model's
// `huge` stands for the THP setting, which only `fault {huge: true}` turns on).
function* getUserPage(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, write: boolean): Generator<void, Pinned | number, void> {
  // check_vma_flags(): FOLL_WRITE on a VMA without VM_WRITE (and no FOLL_FORCE) -> -EFAULT
  if (write && !vma.vmWrite) return -14;
  for (;;) {
    const page = yield* followPageMask(k, vma, pgoff, write);
    if (page !== null) return page;
    const flags = write ? FAULT_FLAG_WRITE : 0;
    const ret = vma.pmd !== null ? yield* handleMmFault(k, fs, vma, pgoff, flags, false) : yield* handlePteFault(k, fs, vma, pgoff, flags);
    if (ret & VM_FAULT_ERROR) return ret & VM_FAULT_OOM ? -12 : -14; // -ENOMEM : -EFAULT
  }
}

// mm/gup.c gup_pte_range() (CONFIG_HAVE_GENERIC_GUP with __HAVE_ARCH_PTE_SPECIAL), v4.13–v4.19
// (store id 55928715667, a 4.14.y tree), for one page: read the PTE without any lock;
// give up (the caller falls back to the slow path) unless pte_access_permitted(pte,
// write); a devmap PTE pins its ZONE_DEVICE page (get_dev_pagemap()), another special
// PTE (the zero page) gives up; take the reference (page_cache_get_speculative()), then
// re-read the PTE: if it changed, drop the reference and give up. That re-check is what
// lets dax_layout_busy_page() (v4.18) trust its unmap-then-scan: either the scan sees the
// new reference, or gup-fast sees the cleared PTE. Runs with interrupts off.
function* gupPteRange(k: KernelState, vma: Vma, pgoff: number, write: boolean): Generator<void, Pinned | null, void> {
  const sim = k.sim;
  yield; // pte_t pte = gup_get_pte(ptep): READ_ONCE(*ptep)
  const pte = vma.ptes.get(pgoff);
  if (pte === undefined || (write && !pte.write)) {
    // !pte_access_permitted(pte, write): not present, or read-only for a write
    if (sim.rec) sim.log(`gup_pte_range(${vma.name}:${pgoff}): pte ${pte === undefined ? 'none' : 'read-only'} -> slow path`);
    return null;
  }
  if (pte.kind === 'zero') {
    // not pte_devmap() but pte_special(): goto pte_unmap
    if (sim.rec) sim.log(`gup_pte_range(${vma.name}:${pgoff}): pte_special (zero page) -> slow path`);
    return null;
  }
  if (pte.kind === 'anon') throw new Error(`model: get_user_pages_fast on ${vma.name}'s anonymous page (pins of private mappings are refused up front)`);
  yield; // page_cache_get_speculative(head): an atomic increment of the page's _refcount
  if (pte.kind === 'pfn') getPageSpeculative(k, pte.block);
  if (sim.rec) sim.log(`gup_pte_range(${vma.name}:${pgoff}): ${pte.kind === 'pfn' ? `get_page(blk ${pte.block}), page ref ${pinState(k).refs.peek(pte.block) ?? 1}` : `get_page(${pte.page.label})`}`);
  yield; // if (unlikely(pte_val(pte) != pte_val(*ptep)))
  if (vma.ptes.get(pgoff) !== pte) {
    if (pte.kind === 'pfn') endSpeculative(k, pte.block, false);
    if (sim.rec) sim.log(`gup_pte_range(${vma.name}:${pgoff}): pte changed under us -> put_page(), slow path`);
    return null;
  }
  if (pte.kind === 'pfn') endSpeculative(k, pte.block, true);
  return pte.kind === 'pfn' ? { kind: 'pfn', block: pte.block, file: vma.mapping.file, page: pgoff } : { kind: 'page', page: pte.page };
}

// arch/x86/mm/gup.c gup_pte_range(), v4.6–v4.12 (x86 had its own gup-fast until e585513b76f7,
// v4.13; store id 193822716, the text before ef947b2), for one page: no re-check of the PTE after
// the reference is taken. Before ef947b2 "x86, mm: fix gup_pte_range() vs DAX mappings" (v4.11,
// Cc stable; store ids 25003963496, 68720061765) a pte_devmap() PTE is taken without
// pte_allows_gup(), so a write pin of a read-only DAX PTE succeeds ("This allows writes to
// read-only mappings, and bypasses the DAX cacheline dirty tracking due to missed 'mkwrite'
// faults"); after it, pte_allows_gup() (present, user, and RW for a write) comes first.
function* gupPteRangeX86(k: KernelState, vma: Vma, pgoff: number, write: boolean): Generator<void, Pinned | null, void> {
  const sim = k.sim;
  yield; // pte_t pte = gup_get_pte(ptep)
  const pte = vma.ptes.get(pgoff);
  const allowsGup = pte !== undefined && (!write || pte.write); // pte_allows_gup(pte_val(pte), write)
  if (k.flags.x86_gup_pte_allows_gup_first && !allowsGup) {
    if (sim.rec) sim.log(`gup_pte_range(${vma.name}:${pgoff}): !pte_allows_gup -> slow path`);
    return null;
  }
  if (pte !== undefined && pte.kind === 'pfn') {
    // pte_devmap(pte): get_dev_pagemap(); then get_page()
    yield;
    getPage(k, pte.block);
    if (sim.rec) sim.log(`gup_pte_range(${vma.name}:${pgoff}): pte_devmap -> get_page(blk ${pte.block}), page ref ${pinState(k).refs.peek(pte.block) ?? 1}${allowsGup ? '' : ' (a read-only PTE, for a write)'}`);
    return { kind: 'pfn', block: pte.block, file: vma.mapping.file, page: pgoff };
  }
  if (!allowsGup || pte === undefined || pte.kind === 'zero') {
    // "} else if (!pte_allows_gup(pte_val(pte), write) || pte_special(pte)) {"
    if (sim.rec) sim.log(`gup_pte_range(${vma.name}:${pgoff}): ${pte === undefined ? 'pte none' : '!pte_allows_gup'} -> slow path`);
    return null;
  }
  if (pte.kind === 'anon') throw new Error(`model: get_user_pages_fast on ${vma.name}'s anonymous page (pins of private mappings are refused up front)`);
  yield;
  if (sim.rec) sim.log(`gup_pte_range(${vma.name}:${pgoff}): get_page(${pte.page.label})`);
  return { kind: 'page', page: pte.page };
}

// mm/gup.c gup_huge_pmd() -> __gup_device_huge_pmd() -> __gup_device_huge() (generic,
// v4.13–v4.19; store id 55928715667, whose gup_pmd_range() also has the later pmd_devmap()
// test: mainline v4.13–v4.19 reaches gup_huge_pmd() for a DAX PMD through pmd_huge(), true
// for it on x86 with CONFIG_HUGETLB_PAGE, which the model assumes), and arch/x86/mm/gup.c
// gup_huge_pmd() (v4.6–v4.12, store id 193822716), for one page of a huge pmd read without
// a lock: the access check first (pmd_access_permitted() / pte_allows_gup(): present, user,
// writable for a write); a DAX PMD: get_dev_pagemap() and get_page() on the 4 KiB page at
// the address's offset; the huge zero page: references on its head page
// (page_cache_add_speculative() / get_head_page_multiple()).
// Re-checks after the references are taken:
//   generic, the huge zero page: pmd_val(orig) != pmd_val(*pmdp) -> put them, give up;
//   generic, a DAX PMD: only from "mm: fix __gup_device_huge vs unmap" (v4.18, flag
//     gup_fast_device_huge_recheck): if *pmdp changed, undo_dev_pagemap() (put_page()) and
//     give up. Before it the references stay, taken on a pmd that may be gone already;
//   x86 v4.6–v4.12: none.
function* gupHugePmd(k: KernelState, vma: Vma, index: number, orig: Pmd, pgoff: number, write: boolean): Generator<void, Pinned | null, void> {
  const sim = k.sim;
  const lvl = vma.pmd!;
  const generic = k.flags.gup_fast_generic;
  if (orig.kind === 'table') throw new Error('model: gup_huge_pmd() of a page table');
  const writable = orig.kind === 'devmap' && orig.write;
  if (write && !writable) {
    if (sim.rec) sim.log(`gup_huge_pmd(${vma.name}:${pgoff}): ${generic ? '!pmd_access_permitted' : '!pte_allows_gup'} (read-only ${describePmd(orig)}) -> slow path`);
    return null;
  }
  const recheck = generic && (orig.kind !== 'devmap' || k.flags.gup_fast_device_huge_recheck);
  yield; // the references: get_page() of each page (__gup_device_huge()), or page_cache_add_speculative(head, refs)
  let got: Pinned;
  if (orig.kind === 'devmap') {
    const block = orig.block + (pgoff & (HPAGE_PMD_NR - 1));
    if (recheck) getPageSpeculative(k, block);
    else getPage(k, block);
    got = { kind: 'pfn', block, file: vma.mapping.file, page: pgoff };
    if (sim.rec) sim.log(`__gup_device_huge_pmd(${vma.name}:${pgoff}): get_page(blk ${block}), page ref ${pinState(k).refs.peek(block) ?? 1}`);
  } else {
    got = { kind: 'zero', huge: true };
    if (sim.rec) sim.log(`gup_huge_pmd(${vma.name}:${pgoff}): references on the huge zero page`);
  }
  if (!recheck) return got;
  yield; // if (unlikely(pmd_val(orig) != pmd_val(*pmdp)))
  if (lvl.pmds.get(index) !== orig) {
    if (got.kind === 'pfn') endSpeculative(k, got.block, false); // undo_dev_pagemap() / put_page(head)
    if (sim.rec) sim.log(`gup_huge_pmd(${vma.name}:${pgoff}): pmd changed under us -> put_page(), slow path`);
    return null;
  }
  if (got.kind === 'pfn') endSpeculative(k, got.block, true);
  return got;
}

// mm/gup.c gup_pmd_range() (generic, v4.13–v4.19) / arch/x86/mm/gup.c gup_pmd_range()
// (v4.6–v4.12), for one page of a VMA with a PMD level: READ_ONCE(*pmdp); none -> give up;
// a huge pmd -> gup_huge_pmd(); a page table -> gup_pte_range(). (A VMA without a PMD level
// has page tables everywhere: gup_pte_range().)
function* gupPmdRange(k: KernelState, vma: Vma, pgoff: number, write: boolean): Generator<void, Pinned | null, void> {
  const lvl = vma.pmd;
  const pte = k.flags.gup_fast_generic ? gupPteRange : gupPteRangeX86; // e585513b76f7 (v4.13)
  if (lvl === null) return yield* pte(k, vma, pgoff, write);
  const index = pgoff >> PMD_ORDER;
  yield; // pmd_t pmd = READ_ONCE(*pmdp)
  const pmd = lvl.pmds.get(index);
  if (pmd === undefined) {
    if (k.sim.rec) k.sim.log(`gup_pmd_range(${vma.name}:${pgoff}): pmd none -> slow path`);
    return null;
  }
  if (pmd.kind !== 'table') {
    if (k.sim.rec) k.sim.log(`gup_pmd_range(${vma.name}:${pgoff}): READ_ONCE(*pmdp) -> ${describePmd(pmd)}, no lock, interrupts off`);
    return yield* gupHugePmd(k, vma, index, pmd, pgoff, write);
  }
  return yield* pte(k, vma, pgoff, write);
}

// mm/gup.c get_user_pages_fast(start, 1, write, pages), v4.13–v4.19 (store id 55928715667;
// mainline passes `write` to gup_pgd_range(), the 4.14.y copy's `1` is a 2020 stable
// change): the lockless walk with interrupts off; if it pinned nothing,
// get_user_pages_unlocked(): mmap_sem for read around the slow path (FOLL_WRITE for a
// write). (get_user_pages_unlocked() may drop mmap_sem to retry a fault; the model's
// slow path never does.)
function* getUserPagesFast(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, write: boolean): Generator<void, Pinned | number, void> {
  localIrqDisable(k);
  // e585513b76f7 (v4.13): x86 uses the generic mm/gup.c walk (gupPmdRange() picks the PTE walk)
  const got = yield* gupPmdRange(k, vma, pgoff, write);
  localIrqEnable(k);
  if (got !== null) return got;
  yield* k.mmapSem.downRead(k.sim);
  // __get_user_pages(): find_extend_vma() finds no VMA for a munmap()ed map -> -EFAULT
  k.sim.touch(vma.obj, false);
  if (vma.unmapped) {
    k.mmapSem.upRead(k.sim);
    return -14;
  }
  const slow = yield* getUserPage(k, fs, vma, pgoff, write);
  k.mmapSem.upRead(k.sim);
  return slow;
}

/**
 * The `pin` op: a driver's down_read(mmap_sem); get_user_pages(_longterm)();
 * up_read(mmap_sem), as ib_umem_get() does; with `fast`, get_user_pages_fast(), as
 * direct I/O does. Returns `ok`, `EOPNOTSUPP` or `EFAULT`.
 */
export function* pinUserPage(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, write: boolean, longterm: boolean, name: string, fast = false): Generator<void, string, void> {
  if (fast) {
    const got = yield* getUserPagesFast(k, fs, vma, pgoff, write);
    if (typeof got === 'number') return got === -12 ? 'ENOMEM' : 'EFAULT';
    const p = pinState(k);
    p.pins.set(p.key(name), got);
    if (k.sim.rec) k.sim.log(`get_user_pages_fast(${vma.name}:${pgoff}${write ? ', write' : ''}) -> ${describePinned(k, got)}`);
    return 'ok';
  }
  yield* k.mmapSem.downRead(k.sim);
  // __get_user_pages(): find_extend_vma() finds no VMA for a munmap()ed map -> -EFAULT
  k.sim.touch(vma.obj, false);
  if (vma.unmapped) {
    k.mmapSem.upRead(k.sim);
    return 'EFAULT';
  }
  const got = yield* getUserPage(k, fs, vma, pgoff, write);
  let result = 'ok';
  if (typeof got === 'number') {
    result = got === -12 ? 'ENOMEM' : 'EFAULT';
  } else if (longterm && k.flags.gup_longterm_refuses_fsdax) {
    // mm/gup.c get_user_pages_longterm(), v4.15 (2bb6d2837083; 4.9.y by v4.9.140):
    // pages are taken first, then a filesystem-DAX VMA (vma_is_fsdax()) makes it
    // put them all back and fail with -EOPNOTSUPP
    if (got.kind === 'pfn') putPage(k, got.block);
    result = 'EOPNOTSUPP';
    if (k.sim.rec) k.sim.log(`get_user_pages_longterm(${vma.name}:${pgoff}): vma_is_fsdax -> -EOPNOTSUPP`);
  } else {
    const p = pinState(k);
    p.pins.set(p.key(name), got);
    if (k.sim.rec) k.sim.log(`get_user_pages(${vma.name}:${pgoff}${write ? ', FOLL_WRITE' : ''}) -> ${describePinned(k, got)}`);
  }
  k.mmapSem.upRead(k.sim);
  return result;
}

function describePinned(k: KernelState, got: Pinned): string {
  if (got.kind === 'pfn') return `blk ${got.block}, page ref ${pinState(k).refs.peek(got.block) ?? 1}`;
  return got.kind === 'zero' ? (got.huge ? 'the huge zero page' : 'the zero page') : got.page.label;
}

/**
 * The `dma` op: the device writes `value` into the pinned page (straight to
 * memory, no CPU cache). Returns the block written, the hole page, or null
 * when there is no such pin (the pin failed or was dropped).
 */
export function* dmaWrite(k: KernelState, name: string, value: PageValue): Generator<void, Pinned | null, void> {
  yield;
  const p = pinState(k);
  const pin = p.pins.get(p.key(name)) ?? null;
  if (pin === null) return null;
  if (pin.kind === 'pfn') {
    const b = k.pmem.block(pin.block);
    const owner = b.owner;
    if (owner === null || owner.file !== pin.file || owner.page !== pin.page) {
      k.sim.violate('dma-after-free', `DMA through pin ${name} writes ${String(value)} into blk ${pin.block}, which ${owner === null ? 'was freed' : `now belongs to ${owner.file}:${owner.page}`} (pinned at ${pin.file}:${pin.page})`, `${name}:${pin.block}`);
    }
    b.content = value;
    if (k.sim.rec) k.sim.log(`dma ${name}: blk ${pin.block} = ${String(value)}`);
  } else if (pin.kind === 'zero') {
    if (k.sim.rec) k.sim.log(`dma ${name}: the ${pin.huge ? 'huge zero page' : 'shared zero page'} = ${String(value)} (not the file's block)`);
  } else if (k.sim.rec) {
    k.sim.log(`dma ${name}: ${pin.page.label} = ${String(value)} (a page-cache page, not the file's block)`);
  }
  return pin;
}

/** The `unpin` op: put_page() on the pinned page; the pin is gone. */
export function* unpinUserPage(k: KernelState, name: string): Generator<void, boolean, void> {
  yield;
  const p = pinState(k);
  const key = p.key(name);
  const pin = p.pins.get(key) ?? null;
  if (pin === null) return false;
  if (pin.kind === 'pfn') putPage(k, pin.block);
  p.pins.delete(key);
  if (k.sim.rec) k.sim.log(`put_page(${pin.kind === 'pfn' ? `blk ${pin.block}` : pin.kind === 'zero' ? 'zero page' : pin.page.label})`);
  return true;
}
