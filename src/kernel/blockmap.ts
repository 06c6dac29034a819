// ext4's extent map and block allocator, at the granularity daxsim needs:
// one page = one block; an extent is mapped (written) or unwritten.
//
// Not modelled: mballoc's goal search and preallocation (the allocator takes
// the lowest free block), the extent status cache, and jbd2's rule that blocks
// freed in a running transaction are reused only after it commits (with a
// commit at any time the reuse order is the same, only later).
import type { Sim } from '../sim/engine.js';
import type { Block } from './pmem.js';
import { pmemDriverWrite } from './media.js';
import type { Extent, Inode, KernelState } from './state.js';
import { ext4UpdateInodeFsyncTrans } from './journal.js';

/** The EXT4_GET_BLOCKS_* flags the DAX paths pass. */
export interface MapFlags {
  /** EXT4_GET_BLOCKS_CREATE: allocate a hole */
  create: boolean;
  /** EXT4_GET_BLOCKS_UNWRIT_EXT (part of EXT4_GET_BLOCKS_PRE_IO): allocate as unwritten */
  unwritExt: boolean;
  /** EXT4_GET_BLOCKS_CONVERT: convert an unwritten extent to written */
  convert: boolean;
  /** EXT4_GET_BLOCKS_ZERO (part of _CREATE_ZERO): zero blocks that become mapped and new */
  zero: boolean;
}

export const LOOKUP: MapFlags = { create: false, unwritExt: false, convert: false, zero: false };

export interface MapResult {
  /** null = hole */
  extent: Extent | null;
  /** EXT4_MAP_NEW: allocated or converted by this call */
  isNew: boolean;
}

/** Block numbers for a trace line, runs of consecutive blocks as first-last: "0-511", "3,7-9". */
export function blkList(nrs: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < nrs.length; ) {
    let j = i;
    while (j + 1 < nrs.length && nrs[j + 1] === nrs[j]! + 1) j++;
    out.push(j > i ? `${nrs[i]}-${nrs[j]}` : String(nrs[i]));
    i = j + 1;
  }
  return out.join(',');
}

/** Lowest free block; null when pmem is full (-ENOSPC). */
export function allocBlock(k: KernelState, inode: Inode, page: number): Block | null {
  k.sim.touch(k.pmem.allocObj, true);
  for (let nr = 0; nr < k.pmem.count; nr++) {
    if (k.pmem.peekOwner(nr) === null) {
      const b = k.pmem.block(nr);
      b.owner = { file: inode.name, page };
      k.hooks.blockOwnerChanged(b);
      return b;
    }
  }
  return null;
}

/** Free a block: it keeps its content, so a later owner that does not zero it sees it. */
export function freeBlock(k: KernelState, b: Block): void {
  k.sim.touch(k.pmem.allocObj, true);
  b.owner = null;
  k.hooks.blockOwnerChanged(b);
}

// fs/ext4/inode.c ext4_map_blocks(), v4.5–v4.19: a lookup under i_data_sem (read);
// with CREATE and nothing usable, again under i_data_sem (write): allocate, or
// convert an unwritten extent; with ZERO, blocks that end up mapped and new are
// zeroed before i_data_sem is dropped (c86d8db33a92, v4.5).
export function* ext4MapBlocks(k: KernelState, inode: Inode, page: number, f: MapFlags): Generator<void, MapResult | number, void> {
  const sim: Sim = k.sim;
  yield* inode.iDataSem.downRead(sim);
  const found = inode.extents.get(page) ?? null;
  inode.iDataSem.upRead(sim);
  if (!f.create && !f.convert) return { extent: found, isNew: false };
  if (found !== null && !found.unwritten) return { extent: found, isNew: false };
  if (found !== null && found.unwritten && !f.convert) return { extent: found, isNew: false };
  // CONVERT without CREATE (ext4_convert_unwritten_extents()) leaves a hole a hole
  if (found === null && !f.create) return { extent: null, isNew: false };

  yield* inode.iDataSem.downWrite(sim);
  let res: MapResult | number;
  const again = inode.extents.get(page) ?? null;
  if (again === null && !f.create) {
    res = { extent: null, isNew: false };
  } else if (again === null) {
    const b = allocBlock(k, inode, page);
    if (b === null) {
      res = -28; // -ENOSPC
    } else {
      const ext: Extent = { block: b.nr, unwritten: f.unwritExt };
      inode.extents.set(page, ext);
      if (!ext.unwritten && f.zero) pmemDriverWrite(k, b, 0); // ext4_issue_zeroout() -> sb_issue_zeroout(): through the driver
      ext4UpdateInodeFsyncTrans(k, inode); // the allocation is in the running transaction (journal.ts)
      res = { extent: ext, isNew: true };
    }
  } else if (again.unwritten && f.convert) {
    const ext: Extent = { block: again.block, unwritten: false };
    inode.extents.set(page, ext);
    if (f.zero) pmemDriverWrite(k, k.pmem.block(ext.block), 0); // ext4_issue_zeroout()
    ext4UpdateInodeFsyncTrans(k, inode);
    res = { extent: ext, isNew: true };
  } else {
    res = { extent: again, isNew: false };
  }
  inode.iDataSem.upWrite(sim);
  return res;
}

// fs/ext4/extents.c ext4_ext_remove_space() as called by ext4_truncate() and
// ext4_punch_hole(), v4.5–v4.19: under i_data_sem (write), drop the extents of
// pages [first, last] and free their blocks.
export function* ext4RemoveSpace(k: KernelState, inode: Inode, first: number, last: number): Generator<void, number[], void> {
  yield* inode.iDataSem.downWrite(k.sim);
  const freed: number[] = [];
  for (const page of inode.extents.keys()) {
    if (page < first || page > last) continue;
    const ext = inode.extents.get(page)!;
    inode.extents.delete(page);
    freeBlock(k, k.pmem.block(ext.block));
    freed.push(ext.block);
  }
  if (freed.length) ext4UpdateInodeFsyncTrans(k, inode);
  inode.iDataSem.upWrite(k.sim);
  return freed;
}

/** What ext4_map_blocks() reports for a multi-block request: the extent at the first page and how many pages it maps contiguously (for a hole: how long the hole is). */
export interface MapRange {
  /** null = hole */
  extent: Extent | null;
  /** pages from the first one with the same state and contiguous blocks (m_len on return) */
  len: number;
  isNew: boolean;
}

/** How far the state at `first` runs on, at most `max` pages: contiguous blocks of one written-ness, or a hole. */
function runLength(inode: Inode, first: number, max: number, head: Extent | null): number {
  let n = 1;
  while (n < max) {
    const e = inode.extents.get(first + n) ?? null;
    if (head === null ? e !== null : e === null || e.block !== head.block + n || e.unwritten !== head.unwritten) break;
    n++;
  }
  return n;
}

/** 512 free blocks starting at a 512-aligned block number, lowest first; null if none. */
export function allocAlignedRun(k: KernelState, inode: Inode, first: number, count: number): number | null {
  k.sim.touch(k.pmem.allocObj, true);
  const pmem = k.pmem;
  for (let start = 0; start + count <= pmem.count; start += count) {
    let free = true;
    for (let i = 0; i < count && free; i++) if (pmem.peekOwner(start + i) !== null) free = false;
    if (!free) continue;
    for (let i = 0; i < count; i++) {
      const b = pmem.block(start + i);
      b.owner = { file: inode.name, page: first + i };
      k.hooks.blockOwnerChanged(b);
    }
    return start;
  }
  return null;
}

// fs/ext4/inode.c ext4_map_blocks() with m_len > 1 (a PMD fault asks for PMD_SIZE), v4.5–v4.19,
// on a filesystem made with a 2 MiB RAID stripe (`_scratch_mkfs_geom <hugepagesize> 1`, as
// xfstests' DAX PMD tests and ndctl's dax.sh do), which makes mballoc place a request of a
// stripe's size at a stripe-aligned physical block. Lookup: the run of contiguous blocks (or
// of hole) from `first`, at most `max` pages. Create, when `first` is a hole: if the whole
// request is a hole, 512 zeroed (ZERO) written blocks at a 512-aligned block; otherwise only
// the hole run, block by block (the model's simplification of mballoc's goal search: a PMD
// fault then falls back, as it would for any extent shorter than 2 MiB). Unwritten extents
// are not modelled on huge files (kernel.ts refuses them).
export function* ext4MapBlocksRange(k: KernelState, inode: Inode, first: number, max: number, f: MapFlags): Generator<void, MapRange | number, void> {
  const sim: Sim = k.sim;
  yield* inode.iDataSem.downRead(sim);
  const found = inode.extents.get(first) ?? null;
  const len = runLength(inode, first, max, found);
  inode.iDataSem.upRead(sim);
  if (found !== null || !f.create) return { extent: found, len, isNew: false };

  yield* inode.iDataSem.downWrite(sim);
  let res: MapRange | number;
  const again = inode.extents.get(first) ?? null;
  if (again !== null) {
    res = { extent: again, len: runLength(inode, first, max, again), isNew: false };
  } else {
    const hole = runLength(inode, first, max, null);
    const start = hole === max ? allocAlignedRun(k, inode, first, max) : null;
    if (start !== null) {
      for (let i = 0; i < max; i++) {
        inode.extents.set(first + i, { block: start + i, unwritten: false });
        if (f.zero) pmemDriverWrite(k, k.pmem.block(start + i), 0); // ext4_issue_zeroout(): through the driver, which clears poison
      }
      ext4UpdateInodeFsyncTrans(k, inode); // the allocation is in the running transaction (journal.ts), as in ext4MapBlocks()
      res = { extent: inode.extents.get(first)!, len: max, isNew: true };
    } else {
      let n = 0;
      let head: Extent | null = null;
      for (; n < hole; n++) {
        const b = allocBlock(k, inode, first + n);
        if (b === null) break;
        const ext: Extent = { block: b.nr, unwritten: false };
        inode.extents.set(first + n, ext);
        if (f.zero) pmemDriverWrite(k, b, 0); // ext4_issue_zeroout()
        if (head === null) head = ext;
        else if (ext.block !== head.block + n) break;
      }
      if (n > 0) ext4UpdateInodeFsyncTrans(k, inode);
      res = head === null ? -28 : { extent: head, len: runLength(inode, first, max, head), isNew: true };
    }
  }
  inode.iDataSem.upWrite(sim);
  return res;
}
