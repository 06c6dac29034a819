// read(2) and write(2) on an ext4 DAX file from v4.10: ext4_file_read_iter() /
// ext4_file_write_iter() hand a DAX inode to ext4_dax_read_iter() /
// ext4_dax_write_iter() (364443cbcfe7, 776722e85d3b, both in the v4.10 merge
// window: the mmotm "since-4.9" shortlog, store id 2794888720, lists them with
// e2ae766c1b03 and "ext4: rip out DAX handling from direct IO path"), which call
// fs/dax.c dax_iomap_rw() with ext4_iomap_ops. Sources:
// notes/kernel-rw-writeback.md §A.4 (4.19 ext4_dax_{read,write}_iter, id
// 48065734641), §A.6–A.8 (dax_iomap_actor()/dax_iomap_rw() in v4.10, id
// 24765410162, and v4.12, id 1521764; invalidate_inode_pages2_range() v4.10,
// id 24211083; the cd656375f946 posting, id 38189440582), and
// notes/kernel-rw-writeback-v4.9plus.md for what was re-read here.
//
// Granularity: an op reads or writes whole pages, `pages` of them from `page`
// (a write stores the same value in each). One page is one block, and
// ext4_iomap_begin() is called per page (the real one maps as long an extent as
// it can; the per-block order of allocation, invalidation and copy is the same).
//
// Not modelled: O_SYNC/O_DSYNC (generic_write_sync()), IOCB_NOWAIT, short copies
// (-EFAULT), fatal signals (-EINTR), the orphan list of an extending write (a
// crash keeps every extent and i_size in this model), ENOSPC retries, user
// buffers that are themselves DAX mappings.
import type { PageValue } from '../scenario/types.js';
import type { OpEvent } from './kernel.js';
import { EBUSY, EFAULT, errName, errWord, lockPage, unlockPage, type AddressSpace } from './mapping.js';
import { unmapMappingRange } from './pagetable.js';
import type { Inode, KernelState, WriteRecord } from './state.js';
import { lookupEntries } from './truncate.js';
import { IOMAP_WRITE, daxInvalidateMappingEntrySync, iomapName, type Iomap, type IomapOps } from './dax-iomap.js';
import { ext4IomapOps } from './fs/ext4.js';
import { invalidateCompletePage2, invalidateInodePages2Range, type RwResult, type UserCopy } from './rw.js';
import { LOOKUP, ext4MapBlocks } from './blockmap.js';
import { bdevDirectAccess } from './media.js';

/** One read or write: its pages, what it writes, what it read, the checkers' write records. */
export interface IomapIo {
  ev: OpEvent;
  /** the value a write stores in each page; null for a read */
  value: PageValue | null;
  /** a user buffer that is a page of a mapping (the op's from:/into:) */
  user?: UserCopy;
  /** the value read from the first page */
  read: PageValue;
  /** every page read, in order (a read of several pages reports them all) */
  pagesRead: { page: number; value: PageValue; readStep: number }[];
  /** pages copied so far */
  done: number;
  records: WriteRecord[];
}

// ---------------------------------------------------------------------------
// mm/truncate.c

// mm/truncate.c invalidate_inode_pages2_range(), v4.10–v4.19 (v4.10/v4.11 text, store
// id 24211083): a DAX entry goes through invalidate_exceptional_entry2() ->
// dax_invalidate_mapping_entry_sync() (c6dcf52c23d2, v4.10): deleted only if clean,
// else -EBUSY; a hole page is locked, unmapped (the rest of the range on the first
// mapped one) and dropped. DAX PTEs are not unmapped in v4.10/v4.11; with
// dax_invalidate_unmaps (cd656375f946, v4.12) the range is unmapped after the loop
// for a DAX mapping ("we have no cheap way to find whether radix tree entry didn't
// get remapped later").
export function* invalidateInodePages2RangeV410(k: KernelState, mapping: AddressSpace, start: number, end: number): Generator<void, number, void> {
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
        if (!(yield* daxInvalidateMappingEntrySync(k, mapping, i))) ret = -EBUSY;
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
          yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, i, end - i + 1));
          didRangeUnmap = true;
        } else {
          yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, i, 1));
        }
      }
      if (entry.mapcount > 0) sim.violate('kernel-warn', `BUG_ON(page_mapped(page)) in invalidate_inode_pages2_range(): ${entry.label} is still mapped`, 'invalidate_inode_pages2_range');
      if (!(yield* invalidateCompletePage2(k, mapping, entry))) ret = -EBUSY;
      unlockPage(sim, entry);
    }
    index++;
  }
  if (k.flags.dax_invalidate_unmaps) {
    // cd656375f946: "For DAX we invalidate page tables after invalidating radix tree."
    yield* k.sim.fn('unmap_mapping_range', unmapMappingRange(k, mapping, start, end - start + 1));
  }
  return ret;
}

// ---------------------------------------------------------------------------
// fs/dax.c

// fs/dax.c dax_iomap_actor(), v4.10–v4.12 (ids 24765410162, 1521764), for one page:
//   - a read is clamped to i_size; at or past it, 0; a hole or unwritten extent reads
//     as zeros (iov_iter_zero());
//   - anything else than IOMAP_MAPPED: WARN_ON_ONCE, -EIO;
//   - a new extent (IOMAP_F_NEW) "can allocate block for an area which has a hole page
//     mapped into page tables": invalidate_inode_pages2_range() over it, in v4.10
//     (e3fce68cdbed) only if the mapping has page-cache pages, from v4.12
//     (cd656375f946) always;
//   - the copy: copy_from_iter_pmem() for a write (non-temporal stores: no dirty cache
//     line, the data is on the media; nothing tags the entry DIRTY), copy_to_iter() for
//     a read (cached loads: a dirty line of a store through a mapping is seen).
// (v4.8/v4.9's whole-range invalidation before the loop is in daxIomapRw(): only XFS
// calls dax_iomap_rw() before v4.10 here.)
function* daxIomapActor(k: KernelState, inode: Inode, page: number, iomap: Iomap, io: IomapIo): Generator<void, number, void> {
  const sim = k.sim;
  const at = `${inode.name}:${page}`;
  const write = io.value !== null;
  if (!write) {
    yield;
    const size = inode.size; // end = min(end, i_size_read(inode))
    if (page >= size) {
      if (sim.rec) sim.log(`dax_iomap_actor(${at}): at or past i_size ${size}`);
      return 0;
    }
    if (iomap.type === 'hole' || iomap.type === 'unwritten') {
      if (io.done === 0) {
        io.read = 0;
        io.ev.readStep = sim.step;
      }
      io.pagesRead.push({ page, value: 0, readStep: sim.step });
      if (sim.rec) sim.log(`iov_iter_zero(${at}): ${iomap.type === 'unwritten' ? 'unwritten extent' : 'hole'} reads as zeros`);
      if (io.user !== undefined && !(yield* io.user.toUser(0))) {
        io.pagesRead.pop();
        return -EFAULT;
      }
      return 1;
    }
  }
  if (iomap.type !== 'mapped') {
    sim.violate('kernel-warn', `WARN_ON_ONCE(iomap->type != IOMAP_MAPPED) in dax_iomap_actor(): ${at} is ${iomap.type}`, 'dax_iomap_actor');
    return -5; // -EIO
  }
  // e3fce68cdbed (v4.10) moved the invalidation here from dax_iomap_rw()
  if (iomap.isNew && k.flags.dax_rw_invalidate_new_extents) {
    yield; // inode->i_mapping->nrpages (read locklessly)
    if (k.flags.dax_invalidate_unmaps || inode.mapping.nrpages > 0) {
      yield* k.sim.fn('invalidate_inode_pages2_range', invalidateInodePages2RangeV410(k, inode.mapping, page, page));
    }
  }
  yield;
  // dax_map_atomic() (v4.10–v4.11) / dax_direct_access() (v4.12+): -EIO for a known bad
  // block, -EINVAL off a page boundary; "if (map_len < 0) { ret = map_len; break; }"
  const err = bdevDirectAccess(k, iomap.block!, 'dax_iomap_actor');
  if (err) return err;
  const b = k.pmem.block(iomap.block!);
  if (write) {
    if (io.user !== undefined) {
      // copy_from_iter_pmem() reads the user buffer: a load of the mapping, faulting it in
      // (i_rwsem held; v4.12+ also inside dax_read_lock(), an SRCU read section)
      const v = yield* io.user.fromUser();
      if (v === null) return -EFAULT; // "map_len <= 0: ret = map_len ? map_len : -EFAULT"
      io.value = v;
    }
    b.content = io.value!; // copy_from_iter_pmem(): non-temporal stores
    const rec: WriteRecord = { value: io.value!, start: io.ev.startStep, end: null };
    io.records.push(rec);
    k.writeLog(inode.name, page).push(rec);
    if (sim.rec) sim.log(`copy_from_iter_pmem(${at} -> blk ${b.nr}) = ${String(io.value)}`);
  } else {
    const v = b.content; // copy_to_iter()
    if (io.done === 0) {
      io.read = v;
      io.ev.readStep = sim.step;
    }
    io.pagesRead.push({ page, value: v, readStep: sim.step });
    if (sim.rec) sim.log(`copy_to_iter(${at} <- blk ${b.nr}) = ${String(v)}`);
    if (io.user !== undefined && !(yield* io.user.toUser(v))) {
      io.pagesRead.pop(); // the copy_to_user() half failed: this page was not returned
      return -EFAULT;
    }
  }
  return 1;
}

// fs/iomap.c iomap_apply(), v4.8–v4.19 (from memory): ->iomap_begin(), the actor on the
// extent, ->iomap_end() with the bytes it did; `written ? written : ret`.
function* iomapApply(k: KernelState, inode: Inode, page: number, flags: number, ops: IomapOps, io: IomapIo): Generator<void, number, void> {
  const sim = k.sim;
  const iomap = yield* ops.iomapBegin(k, inode, page, flags);
  if (sim.rec) sim.log(`->iomap_begin(${inode.name}:${page}${flags & IOMAP_WRITE ? ', IOMAP_WRITE' : ''}) -> ${typeof iomap === 'number' ? errName(iomap) : iomapName(iomap)}`);
  if (typeof iomap === 'number') return iomap;
  const written = yield* daxIomapActor(k, inode, page, iomap, io);
  const ret = yield* ops.iomapEnd(k, inode, page, written > 0 ? written : 0, flags, iomap);
  return written ? written : ret;
}

// fs/dax.c dax_iomap_rw(), v4.9–v4.19 (ids 706997388, 24765410162, 1521764, 3323916569): iomap_apply()
// extent by extent until the iterator is empty or an extent did nothing; the pages done,
// or the error. (v4.12+ lockdep_assert_held{,_exclusive}(&inode->i_rwsem): assertions only.)
// v4.9 (before e3fce68cdbed, flag dax_rw_invalidate_new_extents; v4.8 text VERBATIM in notes
// A.5, id 48298668521, the same statements in the v4.9 copy 706997388): "if (mapping->nrpages)
// { ret = invalidate_inode_pages2_range(mapping, pos >> PAGE_SHIFT, (pos +
// iov_iter_count(iter) - 1) >> PAGE_SHIFT); WARN_ON_ONCE(ret); }" before any block lookup,
// for reads and writes, with the v4.9 invalidation (DAX entries deleted, dirty or not).
export function* daxIomapRw(k: KernelState, inode: Inode, page: number, count: number, ops: IomapOps, io: IomapIo): Generator<void, number, void> {
  const flags = io.value !== null ? IOMAP_WRITE : 0;
  let ret = 0;
  if (!k.flags.dax_rw_invalidate_new_extents) {
    yield; // mapping->nrpages
    if (inode.mapping.nrpages > 0) {
      ret = yield* k.sim.fn('invalidate_inode_pages2_range', invalidateInodePages2Range(k, inode.mapping, page, page + count - 1));
      if (ret) k.sim.violate('kernel-warn', `WARN_ON_ONCE(ret) in dax_iomap_rw(): invalidate_inode_pages2_range(${inode.name}:${page}) -> ${ret}`, 'dax_iomap_rw-invalidate');
      ret = 0;
    }
  }
  for (let p = page; p < page + count; p++) {
    ret = yield* iomapApply(k, inode, p, flags, ops, io);
    if (ret <= 0) break;
    io.done += ret;
  }
  return io.done ? io.done : ret;
}

// ---------------------------------------------------------------------------
// fs/ext4/file.c

// fs/ext4/file.c ext4_overwrite_io(), v4.10 ("ext4: factor out checks from
// ext4_file_write_iter()", same series; from memory): inside i_size, and every block of
// the range mapped by a written extent (ext4_map_blocks() lookup: EXT4_MAP_MAPPED).
function* ext4OverwriteIo(k: KernelState, inode: Inode, page: number, count: number): Generator<void, boolean, void> {
  yield;
  if (page + count > inode.size) return false;
  for (let p = page; p < page + count; p++) {
    const r = yield* ext4MapBlocks(k, inode, p, LOOKUP);
    if (typeof r === 'number' || r.extent === null || r.extent.unwritten) return false;
  }
  return true;
}

// fs/ext4/file.c ext4_dax_write_iter(), v4.10–v4.19 (4.19 text id 48065734641; the v4.10
// overwrite branch from memory, see notes/kernel-rw-writeback-v4.9plus.md): inode_lock();
// ext4_write_checks(), file_remove_privs(), file_update_time() (no effect here);
//   v4.10 (776722e85d3b): an overwrite of written blocks inside i_size
//     (ext4_overwrite_io()) downgrade_write()s i_rwsem and runs dax_iomap_rw() with it
//     held shared, so overlapping overwrites, and reads, run at the same time;
//   v4.11 (ff5462e39ca1 "ext4: fix DAX write locking"): i_rwsem stays exclusive.
// Then dax_iomap_rw(ext4_iomap_ops); unlock; generic_write_sync() (no O_SYNC here).
export function* ext4DaxWriteIter(k: KernelState, inode: Inode, page: number, count: number, value: PageValue, ev: OpEvent, user?: UserCopy): Generator<void, RwResult, void> {
  const sim = k.sim;
  const io: IomapIo = { ev, value, user, read: 0, pagesRead: [], done: 0, records: [] };
  yield* inode.iRwsem.downWrite(sim); // inode_lock()
  let shared = false;
  if (!k.flags.ext4_dax_write_excl && (yield* ext4OverwriteIo(k, inode, page, count))) {
    shared = true;
    inode.iRwsem.downgradeWrite(sim); // downgrade_write(&inode->i_rwsem)
  }
  const ret = yield* k.sim.fn('dax_iomap_rw', daxIomapRw(k, inode, page, count, ext4IomapOps, io));
  if (shared) inode.iRwsem.upRead(sim); // inode_unlock_shared()
  else inode.iRwsem.upWrite(sim); // inode_unlock()
  for (const r of io.records) r.end = sim.step;
  if (ret < 0) return errWord(ret);
  return ret === count ? 'ok' : 'short';
}

// fs/ext4/file.c ext4_dax_read_iter(), v4.10–v4.19 (4.19 text id 48065734641; the IS_DAX
// recheck and IOCB_NOWAIT are later): inode_lock_shared() around dax_iomap_rw(). Returns
// the page's value (several pages: their values joined by spaces, as far as it got),
// `EOF` when nothing was read, or an errno word.
export function* ext4DaxReadIter(k: KernelState, inode: Inode, page: number, count: number, ev: OpEvent, user?: UserCopy): Generator<void, RwResult, void> {
  const sim = k.sim;
  const io: IomapIo = { ev, value: null, user, read: 0, pagesRead: [], done: 0, records: [] };
  yield* inode.iRwsem.downRead(sim); // inode_lock_shared()
  const ret = yield* k.sim.fn('dax_iomap_rw', daxIomapRw(k, inode, page, count, ext4IomapOps, io));
  inode.iRwsem.upRead(sim);
  if (ret < 0) {
    ev.readStep = 0; // no data returned
    return errWord(ret);
  }
  if (ret === 0) return 'EOF';
  if (count === 1) return io.read;
  ev.pagesRead = io.pagesRead;
  return io.pagesRead.map((p) => String(p.value)).join(' ');
}
