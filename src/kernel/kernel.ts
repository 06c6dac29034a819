// A scenario's machine and its threads: builds the kernel state from `setup:`,
// and runs each thread's ops as system calls and CPU accesses would reach the
// kernel. Results go out as events; the invariant checkers (src/check) judge them.
import type { Sim, SimThread } from '../sim/engine.js';
import type { FsName, Op, OpKind, PageValue, Scenario, UserBuf } from '../scenario/types.js';
import { diag, type Diagnostic } from '../scenario/diagnostic.js';
import { VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV, userFault, type FsOps } from './fault.js';
import { vmMunmap } from './mmap.js';
import { privateLogKey } from './cow.js';
import { ext4Fallocate, ext4Ops, ext4PunchHole, ext4SetattrSize } from './fs/ext4.js';
import { ext2DaxReadIter, ext2DaxWriteIter, ext2GenericFileReadIter, ext2GenericFileWriteIter, ext2Init, ext2Ops, ext2Setsize } from './fs/ext2.js';
import { xfsFileDaxRead, xfsFileDaxWrite, xfsFileFallocatePunch, xfsFileRead, xfsFileWriteIter, xfsInit, xfsOps, xfsSetattrSize } from './fs/xfs.js';
import { memoryFailure } from './media.js';
import { errWord } from './mapping.js';
import { HPAGE_PMD_NR, PMD_ORDER, PmdLevel, Vma, pmdOf } from './pagetable.js';
import { dmaWrite, pinState, pinUserPage, unpinUserPage } from './gup.js';
import { tlbState } from './tlb.js';
import { journalOf } from './journal.js';
import { Inode, KernelState, type KernelHooks } from './state.js';
import { ext4FileReadIter, ext4FileWriteIter, type UserCopy } from './rw.js';
import { ext4DaxReadIter, ext4DaxWriteIter } from './rw-iomap.js';
import { RANGE_END, sysMsync, vfsFsyncRange } from './writeback.js';
import type { Flags } from './versions.js';

/** What an op returned: a word (`ok`, `SIGBUS`, `OOM`, `SIGSEGV`) or a page value. */
export type OpResult = string | number;

export interface OpEvent {
  thread: SimThread;
  opIndex: number;
  op: Op;
  result: OpResult;
  startStep: number;
  endStep: number;
  /** the file page an access or fault touched (null for whole-file ops) */
  file: string | null;
  page: number;
  /** index into the file's sizeHistory at the op's start */
  sizeIndexAtStart: number;
  /** for load/read: the step at which the value was read */
  readStep: number;
  /** the op met a media error (direct_access() -EIO, a machine check): a SIGBUS/EIO is then the kernel's promise kept */
  mediaError?: boolean;
  /** for a load of a private mapping's anonymous page: the write log it is checked against (else the file's) */
  logKey?: string;
  /** for a read of several pages: each page's value and the step it was read at */
  pagesRead?: { page: number; value: PageValue; readStep: number }[];
}

export type { KernelHooks };

/** Ops and setup features the model implements, per kernel; anything else is refused up front. */
export function unsupported(scn: Scenario, flags: Flags, profile: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  // read/write (rw.ts to v4.9, rw-iomap.ts from v4.10), fsync/msync and the crash model
  // (writeback.ts, pmem.ts, journal.ts) on ext4 and XFS, every profile
  // XFS (fs/xfs.ts) is modelled for every profile: v4.6-v4.8 read/write through dax_do_io(),
  // from v4.9 xfs_file_dax_read()/_write() with dax_iomap_rw(); v4.14 pfn_mkwrite as a full DAX
  // fault, v4.15 MAP_SYNC and __xfs_filemap_fault() for pfn_mkwrite, v4.18 xfs_break_dax_layouts()
  const xfs = scn.fs === 'xfs';
  const kinds: OpKind[] = ['fault', 'load', 'store', 'truncate', 'punch', 'munmap', 'pin', 'dma', 'unpin', 'poison', 'clear', 'read', 'write', 'fsync', 'msync', ...(!xfs ? (['fallocate'] as const) : [])];
  const ok: ReadonlySet<OpKind> = new Set<OpKind>(kinds);
  const say = (pos: { line: number; col: number }, what: string) =>
    out.push(diag(scn.file, pos, `${what} is not modelled yet under ${profile} (supported: ${kinds.join(', ')} on shared and private mappings of ${xfs ? 'xfs' : 'ext4'} files, final.crash)`));
  // ext2 (fs/ext2.ts) is modelled for every profile: get_block era to v4.8, iomap from v4.9,
  // ->pfn_mkwrite = ext2_dax_fault() from v4.14; read/write/fsync/msync and final.crash (the
  // inode reaches the media only through fsync/msync: no journal, no background writeback)
  const ext2 = scn.fs === 'ext2';
  if (scn.fs !== 'ext4' && !ext2 && !xfs) say(scn.fsPos ?? scn.pos, `fs: ${scn.fs}`);
  if (ext2) {
    // ext2 has no unwritten extents at all: a setup with them describes no ext2 file
    for (const f of scn.files) if (f.unwritten.length) out.push(diag(scn.file, f.pos, `unwritten extents on ext2 (${f.name}): ext2 has no unwritten extents`));
    // a write(2) whose copy from a mapping faults would end in ext2_write_failed(), not modelled
    for (const t of scn.threads) for (const op of t.ops) if (op.kind === 'write' && op.from !== undefined) say(op.pos, 'a write with a mapping as the user buffer on ext2');
  }
  if (xfs) {
    // read/write on XFS before v4.9 go through dax_do_io() (rw.ts), one page at a time; from
    // v4.9 xfs_file_dax_read()/_write() with dax_iomap_rw() (rw-iomap.ts)
    for (const t of scn.threads) {
      if (flags.xfs_dax_iomap_rw) break;
      for (const op of t.ops) {
        if ((op.kind === 'read' || op.kind === 'write') && op.pages > 1) say(op.pos, `a ${op.kind} of several pages on xfs`);
      }
    }
    // v4.7+: bdev_dax_supported() fails and XFS mounts without DAX ("Turning off DAX"), which is not modelled
    if ((scn.partitionOffset ?? 0) % 4096 !== 0 && flags.bdev_dax_supported_mount_check) {
      say(scn.partitionOffsetPos ?? scn.pos, 'an xfs mount on an unaligned partition (XFS turns DAX off: "DAX unsupported by block device. Turning off DAX.")');
    }
  }
  const privateMaps = new Set<string>();
  for (const m of scn.maps) {
    if (m.private) privateMaps.add(m.name);
    // XFS: xfs_filemap_fault() sends every DAX write fault, a COW fault of a private mapping too,
    // to xfs_filemap_page_mkwrite() (__xfs_filemap_fault(write) from v4.14), and the DAX fault makes
    // the copy (fs/xfs.ts); COW on a huge XFS file (the PMD fallback) is not modelled
    if (m.private && xfs && scn.files.find((f) => f.name === m.file)?.huge) say(m.pos, `a private mapping of a huge xfs file (${m.name})`);
    // MAP_SYNC is v4.15 (b6fb293f2497): before it, mmap(MAP_SHARED_VALIDATE | MAP_SYNC) fails with
    // EINVAL (MAP_SHARED_VALIDATE is an unknown map type); modelled for ext4 (its synchronous faults)
    // and XFS (xfs_map_sync, the same series)
    if (m.sync && (m.private || !(flags.dax_map_sync && (scn.fs === 'ext4' || (scn.fs === 'xfs' && flags.xfs_map_sync))))) {
      say(m.pos, `a MAP_SYNC mapping (${m.name}; MAP_SYNC is v4.15, b6fb293f2497: mmap(MAP_SHARED_VALIDATE | MAP_SYNC) fails with EINVAL before it; modelled for ext4 and xfs)`);
    }
  }
  // the COW copy (copy_user_dax(), cow_user_page()) from a block with a media error is not modelled
  const media = scn.badblocks.length > 0 || scn.threads.some((t) => t.ops.some((op) => op.kind === 'poison' || op.kind === 'clear'));
  if (media) for (const m of scn.maps) if (m.private) say(m.pos, `a private mapping (${m.name}) with media errors`);
  // huge files (2 MiB-aligned extents, a PMD level in their VMAs: huge.ts) are modelled on ext4 and XFS
  for (const f of scn.files) {
    if (!f.huge) continue;
    // XFS: PMD read faults from v4.7 (v4.6's get_block PMD fault and XFS's 2 MiB allocations are not modelled)
    if (scn.fs === 'xfs' && !flags.dax_entry_lock) say(f.pos, `huge: true on xfs under ${profile} (${f.name})`);
    else if (scn.fs !== 'ext4' && scn.fs !== 'xfs') say(f.pos, `huge: true on ${scn.fs} (${f.name})`);
    if (f.unwritten.length) say(f.pos, `unwritten extents in a huge file (${f.name})`);
    // v4.15+ MAP_SYNC of a huge file: the synchronous PMD fault (huge.ts daxFinishSyncFaultPmd()) is modelled on ext4 and XFS
  }
  for (const b of scn.badblocks) {
    const f = scn.files.find((x) => x.name === b.file);
    if (f !== undefined && !f.written.has(b.page) && !f.unwritten.includes(b.page)) {
      out.push(diag(scn.file, b.pos, `setup.badblocks: ${b.file}:${b.page} is a hole; a bad block must back a written or unwritten page`));
    }
  }
  // final.crash: the crash model (lost cache lines, journal replay of committed metadata) holds for
  // every ext4 profile; only the fsync/msync ops are limited to the kernels whose writeback is modelled
  for (const t of scn.threads) {
    for (const op of t.ops) {
      if (!ok.has(op.kind)) say(op.pos, `the ${op.kind} op`);
      // get_user_pages() of a private mapping (FOLL_WRITE breaks COW, anon pages) is not modelled
      if (op.kind === 'pin' && privateMaps.has(op.map)) say(op.pos, `a pin of the private mapping ${op.map}`);
      // rw.ts (dax_do_io(), to v4.9) models one-page I/O; dax_iomap_rw() (v4.10+) any length
      // (XFS: dax_iomap_rw() from v4.9, refused above before it; ext2: from v4.9, ext2_dax_iomap)
      if ((op.kind === 'read' || op.kind === 'write') && op.pages > 1 && !(scn.fs === 'ext2' ? flags.ext2_dax_iomap : flags.ext4_dax_iomap_rw) && !xfs) say(op.pos, `a ${op.kind} of more than one page`);
      // PMD faults: ext4 and XFS huge files (huge.ts). On a file that is not huge the VMA has no PMD level
      // and a huge fault is a PTE fault (the PMD fault would fall back: the 2 MiB range passes i_size).
      // XFS PMD write faults: xfs_file_iomap_begin() allocates the 2 MiB hole (fs/xfs.ts) from v4.9
      // fsync/msync on huge files: writeback.ts flushes 2 MiB entries and, from v4.10 (f729c8c9b24f), write-protects
      // DAX PMDs; poison/clear: a PMD fault over a known bad block falls back (huge.ts), a PMD load of one is a machine check;
      // pins: follow_devmap_pmd() and gup-fast's __gup_device_huge_pmd() (gup.ts); dma and unpin follow
      if (op.kind === 'pin' && op.fast) {
        // FOLL_LONGTERM in gup-fast is v5.2 (races-and-design.md 1.36); v4.x has no such call
        if (op.longterm) say(op.pos, 'a long-term pin through get_user_pages_fast() (pin with fast and longterm; FOLL_LONGTERM in gup-fast is v5.2)');
      }
    }
  }
  return out;
}

function fsOpsFor(fs: FsName): FsOps {
  if (fs === 'ext2') return ext2Ops;
  if (fs === 'xfs') return xfsOps;
  if (fs === 'ext4') return ext4Ops;
  throw new Error(`model: no ${fs}`);
}

export class Kernel {
  readonly k: KernelState;
  private readonly fs: FsOps;
  private readonly fsName: FsName;

  /** Builds the machine of `setup:`; `hooks(k)` gives the checkers, which need the state. */
  constructor(sim: Sim, scn: Scenario, flags: Flags, hooks: (k: KernelState) => KernelHooks) {
    const pages = scn.files.reduce((n, f) => n + f.pages, 0);
    // huge files get their extents in 512-block aligned runs: room for one more run of slack
    const hugePages = scn.files.reduce((n, f) => (f.huge ? n + f.pages : n), 0);
    this.k = new KernelState(sim, flags, scn.fs, Math.min(pages * 2 + 8 + (hugePages ? hugePages + HPAGE_PMD_NR * 2 : 0), 1 << 20));
    this.fs = fsOpsFor(scn.fs);
    this.fsName = scn.fs;
    scn.files.forEach((f, serial) => {
      const inode = new Inode(sim, f.name, f.pages, serial);
      this.k.inodes.set(f.name, inode);
      const pagesWithBlocks = [...new Set([...f.written.keys(), ...f.unwritten])].sort((a, b) => a - b);
      if (f.huge) {
        // A huge file's written pages come in whole 2 MiB extents at 2 MiB-aligned blocks, zero
        // but for the pages written, as a PMD write fault (generic/437's first step) or any
        // 2 MiB write on a filesystem made with a 2 MiB stripe leaves them.
        for (const pmd of [...new Set(pagesWithBlocks.map((p) => p >> PMD_ORDER))]) {
          const head = pmd << PMD_ORDER;
          const pmem = this.k.pmem;
          let start = -1;
          for (let i = 0; i + HPAGE_PMD_NR <= pmem.count && start < 0; i += HPAGE_PMD_NR) {
            let free = true;
            for (let j = 0; j < HPAGE_PMD_NR && free; j++) free = pmem.peekOwner(i + j) === null;
            if (free) start = i;
          }
          if (start < 0) throw new Error('model: no 2 MiB-aligned free run for a huge file');
          for (let i = 0; i < HPAGE_PMD_NR && head + i < f.pages; i++) {
            const b = this.k.pmem.block(start + i);
            b.owner = { file: f.name, page: head + i };
            b.content = f.written.get(head + i) ?? 0;
            inode.extents.set(head + i, { block: b.nr, unwritten: false });
            this.k.writeLog(f.name, head + i).push({ value: b.peekContent(), start: 0, end: 0 });
          }
        }
        return;
      }
      for (const page of pagesWithBlocks) {
        let nr = 0;
        while (this.k.pmem.peekOwner(nr) !== null) nr++;
        const b = this.k.pmem.block(nr);
        b.owner = { file: f.name, page };
        const unwritten = f.unwritten.includes(page) && !f.written.has(page);
        if (!unwritten) b.content = f.written.get(page)!;
        inode.extents.set(page, { block: b.nr, unwritten });
        if (!unwritten) this.k.writeLog(f.name, page).push({ value: b.peekContent(), start: 0, end: 0 });
      }
    });
    for (const m of scn.maps) {
      const inode = this.k.inode(m.file);
      const vma = new Vma(sim, m.name, inode.mapping, !m.private);
      vma.vmSync = m.sync; // MAP_SHARED_VALIDATE | MAP_SYNC (v4.15; refused before in unsupported())
      vma.vmWrite = !m.readonly; // PROT_READ only
      const fileSetup = scn.files.find((f) => f.name === m.file)!;
      if (fileSetup.huge) vma.pmd = new PmdLevel(sim, m.name, fileSetup.pages);
      this.k.vmas.set(m.name, vma);
      inode.mapping.iMmap.push(vma);
    }
    if (scn.fs === 'ext2') ext2Init(this.k);
    if (scn.fs === 'xfs') xfsInit(this.k);
    // media errors: setup.badblocks are known bad blocks from the start
    this.k.media = scn.badblocks.length > 0 || scn.threads.some((t) => t.ops.some((op) => op.kind === 'poison' || op.kind === 'clear'));
    for (const bb of scn.badblocks) {
      const ext = this.k.inode(bb.file).extents.peek(bb.page);
      if (ext !== undefined) this.k.pmem.block(ext.block).bad = true;
    }
    // setup.partition_offset: bdev_direct_access() checks the absolute sector's page alignment;
    // from v4.7 mount -o dax checks it first (bdev_dax_supported(): ext2/ext4 refuse the mount)
    this.k.partitionMisaligned = (scn.partitionOffset ?? 0) % 4096 !== 0;
    if (this.k.partitionMisaligned && flags.bdev_dax_supported_mount_check) this.k.mountError = -22; // -EINVAL
    // pin names get their shared-object keys in the order the scenario writes them
    tlbState(this.k).hypercall = scn.tlbFlush === 'hypercall'; // its object id is allocated with the machine's; setup.tlb_flush
    journalOf(this.k); // the setup's files count as committed
    const pins = pinState(this.k);
    for (const t of scn.threads) for (const op of t.ops) if (op.kind === 'pin') pins.key(op.as);
    this.k.hooks = hooks(this.k);
  }

  /** The body of a scenario thread: its ops in order. */
  *thread(t: SimThread, ops: readonly Op[]): Generator<void, void, void> {
    const sim = this.k.sim;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      t.opIndex = i;
      yield;
      if (sim.rec) sim.log(describeOp(op), 'op');
      const startStep = sim.step;
      const target = this.target(op);
      // The checkers compare an op with what happened to its file during it: its start and
      // end are accesses of the file's i_size and op history (so reordering keeps them).
      const inode = target.file ? this.k.inode(target.file) : null;
      if (inode) this.touchFile(inode, op.kind);
      const sizeIndexAtStart = inode ? inode.sizeHistory.length - 1 : 0;
      const ev: OpEvent = { thread: t, opIndex: i, op, result: 'ok', startStep, endStep: 0, file: target.file, page: target.page, sizeIndexAtStart, readStep: 0 };
      this.k.running.set(t.id, ev);
      ev.result = yield* this.exec(op, ev);
      this.k.running.delete(t.id);
      if (inode) this.touchFile(inode, op.kind);
      ev.endStep = sim.step;
      if (sim.rec) sim.log(`${op.kind} -> ${typeof ev.result === 'string' ? ev.result : String(ev.result)}`, 'result');
      this.k.hooks.opDone(ev);
    }
    t.opIndex = -1;
  }

  private touchFile(inode: Inode, kind?: string): void {
    this.k.sim.touch(inode.sizeObj, false);
    if (kind !== 'fault') this.k.sim.touch(inode.histObj, true);
  }

  private target(op: Op): { file: string | null; page: number } {
    switch (op.kind) {
      case 'fault':
      case 'load':
      case 'store':
      case 'pin':
        return { file: this.k.vmas.get(op.map)!.mapping.file, page: op.page };
      case 'truncate':
        return { file: op.file, page: op.pages };
      case 'punch':
      case 'read':
      case 'write':
      case 'fallocate':
        return { file: op.file, page: op.page };
      case 'fsync':
        return { file: op.file, page: 0 };
      case 'msync':
        return { file: this.k.vmas.get(op.map)!.mapping.file, page: 0 };
      default:
        return { file: null, page: 0 };
    }
  }

  private *exec(op: Op, ev: OpEvent): Generator<void, OpResult, void> {
    const k = this.k;
    if (k.mountError) {
      // nothing is mounted: mount -o dax failed in bdev_dax_supported() (v4.7+)
      if (k.sim.rec) k.sim.log('mount -o dax failed: bdev_dax_supported() -> -EINVAL ("error: unaligned partition for dax")');
      return 'no-mount';
    }
    switch (op.kind) {
      case 'fault': {
        const vma = k.vmas.get(op.map)!;
        const ret = yield* userFault(k, this.fs, vma, op.page, op.write, op.huge);
        return faultResult(ret);
      }
      case 'load':
        return yield* this.access(k.vmas.get(op.map)!, op.page, null, ev);
      case 'store':
        return yield* this.access(k.vmas.get(op.map)!, op.page, op.value, ev);
      case 'truncate': {
        const inode = k.inode(op.file);
        const log = this.zeroWrites(inode, op.pages, Number.MAX_SAFE_INTEGER);
        if (this.fsName === 'ext2') yield* k.sim.fn('ext2_setsize', ext2Setsize(k, inode, op.pages));
        else if (this.fsName === 'xfs') yield* k.sim.fn('xfs_vn_setattr', xfsSetattrSize(k, inode, op.pages));
        else yield* k.sim.fn('ext4_setattr', ext4SetattrSize(k, inode, op.pages));
        for (const w of log) w.end = k.sim.step;
        return 'ok';
      }
      case 'punch': {
        // ext2 has no ->fallocate: fallocate(FALLOC_FL_PUNCH_HOLE) fails with -EOPNOTSUPP
        if (this.fsName === 'ext2') return 'EOPNOTSUPP';
        const inode = k.inode(op.file);
        const log = this.zeroWrites(inode, op.page, op.page + op.pages - 1);
        if (this.fsName === 'xfs') yield* k.sim.fn('xfs_file_fallocate', xfsFileFallocatePunch(k, inode, op.page, op.pages));
        else yield* k.sim.fn('ext4_punch_hole', ext4PunchHole(k, inode, op.page, op.pages));
        for (const w of log) w.end = k.sim.step;
        return 'ok';
      }
      case 'fallocate':
        // ext2 has no ->fallocate: -EOPNOTSUPP
        if (this.fsName === 'ext2') return 'EOPNOTSUPP';
        if (this.fsName !== 'ext4') throw new Error(`model: fallocate on ${this.fsName}`);
        return yield* k.sim.call('ext4_fallocate', ext4Fallocate(k, k.inode(op.file), op.page, op.pages, op.keep_size));
      case 'read':
        if (this.fsName === 'xfs') {
          // v4.9 (xfs_dax_iomap_rw): xfs_file_read_iter() -> xfs_file_dax_read() -> dax_iomap_rw()
          if (k.flags.xfs_dax_iomap_rw) return yield* k.sim.call('read', xfsFileDaxRead(k, k.inode(op.file), op.page, op.pages, ev, this.userCopy(op.into, ev)));
          return yield* k.sim.call('read', xfsFileRead(k, k.inode(op.file), op.page, ev, this.userCopy(op.into, ev)));
        }
        // ext2: generic_file_read_iter() -> ext2_direct_IO() to v4.8, ext2_dax_read_iter() from v4.9
        if (this.fsName === 'ext2' && k.flags.ext2_dax_iomap) return yield* k.sim.call('read', ext2DaxReadIter(k, k.inode(op.file), op.page, op.pages, ev, this.userCopy(op.into, ev)));
        if (this.fsName === 'ext2') return yield* k.sim.call('read', ext2GenericFileReadIter(k, k.inode(op.file), op.page, ev, this.userCopy(op.into, ev)));
        // v4.10 (364443cbcfe7): ext4_file_read_iter() -> ext4_dax_read_iter() -> dax_iomap_rw()
        if (k.flags.ext4_dax_iomap_rw) return yield* k.sim.call('read', ext4DaxReadIter(k, k.inode(op.file), op.page, op.pages, ev, this.userCopy(op.into, ev)));
        return yield* k.sim.call('read', ext4FileReadIter(k, k.inode(op.file), op.page, ev, this.userCopy(op.into, ev)));
      case 'write':
        if (this.fsName === 'xfs') {
          // v4.9 (xfs_dax_iomap_rw): xfs_file_write_iter() -> xfs_file_dax_write() -> dax_iomap_rw()
          if (k.flags.xfs_dax_iomap_rw) return yield* k.sim.call('write', xfsFileDaxWrite(k, k.inode(op.file), op.page, op.pages, op.value ?? 0, ev, this.userCopy(op.from, ev)));
          return yield* k.sim.call('write', xfsFileWriteIter(k, k.inode(op.file), op.page, op.value ?? 0, ev, this.userCopy(op.from, ev)));
        }
        // ext2: generic_file_write_iter() -> ext2_direct_IO() to v4.8, ext2_dax_write_iter() from v4.9
        if (this.fsName === 'ext2' && k.flags.ext2_dax_iomap) return yield* k.sim.call('write', ext2DaxWriteIter(k, k.inode(op.file), op.page, op.pages, op.value ?? 0, ev));
        if (this.fsName === 'ext2') return yield* k.sim.call('write', ext2GenericFileWriteIter(k, k.inode(op.file), op.page, op.value ?? 0, ev));
        // v4.10 (776722e85d3b): ext4_file_write_iter() -> ext4_dax_write_iter() -> dax_iomap_rw()
        // `from:` a page of a mapping: the value is what copy_from_user() loads from it
        if (k.flags.ext4_dax_iomap_rw) return yield* k.sim.call('write', ext4DaxWriteIter(k, k.inode(op.file), op.page, op.pages, op.value ?? 0, ev, this.userCopy(op.from, ev)));
        return yield* k.sim.call('write', ext4FileWriteIter(k, k.inode(op.file), op.page, op.value ?? 0, ev, this.userCopy(op.from, ev)));
      case 'fsync': {
        // fsync(2) = vfs_fsync(file, 0) = vfs_fsync_range(file, 0, LLONG_MAX, 0)
        const ret = yield* vfsFsyncRange(k, k.inode(op.file), { first: 0, last: RANGE_END });
        return ret < 0 ? errWord(ret) : 'ok';
      }
      case 'msync': {
        const ret = yield* k.sim.call('msync', sysMsync(k, k.vmas.get(op.map)!));
        return ret < 0 ? errWord(ret) : 'ok';
      }
      case 'munmap':
        yield* k.sim.call('munmap', vmMunmap(k, k.vmas.get(op.map)!));
        return 'ok';
      case 'pin':
        return yield* k.sim.call(op.fast ? 'get_user_pages_fast' : 'get_user_pages', pinUserPage(k, this.fs, k.vmas.get(op.map)!, op.page, op.write, op.longterm, op.as, op.fast));
      case 'dma': {
        const pin = yield* dmaWrite(k, op.pin, op.value);
        if (pin === null) return 'no-pin';
        // the device's write is a write of that file page as long as the pin still maps it
        if (pin.kind === 'pfn') k.writeLog(pin.file, pin.page).push({ value: op.value, start: ev.startStep, end: k.sim.step });
        return 'ok';
      }
      case 'unpin':
        return (yield* unpinUserPage(k, op.pin)) ? 'ok' : 'no-pin';
      case 'poison':
      case 'clear':
        return yield* this.mediaOp(op.kind, k.inode(op.file), op.page);
      default:
        throw new Error(`model: op ${(op as Op).kind} reached the kernel unsupported`);
    }
  }

  /**
   * `poison`: a media error appears in the block backing the file page and the
   * driver learns of it (its badblocks list, as after an address range scrub);
   * `clear`: it is cleared (ndctl's clear-error DSM; the block keeps its data in
   * the model, what the DSM leaves in the cleared range is not modelled). A hole
   * has no block: `hole`.
   */
  private *mediaOp(kind: 'poison' | 'clear', inode: Inode, page: number): Generator<void, OpResult, void> {
    const k = this.k;
    yield;
    const ext = inode.extents.get(page);
    if (ext === undefined) return 'hole';
    const b = k.pmem.block(ext.block);
    b.bad = kind === 'poison';
    if (k.sim.rec) k.sim.log(kind === 'poison' ? `media error in blk ${b.nr} (${inode.name}:${page}): poisoned, in badblocks` : `blk ${b.nr} (${inode.name}:${page}): poison and badblocks entry cleared`);
    return 'ok';
  }

  /** Truncate and punch make pages read as zeros: record that as a write of 0 for the stale-read check. */
  private zeroWrites(inode: Inode, first: number, last: number) {
    const out = [];
    for (const page of [...(this.k.writes.get(inode.name)?.keys() ?? [])].sort((a, b) => a - b)) {
      if (page >= first && page <= last) {
        const w = { value: 0 as PageValue, start: this.k.sim.step, end: null as number | null };
        this.k.writeLog(inode.name, page).push(w);
        out.push(w);
      }
    }
    return out;
  }

  /**
   * A CPU load or store through a mapping: walk the PTE (lockless, as the MMU
   * does); if it is missing, or read-only for a store, take a page fault and
   * retry the access, as the hardware re-executes the instruction.
   */
  /**
   * A read(2)/write(2) buffer that is a page of a mapping (`into:` / `from:`): the kernel's
   * copy_to_user()/copy_from_user() is a CPU access of it, faulting it in like a user
   * access would (the fault runs in the syscall's thread, under whatever it holds).
   */
  private userCopy(buf: UserBuf | undefined, ev: OpEvent): UserCopy | undefined {
    if (buf === undefined) return undefined;
    const vma = this.k.vmas.get(buf.map)!;
    const self = this;
    return {
      *fromUser() {
        // the load's readStep/logKey belong to this copy, not to the op's own result
        const r = yield* self.access(vma, buf.page, null, { ...ev });
        return r === 'SIGBUS' || r === 'SIGSEGV' || r === 'OOM' ? null : (r as PageValue);
      },
      *toUser(v: PageValue) {
        return (yield* self.access(vma, buf.page, v, ev)) === 'ok';
      },
    };
  }

  private *access(vma: Vma, page: number, value: PageValue | null, ev: OpEvent): Generator<void, OpResult, void> {
    const k = this.k;
    const write = value !== null;
    for (;;) {
      yield; // the MMU reads the PTE and the data in one access
      const pmd = pmdOf(vma, page);
      if (pmd !== undefined && pmd.kind !== 'table' && (!write || (pmd.kind === 'devmap' && pmd.write))) {
        // a huge PMD: the huge zero page, or the DAX block at the page's offset in the 2 MiB
        if (pmd.kind === 'huge-zero') {
          ev.readStep = k.sim.step;
          if (k.sim.rec) k.sim.log(`load ${vma.name}:${page} = 0 (huge zero page)`);
          return 0;
        }
        const hb = k.pmem.block(pmd.block + (page & (HPAGE_PMD_NR - 1)));
        if (write) {
          k.writeLog(vma.mapping.file, page).push({ value, start: ev.startStep, end: k.sim.step });
          hb.store(value);
          if (k.sim.rec) k.sim.log(`store ${vma.name}:${page} = ${String(value)} (blk ${hb.nr}, PMD)`);
          return 'ok';
        }
        if (k.media && hb.bad) {
          // as through a PTE: the CPU reads poisoned media, a machine check, memory_failure() of the pfn
          if (k.sim.rec) k.sim.log(`load ${vma.name}:${page}: blk ${hb.nr} is poisoned (PMD) -> machine check`);
          return yield* k.sim.fn('memory_failure', memoryFailure(k, hb, vma.name, page));
        }
        ev.readStep = k.sim.step;
        if (k.sim.rec) k.sim.log(`load ${vma.name}:${page} = ${String(hb.content)} (blk ${hb.nr}, PMD)`);
        return hb.content;
      }
      const pte = pmd === undefined || pmd.kind === 'table' ? vma.ptes.get(page) : undefined;
      if (pte !== undefined && (!write || pte.write)) {
        if (pte.kind === 'anon') {
          // a private mapping's COW page: DRAM, private to the process, never written back
          const key = privateLogKey(vma);
          if (write) {
            k.writeLog(key, page).push({ value, start: ev.startStep, end: k.sim.step });
            pte.page.content = value;
            if (k.sim.rec) k.sim.log(`store ${vma.name}:${page} = ${String(value)} (${pte.page.label})`);
            return 'ok';
          }
          ev.readStep = k.sim.step;
          ev.logKey = key;
          const v = pte.page.content;
          if (k.sim.rec) k.sim.log(`load ${vma.name}:${page} = ${String(v)} (${pte.page.label})`);
          return v;
        }
        if (pte.kind === 'zero') {
          // v4.14+ (91d25ba8a6b0): the shared zero page, mapped read-only
          ev.readStep = k.sim.step;
          if (k.sim.rec) k.sim.log(`load ${vma.name}:${page} = 0 (zero page)`);
          return 0;
        }
        if (pte.kind === 'page') {
          if (write) throw new Error('model: a hole page mapped writable');
          ev.readStep = k.sim.step;
          if (k.sim.rec) k.sim.log(`load ${vma.name}:${page} = 0 (${pte.page.label})`);
          return 0;
        }
        const b = k.pmem.block(pte.block);
        if (write) {
          const w = { value, start: ev.startStep, end: k.sim.step };
          k.writeLog(vma.mapping.file, page).push(w);
          b.store(value); // a cached store: the line stays dirty until written back
          if (k.sim.rec) k.sim.log(`store ${vma.name}:${page} = ${String(value)} (blk ${b.nr})`);
          return 'ok';
        }
        if (k.media && b.bad) {
          // the CPU reads poisoned media: a machine check, then memory_failure()
          if (k.sim.rec) k.sim.log(`load ${vma.name}:${page}: blk ${b.nr} is poisoned -> machine check`);
          return yield* k.sim.fn('memory_failure', memoryFailure(k, b, vma.name, page));
        }
        ev.readStep = k.sim.step;
        if (k.sim.rec) k.sim.log(`load ${vma.name}:${page} = ${String(b.content)} (blk ${b.nr})`);
        return b.content;
      }
      const ret = yield* userFault(k, this.fs, vma, page, write);
      const r = faultResult(ret);
      if (r !== 'ok') return r;
    }
  }
}

function faultResult(ret: number): OpResult {
  if (ret & VM_FAULT_SIGSEGV) return 'SIGSEGV';
  if (ret & VM_FAULT_SIGBUS) return 'SIGBUS';
  if (ret & VM_FAULT_OOM) return 'OOM';
  return 'ok';
}

export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'fault':
      return `fault ${op.map}:${op.page}${op.write ? ' write' : ''}${op.huge ? ' huge' : ''}`;
    case 'load':
      return `load ${op.map}:${op.page}`;
    case 'store':
      return `store ${op.map}:${op.page} ${String(op.value)}`;
    case 'read':
      return `read ${op.file}:${op.page}${op.pages !== 1 ? `+${op.pages}` : ''}${op.into !== undefined ? ` into ${op.into.map}:${op.into.page}` : ''}`;
    case 'write':
      return `write ${op.file}:${op.page}${op.pages !== 1 ? `+${op.pages}` : ''} ${op.from !== undefined ? `from ${op.from.map}:${op.from.page}` : String(op.value)}`;
    case 'truncate':
      return `truncate ${op.file} ${op.pages}`;
    case 'punch':
      return `punch ${op.file}:${op.page}${op.pages !== 1 ? `+${op.pages}` : ''}`;
    case 'fsync':
      return `fsync ${op.file}`;
    case 'msync':
    case 'munmap':
      return `${op.kind} ${op.map}`;
    case 'pin':
      return `pin ${op.map}:${op.page}${op.fast ? ' fast' : ''}${op.longterm ? ' longterm' : ''} as ${op.as}`;
    case 'dma':
      return `dma ${op.pin} ${String(op.value)}`;
    case 'unpin':
      return `unpin ${op.pin}`;
    case 'fallocate':
      return `fallocate ${op.file}:${op.page}${op.pages !== 1 ? `+${op.pages}` : ''}${op.keep_size ? ' keep_size' : ''}`;
    case 'poison':
    case 'clear':
      return `${op.kind} ${op.file}:${op.page}`;
  }
}
