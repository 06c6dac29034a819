// DIRTY tags, fsync/msync writeback and the crash model on v4.9–v4.12 (src/kernel/
// dax-iomap.ts, writeback.ts) against the v4.9 code (store id 706997388) and the v4.10
// code of a6abc2c0e77b / 4b4bb46d00b3 (notes/kernel-rw-writeback.md B.3–B.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { buildRun, finishRun, kernelFor } from '../../src/check/run.js';
import { RandomStrategy } from '../../src/sim/strategy.js';
import { PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE } from '../../src/kernel/radix-tree.js';
import { FLAGS, findProfile } from '../../src/kernel/versions.js';
import type { Scenario } from '../../src/scenario/types.js';

const KERNELS = ['v4.9', 'v4.10', 'v4.12'] as const;
const DIRTY = 1 << PAGECACHE_TAG_DIRTY;
const TOWRITE = 1 << PAGECACHE_TAG_TOWRITE;

function machine(scn: Scenario, kernel: string, seed = '0') {
  const { sim, model } = buildRun(scn, kernelFor(scn, kernel).flags, { record: true });
  finishRun(scn, sim, model, new RandomStrategy(seed));
  return { sim, k: model.k };
}

function oneThread(ops: string, final = '', files = 'a: {pages: 1, written: {0: "A"}}', kernel = 'v4.9'): Scenario {
  return scenario(`
name: one
kernel: ${kernel}
setup:
  files: {${files}}
  maps: {m: {file: a}}
threads:
  t0:
${ops}
${final}`);
}

test('the writeback flags name their commits; v4.10 has the entry-locked flush and the DIRTY clearing, v4.9 neither', () => {
  for (const f of ['dax_writeback_entry_lock', 'dax_writeback_clear_dirty'] as const) {
    assert.match(FLAGS[f].commit, /^[0-9a-f]{12} dax: /, f);
    assert.equal(FLAGS[f].since, 'v4.10', f);
    assert.doesNotMatch(FLAGS[f].mechanism, /\bbug\b/i, f);
    assert.equal(findProfile('v4.9')!.flags[f], false, f);
    assert.equal(findProfile('v4.9.140')!.flags[f], false, f);
    for (const p of ['v4.10', 'v4.12', 'v4.14', 'v4.19']) assert.equal(findProfile(p)!.flags[f], true, `${p} ${f}`);
  }
});

test('DIRTY on v4.9+: a read fault inserts a clean entry; a write fault (dax_insert_mapping_entry()) or a store\'s pfn_mkwrite tags it', () => {
  for (const kernel of KERNELS) {
    const tags = (ops: string) => machine(oneThread(ops), kernel).k.inode('a').mapping.tree.peekTags(0);
    assert.equal(tags('    - fault: {map: m, page: 0}'), 0, `${kernel}: read fault`);
    assert.equal(tags('    - fault: {map: m, page: 0, write: true}'), DIRTY, `${kernel}: write fault`);
    assert.equal(tags('    - fault: {map: m, page: 0}\n    - store: {map: m, page: 0, value: "B"}'), DIRTY, `${kernel}: read fault, then a store`);
  }
});

test('fsync v4.9: the line is written back, TOWRITE cleared after the flush, DIRTY kept and the PTE left writable', () => {
  const scn = oneThread('    - store: {map: m, page: 0, value: "B"}\n    - fsync: {file: a, expect: [ok]}');
  const r = run(scn, { kernel: 'v4.9', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  assert.ok(inOrder(events(r), [
    't0: tag_pages_for_writeback(a): TOWRITE on 0',
    't0: dax_writeback_one(a:0): wb_cache_pmem(blk 0) -> line written back, media = B',
    't0: dax_writeback_one(a:0): TOWRITE cleared',
  ]), events(r).join('\n'));
  assert.ok(!events(r).some((e) => e.includes('mkclean') || e.includes('entry locked')));
  const { k } = machine(scn, 'v4.9');
  assert.equal(k.inode('a').mapping.tree.peekTags(0), DIRTY);
  assert.equal(k.vmas.get('m')!.ptes.peek(0)!.write, true);
  assert.equal(k.pmem.block(0).peekMedia(), 'B');
});

test('fsync v4.10/v4.12: entry locked and TOWRITE cleared before the flush; PTE write-protected and cleaned; DIRTY cleared after it; entry unlocked', () => {
  const scn = oneThread('    - store: {map: m, page: 0, value: "B"}\n    - fsync: {file: a, expect: [ok]}');
  for (const kernel of ['v4.10', 'v4.12']) {
    const r = run(scn, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    assert.ok(inOrder(events(r), [
      't0: tag_pages_for_writeback(a): TOWRITE on 0',
      't0: dax_writeback_one(a:0): entry locked, TOWRITE cleared',
      't0: down_read(i_mmap_rwsem a)',
      't0: dax_mapping_entry_mkclean(a:0): m:0 -> blk 0 ro',
      't0: dax_writeback_one(a:0): wb_cache_pmem(blk 0) -> line written back, media = B',
      't0: dax_writeback_one(a:0): DIRTY cleared',
      't0: fsync -> ok',
    ]), events(r).join('\n'));
    const { k } = machine(scn, kernel);
    const mapping = k.inode('a').mapping;
    assert.equal(mapping.tree.peekTags(0), 0, kernel);
    const e = mapping.tree.peek(0)!;
    assert.ok(e.kind === 'dax' && !e.locked, `${kernel}: entry unlocked`);
    const pte = k.vmas.get('m')!.ptes.peek(0)!;
    assert.deepEqual([pte.write, pte.dirty], [false, false], kernel);
  }
});

test('v4.10+: a store after fsync write-protected the PTE faults again (pfn_mkwrite under the entry lock) and re-tags DIRTY; the next fsync writes it back', () => {
  const ops = '    - store: {map: m, page: 0, value: "B"}\n    - fsync: {file: a}\n    - store: {map: m, page: 0, value: "C"}';
  for (const kernel of ['v4.10', 'v4.12']) {
    const r = run(oneThread(ops), { kernel, seed: '0', record: true });
    assert.ok(inOrder(events(r), ['t0: fsync -> ok', 't0: store m:0 C', 't0: dax_pfn_mkwrite(a:0): entry locked', 't0: wp_page_reuse: m:0 -> blk 0 rw', 't0: store m:0 = C']), events(r).join('\n'));
    const { k } = machine(oneThread(ops), kernel);
    assert.equal(k.inode('a').mapping.tree.peekTags(0), DIRTY, kernel);
    assert.deepEqual([k.pmem.block(0).peekMedia(), k.pmem.block(0).peekLine()], ['B', 'C'], kernel);
    const synced = machine(oneThread(`${ops}\n    - fsync: {file: a}`), kernel).k;
    assert.deepEqual([synced.pmem.block(0).peekMedia(), synced.pmem.block(0).peekLine(), synced.inode('a').mapping.tree.peekTags(0)], ['C', null, 0], kernel);
  }
});

test('a second fsync on v4.10 finds DIRTY clear and flushes nothing; on v4.9 it tags and flushes the entry again', () => {
  const ops = '    - store: {map: m, page: 0, value: "B"}\n    - fsync: {file: a}\n    - fsync: {file: a}';
  const ev49 = events(run(oneThread(ops), { kernel: 'v4.9', seed: '0', record: true }));
  assert.equal(ev49.filter((e) => e.includes('tag_pages_for_writeback(a): TOWRITE on 0')).length, 2, ev49.join('\n'));
  const ev410 = events(run(oneThread(ops), { kernel: 'v4.10', seed: '0', record: true }));
  assert.equal(ev410.filter((e) => e.includes('tag_pages_for_writeback(a): TOWRITE on 0')).length, 1, ev410.join('\n'));
  assert.ok(ev410.some((e) => e.includes('tag_pages_for_writeback(a): nothing dirty')), ev410.join('\n'));
});

test('msync(MS_SYNC) and crash on v4.9+: a synced store is durable; an unsynced one is lost with the cache', () => {
  for (const kernel of KERNELS) {
    const synced = oneThread('    - store: {map: m, page: 0, value: "B"}\n    - msync: {map: m, expect: [ok]}', 'final:\n  crash: true\n  files: {a: {0: "B"}}');
    assert.deepEqual(run(synced, { kernel, seed: '0' }).violations, [], kernel);
    const lost = oneThread('    - store: {map: m, page: 0, value: "B"}', 'final:\n  crash: true\n  files: {a: {0: "B"}}');
    assert.deepEqual(run(lost, { kernel, seed: '0' }).violations.map((v) => [v.id, v.message]), [['final-state', 'a:0 holds A after the crash, expected B']], kernel);
  }
});

test('v4.10: a writeback that finds the entry locked by a fault waits for it (get_unlocked_mapping_entry) before it looks at TOWRITE', () => {
  const scn = scenario(`
name: wait
kernel: v4.10
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
  maps: {m: {file: a}}
threads:
  t0:
    - store: {map: m, page: 0, value: "B"}
    - store: {map: m, page: 0, value: "C"}
  t1:
    - fsync: {file: a}
`);
  // t1 starts its fsync while t0's write fault holds the entry it just tagged DIRTY
  const r = run(scn, { kernel: 'v4.10', schedule: 's1-a13b1', record: true });
  assert.deepEqual(r.violations, []);
  assert.ok(inOrder(events(r), [
    't0: dax_insert_mapping_entry(a:0) -> blk 0, locked, replaced the empty entry, tagged DIRTY',
    't1: tag_pages_for_writeback(a): TOWRITE on 0',
    't1: waits in get_unlocked_mapping_entry(a:0) [entry locked by t0]',
    't1: dax_writeback_one(a:0): entry locked, TOWRITE cleared',
  ]), events(r).join('\n'));
  // the TOWRITE tag never outlives a finished fsync
  const { k } = machine(scn, 'v4.10', '3');
  assert.equal(k.inode('a').mapping.tree.peekTags(0) & TOWRITE, 0);
});

test('explored (DPOR): the pfn_mkwrite-vs-fsync scenario loses the store only with the v4.9 dax_pfn_mkwrite() under v4.10 writeback; v4.10 as released is clean', async () => {
  const { loadScenarioFile } = await import('../../src/scenario/load.js');
  const { vocabulary } = await import('../../src/cli/vocab.js');
  const { exploreScenario } = await import('../../src/check/explore.js');
  const file = 'scenarios/dax-pfn-mkwrite-pte-update-outside-entry-lock.yaml';
  const scn = loadScenarioFile(file, vocabulary());
  assert.deepEqual(scn.kernel?.flags, { dax_pfn_mkwrite_under_entry_lock: false });
  const broken = exploreScenario(scn, { kernel: 'v4.10' });
  assert.ok(broken.complete && broken.violations.some((v) => v.id === 'lost-write'));
  const released = exploreScenario({ ...scn, kernel: { ...scn.kernel!, flags: {} } }, { kernel: 'v4.10' });
  assert.ok(released.complete, 'explored exhaustively');
  assert.deepEqual(released.violations, []);
});
