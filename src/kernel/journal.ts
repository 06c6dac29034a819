// ext4's jbd2 journal as far as crash durability of metadata goes: every
// metadata change (block allocation, unwritten conversion, block free, i_size)
// joins the one running transaction; a commit makes everything in it durable
// at once; a power failure keeps only what was committed (journal replay
// restores the committed state). ext4 records per inode the transaction of its
// last change that fdatasync must see (EXT4_I(inode)->i_datasync_tid, set by
// ext4_update_inode_fsync_trans()); ext4_sync_file() commits up to it
// (jbd2_complete_transaction()); MAP_SYNC write faults (v4.15) do the same
// before the PTE is installed, and ext4_iomap_begin() reports IOMAP_F_DIRTY
// while that transaction is not committed (ext4_inode_datasync_dirty()).
//
// Simplifications, each stated where it is made: jbd2's own commit thread and
// its 5-second timer are not modelled — nothing commits unless an fsync (or a
// synchronous fault) asks, so a crash loses every uncommitted change (the
// worst case; a real crash may find a later commit done); a commit does not
// wait for running handles (jbd2 does; in the model every handle's changes
// are complete within one step under i_data_sem); fsync and fdatasync commit
// the same transaction (i_sync_tid is not kept apart from i_datasync_tid).
//
// Sources: fs/ext4/inode.c ext4_iomap_begin() (v4.15–v5.4, context lines of
// id 20824462834: "iomap->flags = 0; if (ext4_inode_datasync_dirty(inode))
// iomap->flags |= IOMAP_F_DIRTY;"); ext4_inode_datasync_dirty()'s journal
// branch (!jbd2_transaction_committed(journal, EXT4_I(inode)->i_datasync_tid)),
// where ext4_update_inode_fsync_trans() is called, and ext4_sync_file()'s
// jbd2_complete_transaction(): from memory, not re-read.
import type { Extent, Inode, KernelState } from './state.js';

interface Committed {
  size: number;
  extents: Map<number, Extent>;
}

export class Journal {
  /** j_running_transaction->t_tid */
  tid = 2;
  /** j_commit_sequence: the last committed tid */
  committedTid = 1;
  /** EXT4_I(inode)->i_datasync_tid, by inode name */
  readonly datasyncTid = new Map<string, number>();
  /** the file system as journal replay would restore it: the state at the last commit */
  readonly committed = new Map<string, Committed>();
  /** the shared object standing for the journal's transaction state */
  readonly obj: number;
  constructor(k: KernelState) {
    this.obj = k.sim.obj();
    for (const inode of k.inodes.values()) {
      this.datasyncTid.set(inode.name, 1);
      this.committed.set(inode.name, snapshotPeek(inode));
    }
  }
}

function snapshotPeek(inode: Inode): Committed {
  const extents = new Map<number, Extent>();
  for (const p of inode.extents.peekKeys()) extents.set(p, inode.extents.peek(p)!);
  return { size: inode.peekSize(), extents };
}

const journals = new WeakMap<KernelState, Journal>();

/** The machine's journal; created with the machine, after the setup's files (which count as committed). */
export function journalOf(k: KernelState): Journal {
  let j = journals.get(k);
  if (j === undefined) journals.set(k, (j = new Journal(k)));
  return j;
}

// fs/ext4/ext4_jbd2.h ext4_update_inode_fsync_trans(handle, inode, datasync = 1) (from memory):
// the inode's metadata changed in the running transaction.
export function ext4UpdateInodeFsyncTrans(k: KernelState, inode: Inode): void {
  const j = journalOf(k);
  k.sim.touch(j.obj, true);
  j.datasyncTid.set(inode.name, j.tid);
}

// fs/ext4/inode.c ext4_inode_datasync_dirty(), v4.15–v4.19, with a journal (from memory):
// !jbd2_transaction_committed(journal, EXT4_I(inode)->i_datasync_tid)
export function ext4InodeDatasyncDirty(k: KernelState, inode: Inode): boolean {
  const j = journalOf(k);
  k.sim.touch(j.obj, false);
  return (j.datasyncTid.get(inode.name) ?? 0) > j.committedTid;
}

/** The running transaction (jbd2) or checkpoint (XFS CIL) reaches the log: every inode's extents and size as they are now become what a crash keeps. */
function checkpoint(k: KernelState): void {
  const j = journalOf(k);
  for (const other of k.inodes.values()) {
    const extents = new Map<number, Extent>();
    for (const p of other.extents.keys()) extents.set(p, other.extents.get(p)!);
    j.committed.set(other.name, { size: other.size, extents });
  }
  j.committedTid = j.tid;
  j.tid++;
}

// fs/jbd2/journal.c jbd2_complete_transaction(journal, EXT4_I(inode)->i_datasync_tid), as
// ext4_sync_file() calls it (from memory): if that transaction has not committed yet, commit
// the running transaction and wait for it. The commit makes the whole file system's metadata
// as it is now durable. Returns whether a commit ran.
export function* jbd2CompleteTransaction(k: KernelState, inode: Inode): Generator<void, boolean, void> {
  const sim = k.sim;
  const j = journalOf(k);
  yield;
  sim.touch(j.obj, true);
  const want = j.datasyncTid.get(inode.name) ?? 0;
  if (want <= j.committedTid) return false;
  // jbd2_journal_commit_transaction(): every inode's extents and size as they are now
  checkpoint(k);
  if (sim.rec) sim.log(`jbd2: transaction ${j.committedTid} committed (for ${inode.name})`);
  return true;
}

/**
 * `final: {crash: true}`: journal replay after the power failure leaves the
 * metadata of the last commit; uncommitted allocations, frees and size changes
 * are gone. Called after the run, outside any step. Returns the files whose
 * metadata changed.
 */
export function journalCrash(k: KernelState): string[] {
  const j = journals.get(k);
  if (j === undefined) return [];
  const changed: string[] = [];
  for (const inode of k.inodes.values()) {
    const c = j.committed.get(inode.name);
    if (c === undefined) continue;
    let diff = inode.peekSize() !== c.size;
    for (const p of inode.extents.peekKeys()) {
      if (c.extents.get(p) !== inode.extents.peek(p)) {
        diff = true;
        inode.extents.delete(p);
      }
    }
    for (const [p, e] of c.extents) {
      if (inode.extents.peek(p) !== e) {
        diff = true;
        inode.extents.set(p, e);
      }
    }
    if (inode.peekSize() !== c.size) inode.setSize(c.size);
    if (diff) changed.push(inode.name);
  }
  return changed;
}

// ---------------------------------------------------------------------------
// XFS's log, as far as crash durability and fsync see it. XFS commits each transaction
// into the in-memory CIL (xfs_trans_commit() -> xfs_log_commit_cil()); it reaches the log
// on disk when the CIL is pushed, which a log force (xfs_log_force_lsn()) makes happen and
// waits for. The model uses the same running/committed bookkeeping as jbd2 above, with the
// same simplification (nothing pushes the CIL in the background, so a crash loses every
// transaction no log force covered). The inode's last LSN and ili_fsync_fields are the
// datasync tid here: a transaction that logs the inode (xfs_trans_log_inode()) pins it in
// the running checkpoint; xfs_file_fsync() forces the log up to it. Sources: xfs_file_fsync()
// of v4.14 (store id 24203291321: "if (xfs_ipincount(ip)) { if (!datasync ||
// (ip->i_itemp->ili_fsync_fields & ~XFS_ILOG_TIMESTAMP)) lsn = ip->i_itemp->ili_last_lsn; }
// if (lsn) { error = _xfs_log_force_lsn(mp, lsn, XFS_LOG_SYNC, &log_flushed); ..."); the
// CIL mechanics from memory.

// fs/xfs/xfs_trans_inode.c xfs_trans_log_inode() + xfs_trans_commit(), v4.6–v4.19 (from memory):
// the inode's core (extents, di_size) is logged in the running checkpoint; it stays pinned
// (xfs_ipincount() > 0, ili_fsync_fields set) until that checkpoint is on disk.
export function xfsTransLogInode(k: KernelState, inode: Inode): void {
  ext4UpdateInodeFsyncTrans(k, inode);
}

// xfs_ipincount(ip) && (ip->i_itemp->ili_fsync_fields & ~XFS_ILOG_TIMESTAMP), v4.15–v4.19
// (xfs_file_iomap_begin()'s IOMAP_F_DIRTY test, store id 16436262826).
export function xfsInodePinnedDirty(k: KernelState, inode: Inode): boolean {
  return ext4InodeDatasyncDirty(k, inode);
}

// fs/xfs/xfs_log.c _xfs_log_force_lsn(mp, ip->i_itemp->ili_last_lsn, XFS_LOG_SYNC), as
// xfs_file_fsync() calls it under XFS_ILOCK_SHARED, v4.6–v4.19 (from memory): if the inode
// is pinned, push the CIL and wait for the checkpoint to be on disk; that makes the whole
// file system's logged metadata durable. Returns whether a log write happened.
export function* xfsLogForceLsn(k: KernelState, inode: Inode): Generator<void, boolean, void> {
  const sim = k.sim;
  const j = journalOf(k);
  yield;
  sim.touch(j.obj, true);
  const want = j.datasyncTid.get(inode.name) ?? 0;
  if (want <= j.committedTid) return false;
  checkpoint(k);
  if (sim.rec) sim.log(`xfs_log_force_lsn: checkpoint ${j.committedTid} on disk (for ${inode.name})`);
  return true;
}
