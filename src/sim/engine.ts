// The kernel-agnostic engine: generator threads, one scheduling decision per step.
//
// A thread is a generator that yields just before each action another thread
// could observe or be blocked by (DESIGN §1.4). The scheduler is the only
// clock: `step` counts resumptions. A thread that must sleep marks itself
// blocked and yields; only a waker makes it runnable again.
import { Lockdep } from './lockdep.js';
import type { Strategy } from './strategy.js';

export type ThreadBody = Generator<void, void, void>;

export const TASK_RUNNING = 0;
export const TASK_UNINTERRUPTIBLE = 2;

/** Why a thread sleeps: for deadlock reports and the lost-wakeup check. */
export interface Blocker {
  /** e.g. `down_write(i_mmap_sem a)` */
  what: string;
  /** the thread that holds what we wait for, when known */
  holder?: () => SimThread | null;
  /** the sleeper's wake-up condition; true while nobody will wake it = lost wakeup */
  condition?: () => boolean;
}

export interface HeldLock {
  cls: string;
  name: string;
  /** the run's lockdep index of cls, when the lock knows it */
  clsId?: number;
}

export class SimThread {
  readonly id: number;
  readonly name: string;
  /** the object id of this task's scheduler state (task state, runnability) */
  readonly obj: number;
  body: ThreadBody | null = null;
  done = false;
  blocked: Blocker | null = null;
  /** set_current_state() / try_to_wake_up(): the scheduler-visible task state */
  taskState = TASK_RUNNING;
  /** preempt_count(): spinlocks held plus explicit preempt_disable() */
  preempt = 0;
  /** locks held, innermost last (for lockdep and deadlock reports) */
  held: HeldLock[] = [];
  /** what the thread is doing now, for reports: the op index into its list */
  opIndex = -1;

  constructor(id: number, name: string, obj: number) {
    this.id = id;
    this.name = name;
    this.obj = obj;
  }

  get runnable(): boolean {
    return !this.done && this.blocked === null;
  }
}

export interface EngineViolation {
  id: string;
  step: number;
  thread: number | null;
  message: string;
  /** the op the thread was executing (index into its op list), -1 if none */
  opIndex: number;
}

export interface TraceEvent {
  step: number;
  /** thread id, -1 for events of no thread (e.g. a deadlock) */
  thread: number;
  text: string;
  /**
   * 'op' starts an op, 'result' ends it; 'log' is a kernel action; 'violation'
   * marks a broken promise; 'enter'/'exit' bracket a modelled kernel function
   * (text = its name); 'block' is the thread going to sleep (text = where);
   * 'wake' is this thread making thread `other` runnable.
   */
  kind: 'op' | 'log' | 'result' | 'violation' | 'enter' | 'exit' | 'block' | 'wake';
  /** for 'wake': the thread woken */
  other?: number;
}

export interface SimOptions {
  /** record trace events (off in fuzzing: a failing run is replayed to print it) */
  record: boolean;
  /** step budget; running out with runnable threads is a livelock */
  maxSteps: number;
  /** record each step's footprint (the objects it read and wrote) for partial-order reduction */
  track?: boolean;
}

export class Sim {
  readonly threads: SimThread[] = [];
  readonly lockdep: Lockdep;
  readonly opts: SimOptions;
  /** opts.record: callers test it before building a trace line */
  readonly rec: boolean;
  step = 0;
  current: SimThread | null = null;
  readonly trace: TraceEvent[] = [];
  readonly violations: EngineViolation[] = [];
  /** thread id chosen at each step, in order: the schedule */
  readonly choices: number[] = [];
  /** ids already reported once per run, with their key (WARN_ON_ONCE-like dedup) */
  private readonly reported = new Set<string>();
  /** a hook the kernel installs to check invariants after each step */
  afterStep: (() => void) | null = null;
  /** objects read and written by the step being run (only with opts.track) */
  readonly fpR: number[] = [];
  readonly fpW: number[] = [];
  private readonly tracking: boolean;
  private nextObj = 1;
  /** the strategy stopped the run early (an exploration pruned it) */
  aborted = false;

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.rec = opts.record;
    this.tracking = opts.track === true;
    this.lockdep = new Lockdep(this);
  }

  /** A fresh object id for a piece of shared state (a lock, a tree slot base, a block...). */
  obj(count = 1): number {
    const id = this.nextObj;
    this.nextObj += count;
    return id;
  }

  /**
   * Note that the running step reads (or writes) shared object `id`. Two steps
   * of different threads are dependent when one writes what the other touches;
   * the explorer reorders only independent steps.
   */
  touch(id: number, write: boolean): void {
    if (!this.tracking || this.current === null) return;
    (write ? this.fpW : this.fpR).push(id);
  }

  spawn(name: string, body: (t: SimThread) => ThreadBody): SimThread {
    const t = new SimThread(this.threads.length, name, this.obj());
    t.body = body(t);
    this.threads.push(t);
    return t;
  }

  /** The running thread. Only valid inside a thread body. */
  get me(): SimThread {
    const t = this.current;
    if (t === null) throw new Error('engine: no current thread');
    return t;
  }

  log(text: string, kind: TraceEvent['kind'] = 'log'): void {
    if (this.opts.record && this.current !== null) {
      this.trace.push({ step: this.step, thread: this.current.id, text, kind });
    }
  }

  /**
   * Report a broken promise. `key` deduplicates (default: id + message), so a
   * condition that holds for many steps is reported once.
   */
  violate(id: string, message: string, key?: string, thread: SimThread | null = this.current): void {
    const k = `${id}\u0000${key ?? message}`;
    if (this.reported.has(k)) return;
    this.reported.add(k);
    this.violations.push({ id, step: this.step, thread: thread ? thread.id : null, message, opIndex: thread ? thread.opIndex : -1 });
    if (this.opts.record) {
      this.trace.push({ step: this.step, thread: thread ? thread.id : -1, text: `${id}: ${message}`, kind: 'violation' });
    }
  }

  /** Mark the current thread asleep on `b`; the caller must `yield` next. */
  block(b: Blocker): void {
    this.me.blocked = b;
    if (this.rec) this.log(`waits in ${b.what}`, 'block');
  }

  /** Make a sleeping thread runnable (the waker's half of every primitive). */
  unblock(t: SimThread): void {
    t.blocked = null;
    this.touch(t.obj, true);
    if (this.opts.record && this.current !== null && this.current !== t) {
      this.trace.push({ step: this.step, thread: this.current.id, text: `wakes ${t.name}`, kind: 'wake', other: t.id });
    }
  }

  /**
   * A modelled kernel function call for the trace: bracketed by enter/exit
   * events when recording, the bare generator (no extra frame) otherwise.
   */
  fn<T>(name: string, body: Generator<void, T, void>): Generator<void, T, void> {
    return this.rec ? this.call(name, body) : body;
  }

  /** Run a modelled kernel function, bracketed by enter/exit trace events. */
  *call<T>(name: string, body: Generator<void, T, void>): Generator<void, T, void> {
    if (!this.opts.record) return yield* body;
    const t = this.me;
    this.trace.push({ step: this.step, thread: t.id, text: name, kind: 'enter' });
    const r = yield* body;
    this.trace.push({ step: this.step, thread: t.id, text: name, kind: 'exit' });
    return r;
  }

  /** Run to completion under `strategy`. */
  run(strategy: Strategy): void {
    let prev: SimThread | null = null;
    for (;;) {
      const runnable: SimThread[] = [];
      for (const t of this.threads) if (t.runnable) runnable.push(t);
      if (runnable.length === 0) {
        if (this.threads.some((t) => !t.done)) this.stuck();
        return;
      }
      if (this.step >= this.opts.maxSteps) {
        this.current = null;
        this.violate('livelock', `the step budget (${this.opts.maxSteps}) ran out while ${runnable.map((t) => t.name).join(', ')} ${runnable.length === 1 ? 'was' : 'were'} still runnable`);
        return;
      }
      const t = strategy.pick(runnable, prev, this);
      if (t === null) {
        this.aborted = true;
        return;
      }
      this.step++;
      this.choices.push(t.id);
      this.current = t;
      if (this.tracking) {
        this.fpR.length = 0;
        this.fpW.length = 0;
        this.fpR.push(t.obj);
      }
      const r = t.body!.next();
      if (r.done) {
        t.done = true;
        if (t.held.length > 0) {
          this.violate('kernel-warn', `${t.name} finished holding ${t.held.map((h) => h.name).join(', ')}`);
        }
      }
      this.current = null;
      prev = t;
      if (this.afterStep !== null) this.afterStep();
      if (strategy.stepped !== undefined) strategy.stepped(t, this);
    }
  }

  /** No thread can run but some are unfinished: a lost wakeup or a deadlock. */
  private stuck(): void {
    const sleepers = this.threads.filter((t) => !t.done);
    const lost = sleepers.filter((t) => t.blocked?.condition?.() === true);
    if (lost.length > 0) {
      for (const t of lost) {
        this.violate('lost-wakeup', `${t.name} sleeps in ${t.blocked!.what} though its condition is already true, and no thread is left to wake it`, undefined, t);
      }
      return;
    }
    const parts = sleepers.map((t) => {
      const h = t.blocked?.holder?.() ?? null;
      return `${t.name} waits in ${t.blocked!.what}${h ? ` (held by ${h.name})` : ''}`;
    });
    this.violate('deadlock', `every unfinished thread is blocked: ${parts.join('; ')}`, undefined, null);
  }
}
