// The invariant ids (DESIGN §4, stable) and the checkers that watch the kernel
// model. Engine-level ids (deadlock, lost-wakeup, livelock, lock-order,
// sleep-in-atomic) are detected in src/sim; kernel-warn by the model's
// WARN_ON conditions; the rest here.
import type { Sim } from '../sim/engine.js';
import type { Kernel, OpEvent } from '../kernel/kernel.js';
import type { KernelHooks, KernelState, WriteRecord } from '../kernel/state.js';
import { HPAGE_PMD_NR, PMD_ORDER, exitMmap, type Pte, type Vma } from '../kernel/pagetable.js';
import type { Owner } from '../kernel/pmem.js';
import { pinnedRefCount } from '../kernel/gup.js';
import { journalCrash } from '../kernel/journal.js';
import type { FinalSpec, PageValue } from '../scenario/types.js';

export const INVARIANTS: ReadonlyArray<{ id: string; promise: string; checked: boolean }> = [
  { id: 'fault-sigbus', promise: 'a fault, load or store inside i_size failed (SIGBUS/EIO/OOM) with no poison and no truncation below it', checked: true },
  { id: 'stale-mapping', promise: 'a page-table entry (a PTE or a DAX PMD) maps a block the file no longer owns at that offset', checked: true },
  { id: 'dma-after-free', promise: 'a DMA or pinned access hit a block that was freed or given to another file', checked: true },
  { id: 'stale-data', promise: 'a load or read returned data that was never written at that file offset (another file\'s, or an unzeroed block\'s)', checked: true },
  { id: 'stale-read', promise: 'a load or read returned an older value than a write or store that completed before it started', checked: true },
  { id: 'lost-write', promise: 'a store or write completed before an fsync/msync that returned, and is not durable after a crash, or is gone', checked: true },
  { id: 'deadlock', promise: 'every unfinished thread is blocked', checked: true },
  { id: 'lost-wakeup', promise: 'a thread sleeps on a condition that is already true and nobody will wake it', checked: true },
  { id: 'livelock', promise: 'the step budget ran out while threads were still runnable', checked: true },
  { id: 'lock-order', promise: 'two locks taken in both orders by different threads (lockdep), even when no deadlock happened', checked: true },
  { id: 'sleep-in-atomic', promise: 'a blocking operation under a spinlock or with preemption off', checked: true },
  { id: 'kernel-warn', promise: 'a modelled WARN_ON/BUG_ON condition held (the message names it)', checked: true },
  { id: 'refcount', promise: 'a page refcount underflowed, or a block was freed while its page was still referenced', checked: true },
  { id: 'poison-consumed', promise: 'a CPU load consumed poisoned media instead of getting SIGBUS/EIO', checked: true },
  { id: 'unexpected-result', promise: 'an op\'s result is not one of its `expect:` values', checked: true },
  { id: 'final-state', promise: 'the content after the run (and crash) differs from `final.files`', checked: true },
];

export const INVARIANT_IDS: ReadonlySet<string> = new Set(INVARIANTS.map((i) => i.id));

/**
 * The checkers, as hooks the kernel calls where a promise can break. Each
 * check reads only what the kernel step that calls it touches, so it sees the
 * same thing in every reordering of independent steps.
 */
export function checkers(k: KernelState): KernelHooks {
  return {
    opDone: (ev) => {
      checkOp(k, ev);
      if ((ev.op.kind === 'fsync' || ev.op.kind === 'msync') && ev.result === 'ok') recordSynced(k, ev);
    },
    pteInstalled: (vma, page, pte) => checkPte(k, vma, page, pte),
    blockOwnerChanged: (b) => {
      // a block freed while a pin still references its page (nothing waits for pins before v4.18)
      // (a reference gup-fast takes back after a failed re-check is not a pin: pinnedRefCount())
      const refs = pinnedRefCount(k, b.nr);
      if (b.owner === null && refs > 1) {
        k.sim.violate('refcount', `blk ${b.nr} is freed while its page is still referenced (page refcount ${refs}, idle at 1)`, `freed-busy:${b.nr}`);
      }
      for (const key of [...b.mappers].sort()) {
        const [vmaName, pageStr] = key.split(':') as [string, string];
        checkPte(k, k.vmas.get(vmaName)!, Number(pageStr), { kind: 'pfn', block: b.nr, write: false, dirty: false });
      }
      // a DAX PMD counts as a mapper of each of its 512 blocks
      for (const m of k.pmem.pmdMappersOf(b.nr)) checkPmdBlock(k, m.key, m.file, m.page + (b.nr - m.block), b.nr, b.owner);
    },
    pmdInstalled: (vma, index, pmd) => {
      // the owners of all 512 blocks, without 512 footprints: every owner change reads the
      // group's PMD rmap, which the install wrote (Pmem.pmdMapAdd()), so the two are ordered
      const key = `${vma.name}:pmd${index}`;
      const first = index << PMD_ORDER;
      for (let i = 0; i < HPAGE_PMD_NR; i++) {
        if (!checkPmdBlock(k, key, vma.mapping.file, first + i, pmd.block + i, k.pmem.peekOwner(pmd.block + i))) break;
      }
    },
    cowCopied: (vma, page, value) => checkCowCopy(k, vma, page, value),
    pageCacheDeleted: (page) => {
      for (const key of [...page.mappers].sort()) {
        k.sim.violate('stale-mapping', `${key} maps ${page.label}, which was removed from the page cache`, `${key}:p${page.id}`);
      }
    },
  };
}

/** stale-mapping: a PTE must map what the file has at that offset. */
function checkPte(k: KernelState, vma: Vma, page: number, pte: Pte): void {
  if (pte.kind === 'pfn') {
    const owner = k.pmem.block(pte.block).owner;
    if (owner === null || owner.file !== vma.mapping.file || owner.page !== page) {
      const now = owner === null ? 'free' : `owned by ${owner.file}:${owner.page}`;
      k.sim.violate('stale-mapping', `${vma.name}:${page} maps blk ${pte.block}, which is ${now}`, `${vma.name}:${page}:${pte.block}`);
    }
  } else if (pte.kind === 'page' && pte.page.mapping !== vma.mapping) {
    k.sim.violate('stale-mapping', `${vma.name}:${page} maps ${pte.page.label}, which was removed from ${vma.mapping.file}'s page cache`, `${vma.name}:${page}:p${pte.page.id}`);
  }
}

/**
 * stale-mapping for a DAX PMD (`vma:pmd<index>`): its block `nr` must belong to the
 * file page it maps. Reported once per PMD. False if it does not.
 */
function checkPmdBlock(k: KernelState, key: string, file: string, page: number, nr: number, owner: Owner | null): boolean {
  if (owner !== null && owner.file === file && owner.page === page) return true;
  const now = owner === null ? 'free' : `owned by ${owner.file}:${owner.page}`;
  const [vmaName, pmdName] = key.split(':') as [string, string];
  k.sim.violate('stale-mapping', `${vmaName} ${pmdName.replace('pmd', 'pmd ')} (a DAX PMD) maps blk ${nr} as ${file}:${page}, which is ${now}`, key);
  return false;
}

/** Results that are not data (a load returns data or one of these). */
const ERROR_RESULTS: ReadonlySet<string | number> = new Set(['SIGBUS', 'OOM', 'SIGSEGV', 'no-mount']);

function show(v: string | number): string {
  return typeof v === 'string' ? v : String(v);
}

/** Per-op checks: fault-sigbus, stale-data, stale-read, unexpected-result. */
export function checkOp(k: KernelState, ev: OpEvent): void {
  const sim: Sim = k.sim;
  const op = ev.op;
  const t = ev.thread;
  // a SIGBUS the op got from a media error (direct_access() -EIO, a machine check) is the kernel's promise kept
  if ((op.kind === 'fault' || op.kind === 'load' || op.kind === 'store') && (ev.result === 'SIGBUS' || ev.result === 'OOM') && ev.mediaError !== true) {
    const hist = k.inode(ev.file!).sizeHistory.slice(ev.sizeIndexAtStart);
    const minSize = Math.min(...hist);
    if (ev.page < minSize) {
      sim.violate('fault-sigbus', `${t.name}'s ${op.kind} of ${ev.file}:${ev.page} got ${ev.result}, though i_size stayed above it (never below ${minSize} page${minSize === 1 ? '' : 's'}) and nothing is poisoned`, `${t.id}:${ev.opIndex}`, t);
    }
  }
  if (op.kind === 'load' && !ERROR_RESULTS.has(ev.result)) checkReadValue(k, ev, ev.result as PageValue);
  // a read(2) returned data iff it copied some (readStep is set then; `EOF` and errors return none)
  if (op.kind === 'read' && ev.pagesRead !== undefined) {
    for (const p of ev.pagesRead) checkReadValue(k, { ...ev, page: p.page, readStep: p.readStep }, p.value);
  } else if (op.kind === 'read' && ev.readStep > 0) checkReadValue(k, ev, ev.result as PageValue);
  if (op.expect !== undefined && !op.expect.some((e) => e === ev.result)) {
    sim.violate('unexpected-result', `${t.name}'s ${op.kind} returned ${show(ev.result)}, expected ${op.expect.map(show).join(' or ')}`, `${t.id}:${ev.opIndex}`, t);
  }
}

/**
 * stale-data / stale-read for a value read from file page (ev.file, ev.page):
 * allowed are the last write completed before the read started, and any
 * write overlapping the read.
 */
function checkReadValue(k: KernelState, ev: OpEvent, v: PageValue): void {
  // a load of a private COW page is checked against what the process put there (the copy, its stores)
  const key = ev.logKey ?? ev.file!;
  const log = k.writes.get(key)?.get(ev.page) ?? [];
  let last: PageValue = 0;
  let lastEnd = -1;
  const overlapping = new Set<PageValue>();
  for (const w of log) {
    if (w.end !== null && w.end < ev.startStep) {
      if (w.end >= lastEnd) {
        lastEnd = w.end;
        last = w.value;
      }
    } else if (w.start <= ev.readStep) {
      overlapping.add(w.value);
    }
  }
  if (v === last || overlapping.has(v)) return;
  const t = ev.thread;
  const ever = v === 0 || log.some((w) => w.value === v);
  if (ever) {
    k.sim.violate('stale-read', `${t.name}'s ${ev.op.kind} of ${key}:${ev.page} returned ${show(v)}, but ${show(last)} was written there before the ${ev.op.kind} started`, `${t.id}:${ev.opIndex}`, t);
  } else {
    k.sim.violate('stale-data', `${t.name}'s ${ev.op.kind} of ${key}:${ev.page} returned ${show(v)}, which was never written at that offset`, `${t.id}:${ev.opIndex}`, t);
  }
}

/**
 * stale-data for the copy a COW fault makes of a file page (copy_user_dax(), or
 * cow_user_page() through the user address): the value must have been written at
 * that offset at some point (or be zeros), else the private page holds another
 * file's or an unzeroed block's data. Checked in the step that copies.
 */
function checkCowCopy(k: KernelState, vma: Vma, page: number, v: PageValue): void {
  const file = vma.mapping.file;
  if (v === 0) return;
  const log = k.writes.get(file)?.get(page) ?? [];
  if (log.some((w) => w.value === v)) return;
  const t = k.sim.me;
  k.sim.violate('stale-data', `${t.name}'s COW fault copied ${show(v)} from ${file}:${page} into a private page of ${vma.name}, but that was never written at that offset`, `cow:${vma.name}:${page}`, t);
}

/**
 * stale-mapping for private mappings, after the run: an anonymous COW page at or
 * beyond EOF. truncate_pagecache() unmaps "even_cows" a second time because private
 * pages COWed during the truncate "remain after truncate_inode_pages finishes, hence
 * the second unmap_mapping_range call must be made for correctness" (mm/truncate.c);
 * a COW page that is installed after that second unmap outlives the truncate.
 */
function checkPrivateBeyondEof(k: KernelState): void {
  for (const vma of k.vmas.values()) {
    if (vma.shared || vma.unmapped) continue;
    const size = k.inode(vma.mapping.file).peekSize();
    for (const page of vma.ptes.peekKeys().sort((a, b) => a - b)) {
      const pte = vma.ptes.peek(page);
      if (pte === undefined || pte.kind !== 'anon' || page < size) continue;
      k.sim.current = null;
      k.sim.violate('stale-mapping', `${vma.name}:${page} still maps ${pte.page.label} (a private copy of ${vma.mapping.file}:${page}) after the run, beyond EOF (i_size ${size} page${size === 1 ? '' : 's'}): it outlived the truncate`, `${vma.name}:${page}:anon`, null);
    }
  }
}

/** A write or store that an fsync/msync covered: it completed before the sync started, and the sync returned ok. */
interface Synced {
  file: string;
  page: number;
  w: WriteRecord;
  /** who synced, e.g. `t1's fsync of a`, and the step it returned */
  by: string;
  step: number;
}

/** Per machine: the writes some returned fsync/msync promised durable, in order, each once. */
const syncedOf = new WeakMap<KernelState, { list: Synced[]; seen: Set<WriteRecord> }>();

/**
 * lost-write bookkeeping, at the end step of an fsync/msync that returned ok:
 * every write or store to its file that completed before the sync started.
 * Op starts and ends touch the file's history object (kernel.ts), so which
 * writes completed before this op started is the same in every reordering.
 */
function recordSynced(k: KernelState, ev: OpEvent): void {
  const log = k.writes.get(ev.file!);
  if (log === undefined) return;
  let s = syncedOf.get(k);
  if (s === undefined) syncedOf.set(k, (s = { list: [], seen: new Set() }));
  const by = `${ev.thread.name}'s ${ev.op.kind} of ${ev.file}`;
  for (const page of [...log.keys()].sort((a, b) => a - b)) {
    for (const w of log.get(page)!) {
      // end 0: the setup's content, not a write of the run
      if (w.end === null || w.end === 0 || w.end >= ev.startStep || s.seen.has(w)) continue;
      s.seen.add(w);
      s.list.push({ file: ev.file!, page, w, by, step: ev.endStep });
    }
  }
}

/** What file page holds after the run: a hole or an unwritten extent reads as zeros; a block as a load would see it. */
function contentAfter(k: KernelState, file: string, page: number): PageValue {
  const inode = k.inode(file);
  const ext = page < inode.peekSize() ? inode.extents.peek(page) : undefined;
  return ext === undefined || ext.unwritten ? 0 : k.pmem.block(ext.block).peekContent();
}

/**
 * lost-write: after the run (and the crash), each synced write's page must hold
 * its value, or the value of a write that did not complete before it started
 * (a later or overlapping write may have replaced it).
 */
function checkLostWrites(k: KernelState, crash: boolean): void {
  const s = syncedOf.get(k);
  if (s === undefined) return;
  for (const x of s.list) {
    const got = contentAfter(k, x.file, x.page);
    if (got === x.w.value) continue;
    const log = k.writes.get(x.file)?.get(x.page) ?? [];
    if (log.some((w) => w !== x.w && (w.end === null || w.end >= x.w.start) && w.value === got)) continue;
    k.sim.current = null;
    k.sim.violate('lost-write', `${x.file}:${x.page} holds ${show(got)} after the ${crash ? 'crash' : 'run'}, but ${show(x.w.value)}, written there by step ${x.w.end}, was covered by ${x.by}, which returned at step ${x.step}`, `${x.file}:${x.page}:${x.w.end}`, null);
  }
}

/**
 * After the run: with `final: {crash: true}` the power fails first (every dirty
 * cache line not written back is lost; metadata — extents, i_size — is kept,
 * as if every journal transaction had committed); then lost-write, and
 * final-state against `final.files` (against the media after a crash).
 */
export function checkFinal(kernel: Kernel, final: FinalSpec | null): void {
  const k = kernel.k;
  // the process exits: exit_mmap() and check_mm() (only VMAs with a PMD level keep the counters)
  exitMmap(k);
  const crash = final?.crash === true;
  if (crash) {
    k.pmem.powerFail();
    journalCrash(k); // journal replay keeps only committed metadata (src/kernel/journal.ts)
  }
  checkPrivateBeyondEof(k);
  checkLostWrites(k, crash);
  if (final === null) return;
  for (const [file, pages] of final.allocated) {
    const inode = k.inode(file);
    for (const page of pages) {
      if (page < inode.peekSize() && inode.extents.peek(page) !== undefined) continue;
      k.sim.current = null;
      k.sim.violate('final-state', `${file}:${page} has no block after the ${crash ? 'crash' : 'run'}, expected one (final.allocated)`, `${file}:${page}:allocated`);
    }
  }
  for (const [file, pages] of final.files) {
    for (const [page, want] of pages) {
      const got = contentAfter(k, file, page);
      if (got !== want) {
        k.sim.current = null;
        k.sim.violate('final-state', `${file}:${page} holds ${show(got)} after the ${crash ? 'crash' : 'run'}, expected ${show(want)}`, `${file}:${page}`);
      }
    }
  }
}
