// `run --trace-out FILE.json`: the run in the Chrome Trace Event format that
// ui.perfetto.dev and chrome://tracing open
// (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU).
//
// Time is the scheduler's: step s spans [s*1000, (s+1)*1000) µs, so one step
// shows as 1 ms. The events of one step (all the running thread's) are spread
// evenly inside it in trace order, so slices nest exactly as the kernel calls
// did:
//   - one pid per run (`process_name` M event), one tid per simulated thread
//     (`thread_name` M events; tid = thread index + 1);
//   - each op an X slice from the start of its step to the end of the step of
//     its result (at least one step); a run that ends first closes it there;
//   - each modelled kernel function (enter/exit events) a nested X slice;
//   - each sleep (block event) an X slice "waits in …" until the thread's next
//     event, so lock and wait-queue waits show as gaps with a name;
//   - kernel log lines as thread-scoped instant events (cat `log`);
//   - violations as instant events (cat `violation`; global when no thread);
//   - each wakeup a flow arrow: `s` on the waker, `f` (bp `e`) where the woken
//     thread runs next.
import type { RunResult } from '../check/run.js';
import type { TraceEvent } from '../sim/engine.js';

export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'i' | 'M' | 's' | 'f';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 'g' | 'p' | 't';
  id?: number;
  bp?: 'e';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, unknown>;
}

const STEP_US = 1000;
const PID = 1;

/** Microseconds, rounded to the nanosecond so the JSON holds short numbers. */
function us(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function toChromeTrace(r: RunResult, daxsim: string): ChromeTrace {
  const trace = r.trace;
  // Each event's time: step start + its rank among the step's events.
  const ts: number[] = new Array(trace.length);
  for (let i = 0; i < trace.length;) {
    let j = i;
    while (j < trace.length && trace[j]!.step === trace[i]!.step) j++;
    const n = j - i;
    // Whole microseconds while a step holds at most 1000 events, so equal times compare equal.
    for (let k = i; k < j; k++) ts[k] = trace[i]!.step * STEP_US + (n <= STEP_US ? Math.floor(((k - i) * STEP_US) / n) : us(((k - i) * STEP_US) / n));
    i = j;
  }
  const endOfRun = (Math.max(r.steps, trace.length ? trace[trace.length - 1]!.step : 0) + 1) * STEP_US;
  const tid = (t: number): number => t + 1;
  const own = (e: TraceEvent): boolean => e.kind !== 'violation';
  // The index of each event's thread's next own event (-1 if none).
  const nextOwn: number[] = new Array(trace.length).fill(-1);
  const lastSeen = new Map<number, number>();
  for (let i = trace.length - 1; i >= 0; i--) {
    const e = trace[i]!;
    nextOwn[i] = lastSeen.get(e.thread) ?? -1;
    if (own(e)) lastSeen.set(e.thread, i);
  }

  const out: ChromeTraceEvent[] = [];
  const label = r.seed !== null ? `seed ${r.seed}` : `schedule ${r.schedule}`;
  out.push({ name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: `${r.scenario} on ${r.kernel}, ${label}` } });
  r.threads.forEach((name, t) => out.push({ name: 'thread_name', ph: 'M', pid: PID, tid: tid(t), args: { name } }));

  const slices: Array<ChromeTraceEvent & { depth: number }> = [];
  const stacks = new Map<number, Array<{ name: string; cat: string; start: number; args: Record<string, unknown> }>>();
  const stackOf = (t: number) => {
    let s = stacks.get(t);
    if (!s) stacks.set(t, (s = []));
    return s;
  };
  const close = (t: number, end: number, args: Record<string, unknown> = {}) => {
    const s = stackOf(t);
    const f = s.pop();
    if (!f) return;
    slices.push({ name: f.name, cat: f.cat, ph: 'X', pid: PID, tid: tid(t), ts: f.start, dur: us(Math.max(0, end - f.start)), args: { ...f.args, ...args }, depth: s.length });
  };
  let vi = 0;
  let flow = 0;
  const ops = new Map<number, number>(); // thread -> op index within its list (count of ops started)
  // Wakeups waiting for the woken thread's next event: thread -> the wake events' indices.
  const pending = new Map<number, number[]>();
  for (let i = 0; i < trace.length; i++) {
    const e = trace[i]!;
    const at = ts[i]!;
    const waits = own(e) ? pending.get(e.thread) : undefined;
    if (waits) {
      pending.delete(e.thread);
      for (const w of waits) {
        const we = trace[w]!;
        flow++;
        out.push({ name: 'wakeup', cat: 'wake', ph: 's', id: flow, pid: PID, tid: tid(we.thread), ts: ts[w]!, args: { step: we.step, woken: r.threads[e.thread] } });
        out.push({ name: 'wakeup', cat: 'wake', ph: 'f', bp: 'e', id: flow, pid: PID, tid: tid(e.thread), ts: at, args: { step: e.step } });
      }
    }
    switch (e.kind) {
      case 'op': {
        const n = ops.get(e.thread) ?? 0;
        ops.set(e.thread, n + 1);
        stackOf(e.thread).push({ name: e.text, cat: 'op', start: at, args: { step: e.step, op: n } });
        break;
      }
      case 'result': {
        // Close anything a model left open inside the op, then the op itself at the end of this step.
        const s = stackOf(e.thread);
        while (s.length > 0 && s[s.length - 1]!.cat !== 'op') close(e.thread, at);
        const k = nextOwn[i]!;
        close(e.thread, Math.min((e.step + 1) * STEP_US, k >= 0 ? ts[k]! : Infinity), { result: e.text });
        break;
      }
      case 'enter':
        stackOf(e.thread).push({ name: e.text, cat: 'kernel', start: at, args: { step: e.step } });
        break;
      case 'exit': {
        const s = stackOf(e.thread);
        if (s.length > 0 && s[s.length - 1]!.cat === 'kernel' && s[s.length - 1]!.name === e.text) close(e.thread, at);
        break;
      }
      case 'block': {
        const k = nextOwn[i]!;
        const end = k >= 0 ? ts[k]! : endOfRun;
        slices.push({ name: e.text, cat: 'wait', ph: 'X', pid: PID, tid: tid(e.thread), ts: at, dur: us(end - at), args: { step: e.step }, depth: stackOf(e.thread).length });
        break;
      }
      case 'wake': {
        // The arrow is drawn when the woken thread next runs; if it never does, there is none.
        if (e.other !== undefined && e.other !== e.thread) {
          const list = pending.get(e.other);
          if (list) list.push(i);
          else pending.set(e.other, [i]);
        }
        break;
      }
      case 'log':
        out.push({ name: e.text, cat: 'log', ph: 'i', s: 't', pid: PID, tid: tid(e.thread), ts: at, args: { step: e.step } });
        break;
      case 'violation': {
        const v = r.violations[vi];
        const matches = v !== undefined && e.text.startsWith(`${v.id}: `);
        if (matches) vi++;
        const id = matches ? v.id : e.text.slice(0, Math.max(0, e.text.indexOf(':')));
        const args: Record<string, unknown> = { step: e.step, message: matches ? v.message : e.text };
        if (matches && v.op) {
          args.file = r.file;
          args.line = v.op.pos.line;
          args.col = v.op.pos.col;
        }
        if (e.thread >= 0) out.push({ name: `✗ ${id}`, cat: 'violation', ph: 'i', s: 't', pid: PID, tid: tid(e.thread), ts: at, args });
        else out.push({ name: `✗ ${id}`, cat: 'violation', ph: 'i', s: 'g', pid: PID, tid: 0, ts: at, args });
        break;
      }
    }
  }
  // A run that ended in a deadlock or livelock leaves functions and ops open: close them at the end.
  for (const [t, s] of [...stacks].sort((a, b) => a[0] - b[0])) while (s.length > 0) close(t, endOfRun, { unfinished: true });

  // Parents before children: by thread, start, then depth.
  slices.sort((a, b) => a.tid - b.tid || a.ts! - b.ts! || a.depth - b.depth);
  const xs: ChromeTraceEvent[] = slices.map(({ depth, ...x }) => (void depth, x));
  return {
    traceEvents: [...out.filter((e) => e.ph === 'M'), ...xs, ...out.filter((e) => e.ph !== 'M')],
    displayTimeUnit: 'ms',
    otherData: { daxsim, scenario: r.scenario, file: r.file, kernel: r.kernel, seed: r.seed, schedule: r.schedule, steps: r.steps, stepMicroseconds: STEP_US },
  };
}

/** The file's text: one event per line, so it diffs well and stays valid JSON. */
export function chromeTraceJson(t: ChromeTrace): string {
  const events = t.traceEvents.map((e) => JSON.stringify(e)).join(',\n');
  const other = JSON.stringify(t.otherData);
  return `{"traceEvents":[\n${events}\n],\n"displayTimeUnit":${JSON.stringify(t.displayTimeUnit)},\n"otherData":${other}}\n`;
}
