// Wait queues with the kernel's exclusive / wake-one semantics
// (kernel/sched/wait.c v4.6–v4.19: prepare_to_wait(), prepare_to_wait_exclusive(),
// finish_wait(), __wake_up_common(), autoremove_wake_function()).
import { TASK_RUNNING, TASK_UNINTERRUPTIBLE, type Sim, type SimThread } from './engine.js';
import { mightSleep } from './sync.js';

export interface WaitQueueEntry<K = unknown> {
  thread: SimThread;
  exclusive: boolean;
  /** the wake key the entry was queued for (DAX: {mapping, index}) */
  key: K | null;
  /** wait_queue_t.func: returns nonzero when it woke the task */
  func: (entry: WaitQueueEntry<K>, key: K | null, sim: Sim) => number;
  onList: boolean;
}

export class WaitQueueHead<K = unknown> {
  readonly name: string;
  readonly obj: number;
  /** task_list, head first */
  readonly list: WaitQueueEntry<K>[] = [];
  constructor(sim: Sim, name: string) {
    this.name = name;
    this.obj = sim.obj();
  }
}

// kernel/sched/core.c try_to_wake_up(): 0 if the task was already running.
export function tryToWakeUp(sim: Sim, t: SimThread): number {
  sim.touch(t.obj, true);
  if (t.taskState === TASK_RUNNING) return 0;
  t.taskState = TASK_RUNNING;
  if (t.blocked !== null) sim.unblock(t);
  return 1;
}

// kernel/sched/wait.c autoremove_wake_function()
export function autoremoveWakeFunction<K>(entry: WaitQueueEntry<K>, _key: K | null, sim: Sim): number {
  const ret = tryToWakeUp(sim, entry.thread);
  if (ret !== 0) removeEntry(entry, sim);
  return ret;
}

const headOf = new WeakMap<WaitQueueEntry<any>, WaitQueueHead<any>>();

function removeEntry(entry: WaitQueueEntry<any>, _sim: Sim): void {
  const wq = headOf.get(entry);
  if (wq === undefined || !entry.onList) return;
  const i = wq.list.indexOf(entry);
  if (i >= 0) wq.list.splice(i, 1);
  entry.onList = false;
}

export function initWaitEntry<K>(sim: Sim, key: K | null, func = autoremoveWakeFunction<K>): WaitQueueEntry<K> {
  return { thread: sim.me, exclusive: false, key, func, onList: false };
}

// prepare_to_wait(): non-exclusive waiters are added at the head.
export function prepareToWait<K>(sim: Sim, wq: WaitQueueHead<K>, e: WaitQueueEntry<K>, state = TASK_UNINTERRUPTIBLE): void {
  e.exclusive = false;
  sim.touch(wq.obj, true);
  sim.touch(sim.me.obj, true);
  if (!e.onList) {
    wq.list.unshift(e);
    e.onList = true;
    headOf.set(e, wq);
  }
  sim.me.taskState = state;
}

// prepare_to_wait_exclusive(): exclusive waiters are added at the tail.
export function prepareToWaitExclusive<K>(sim: Sim, wq: WaitQueueHead<K>, e: WaitQueueEntry<K>, state = TASK_UNINTERRUPTIBLE): void {
  e.exclusive = true;
  sim.touch(wq.obj, true);
  sim.touch(sim.me.obj, true);
  if (!e.onList) {
    wq.list.push(e);
    e.onList = true;
    headOf.set(e, wq);
  }
  sim.me.taskState = state;
}

// finish_wait(): back to running, off the queue if a waker did not remove us.
export function finishWait<K>(sim: Sim, wq: WaitQueueHead<K>, e: WaitQueueEntry<K>): void {
  sim.touch(wq.obj, true);
  sim.touch(sim.me.obj, true);
  sim.me.taskState = TASK_RUNNING;
  removeEntry(e, sim);
}

/**
 * schedule(): sleeps only if no wakeup arrived since the task state was set.
 * `what` and `condition` describe the sleep for deadlock and lost-wakeup reports.
 */
export function* schedule(sim: Sim, what: string, condition?: () => boolean): Generator<void, void, void> {
  mightSleep(sim, what);
  const t = sim.me;
  sim.touch(t.obj, true);
  if (t.taskState === TASK_RUNNING) return;
  sim.block(condition ? { what, condition } : { what });
  yield;
}

// __wake_up() -> __wake_up_common(): walk the list in order; every non-exclusive
// waiter is woken, and the walk stops after nr_exclusive exclusive wakeups
// (0 = wake all). Entries whose func returns 0 (e.g. a key mismatch) do not count.
export function wakeUp<K>(sim: Sim, wq: WaitQueueHead<K>, nrExclusive: number, key: K | null): void {
  sim.touch(wq.obj, true);
  let nr = nrExclusive;
  for (const e of [...wq.list]) {
    const ret = e.func(e, key, sim);
    if (ret !== 0 && e.exclusive && --nr === 0) break;
  }
}

// include/linux/wait.h waitqueue_active(): a lockless peek at the list.
export function waitqueueActive<K>(sim: Sim, wq: WaitQueueHead<K>): boolean {
  sim.touch(wq.obj, false);
  return wq.list.length > 0;
}

/**
 * The hashed wait table used for DAX entry locks (fs/dax.c wait_table[],
 * DAX_WAIT_TABLE_ENTRIES = 1 << 12). Collisions share a head; wake functions
 * filter by key.
 */
export class HashedWaitTable<K> {
  readonly name: string;
  readonly bits: number;
  private readonly sim: Sim;
  /** heads are created on first use: a run touches few of the 2^bits buckets */
  private readonly heads = new Map<number, WaitQueueHead<K>>();
  /** object ids of the buckets: bucket i is base + i (stable however buckets are created) */
  private readonly base: number;
  constructor(sim: Sim, name: string, bits: number) {
    this.name = name;
    this.bits = bits;
    this.sim = sim;
    this.base = sim.obj(1 << bits);
  }
  // include/linux/hash.h hash_long() on 64-bit: hash_64(val, bits) = val * GOLDEN_RATIO_64 >> (64 - bits)
  hashLong(val: bigint): number {
    const GOLDEN_RATIO_64 = 0x61c8864680b583ebn;
    const h = (val * GOLDEN_RATIO_64) & 0xffffffffffffffffn;
    return Number(h >> BigInt(64 - this.bits));
  }
  head(val: bigint): WaitQueueHead<K> {
    const i = this.hashLong(val);
    let h = this.heads.get(i);
    if (h === undefined) {
      h = new WaitQueueHead<K>(this.sim, `${this.name}[${i}]`);
      (h as { obj: number }).obj = this.base + i;
      this.heads.set(i, h);
    }
    return h;
  }
}
