// read(2)/write(2) on an ext4 DAX file (src/kernel/rw.ts) against the behaviour of
// the real v4.6 and v4.7 code (notes/kernel-rw-writeback.md §A).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { buildRun, finishRun, kernelFor } from '../../src/check/run.js';
import { exploreScenario } from '../../src/check/explore.js';
import { RandomStrategy, ReplayStrategy } from '../../src/sim/strategy.js';
import { Sim } from '../../src/sim/engine.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { checkers } from '../../src/check/invariants.js';
import { ext4DaxGetBlockV47 } from '../../src/kernel/fs/ext4.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { vocabulary } from '../../src/cli/vocab.js';
import type { Bh } from '../../src/kernel/fault.js';
import type { Scenario } from '../../src/scenario/types.js';

const KERNELS = ['v4.6', 'v4.7'] as const;

/** Run a scenario once (seed 0) and return the machine afterwards, for looking at extents and blocks. */
function machine(scn: Scenario, kernel: string) {
  const { sim, model } = buildRun(scn, kernelFor(scn, kernel).flags, { record: true });
  finishRun(scn, sim, model, new RandomStrategy('0'));
  return { sim, k: model.k };
}

const ONE_WRITE = `
name: one-write
kernel: v4.6
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t0:
    - write: {file: a, page: 0, value: "X", expect: [ok]}
final:
  files: {a: {0: "X"}}
`;

test('v4.6: write(2) inside i_size allocates an unwritten extent, copies into it, then converts it (ext4_ext_direct_IO)', () => {
  const r = run(scenario(ONE_WRITE), { kernel: 'v4.6', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  const ev = events(r);
  assert.ok(inOrder(ev, [
    't0: down_write(i_rwsem a)',
    't0: get_block(a:0, create) -> unwritten blk 0 (new)',
    't0: copy_from_iter_pmem(a:0 -> blk 0) = X',
    't0: wmb_pmem()',
    't0: ext4_convert_unwritten_extents(a:0) -> blk 0 converted',
    't0: up_write(i_rwsem a)',
    't0: write -> ok',
  ]), ev.join('\n'));
  const { k } = machine(scenario(ONE_WRITE), 'v4.6');
  assert.deepEqual(k.inode('a').extents.peek(0), { block: 0, unwritten: false });
  assert.equal(k.pmem.block(0).peekMedia(), 'X');
});

test('v4.7: write(2) inside i_size maps a pre-zeroed written block with ext4_dax_get_block() before the copy; nothing is converted after (12735f881952)', () => {
  const r = run(scenario(ONE_WRITE), { kernel: 'v4.7', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  const ev = events(r);
  // ext4_get_block_trans(PRE_IO | CREATE_ZERO) allocates unwritten; the DAX get_block converts
  // and zeroes it (CONVERT | CREATE_ZERO) before returning a written block (BH_New cleared)
  assert.ok(inOrder(ev, [
    't0: get_block(a:0, create) -> blk 0',
    't0: copy_from_iter_pmem(a:0 -> blk 0) = X',
    't0: write -> ok',
  ]), ev.join('\n'));
  assert.ok(!ev.some((e) => e.includes('ext4_convert_unwritten_extents') || e.includes('wmb_pmem')), ev.join('\n'));
  // the get_block itself: the block is written and zeroed when it returns (it held stale@0)
  const scn = scenario(ONE_WRITE);
  const sim = new Sim({ record: false, maxSteps: 1000 });
  const model = new Kernel(sim, scn, kernelFor(scn, 'v4.7').flags, checkers);
  assert.equal(model.k.pmem.block(0).peekMedia(), 'stale@0');
  let bh: Bh | number = -1;
  sim.spawn('t', () => (function* () {
    bh = yield* ext4DaxGetBlockV47(model.k, model.k.inode('a'), 0, true);
  })());
  sim.run(new RandomStrategy('0'));
  assert.deepEqual(bh, { mapped: true, unwritten: false, isNew: false, block: 0 });
  assert.equal(model.k.pmem.block(0).peekMedia(), 0);
  assert.deepEqual(model.k.inode('a').extents.peek(0), { block: 0, unwritten: false });
});

test('v4.7: a write(2) over an unwritten extent converts and zeroes it first; v4.6 copies into it and converts after', () => {
  const text = ONE_WRITE.replace('a: {pages: 1}', 'a: {pages: 1, unwritten: [0]}');
  const v47 = events(run(scenario(text), { kernel: 'v4.7', seed: '0', record: true }));
  assert.ok(inOrder(v47, ['t0: ext4_dax_get_block(a:0): unwritten blk 0 converted to written and zeroed', 't0: get_block(a:0, create) -> blk 0', 't0: copy_from_iter_pmem']), v47.join('\n'));
  const v46 = events(run(scenario(text), { kernel: 'v4.6', seed: '0', record: true }));
  assert.ok(inOrder(v46, ['t0: get_block(a:0, create) -> unwritten blk 0', 't0: copy_from_iter_pmem', 't0: ext4_convert_unwritten_extents(a:0) -> blk 0 converted']), v46.join('\n'));
});

test('v4.7 with ext4 still allocating unwritten extents for DAX writes: dax_io() WARNs (069c77bc9eae)', () => {
  const text = ONE_WRITE.replace('kernel: v4.6', 'kernel: {base: v4.7, ext4_dax_io_prezero: false}');
  const r = run(scenario(text), { seed: '0' });
  assert.deepEqual(r.violations.map((v) => v.id), ['kernel-warn']);
  assert.match(r.violations[0]!.message, /in dax_io\(\): get_block\(a:0\) returned unwritten blk 0 \(new\)/);
});

test('read(2) of a hole or an unwritten extent returns zeros and converts nothing, in both versions', () => {
  const text = `
name: read-holes
kernel: v4.6
setup:
  files: {a: {pages: 2, unwritten: [1]}}
  maps: {m: {file: a}}
threads:
  t0:
    - read: {file: a, page: 0, expect: [0]}
    - read: {file: a, page: 1, expect: [0]}
`;
  for (const kernel of KERNELS) {
    const r = run(scenario(text), { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, ['t0: iov_iter_zero(a:0): hole reads as zeros', 't0: iov_iter_zero(a:1): unwritten extent reads as zeros']), ev.join('\n'));
    const { k } = machine(scenario(text), kernel);
    assert.equal(k.inode('a').extents.peek(0), undefined, 'no block allocated by a read');
    assert.equal(k.inode('a').extents.peek(1)?.unwritten, true, 'the unwritten extent stays unwritten');
  }
});

test('read(2) at or past EOF returns 0 bytes (EOF): dax_io() clamps a read to i_size', () => {
  const text = `
name: read-eof
kernel: v4.6
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
  maps: {m: {file: a}}
threads:
  t0:
    - read: {file: a, page: 1, expect: [EOF]}
    - read: {file: a, page: 0, expect: ["A"]}
`;
  for (const kernel of KERNELS) assert.deepEqual(run(scenario(text), { kernel, seed: '0' }).violations, [], kernel);
});

test('write(2) past EOF: ext4_dio_get_block allocates a written block (not zeroed, BH_New), the copy fills it, then i_size grows', () => {
  const text = `
name: extend
kernel: v4.6
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t0:
    - write: {file: a, page: 2, value: "X", expect: [ok]}
    - read: {file: a, page: 2, expect: ["X"]}
    - read: {file: a, page: 1, expect: [0]}
    - load: {map: m, page: 2, expect: ["X"]}
`;
  for (const kernel of KERNELS) {
    const r = run(scenario(text), { kernel, seed: '0', record: true });
    // no WARN in v4.7 either: "We allow uninitialized buffers for writes beyond EOF as those cannot race with faults"
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, ['t0: get_block(a:2, create) -> blk 0 (new)', 't0: copy_from_iter_pmem(a:2 -> blk 0) = X', 't0: i_size_write(a, 3)', 't0: write -> ok']), ev.join('\n'));
    assert.equal(machine(scenario(text), kernel).k.inode('a').peekSize(), 3);
  }
});

test('read(2) sees a store still in the CPU cache, and its filemap_write_and_wait_range() writes the line back', () => {
  const text = `
name: store-then-read
kernel: v4.6
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
  maps: {m: {file: a}}
threads:
  t0:
    - store: {map: m, page: 0, value: "B"}
    - read: {file: a, page: 0, expect: ["B"]}
final:
  crash: true
  files: {a: {0: "B"}}
`;
  for (const kernel of KERNELS) {
    const r = run(scenario(text), { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, ['t0: read a:0', 't0: tag_pages_for_writeback(a): TOWRITE on 0', 't0: dax_writeback_one(a:0): wb_cache_pmem(blk 0) -> line written back', 't0: copy_to_iter(a:0 <- blk 0) = B']), ev.join('\n'));
  }
});

test('write(2) over a hole page mapped by a read fault: generic_file_direct_write() unmaps and drops it, so the mapping sees the data', () => {
  const text = `
name: write-over-hole-page
kernel: v4.6
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t0:
    - load: {map: m, page: 0, expect: [0]}
    - write: {file: a, page: 0, value: "X", expect: [ok]}
    - load: {map: m, page: 0, expect: ["X"]}
`;
  for (const kernel of KERNELS) {
    const r = run(scenario(text), { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, ['t0: write a:0 X', 't0: unmap_mapping_range(a:0)', 't0: invalidate_complete_page2(hole page #1)', 't0: copy_from_iter_pmem(a:0 -> blk 0) = X', 't0: load m:0 = X']), ev.join('\n'));
  }
});

test('12735f881952: write(2) vs a fault on the same hole — v4.6 loses the data (final-state), v4.7 is clean; DPOR proves both', () => {
  const scn = loadScenarioFile('scenarios/ext4-dax-io-vs-fault-unwritten-conversion.yaml', vocabulary());
  const v46 = exploreScenario(scn, { kernel: 'v4.6' });
  assert.ok(v46.complete);
  assert.deepEqual([...v46.tokens.keys()], ['final-state']);
  const v47 = exploreScenario(scn, { kernel: 'v4.7' });
  assert.ok(v47.complete);
  assert.deepEqual([...v47.tokens.keys()], []);
  // the commit's diagram: allocate unwritten, copy, the fault converts and zeroes, the conversion finds it written
  const { sim } = (() => {
    const { sim, model } = buildRun(scn, kernelFor(scn, 'v4.6').flags, { record: true });
    finishRun(scn, sim, model, new ReplayStrategy(v46.tokens.get('final-state')!));
    return { sim };
  })();
  const ev = sim.trace.map((e) => `${e.thread >= 0 ? scn.threads[e.thread]!.name : '-'}: ${e.text}`);
  assert.ok(inOrder(ev, [
    'writer: get_block(a:0, create) -> unwritten blk 0 (new)',
    'writer: copy_from_iter_pmem(a:0 -> blk 0) = X',
    'faulter: ext4_dax_mmap_get_block(a:0): unwritten blk 0 converted to written and zeroed',
    'writer: ext4_convert_unwritten_extents(a:0) -> blk 0 already written',
    '-: final-state: a:0 holds 0 after the run, expected X',
  ]), ev.join('\n'));
});
