// Sleeping and spinning locks with Linux semantics, as generator helpers.
// Every acquisition yields first (the attempt is observable), every release is
// a plain call made right after a yield of the caller's choosing.
import type { Sim, SimThread } from './engine.js';

/** might_sleep() (kernel/sched/core.c ___might_sleep): a sleeping call with preemption off. */
export function mightSleep(sim: Sim, what: string): void {
  const t = sim.me;
  if (t.preempt > 0) {
    const spins = t.held.filter((h) => h.cls.startsWith('spin:')).map((h) => h.name);
    sim.violate('sleep-in-atomic', `${t.name} calls ${what} with preemption disabled${spins.length ? ` (holding ${spins.join(', ')})` : ''}`, what);
  }
}

function dropHeld(t: SimThread, name: string): void {
  for (let i = t.held.length - 1; i >= 0; i--) {
    if (t.held[i]!.name === name) {
      t.held.splice(i, 1);
      return;
    }
  }
}

// include/linux/spinlock.h spin_lock()/spin_unlock(): preemption is off while held.
export class Spinlock {
  readonly name: string;
  readonly cls: string;
  readonly clsId: number;
  readonly obj: number;
  owner: SimThread | null = null;
  private readonly spinners: SimThread[] = [];
  constructor(sim: Sim, name: string, cls: string) {
    this.name = name;
    this.cls = `spin:${cls}`;
    this.obj = sim.obj();
    this.clsId = sim.lockdep.classId(this.cls);
  }

  *lock(sim: Sim): Generator<void, void, void> {
    yield;
    const t = sim.me;
    sim.touch(this.obj, true);
    sim.lockdep.acquire(this.clsId);
    t.preempt++;
    while (this.owner !== null) {
      if (this.owner === t) {
        sim.violate('deadlock', `${t.name} takes ${this.name} recursively`);
        sim.block({ what: `spin_lock(${this.name})`, holder: () => this.owner });
        yield;
        return;
      }
      // A spinning CPU makes no progress; model it as not runnable until the release.
      this.spinners.push(t);
      sim.block({ what: `spin_lock(${this.name})`, holder: () => this.owner });
      yield;
      sim.touch(this.obj, true);
    }
    this.owner = t;
    t.held.push({ cls: this.cls, name: this.name, clsId: this.clsId });
  }

  unlock(sim: Sim): void {
    const t = sim.me;
    sim.touch(this.obj, true);
    if (this.owner !== t) {
      sim.violate('kernel-warn', `${t.name} unlocks ${this.name}, which it does not hold`);
      return;
    }
    this.owner = null;
    t.preempt--;
    dropHeld(t, this.name);
    for (const s of this.spinners) sim.unblock(s);
    this.spinners.length = 0;
  }
}

// kernel/locking/mutex.c mutex_lock()/mutex_unlock(), v4.6–v4.19: the unlocker
// wakes the first waiter, which retries; a newcomer may take the lock first.
export class Mutex {
  readonly name: string;
  readonly cls: string;
  readonly clsId: number;
  readonly obj: number;
  owner: SimThread | null = null;
  private readonly waiters: SimThread[] = [];
  constructor(sim: Sim, name: string, cls: string) {
    this.name = name;
    this.cls = cls;
    this.obj = sim.obj();
    this.clsId = sim.lockdep.classId(cls);
  }

  *lock(sim: Sim): Generator<void, void, void> {
    yield;
    const t = sim.me;
    sim.touch(this.obj, true);
    mightSleep(sim, `mutex_lock(${this.name})`);
    sim.lockdep.acquire(this.clsId);
    while (this.owner !== null) {
      if (!this.waiters.includes(t)) this.waiters.push(t);
      sim.block({ what: `mutex_lock(${this.name})`, holder: () => this.owner });
      yield;
      sim.touch(this.obj, true);
    }
    const i = this.waiters.indexOf(t);
    if (i >= 0) this.waiters.splice(i, 1);
    this.owner = t;
    t.held.push({ cls: this.cls, name: this.name, clsId: this.clsId });
  }

  unlock(sim: Sim): void {
    const t = sim.me;
    sim.touch(this.obj, true);
    if (this.owner !== t) {
      sim.violate('kernel-warn', `${t.name} unlocks ${this.name}, which it does not hold`);
      return;
    }
    this.owner = null;
    dropHeld(t, this.name);
    const w = this.waiters[0];
    if (w !== undefined) sim.unblock(w);
  }
}

interface RwWaiter {
  t: SimThread;
  write: boolean;
  granted: boolean;
}

// kernel/locking/rwsem-xadd.c, v4.6–v4.19: readers share, a writer excludes;
// once anyone waits, new readers queue behind (a waiting writer blocks new
// readers). On release the front of the queue is granted the lock: one writer,
// or every reader up to the first queued writer (__rwsem_mark_wake()).
// Writer lock-stealing by optimistic spinning is not modelled: waiters are FIFO.
export class RwSem {
  readonly name: string;
  readonly cls: string;
  /** leave acquisitions and releases out of the trace (e.g. mmap_sem, taken by every fault) */
  readonly quiet: boolean;
  readonly obj: number;
  readonly clsId: number;
  readers: SimThread[] = [];
  writer: SimThread | null = null;
  private readonly queue: RwWaiter[] = [];
  constructor(sim: Sim, name: string, cls: string, quiet = false) {
    this.name = name;
    this.cls = cls;
    this.quiet = quiet;
    this.obj = sim.obj();
    this.clsId = sim.lockdep.classId(cls);
  }

  *downRead(sim: Sim): Generator<void, void, void> {
    yield;
    const t = sim.me;
    mightSleep(sim, `down_read(${this.name})`);
    sim.lockdep.acquire(this.clsId);
    // Uncontended read acquisitions (and releases) commute with each other: a read touch.
    sim.touch(this.obj, this.writer !== null || this.queue.length > 0);
    if (this.writer === null && this.queue.length === 0) {
      this.readers.push(t);
    } else {
      yield* this.wait(sim, false);
    }
    t.held.push({ cls: this.cls, name: this.name, clsId: this.clsId });
    if (!this.quiet && sim.rec) sim.log(`down_read(${this.name})`);
  }

  *downWrite(sim: Sim): Generator<void, void, void> {
    yield;
    const t = sim.me;
    mightSleep(sim, `down_write(${this.name})`);
    sim.lockdep.acquire(this.clsId);
    sim.touch(this.obj, true);
    if (this.writer === null && this.readers.length === 0 && this.queue.length === 0) {
      this.writer = t;
    } else {
      yield* this.wait(sim, true);
    }
    t.held.push({ cls: this.cls, name: this.name, clsId: this.clsId });
    if (!this.quiet && sim.rec) sim.log(`down_write(${this.name})`);
  }

  private *wait(sim: Sim, write: boolean): Generator<void, void, void> {
    const w: RwWaiter = { t: sim.me, write, granted: false };
    this.queue.push(w);
    const what = `${write ? 'down_write' : 'down_read'}(${this.name})`;
    while (!w.granted) {
      sim.block({ what, holder: () => this.writer ?? this.readers[0] ?? null, condition: () => w.granted });
      yield;
    }
  }

  upRead(sim: Sim): void {
    const t = sim.me;
    sim.touch(this.obj, this.queue.length > 0);
    const i = this.readers.indexOf(t);
    if (i < 0) {
      sim.violate('kernel-warn', `${t.name} calls up_read(${this.name}) without holding it for read`);
      return;
    }
    this.readers.splice(i, 1);
    dropHeld(t, this.name);
    if (!this.quiet && sim.rec) sim.log(`up_read(${this.name})`);
    if (this.readers.length === 0) this.wakeFront(sim);
  }

  upWrite(sim: Sim): void {
    const t = sim.me;
    sim.touch(this.obj, true);
    if (this.writer !== t) {
      sim.violate('kernel-warn', `${t.name} calls up_write(${this.name}) without holding it for write`);
      return;
    }
    this.writer = null;
    dropHeld(t, this.name);
    if (!this.quiet && sim.rec) sim.log(`up_write(${this.name})`);
    this.wakeFront(sim);
  }

  /** downgrade_write(): the writer keeps the lock as a reader; queued readers at the front join it. */
  downgradeWrite(sim: Sim): void {
    const t = sim.me;
    sim.touch(this.obj, true);
    if (this.writer !== t) {
      sim.violate('kernel-warn', `${t.name} calls downgrade_write(${this.name}) without holding it for write`);
      return;
    }
    this.writer = null;
    this.readers.push(t);
    if (!this.quiet && sim.rec) sim.log(`downgrade_write(${this.name})`);
    while (this.queue.length > 0 && !this.queue[0]!.write) {
      const r = this.queue.shift()!;
      this.readers.push(r.t);
      r.granted = true;
      sim.unblock(r.t);
    }
  }

  private wakeFront(sim: Sim): void {
    const front = this.queue[0];
    if (front === undefined) return;
    if (front.write) {
      this.queue.shift();
      this.writer = front.t;
      front.granted = true;
      sim.unblock(front.t);
      return;
    }
    while (this.queue.length > 0 && !this.queue[0]!.write) {
      const r = this.queue.shift()!;
      this.readers.push(r.t);
      r.granted = true;
      sim.unblock(r.t);
    }
  }
}

/**
 * A lock that never blocks in this model but that lockdep tracks, like
 * jbd2's `jbd2_handle` lockdep map or sb_start_pagefault()'s freeze
 * protection when no freeze is in progress. Re-entry by the same thread nests.
 */
export class LockdepMap {
  readonly name: string;
  readonly cls: string;
  readonly clsId: number;
  private readonly depth = new Map<number, number>();
  constructor(sim: Sim, name: string, cls: string) {
    this.name = name;
    this.cls = cls;
    this.clsId = sim.lockdep.classId(cls);
  }
  acquire(sim: Sim): void {
    const t = sim.me;
    const d = this.depth.get(t.id) ?? 0;
    if (d === 0) {
      sim.lockdep.acquire(this.clsId);
      t.held.push({ cls: this.cls, name: this.name, clsId: this.clsId });
    }
    this.depth.set(t.id, d + 1);
  }
  release(sim: Sim): void {
    const t = sim.me;
    const d = this.depth.get(t.id) ?? 0;
    if (d === 0) {
      sim.violate('kernel-warn', `${t.name} releases ${this.name}, which it does not hold`);
      return;
    }
    this.depth.set(t.id, d - 1);
    if (d === 1) dropHeld(t, this.name);
  }
}
