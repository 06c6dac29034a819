// The CPU cache model, dirty/towrite tags, fsync/msync writeback and crash
// (src/kernel/pmem.ts, radix-tree.ts, writeback.ts) against the v4.6/v4.7 code
// (notes/kernel-rw-writeback.md §B).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario, seen } from '../helpers.js';
import { buildRun, finishRun, kernelFor } from '../../src/check/run.js';
import { exploreScenario } from '../../src/check/explore.js';
import { RandomStrategy } from '../../src/sim/strategy.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { vocabulary } from '../../src/cli/vocab.js';
import { PAGECACHE_TAG_DIRTY } from '../../src/kernel/radix-tree.js';
import type { Scenario } from '../../src/scenario/types.js';

const KERNELS = ['v4.6', 'v4.7'] as const;
const DIRTY = 1 << PAGECACHE_TAG_DIRTY;

/** DPOR explorations of the bundled scenarios, each run once for all the tests that need it. */
const explored = new Map<string, ReturnType<typeof exploreScenario>>();
function explore(file: string, kernel: string) {
  const key = `${file} ${kernel}`;
  let r = explored.get(key);
  if (r === undefined) explored.set(key, (r = exploreScenario(loadScenarioFile(file, vocabulary()), { kernel })));
  return r;
}

function machine(scn: Scenario, kernel: string, seed = '0') {
  const { sim, model } = buildRun(scn, kernelFor(scn, kernel).flags, { record: true });
  finishRun(scn, sim, model, new RandomStrategy(seed));
  return { sim, k: model.k };
}

function oneThread(ops: string, final = '', files = 'a: {pages: 1, written: {0: "A"}}'): Scenario {
  return scenario(`
name: one
kernel: v4.6
setup:
  files: {${files}}
  maps: {m: {file: a}}
threads:
  t0:
${ops}
${final}`);
}

test('a store dirties a cache line: loads see the new value, the media keeps the old one until fsync writes it back', () => {
  for (const kernel of KERNELS) {
    const noSync = machine(oneThread('    - store: {map: m, page: 0, value: "B"}\n    - load: {map: m, page: 0, expect: ["B"]}'), kernel);
    assert.deepEqual(noSync.sim.violations, [], kernel);
    const b = noSync.k.pmem.block(0);
    assert.deepEqual([b.peekLine(), b.peekMedia(), b.peekContent()], ['B', 'A', 'B'], kernel);
    const synced = machine(oneThread('    - store: {map: m, page: 0, value: "B"}\n    - fsync: {file: a, expect: [ok]}'), kernel);
    assert.deepEqual(synced.sim.violations, [], kernel);
    assert.deepEqual([synced.k.pmem.block(0).peekLine(), synced.k.pmem.block(0).peekMedia()], [null, 'B'], kernel);
  }
});

test('fsync: DIRTY is copied to TOWRITE, wb_cache_pmem() writes the entry\'s block back, TOWRITE is cleared, DIRTY never is (v4.6-v4.9)', () => {
  const scn = oneThread('    - store: {map: m, page: 0, value: "B"}\n    - fsync: {file: a}\n    - fsync: {file: a}');
  for (const kernel of KERNELS) {
    const r = run(scn, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, [
      't0: fsync a',
      't0: tag_pages_for_writeback(a): TOWRITE on 0',
      't0: dax_writeback_one(a:0): wb_cache_pmem(blk 0) -> line written back, media = B',
      't0: dax_writeback_one(a:0): TOWRITE cleared',
      't0: fsync -> ok',
      // the second fsync flushes the entry again: DIRTY stayed set
      't0: fsync a',
      't0: tag_pages_for_writeback(a): TOWRITE on 0',
      't0: dax_writeback_one(a:0): wb_cache_pmem(blk 0) -> no dirty line',
      't0: fsync -> ok',
    ]), ev.join('\n'));
    assert.equal(machine(scn, kernel).k.inode('a').mapping.tree.peekTags(0), DIRTY, kernel);
  }
});

test('DIRTY tags: a read fault inserts a clean entry; a write fault, or the pfn_mkwrite of a store, tags it', () => {
  for (const kernel of KERNELS) {
    const tags = (ops: string) => machine(oneThread(ops), kernel).k.inode('a').mapping.tree.peekTags(0);
    assert.equal(tags('    - fault: {map: m, page: 0}'), 0, `${kernel}: read fault`);
    // v4.6 dax_radix_entry(..., dirty); v4.7 dax_insert_mapping_entry() for FAULT_FLAG_WRITE
    assert.equal(tags('    - fault: {map: m, page: 0, write: true}'), DIRTY, `${kernel}: write fault`);
    // v4.6 dax_pfn_mkwrite() -> dax_radix_entry(NO_SECTOR, dirty); v4.7 dax_pfn_mkwrite() tags the unlocked entry
    assert.equal(tags('    - fault: {map: m, page: 0}\n    - store: {map: m, page: 0, value: "B"}'), DIRTY, `${kernel}: read fault, then a store`);
  }
  const v47 = events(run(oneThread('    - fault: {map: m, page: 0}\n    - store: {map: m, page: 0, value: "B"}'), { kernel: 'v4.7', seed: '0', record: true }));
  assert.ok(inOrder(v47, ['t0: store m:0 B', 't0: dax_pfn_mkwrite(a:0): entry tagged DIRTY', 't0: wp_page_reuse: m:0 -> blk 0 rw', 't0: store m:0 = B']), v47.join('\n'));
});

test('msync(MS_SYNC) flushes the mapped file like fsync (vfs_fsync_range of the VMA\'s range)', () => {
  const scn = oneThread('    - store: {map: m, page: 0, value: "B"}\n    - msync: {map: m, expect: [ok]}', 'final:\n  crash: true\n  files: {a: {0: "B"}}');
  for (const kernel of KERNELS) {
    const r = run(scn, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    assert.ok(inOrder(events(r), ['t0: msync m', 't0: dax_writeback_one(a:0): wb_cache_pmem(blk 0) -> line written back', 't0: msync -> ok']));
  }
});

test('a crash drops every line not written back: final-state then compares against the media', () => {
  const scn = oneThread('    - store: {map: m, page: 0, value: "B"}', 'final:\n  crash: true\n  files: {a: {0: "B"}}');
  for (const kernel of KERNELS) {
    const r = run(scn, { kernel, seed: '0' });
    assert.deepEqual(r.violations.map((v) => [v.id, v.message]), [['final-state', 'a:0 holds A after the crash, expected B']], kernel);
  }
  // without the crash the content is what a load sees
  const noCrash = oneThread('    - store: {map: m, page: 0, value: "B"}', 'final:\n  files: {a: {0: "B"}}');
  for (const kernel of KERNELS) assert.deepEqual(run(noCrash, { kernel, seed: '0' }).violations, [], kernel);
});

test('write(2) copies with non-temporal stores: no dirty line is left, the data is on the media when write returns', () => {
  // an overwrite: a block allocated by the write would be lost with its uncommitted transaction (journal.ts)
  const scn = oneThread('    - write: {file: a, page: 0, value: "X"}', 'final:\n  crash: true\n  files: {a: {0: "X"}}');
  for (const kernel of KERNELS) {
    const { sim, k } = machine(scn, kernel);
    assert.deepEqual(sim.violations, [], kernel);
    assert.equal(k.pmem.block(0).peekLine(), null);
  }
});

test('lost-write covers only what completed before the sync started: a store racing one fsync is clean (DPOR)', () => {
  const scn = scenario(`
name: store-vs-fsync
kernel: v4.6
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
  maps: {m: {file: a}}
threads:
  writer:
    - store: {map: m, page: 0, value: "B"}
  syncer:
    - fsync: {file: a}
final:
  crash: true
`);
  for (const kernel of KERNELS) {
    const r = exploreScenario(scn, { kernel });
    assert.ok(r.complete, kernel);
    assert.deepEqual([...r.tokens.keys()], [], kernel);
  }
});

test('the bundled writeback scenarios are proved by DPOR: store+fsync durable, store without fsync lost, two fsyncs can skip a flush', () => {
  const cases: Array<[string, string[]]> = [
    ['scenarios/mmap-store-fsync-crash.yaml', []],
    ['scenarios/mmap-store-no-fsync-crash.yaml', []],
    ['scenarios/dax-writeback-concurrent-fsync-skips-flush.yaml', ['lost-write']],
  ];
  for (const [file, ids] of cases) {
    for (const kernel of KERNELS) {
      const r = explore(file, kernel);
      assert.ok(r.complete, `${file} ${kernel}`);
      assert.deepEqual([...r.tokens.keys()].sort(), ids, `${file} ${kernel}`);
    }
  }
});

test('two fsyncs and a store: the second fsync finds TOWRITE cleared by the first, whose flush ran before the store, and skips it', () => {
  const file = 'scenarios/dax-writeback-concurrent-fsync-skips-flush.yaml';
  const scn = loadScenarioFile(file, vocabulary());
  for (const kernel of KERNELS) {
    const token = explore(file, kernel).tokens.get('lost-write')!;
    const r = run(scn, { kernel, schedule: token, record: true });
    const ev = events(r);
    assert.ok(inOrder(ev, [
      'syncer: tag_pages_for_writeback(a): TOWRITE on 0',
      'syncer: dax_writeback_one(a:0): wb_cache_pmem(blk 0) -> no dirty line',
      'writer: store m:0 = B',
      'writer: fsync a',
      'syncer: dax_writeback_one(a:0): TOWRITE cleared',
      'writer: dax_writeback_one(a:0): TOWRITE already clear',
      'writer: fsync -> ok',
    ]), `${kernel}\n${ev.join('\n')}`);
    assert.match(r.violations[0]!.message, /^a:0 holds A after the crash, but B, written there by step \d+, was covered by writer's fsync of a/);
  }
});

test('v4.7: dax_writeback_one() compares the slot with its lock bit; an entry a fault locked meanwhile is skipped, left TOWRITE and retried', () => {
  const scn = scenario(`
name: fsync-vs-fault
kernel: v4.7
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
  maps: {m: {file: a}, n: {file: a}}
threads:
  writer:
    - store: {map: m, page: 0, value: "B"}
    - fsync: {file: a}
  faulter:
    - fault: {map: n, page: 0, write: true}
final:
  crash: true
  files: {a: {0: "B"}}
`);
  assert.deepEqual([...seen(scn, 'v4.7', 300).keys()], []);
  let shown = false;
  for (let s = 0; s < 2000 && !shown; s++) {
    const ev = events(run(scn, { kernel: 'v4.7', seed: String(s), record: true }));
    const skip = ev.findIndex((e) => e.startsWith('writer: dax_writeback_one(a:0): *slot != entry'));
    if (skip < 0) continue;
    shown = true;
    assert.ok(ev.slice(skip).some((e) => e.startsWith('writer: dax_writeback_one(a:0): wb_cache_pmem(blk 0)')), ev.join('\n'));
  }
  assert.ok(shown, 'some schedule shows the skip');
  assert.ok(exploreScenario(scn, { kernel: 'v4.7' }).violations.length === 0);
});
