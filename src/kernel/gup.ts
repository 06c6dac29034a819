// Pinning DAX pages for I/O: get_user_pages() on a DAX mapping takes a
// reference on the ZONE_DEVICE struct page of the pmem block (3565fce3a659,
// v4.5), a device then writes into the block until the pin is dropped. Before
// v4.18 nothing in truncate or hole punch waits for such a reference, so the
// block can be freed and handed to another file while the device still
// writes to it (races-and-design.md 1.34); get_user_pages_longterm()
// (2bb6d2837083, v4.15; 4.9.y by v4.9.140) refuses filesystem-DAX VMAs.
//
// Not modelled: get_user_pages_fast() (1.35, 1.36), dax_layout_busy_page() (v4.18).
import type { Sim } from '../sim/engine.js';
import { SharedIntMap } from '../sim/shared.js';
import type { PageValue } from '../scenario/types.js';
import { FAULT_FLAG_WRITE, VM_FAULT_ERROR, VM_FAULT_OOM, handlePteFault, type FsOps } from './fault.js';
import type { HolePage } from './mapping.js';
import type { Vma } from './pagetable.js';
import type { KernelState } from './state.js';

/** What a pin holds a reference on: a pmem block's ZONE_DEVICE page, or a page-cache hole page. */
export type Pinned = { kind: 'pfn'; block: number; file: string; page: number } | { kind: 'page'; page: HolePage };

/** Per-machine pin state: page refcounts of pmem blocks and the pins by name. */
export class PinState {
  /** block -> page_ref_count() of its ZONE_DEVICE page; idle at 1 until v6.x */
  readonly refs: SharedIntMap<number>;
  readonly pins: SharedIntMap<Pinned>;
  /** pin name -> its key in `pins` */
  readonly names = new Map<string, number>();
  constructor(sim: Sim) {
    this.refs = new SharedIntMap<number>(sim);
    this.pins = new SharedIntMap<Pinned>(sim);
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

// include/linux/mm.h get_page() on a ZONE_DEVICE page
function getPage(k: KernelState, block: number): void {
  const p = pinState(k);
  p.refs.set(block, (p.refs.get(block) ?? 1) + 1);
}

// include/linux/mm.h put_page() on a ZONE_DEVICE page, v4.5–v4.17: the last put
// brings the count back to 1 (idle); nothing waits for that before v4.18.
function putPage(k: KernelState, block: number): void {
  const p = pinState(k);
  const n = (p.refs.get(block) ?? 1) - 1;
  if (n < 1) k.sim.violate('refcount', `put_page() on blk ${block} takes its page refcount below 1`, `under:${block}`);
  p.refs.set(block, Math.max(1, n));
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
    } else if (pte.kind === 'page') {
      got = { kind: 'page', page: pte.page }; // a normal page: vm_normal_page() + get_page()
    } else {
      throw new Error(`model: get_user_pages on ${vma.name}'s anonymous page (pins of private mappings are refused up front)`);
    }
  }
  vma.ptl.unlock(k.sim);
  return got;
}

// mm/gup.c __get_user_pages() for one page, v4.6–v4.17: follow the page, or fault
// it in (faultin_page(): handle_mm_fault() with FAULT_FLAG_WRITE for FOLL_WRITE,
// no FAULT_FLAG_ALLOW_RETRY) and try again. The caller holds mmap_sem for read.
function* getUserPage(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, write: boolean): Generator<void, Pinned | number, void> {
  for (;;) {
    const page = yield* followPagePte(k, vma, pgoff, write);
    if (page !== null) return page;
    const ret = yield* handlePteFault(k, fs, vma, pgoff, write ? FAULT_FLAG_WRITE : 0);
    if (ret & VM_FAULT_ERROR) return ret & VM_FAULT_OOM ? -12 : -14; // -ENOMEM : -EFAULT
  }
}

/**
 * The `pin` op: a driver's down_read(mmap_sem); get_user_pages(_longterm)();
 * up_read(mmap_sem), as ib_umem_get() does. Returns `ok`, `EOPNOTSUPP` or `EFAULT`.
 */
export function* pinUserPage(k: KernelState, fs: FsOps, vma: Vma, pgoff: number, write: boolean, longterm: boolean, name: string): Generator<void, string, void> {
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
    if (k.sim.rec) k.sim.log(`get_user_pages(${vma.name}:${pgoff}${write ? ', FOLL_WRITE' : ''}) -> ${got.kind === 'pfn' ? `blk ${got.block}, page ref ${pageRefCount(k, got.block)}` : got.page.label}`);
  }
  k.mmapSem.upRead(k.sim);
  return result;
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
  if (k.sim.rec) k.sim.log(`put_page(${pin.kind === 'pfn' ? `blk ${pin.block}` : pin.page.label})`);
  return true;
}
