// read(2)/write(2) on ext4 DAX from v4.10 (src/kernel/rw-iomap.ts): ext4_dax_read_iter() /
// ext4_dax_write_iter() -> dax_iomap_rw() -> ext4_iomap_begin()/dax_iomap_actor()/
// ext4_iomap_end(), against notes/kernel-rw-writeback.md A.4–A.8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { buildRun, finishRun, kernelFor } from '../../src/check/run.js';
import { RandomStrategy } from '../../src/sim/strategy.js';
import { FLAGS, findProfile } from '../../src/kernel/versions.js';
import type { Scenario } from '../../src/scenario/types.js';

function machine(scn: Scenario, kernel: string, seed = '0') {
  const { sim, model } = buildRun(scn, kernelFor(scn, kernel).flags, { record: true });
  finishRun(scn, sim, model, new RandomStrategy(seed));
  return { sim, k: model.k };
}

function oneThread(ops: string, files = 'a: {pages: 2, written: {0: "A"}}', final = ''): Scenario {
  return scenario(`
name: one
kernel: v4.10
setup:
  files: {${files}}
  maps: {m: {file: a}}
threads:
  t0:
${ops}
${final}`);
}

test('profiles: ext4 DAX read/write through dax_iomap_rw from v4.10, the exclusive write lock from v4.12 (v4.11 has no profile), the invalidation unmap from v4.12', () => {
  const f = (p: string) => findProfile(p)!.flags;
  for (const p of ['v4.6', 'v4.7', 'v4.9', 'v4.9.140']) {
    assert.deepEqual([f(p).ext4_dax_iomap_rw, f(p).ext4_dax_write_excl, f(p).dax_invalidate_unmaps], [false, false, false], p);
  }
  assert.deepEqual([f('v4.10').ext4_dax_iomap_rw, f('v4.10').ext4_dax_write_excl, f('v4.10').dax_invalidate_unmaps], [true, false, false]);
  for (const p of ['v4.12', 'v4.14', 'v4.15', 'v4.18', 'v4.19']) {
    assert.deepEqual([f(p).ext4_dax_iomap_rw, f(p).ext4_dax_write_excl, f(p).dax_invalidate_unmaps], [true, true, true], p);
  }
  assert.equal(FLAGS.ext4_dax_write_excl.since, 'v4.11');
  assert.match(FLAGS.ext4_dax_write_excl.commit, /^ff5462e39ca1 ext4: fix DAX write locking/);
});

test('v4.9 ext4 read/write still go through ->direct_IO and dax_do_io(); v4.10 through dax_iomap_rw()', () => {
  const scn = oneThread('    - write: {file: a, page: 1, value: "X", expect: [ok]}\n    - read: {file: a, page: 1, expect: ["X"]}');
  const ev49 = events(run(scn, { kernel: 'v4.9', seed: '0', record: true }));
  assert.ok(inOrder(ev49, ['t0: write a:1 X', 't0: get_block(a:1, create) -> blk 1', 't0: copy_from_iter_pmem(a:1 -> blk 1) = X', 't0: read a:1', 't0: dax_io: read clamped']), ev49.join('\n'));
  assert.ok(!ev49.some((e) => e.includes('->iomap_begin')));
  for (const kernel of ['v4.10', 'v4.12']) {
    const r = run(scn, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    assert.ok(inOrder(events(r), [
      't0: write a:1 X', 't0: down_write(i_rwsem a)', 't0: ->iomap_begin(a:1, IOMAP_WRITE) -> blk 1 (new)', 't0: copy_from_iter_pmem(a:1 -> blk 1) = X', 't0: up_write(i_rwsem a)',
      't0: read a:1', 't0: down_read(i_rwsem a)', 't0: ->iomap_begin(a:1) -> blk 1', 't0: copy_to_iter(a:1 <- blk 1) = X', 't0: up_read(i_rwsem a)',
    ]), events(r).join('\n'));
    assert.ok(!events(r).some((e) => e.includes('dax_io:') || e.includes('get_block(')), kernel);
  }
});

test('dax_iomap_actor: a hole or unwritten extent reads as zeros, a read at EOF returns nothing, an extending write sets i_size in ext4_iomap_end()', () => {
  const scn = oneThread([
    '    - read: {file: a, page: 1, expect: [0]}',
    '    - read: {file: a, page: 2, expect: [EOF]}',
    '    - read: {file: a, page: 3, expect: [EOF]}',
    '    - write: {file: a, page: 2, value: "Y", expect: [ok]}',
    '    - read: {file: a, page: 2, expect: ["Y"]}',
  ].join('\n'), 'a: {pages: 2, written: {0: "A"}, unwritten: [1]}');
  for (const kernel of ['v4.10', 'v4.12']) {
    const { sim, k } = machine(scn, kernel);
    assert.deepEqual(sim.violations, [], kernel);
    assert.equal(k.inode('a').peekSize(), 3, kernel);
    assert.ok(inOrder(events(run(scn, { kernel, seed: '0', record: true })), ['t0: iov_iter_zero(a:1): unwritten extent reads as zeros', 't0: ext4_iomap_end: i_size_write(a, 3)']));
  }
});

test('a write into an unwritten extent converts and zeroes it before the copy (EXT4_GET_BLOCKS_CREATE_ZERO); nothing is dirty in the cache afterwards', () => {
  // the fsync commits the conversion: without it journal replay would leave the extent unwritten (journal.ts)
  const scn = oneThread('    - write: {file: a, page: 1, value: "X"}\n    - fsync: {file: a, expect: [ok]}', 'a: {pages: 2, unwritten: [1]}', 'final:\n  crash: true\n  files: {a: {1: "X"}}');
  for (const kernel of ['v4.10', 'v4.12']) {
    const { sim, k } = machine(scn, kernel);
    assert.deepEqual(sim.violations, [], kernel);
    const ext = k.inode('a').extents.peek(1)!;
    assert.equal(ext.unwritten, false, kernel);
    assert.equal(k.pmem.block(ext.block).peekLine(), null, kernel);
  }
});

test('v4.10 ext4_dax_write_iter(): an overwrite of written blocks downgrades i_rwsem to shared; an allocating write and every v4.12 write keep it exclusive', () => {
  const over = oneThread('    - write: {file: a, page: 0, value: "X"}');
  const alloc = oneThread('    - write: {file: a, page: 1, value: "X"}');
  const ev = (scn: Scenario, kernel: string) => events(run(scn, { kernel, seed: '0', record: true }));
  assert.ok(inOrder(ev(over, 'v4.10'), ['t0: down_write(i_rwsem a)', 't0: downgrade_write(i_rwsem a)', 't0: copy_from_iter_pmem(a:0 -> blk 0) = X', 't0: up_read(i_rwsem a)']), ev(over, 'v4.10').join('\n'));
  assert.ok(!ev(alloc, 'v4.10').some((e) => e.includes('downgrade_write')));
  assert.ok(!ev(over, 'v4.12').some((e) => e.includes('downgrade_write')));
  assert.ok(inOrder(ev(over, 'v4.12'), ['t0: down_write(i_rwsem a)', 't0: copy_from_iter_pmem(a:0 -> blk 0) = X', 't0: up_write(i_rwsem a)']));
});

test('v4.10: a read runs dax_iomap_rw() inside an overwrite (the writer downgraded i_rwsem to shared); two writers never overlap (both start with inode_lock()); v4.12 overlaps neither', () => {
  const mk = (second: string) => scenario(`
name: two
kernel: v4.10
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
threads:
  t0:
    - write: {file: a, page: 0, value: "X"}
  t1:
    - ${second}
`);
  const overlapped = (scn: Scenario, kernel: string) => {
    for (let s = 0; s < 300; s++) {
      const ev = events(run(scn, { kernel, seed: String(s), record: true }));
      const start0 = ev.findIndex((e) => e.startsWith('t0: down_write(i_rwsem a)'));
      const end0 = ev.findIndex((e) => e.startsWith('t0: up_'));
      const in1 = ev.findIndex((e) => e.startsWith('t1: ->iomap_begin'));
      if (in1 > start0 && in1 < end0) return true;
    }
    return false;
  };
  const reader = mk('read: {file: a, page: 0}');
  const writer = mk('write: {file: a, page: 0, value: "Y"}');
  assert.equal(overlapped(reader, 'v4.10'), true);
  assert.equal(overlapped(writer, 'v4.10'), false);
  assert.equal(overlapped(reader, 'v4.12'), false);
  assert.equal(overlapped(writer, 'v4.12'), false);
});

test('a write allocating over a mapped hole page: v4.10 invalidates the page cache (nrpages) and zaps the hole page; v4.12 also unmaps the range of a new extent when there is no page cache', () => {
  const hole = oneThread('    - fault: {map: m, page: 1}\n    - write: {file: a, page: 1, value: "X"}\n    - load: {map: m, page: 1, expect: ["X"]}');
  for (const kernel of ['v4.10', 'v4.12']) {
    const r = run(hole, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    assert.ok(inOrder(events(r), ['t0: ->iomap_begin(a:1, IOMAP_WRITE) -> blk 1 (new)', 't0: zap m:1', 't0: invalidate_complete_page2(hole page #1)', 't0: copy_from_iter_pmem(a:1 -> blk 1) = X']), events(r).join('\n'));
  }
  const noCache = oneThread('    - write: {file: a, page: 1, value: "X"}');
  const unmaps = (kernel: string) => events(run(noCache, { kernel, seed: '0', record: true })).filter((e) => e.includes('unmap_mapping_range(a:1)')).length;
  assert.equal(unmaps('v4.10'), 0);
  assert.equal(unmaps('v4.12'), 1);
});

test('a read of several pages returns their values joined by spaces and is checked page by page; more than one page is refused before v4.10', () => {
  const scn = oneThread('    - write: {file: a, page: 0, pages: 2, value: "X", expect: [ok]}\n    - read: {file: a, page: 0, pages: 3, expect: ["X X"]}');
  for (const kernel of ['v4.10', 'v4.12']) {
    const { sim, k } = machine(scn, kernel);
    assert.deepEqual(sim.violations, [], kernel);
    assert.deepEqual([k.inode('a').peekSize(), k.writes.get('a')!.get(1)!.length], [2, 1], kernel);
  }
  assert.throws(() => run(scn, { kernel: 'v4.9', seed: '0' }), /a write of more than one page is not modelled yet under v4\.9[\s\S]*a read of more than one page/);
});

test('explored (DPOR): the torn read of ext4-dax-read-inside-overwrite happens on v4.10 only, and it is page 0 new, page 1 old', async () => {
  const { loadScenarioFile } = await import('../../src/scenario/load.js');
  const { vocabulary } = await import('../../src/cli/vocab.js');
  const { exploreScenario } = await import('../../src/check/explore.js');
  const scn = loadScenarioFile('scenarios/ext4-dax-read-inside-overwrite.yaml', vocabulary());
  const v410 = exploreScenario(scn, { kernel: 'v4.10' });
  assert.ok(v410.complete);
  assert.deepEqual([...new Set(v410.violations.map((v) => v.id))], ['unexpected-result']);
  assert.ok(v410.violations.every((v) => v.message.includes('returned X A')), v410.violations.map((v) => v.message).join('\n'));
  const v412 = exploreScenario(scn, { kernel: 'v4.12' });
  assert.ok(v412.complete);
  assert.deepEqual(v412.violations, []);
});
