// fallocate(2) mode 0 and FALLOC_FL_KEEP_SIZE on ext4 (src/kernel/fs/ext4.ts ext4Fallocate()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { buildRun, finishRun, kernelFor } from '../../src/check/run.js';
import { RandomStrategy } from '../../src/sim/strategy.js';
import type { Scenario } from '../../src/scenario/types.js';

function machine(scn: Scenario, kernel: string) {
  const { sim, model } = buildRun(scn, kernelFor(scn, kernel).flags, { record: true });
  finishRun(scn, sim, model, new RandomStrategy('0'));
  return { sim, k: model.k };
}

const scn = (ops: string, fs = 'ext4') => scenario(`
name: falloc
kernel: v4.7
fs: ${fs}
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
  maps: {m: {file: a}}
threads:
  t0:
${ops}
`);

test('the loader: fallocate takes file and page, pages defaults to 1, keep_size to false', () => {
  const op = scn('    - fallocate: {file: a, page: 1}').threads[0]!.ops[0]!;
  assert.deepEqual({ ...op, pos: undefined }, { kind: 'fallocate', file: 'a', page: 1, pages: 1, keep_size: false, pos: undefined });
});

test('mode 0: unwritten extents under inode_lock and i_size extended page by page; reads and read faults see zeros; KEEP_SIZE leaves i_size', () => {
  for (const kernel of ['v4.6', 'v4.7', 'v4.9', 'v4.10', 'v4.12']) {
    const s = scn('    - fallocate: {file: a, page: 1, pages: 2, expect: [ok]}\n    - read: {file: a, page: 2, expect: [0]}\n    - load: {map: m, page: 1, expect: [0]}');
    const { sim, k } = machine(s, kernel);
    assert.deepEqual(sim.violations, [], kernel);
    const a = k.inode('a');
    assert.equal(a.peekSize(), 3, kernel);
    // v4.6's ext4_dax_mmap_get_block() converts (and zeroes) an unwritten extent even for a read fault
    assert.deepEqual([a.extents.peek(1)?.unwritten, a.extents.peek(2)?.unwritten], [kernel !== 'v4.6', true], kernel);
    assert.ok(inOrder(events(run(s, { kernel, seed: '0', record: true })), ['t0: down_write(i_rwsem a)', 't0: ext4_alloc_file_blocks(a:1) -> unwritten blk 1 (new)', 't0: i_size_write(a, 2)', 't0: ext4_alloc_file_blocks(a:2)', 't0: i_size_write(a, 3)', 't0: up_write(i_rwsem a)']), kernel);
    const keep = machine(scn('    - fallocate: {file: a, page: 1, keep_size: true}'), kernel).k.inode('a');
    assert.deepEqual([keep.peekSize(), keep.extents.peek(1)?.unwritten], [1, true], kernel);
  }
});

test('a store into a fallocated page converts and zeroes the unwritten extent in its write fault; an existing written extent is left alone', () => {
  for (const kernel of ['v4.7', 'v4.9', 'v4.10', 'v4.12']) {
    const { sim, k } = machine(scn('    - fallocate: {file: a, page: 0, pages: 2}\n    - store: {map: m, page: 1, value: "x"}\n    - load: {map: m, page: 0, expect: ["A"]}'), kernel);
    assert.deepEqual(sim.violations, [], kernel);
    const a = k.inode('a');
    assert.deepEqual([a.extents.peek(0)?.unwritten, a.extents.peek(1)?.unwritten], [false, false], kernel);
    assert.equal(k.pmem.block(a.extents.peek(1)!.block).peekContent(), 'x', kernel);
  }
});

test('ext2 has no ->fallocate: EOPNOTSUPP', () => {
  assert.deepEqual(run(scn('    - fallocate: {file: a, page: 1, expect: [EOPNOTSUPP]}', 'ext2'), { kernel: 'v4.7', seed: '0' }).violations, []);
});
