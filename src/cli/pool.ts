// Runs chunks of seeds in order on J workers (worker_threads) or in-process
// (J = 1). Results come back per chunk; the caller decides when to stop, and
// because chunks are whole and ordered, what it reports is the same for any J.
import { Worker } from 'node:worker_threads';
import type { ChunkResult, FuzzConfig } from '../check/fuzz.js';
import { runChunk } from '../check/fuzz.js';
import type { Scenario } from '../scenario/types.js';
import type { Flags } from '../kernel/versions.js';

export interface PoolJob {
  file: string;
  scn: Scenario;
  kernel: string;
  flags: Flags;
  cfg: FuzzConfig;
  shard: { i: number; n: number };
  k: number;
  runs: number;
  chunk: number;
}

/**
 * Calls `onChunk` with chunk results in seed order. `onChunk` returns false to
 * stop: no chunk after that one is reported (chunks already running finish
 * or are dropped). `shouldStop` is polled between chunks (time limit, Ctrl-C).
 */
export async function runChunks(job: PoolJob, jobs: number, onChunk: (r: ChunkResult) => boolean, shouldStop: () => boolean): Promise<void> {
  const bounds: [number, number][] = [];
  for (let s = 0; s < job.runs; s += job.chunk) bounds.push([s, Math.min(job.runs, s + job.chunk)]);
  if (jobs <= 1) {
    for (const [a, b] of bounds) {
      if (shouldStop()) return;
      if (!onChunk(runChunk(job.scn, job.flags, job.cfg, a, b, job.shard, job.k))) return;
      await new Promise((r) => setImmediate(r)); // let signals and the progress line through
    }
    return;
  }
  const url = new URL('./fuzz-worker.js', import.meta.url);
  const workers = Array.from({ length: jobs }, () => new Worker(url, { workerData: { file: job.file, kernel: job.kernel, cfg: job.cfg, shard: job.shard, k: job.k } }));
  const results = new Map<number, ChunkResult>();
  let nextToSend = 0;
  let nextToReport = 0;
  let stopped = false;
  try {
    await new Promise<void>((resolve, reject) => {
      let busy = 0;
      const send = (w: Worker) => {
        if (stopped || shouldStop() || nextToSend >= bounds.length) {
          if (busy === 0) resolve();
          return;
        }
        const i = nextToSend++;
        busy++;
        w.once('message', (r: ChunkResult) => {
          busy--;
          results.set(i, r);
          while (!stopped && results.has(nextToReport)) {
            const rr = results.get(nextToReport)!;
            results.delete(nextToReport);
            nextToReport++;
            if (!onChunk(rr)) stopped = true;
          }
          send(w);
        });
        w.postMessage({ start: bounds[i]![0], end: bounds[i]![1] });
      };
      for (const w of workers) {
        w.on('error', reject);
        send(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
