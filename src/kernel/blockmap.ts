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

/** Lowest free block; null when pmem is full (-ENOSPC). */
export function allocBlock(k: KernelState, inode: Inode, page: number): Block | null {
  k.sim.touch(k.pmem.allocObj, true);
  for (const b of k.pmem.blocks) {
    if (b.peekOwner() === null) {
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
