// A fuzzing worker: loads the scenario once, then runs the chunks of seeds it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { loadScenarioFile } from '../scenario/load.js';
import { kernelFor } from '../check/run.js';
import { runChunk, type FuzzConfig } from '../check/fuzz.js';
import { vocabulary } from './vocab.js';

interface Init {
  file: string;
  kernel: string;
  cfg: FuzzConfig;
  shard: { i: number; n: number };
  k: number;
}

const init = workerData as Init;
const scn = loadScenarioFile(init.file, vocabulary());
const { flags } = kernelFor(scn, init.kernel);
parentPort!.on('message', (m: { start: number; end: number }) => {
  parentPort!.postMessage(runChunk(scn, flags, init.cfg, m.start, m.end, init.shard, init.k));
});
