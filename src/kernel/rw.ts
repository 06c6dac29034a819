// read(2) and write(2) on an ext4 DAX file, v4.6 and v4.7. A DAX file is always
// "direct" (io_is_direct(): IS_DAX), so both go through the generic direct-I/O
// code of mm/filemap.c to ext4's ->direct_IO and on to fs/dax.c dax_do_io() /
// dax_io(). Sources: notes/kernel-rw-writeback.md §A.1–A.4 (fs/dax.c VERBATIM
// from store ids 11726779 (v4.6) and 48298668521 / 24459562991 (v4.7);
// ext4_ext_direct_IO() from 12191996963; the 12735f881952 hunks from the review
// 45507635876); the generic and the other ext4 parts are from memory, as marked.
//
// Granularity: an op reads or writes one whole page at `page` (ki_pos =
// page << PAGE_SHIFT, count = PAGE_SIZE). One page is one block, so dax_io()
// runs its loop once with one get_block() and one copy.
//
// Not modelled: O_APPEND, O_SYNC/O_DSYNC (generic_write_sync()), AIO, ext4's
// dioread_nolock mount option (without it `overwrite` is 0 and i_mutex stays
// held across the copy), i_dio_count (inode_dio_begin()/_end(): truncate's
// inode_dio_wait() never has to wait, because every modelled DAX I/O holds
// i_mutex), ENOSPC retries (allocations never fail), short copies (-EFAULT),
// user buffers that are themselves DAX mappings.
import type { PageValue } from '../scenario/types.js';
import { LOOKUP, ext4MapBlocks, type MapFlags } from './blockmap.js';
import type { Bh } from './fault.js';
import { ext4DaxGetBlockV47, sbOf, toBh } from './fs/ext4.js';
import type { OpEvent } from './kernel.js';
import { EBUSY, EFAULT, EIO, deleteFromPageCacheLocked, errName, errWord, lockPage, unlockPage, type AddressSpace, type HolePage } from './mapping.js';
import { unmapMappingRange } from './pagetable.js';
import type { Inode, KernelState, WriteRecord } from './state.js';
import { clearExceptionalEntry, lookupEntries } from './truncate.js';
import { filemapWriteAndWaitRange } from './writeback.js';
import { bdevDirectAccess, noteMediaError } from './media.js';

/** What the op reports: a page value, `EOF` for a read that returns 0 bytes, `ok`, or an errno word. */
export type RwResult = string | number;

/** A get_block_t: (inode, block, bh, create). */
export type GetBlock = (k: KernelState, inode: Inode, page: number, create: boolean) => Generator<void, Bh | number, void>;

/** The op's side of one read or write: what to write, what was read, the checkers' write record. */
export interface Io {
  ev: OpEvent;
  /** the value a write stores; null for a read */
  value: PageValue | null;
  /** the value a read returned */
  read: PageValue;
  /** the write's record in k.writes (its `end` is set when the op completes) */
  record: WriteRecord | null;
  /** a user buffer that is a page of a mapping (the op's from:/into:) */
  user?: UserCopy;
}

/**
 * The user side of the copy when the buffer is a page of a mapping: copy_from_user()
 * (__copy_from_user_inatomic_nocache() in copy_from_iter_pmem()) is a CPU load of it and
 * copy_to_user() a CPU store, each taking a page fault (mmap_sem, the fs fault lock, the
 * entry lock) if the page is not mapped, while the caller still holds i_rwsem. null / false:
 * the fault failed, and the copy is short (-EFAULT).
 */
export interface UserCopy {
  fromUser(): Generator<void, PageValue | null, void>;
  toUser(v: PageValue): Generator<void, boolean, void>;
}

function bhName(bh: Bh): string {
  const what = bh.unwritten ? `unwritten blk ${bh.block}` : bh.mapped ? `blk ${bh.block}` : 'hole';
  return `${what}${bh.isNew ? ' (new)' : ''}`;
}

export { errWord };

// ---------------------------------------------------------------------------
// ext4 get_block functions for direct I/O (fs/ext4/inode.c)

const GET_BLOCKS_CREATE: MapFlags = { create: true, unwritExt: false, convert: true, zero: false };
const GET_BLOCKS_IO_CREATE_EXT: MapFlags = { create: true, unwritExt: true, convert: false, zero: false };
const GET_BLOCKS_IO_CONVERT_EXT: MapFlags = { create: false, unwritExt: false, convert: true, zero: false };

// fs/ext4/inode.c ext4_dio_get_block(), v4.6–v4.9 (705965bd6dfa, efe70c295115, both
// v4.6-rc1; body from memory): a lookup, or ext4_get_block_trans(EXT4_GET_BLOCKS_CREATE):
// a hole gets a written block that is NOT zeroed (BH_New); an unwritten extent is
// converted to written without zeroing ("buffered IO" case of ext4_ext_map_blocks()).
function* ext4DioGetBlock(k: KernelState, inode: Inode, page: number, create: boolean): Generator<void, Bh | number, void> {
  const sb = sbOf(k);
  if (create) sb.handle.acquire(k.sim);
  const r = yield* ext4MapBlocks(k, inode, page, create ? GET_BLOCKS_CREATE : LOOKUP);
  if (create) sb.handle.release(k.sim);
  return typeof r === 'number' ? r : toBh(r);
}

// fs/ext4/inode.c ext4_dio_get_block_unwritten_sync(), v4.6 (705965bd6dfa, v4.6-rc1;
// body from memory): ext4_get_block_trans(EXT4_GET_BLOCKS_IO_CREATE_EXT): a hole gets
// an UNWRITTEN extent (not zeroed; reads see zeros until it is converted), an
// unwritten extent stays unwritten; either marks the inode EXT4_STATE_DIO_UNWRITTEN.
function ext4DioGetBlockUnwrittenSync(state: { dioUnwritten: boolean }): GetBlock {
  return function* (k, inode, page, create) {
    const sb = sbOf(k);
    sb.handle.acquire(k.sim);
    const r = yield* ext4MapBlocks(k, inode, page, create ? GET_BLOCKS_IO_CREATE_EXT : LOOKUP);
    sb.handle.release(k.sim);
    if (typeof r === 'number') return r;
    const bh = toBh(r);
    if (bh.unwritten) state.dioUnwritten = true; // ext4_set_inode_state(inode, EXT4_STATE_DIO_UNWRITTEN)
    return bh;
  };
}

// fs/ext4/extents.c ext4_convert_unwritten_extents(NULL, inode, offset, len), v4.6
// (from memory): in a handle per chunk, ext4_map_blocks(EXT4_GET_BLOCKS_IO_CONVERT_EXT)
// marks the range's unwritten extents written. Nothing is zeroed: the data is
// assumed to be in the blocks already. An extent someone converted meanwhile is left alone.
function* ext4ConvertUnwrittenExtents(k: KernelState, inode: Inode, page: number): Generator<void, number, void> {
  const sb = sbOf(k);
  sb.handle.acquire(k.sim);
  const r = yield* ext4MapBlocks(k, inode, page, GET_BLOCKS_IO_CONVERT_EXT);
  sb.handle.release(k.sim);
  if (typeof r === 'number') return r;
  if (k.sim.rec) k.sim.log(`ext4_convert_unwritten_extents(${inode.name}:${page}) -> ${r.extent === null ? 'hole' : r.isNew ? `blk ${r.extent.block} converted` : `blk ${r.extent.block} already written`}`);
  return 0;
}

// ---------------------------------------------------------------------------
// fs/dax.c

// fs/dax.c dax_io(), v4.6 (store id 11726779) and v4.7 (48298668521 / 24459562991;
// 069c77bc9eae "dax: Remove zeroing from dax_io()"). One page, so one pass of the loop:
//   - a read is clamped to i_size, sampled once at entry; a read at or past it returns
//     without a loop pass (the quoted code then returns its uninitialised `rc`; the
//     model returns 0 bytes, what read(2) at EOF returns);
//   - get_block(create = rw == WRITE); an error ends the I/O with it;
//   - v4.7: WARN_ON_ONCE((buffer_new(bh) && block < file_blks) || (rw == WRITE && buffer_unwritten(bh)));
//   - a read of a hole or an unwritten extent (!buffer_written) copies zeros (iov_iter_zero());
//   - v4.6: a new or unwritten buffer gets dax_new_buf(): clear_pmem() of the mapped
//     extent before `first` and after the I/O's end. The mapping asked for is
//     PAGE_ALIGN(end - pos) = one page and the I/O covers all of it, so there is
//     nothing to clear at page granularity (the race it has with faults, named in
//     12735f881952, needs a partial-block write);
//   - a write copies with copy_from_iter_pmem(): non-temporal stores, past the CPU
//     cache (notes B.7); a read copies with copy_to_iter(): cached loads, so it sees
//     a dirty cache line of the block;
//   - v4.6: wmb_pmem() when anything was written (need_wmb).
function* daxIo(k: KernelState, inode: Inode, page: number, getBlock: GetBlock, io: Io): Generator<void, number, void> {
  const sim = k.sim;
  const write = io.value !== null;
  const at = `${inode.name}:${page}`;
  let end = page + 1;
  let fileBlks = 0;
  if (k.flags.dax_io_no_zeroing) {
    yield;
    fileBlks = inode.size; // file_blks = (i_size_read(inode) + (1 << blkbits) - 1) >> blkbits
  }
  if (!write) {
    yield;
    end = Math.min(end, inode.size); // end = min(end, i_size_read(inode))
    if (sim.rec) sim.log(`dax_io: read clamped to i_size ${inode.peekSize()}`);
  }
  if (page >= end) return 0;
  let needWmb = false;
  const bh = yield* getBlock(k, inode, page, write);
  if (sim.rec) sim.log(`get_block(${at}${write ? ', create' : ''}) -> ${typeof bh === 'number' ? errName(bh) : bhName(bh)}`);
  if (typeof bh === 'number') return bh;
  if (k.flags.dax_io_no_zeroing && ((bh.isNew && page < fileBlks) || (write && bh.unwritten))) {
    // "We allow uninitialized buffers for writes beyond EOF as those cannot race with faults"
    sim.violate('kernel-warn', `WARN_ON_ONCE((buffer_new(bh) && block < file_blks) || (rw == WRITE && buffer_unwritten(bh))) in dax_io(): get_block(${at}) returned ${bhName(bh)}`, 'dax_io-bh');
  }
  const hole = !write && !bh.mapped; // rw == READ && !buffer_written(bh)
  if (!hole && !k.flags.dax_io_no_zeroing && (bh.unwritten || bh.isNew)) {
    // dax_new_buf(dax.addr, map_len, first, pos, end): first == 0 and the I/O ends at the
    // end of the one-page mapping, so no clear_pmem() call is made
    needWmb = true;
  }
  if (write) {
    if (bh.block === null) throw new Error(`model: get_block(${at}, create) returned no block`);
    yield;
    // dax_map_atomic(): -EIO for a known bad block (v4.7, 0a70bd430533), -EINVAL off a page boundary
    const err = bdevDirectAccess(k, bh.block, 'dax_io');
    if (err) return err;
    const b = k.pmem.block(bh.block);
    if (io.user !== undefined) {
      // copy_from_iter_pmem() reads the user buffer: a load of the mapping, faulting it in
      const v = yield* io.user.fromUser();
      if (v === null) return -EFAULT;
      io.value = v;
    }
    // v4.6 (no badblocks check above): non-temporal stores into a poisoned block leave the
    // poison in place (only the driver's clear-error path removes it; from memory)
    b.content = io.value!; // copy_from_iter_pmem(): non-temporal stores
    io.record = { value: io.value!, start: io.ev.startStep, end: null };
    k.writeLog(inode.name, page).push(io.record);
    needWmb = true;
    if (sim.rec) sim.log(`copy_from_iter_pmem(${at} -> blk ${b.nr}) = ${String(io.value)}`);
  } else if (!hole) {
    yield;
    const err = bdevDirectAccess(k, bh.block!, 'dax_io'); // dax_map_atomic()
    if (err) return err;
    const b = k.pmem.block(bh.block!);
    if (k.media && b.bad) {
      // v4.6: copy_to_iter() from poisoned media in kernel mode (dax_io() has no
      // memcpy_mcsafe()): the machine check has no exception fixup and the real kernel
      // panics (mce_panic "Failed kernel mode recovery"; from memory). The model reports it
      // and fails the read with EIO so the run can go on.
      noteMediaError(k);
      sim.violate('poison-consumed', `${sim.me.name}'s read of ${at} copied from poisoned blk ${b.nr} in kernel mode (v4.6 dax_io(): direct_access() ignores the badblocks list, no memcpy_mcsafe()): a kernel machine check, mce_panic()`, `${sim.me.id}:${sim.me.opIndex}`);
      return -EIO;
    }
    io.read = b.content; // copy_to_iter()
    io.ev.readStep = sim.step;
    if (sim.rec) sim.log(`copy_to_iter(${at} <- blk ${b.nr}) = ${String(io.read)}`);
    if (io.user !== undefined && !(yield* io.user.toUser(io.read))) return -EFAULT; // the copy_to_user() half
  } else {
    io.read = 0; // iov_iter_zero()
    io.ev.readStep = sim.step;
    if (sim.rec) sim.log(`iov_iter_zero(${at}): ${bh.unwritten ? 'unwritten extent' : 'hole'} reads as zeros`);
    if (io.user !== undefined && !(yield* io.user.toUser(0))) return -EFAULT;
  }
  if (needWmb && !k.flags.dax_io_no_zeroing && sim.rec) sim.log('wmb_pmem()');
  return 1;
}

// fs/dax.c dax_do_io(), v4.6 (store id 11726779) and v4.7 (48298668521): with
// DIO_LOCKING a read takes inode_lock itself (a write's caller holds it); v4.6 then
// flushes the range with filemap_write_and_wait_range() (c3d98e39d5b3 removed that in
// v4.7). inode_dio_begin()/_end() and the end_io callback (ext4_end_io_dio(), which does
// nothing for a synchronous I/O: no io_end) are not modelled.
export function* daxDoIo(k: KernelState, inode: Inode, page: number, getBlock: GetBlock, dioLocking: boolean, io: Io): Generator<void, number, void> {
  const sim = k.sim;
  const read = io.value === null;
  if (dioLocking && read) {
    yield* inode.iRwsem.downWrite(sim); // inode_lock()
    if (!k.flags.dax_do_io_no_writeback) {
      const ret = yield* filemapWriteAndWaitRange(k, inode.mapping, { first: page, last: page });
      if (ret) {
        inode.iRwsem.upWrite(sim);
        return ret;
      }
    }
  }
  const ret = yield* k.sim.call('dax_io', daxIo(k, inode, page, getBlock, io));
  if (dioLocking && read) inode.iRwsem.upWrite(sim);
  return ret;
}

// ---------------------------------------------------------------------------
// ext4's ->direct_IO for DAX

// fs/ext4/inode.c, the write half of ext4's ->direct_IO for a DAX inode (no
// dioread_nolock, synchronous I/O), caller holding i_mutex:
//   v4.6 ext4_ext_direct_IO() (store id 12191996963): a write that ends past i_size
//     goes to ext4_ind_direct_IO() (from memory): orphan handling in a handle,
//     dax_do_io(ext4_dio_get_block) — a new block beyond EOF cannot race with a
//     fault — then i_size_write(end) in a handle. Any other write maps its block
//     with ext4_dio_get_block_unwritten_sync() (an UNWRITTEN extent), copies with
//     dax_do_io(), and converts afterwards (ext4_convert_unwritten_extents()). A
//     fault converting and zeroing the extent between the copy and the conversion
//     destroys the data (12735f881952; races-and-design.md 1.7).
//   v4.7 ext4_direct_IO_write() (914f82a32d02 "ext4: Refactor direct IO code" and
//     12735f881952, both v4.7-rc1; the selection from memory): "We can avoid zeroing
//     for aligned DAX writes beyond EOF" — such a write uses ext4_dio_get_block; any
//     other uses ext4_dax_get_block() (pre-zeroed written blocks, unwritten ones
//     converted and zeroed BEFORE the copy); nothing is converted afterwards.
function* ext4DirectIOWrite(k: KernelState, inode: Inode, page: number, io: Io): Generator<void, number, void> {
  const sim = k.sim;
  const sb = sbOf(k);
  yield;
  const extending = page + 1 > inode.size; // final_size > inode->i_size
  // extending: ext4_orphan_add() and i_disksize in a handle (crash metadata is not modelled)
  const state = { dioUnwritten: false };
  let getBlock: GetBlock;
  if (extending) {
    getBlock = ext4DioGetBlock;
  } else if (k.flags.ext4_dax_io_prezero) {
    getBlock = (kk, ii, pp, create) => ext4DaxGetBlockV47(kk, ii, pp, create);
  } else {
    getBlock = ext4DioGetBlockUnwrittenSync(state);
  }
  let ret = yield* daxDoIo(k, inode, page, getBlock, true, io);
  if (!extending && ret > 0 && state.dioUnwritten) {
    // ext4_ext_direct_IO(): ret > 0 && !overwrite && ext4_test_inode_state(EXT4_STATE_DIO_UNWRITTEN)
    const err = yield* ext4ConvertUnwrittenExtents(k, inode, page);
    if (err < 0) ret = err;
  }
  if (extending && ret > 0) {
    sb.handle.acquire(sim);
    yield;
    if (page + 1 > inode.size) {
      inode.setSize(page + 1); // ei->i_disksize = end; i_size_write(inode, end)
      if (sim.rec) sim.log(`i_size_write(${inode.name}, ${page + 1})`);
    }
    sb.handle.release(sim);
  }
  return ret;
}

// ---------------------------------------------------------------------------
// mm/truncate.c and mm/filemap.c: the generic direct-I/O code

// mm/truncate.c invalidate_complete_page2(), v4.6–v4.12 (from memory): under tree_lock,
// a page that is not dirty leaves the page cache (hole pages are never dirty).
export function* invalidateCompletePage2(k: KernelState, mapping: AddressSpace, page: HolePage): Generator<void, boolean, void> {
  yield;
  if (page.mapping !== mapping) return false;
  yield* mapping.treeLock.lock(k.sim);
  deleteFromPageCacheLocked(k, mapping, page);
  mapping.treeLock.unlock(k.sim);
  if (k.sim.rec) k.sim.log(`invalidate_complete_page2(${page.label}): removed from ${mapping.file}'s page cache`);
  return true;
}

// mm/truncate.c invalidate_inode_pages2_range(), v4.6–v4.9 (the loop as in the v4.10 copy,
// store id 24211083, with the pre-c6dcf52c23d2 exceptional branch, from memory; notes A.7):
// a DAX entry is cleared by clear_exceptional_entry() — v4.6 deletes it if the slot still
// holds it, v4.7 waits for its entry lock and deletes it — whether it is dirty or not,
// and its PTEs stay; a page is locked, unmapped (the rest of the range on the first
// mapped page) and removed.
export function* invalidateInodePages2Range(k: KernelState, mapping: AddressSpace, start: number, end: number): Generator<void, number, void> {
  const sim = k.sim;
  let index = start;
  let ret = 0;
  let didRangeUnmap = false;
  while (index <= end) {
    const pvec = yield* lookupEntries(k, mapping, index, end + 1);
    if (pvec.length === 0) break;
    for (const [i, entry] of pvec) {
      index = i;
      if (i > end) break;
      if (entry.kind === 'dax') {
        if (sim.rec) sim.log(`invalidate_inode_pages2_range: clear_exceptional_entry(${mapping.file}:${i})`);
        yield* clearExceptionalEntry(k, mapping, i, entry);
        continue;
      }
      yield* lockPage(sim, entry);
      if (entry.mapping !== mapping) {
        unlockPage(sim, entry);
        continue;
      }
      // wait_on_page_writeback(): a hole page is never under writeback
      yield;
      if (entry.mapcount > 0) {
        if (!didRangeUnmap) {
          // "Zap the rest of the file in one hit."
          yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, i, end === Number.MAX_SAFE_INTEGER ? 0 : end - i + 1)); // (0: to the end)
          didRangeUnmap = true;
        } else {
          yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, i, 1));
        }
      }
      if (entry.mapcount > 0) sim.violate('kernel-warn', `BUG_ON(page_mapped(page)) in invalidate_inode_pages2_range(): ${entry.label} is still mapped`, 'invalidate_inode_pages2_range');
      // do_launder_page(): ext4 has no ->launder_page
      if (!(yield* invalidateCompletePage2(k, mapping, entry))) ret = -EBUSY;
      unlockPage(sim, entry);
    }
    index++;
  }
  return ret;
}

// mm/filemap.c generic_file_direct_write(), v4.6–v4.9 (from memory; the same shape as
// far back as the iovec version): flush the range (filemap_write_and_wait_range(): the
// DAX cache flush of its dirty entries), invalidate the page cache over it if the
// mapping has pages, ->direct_IO, invalidate again if it still has pages, and extend
// i_size if the write went past it. An invalidation failing with -EBUSY makes the write
// return 0 ("fall back to buffered write", which __generic_file_write_iter() skips for DAX).
// `directIO` is the filesystem's ->direct_IO write half (ext4's by default; ext2 passes ext2_direct_IO).
export function* genericFileDirectWrite(k: KernelState, inode: Inode, page: number, io: Io, directIO: (k: KernelState, inode: Inode, page: number, io: Io) => Generator<void, number, void> = ext4DirectIOWrite): Generator<void, number, void> {
  const sim = k.sim;
  const mapping = inode.mapping;
  let written = yield* filemapWriteAndWaitRange(k, mapping, { first: page, last: page });
  if (written) return written;
  yield;
  if (mapping.nrpages > 0) {
    written = yield* invalidateInodePages2Range(k, mapping, page, page);
    if (written) return written === -EBUSY ? 0 : written;
  }
  written = yield* directIO(k, inode, page, io);
  yield;
  if (mapping.nrpages > 0) yield* invalidateInodePages2Range(k, mapping, page, page);
  if (written > 0) {
    yield;
    if (page + written > inode.size) {
      inode.setSize(page + written);
      if (sim.rec) sim.log(`i_size_write(${inode.name}, ${page + written})`);
    }
  }
  return written;
}

// fs/ext4/file.c ext4_file_write_iter(), v4.6–v4.9 (from memory; the dioread_nolock
// overwrite test is left out: with it off `overwrite` stays 0): inode_lock (i_mutex in
// v4.6, i_rwsem in v4.7, 9902af79c01a) around generic_write_checks() and
// __generic_file_write_iter() -> generic_file_direct_write() (IOCB_DIRECT: a DAX file is
// always direct; no buffered fallback for DAX).
export function* ext4FileWriteIter(k: KernelState, inode: Inode, page: number, value: PageValue, ev: OpEvent, user?: UserCopy): Generator<void, RwResult, void> {
  const sim = k.sim;
  const io: Io = { ev, value, read: 0, record: null, user };
  yield* inode.iRwsem.downWrite(sim); // inode_lock()
  const ret = yield* genericFileDirectWrite(k, inode, page, io);
  inode.iRwsem.upWrite(sim);
  if (io.record !== null) io.record.end = sim.step;
  if (ret < 0) return errWord(ret);
  return ret > 0 ? 'ok' : 'short';
}

// mm/filemap.c generic_file_read_iter(), v4.6–v4.8 (ext4's ->read_iter until
// 364443cbcfe7, v4.9; from memory), IOCB_DIRECT branch: sample i_size, flush the range
// (filemap_write_and_wait_range()), then ->direct_IO: ext4_direct_IO() ->
// ext4_ext_direct_IO() -> ext4_ind_direct_IO() in v4.6, ext4_direct_IO_read() in v4.7
// (914f82a32d02) -> dax_do_io(ext4_dio_get_block, DIO_LOCKING), which takes inode_lock.
// A read of 0 bytes (at or past EOF) returns `EOF`.
export function* ext4FileReadIter(k: KernelState, inode: Inode, page: number, ev: OpEvent, user?: UserCopy): Generator<void, RwResult, void> {
  const io: Io = { ev, value: null, read: 0, record: null, user };
  // size = i_size_read(inode): generic_file_read_iter() only uses it to decide on a
  // buffered fallback after a short read, which it never does for DAX
  const err = yield* filemapWriteAndWaitRange(k, inode.mapping, { first: page, last: page });
  if (err) return errWord(err);
  const ret = yield* daxDoIo(k, inode, page, ext4DioGetBlock, true, io);
  if (ret < 0) {
    ev.readStep = 0; // no data returned (e.g. the copy to the user buffer faulted)
    return errWord(ret);
  }
  return ret === 0 ? 'EOF' : io.read;
}
