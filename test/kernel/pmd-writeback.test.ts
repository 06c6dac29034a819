// fsync/msync and the crash model on huge (PMD-mapped) ext4 files (src/kernel/writeback.ts):
// 2 MiB entries flushed as a whole (v4.6 `type == RADIX_DAX_PMD ? PMD_SIZE : PAGE_SIZE`,
// v4.9+ `PAGE_SIZE << dax_radix_order(entry)`), and dax_mapping_entry_mkclean()'s PMD branch
// (f729c8c9b24f with 097963959594, v4.10: follow_pte_pmd(), pmdp_huge_clear_flush(),
// pmd_wrprotect(), pmd_mkclean(), set_pmd_at()) against follow_pte() giving up on a huge pmd
// before it. Sources: notes/kernel-pmd-writeback.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { buildRun, finishRun, kernelFor } from '../../src/check/run.js';
import { exploreScenario } from '../../src/check/explore.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { vocabulary } from '../../src/cli/vocab.js';
import { RandomStrategy } from '../../src/sim/strategy.js';
import { PAGECACHE_TAG_DIRTY } from '../../src/kernel/radix-tree.js';
import { FLAGS, findProfile } from '../../src/kernel/versions.js';
import type { Scenario } from '../../src/scenario/types.js';

const DIRTY = 1 << PAGECACHE_TAG_DIRTY;
const FLAG = 'dax_mkclean_wrprotects_pmd';

/** One thread on a 512-page huge file `d` (page 0 written "A", so it has a 2 MiB extent at a 2 MiB-aligned block). */
function huge(ops: string, opts: { kernel?: string; maps?: string; final?: string; threads?: string } = {}): Scenario {
  return scenario(`
name: pmd
kernel: ${opts.kernel ?? 'v4.10'}
setup:
  files: {d: {pages: 512, huge: true, written: {0: "A"}}}
  maps: {${opts.maps ?? 'm: {file: d}'}}
threads:
  t0:
${ops}
${opts.threads ?? ''}
${opts.final ?? ''}`);
}

function machine(scn: Scenario, kernel: string, seed = '0') {
  const { sim, model } = buildRun(scn, kernelFor(scn, kernel).flags, { record: true });
  finishRun(scn, sim, model, new RandomStrategy(seed));
  return { sim, k: model.k };
}

const PMD_WRITE = '    - fault: {map: m, page: 0, write: true, huge: true}';
/** The commit's sequence: a write through the PMD, fsync, another write through it, fsync, crash. */
const SEQUENCE = `${PMD_WRITE}
    - store: {map: m, page: 0, value: "B"}
    - fsync: {file: d, expect: [ok]}
    - store: {map: m, page: 1, value: "C"}
    - fsync: {file: d, expect: [ok]}`;
const CRASH = 'final:\n  crash: true\n  files: {d: {0: "B", 1: "C"}}';

test('the PMD write-protect flag names f729c8c9b24f and follow_pte_pmd(); on from v4.10 (the release of 4b4bb46d00b3 too)', () => {
  const info = FLAGS[FLAG];
  assert.match(info.commit, /^f729c8c9b24f dax: wrprotect pmd_t in dax_mapping_entry_mkclean/);
  assert.match(info.commit, /097963959594 mm: add follow_pte_pmd\(\)/);
  assert.equal(info.since, 'v4.10');
  assert.equal(FLAGS.dax_writeback_clear_dirty.since, 'v4.10');
  assert.doesNotMatch(info.mechanism, /\bbug\b/i);
  for (const p of ['v4.6', 'v4.7', 'v4.9', 'v4.9.140']) assert.equal(findProfile(p)!.flags[FLAG], false, p);
  for (const p of ['v4.10', 'v4.12', 'v4.14', 'v4.19']) assert.equal(findProfile(p)!.flags[FLAG], true, p);
});

test('fsync, msync, poison, clear and (test/kernel/pmd-v4.14plus.test.ts) pins on huge files are accepted where PMD faults are modelled', () => {
  for (const kernel of ['v4.6', 'v4.7', 'v4.9', 'v4.10', 'v4.12', 'v4.14', 'v4.15', 'v4.18', 'v4.19']) {
    assert.doesNotThrow(() => run(huge('    - fsync: {file: d}\n    - msync: {map: m}\n    - poison: {file: d, page: 0}\n    - clear: {file: d, page: 0}'), { kernel, seed: '0' }), kernel);
    assert.doesNotThrow(() => run(huge('    - pin: {map: m, page: 0, as: p}'), { kernel, seed: '0' }), kernel);
  }
});

test('v4.6: a PMD write fault tags its single-slot PMD entry DIRTY; fsync writes back the lines of all 512 blocks, keeps DIRTY and the PMD writable', () => {
  const ops = `${PMD_WRITE}
    - store: {map: m, page: 0, value: "B"}
    - store: {map: m, page: 5, value: "F"}
    - store: {map: m, page: 511, value: "Z"}
    - fsync: {file: d, expect: [ok]}`;
  const scn = huge(ops, { kernel: 'v4.6' });
  const r = run(scn, { kernel: 'v4.6', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  const { k } = machine(scn, 'v4.6');
  const e = k.inode('d').mapping.tree.peek(0);
  assert.ok(e !== undefined && e.kind === 'dax' && e.pmdType === true, 'PMD entry at the PMD index');
  const head = e.block!;
  assert.equal(head % 512, 0);
  assert.ok(inOrder(events(r), [
    't0: tag_pages_for_writeback(d): TOWRITE on 0',
    `t0: dax_writeback_one(d:0): wb_cache_pmem(blk ${head}-${head + 511}, PMD_SIZE) -> 3 lines written back (blk ${head} = B, blk ${head + 5} = F, blk ${head + 511} = Z)`,
    't0: dax_writeback_one(d:0): TOWRITE cleared',
  ]), events(r).join('\n'));
  for (const [page, v] of [[0, 'B'], [5, 'F'], [511, 'Z']] as const) {
    assert.equal(k.pmem.block(head + page).peekMedia(), v);
    assert.equal(k.pmem.block(head + page).peekLine(), null);
  }
  assert.equal(k.inode('d').mapping.tree.peekTags(0), DIRTY, 'v4.6 never clears DIRTY');
  assert.deepEqual(k.vmas.get('m')!.pmd!.pmds.peek(0), { kind: 'devmap', block: head, write: true, dirty: true });
  assert.ok(!events(r).some((x) => x.includes('mkclean')));
});

test('v4.10/v4.12: fsync write-protects and cleans the DAX PMD under the entry lock, writes back the 2 MiB, clears DIRTY', () => {
  const scn = huge(`${PMD_WRITE}\n    - store: {map: m, page: 7, value: "B"}\n    - fsync: {file: d, expect: [ok]}`);
  for (const kernel of ['v4.10', 'v4.12']) {
    const r = run(scn, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const { k } = machine(scn, kernel);
    const pmd = k.vmas.get('m')!.pmd!.pmds.peek(0)!;
    assert.ok(pmd.kind === 'devmap', kernel);
    const head = pmd.block;
    assert.ok(inOrder(events(r), [
      't0: dax_writeback_one(d:0): entry locked, TOWRITE cleared',
      't0: down_read(i_mmap_rwsem d)',
      `t0: dax_mapping_entry_mkclean(d:0): m pmd 0 -> DAX PMD blk ${head}-${head + 511} ro`,
      `t0: dax_writeback_one(d:0): wb_cache_pmem(blk ${head}-${head + 511}, PMD_SIZE) -> 1 line written back (blk ${head + 7} = B)`,
      't0: dax_writeback_one(d:0): DIRTY cleared',
    ]), `${kernel}\n${events(r).join('\n')}`);
    assert.deepEqual(pmd, { kind: 'devmap', block: head, write: false, dirty: false }, kernel);
    assert.equal(k.inode('d').mapping.tree.peekTags(0), 0, kernel);
    const entry = k.inode('d').mapping.tree.peek(0);
    assert.ok(entry !== undefined && entry.kind === 'dax' && !entry.locked, `${kernel}: entry unlocked`);
    assert.equal(k.pmem.block(head + 7).peekMedia(), 'B', kernel);
  }
});

test('v4.10/v4.12: a store through the write-protected PMD faults (wp_huge_pmd -> ->pmd_fault), re-dirties the entry and makes the PMD writable', () => {
  const scn = huge(`${PMD_WRITE}\n    - fsync: {file: d, expect: [ok]}\n    - store: {map: m, page: 1, value: "C"}`);
  for (const kernel of ['v4.10', 'v4.12']) {
    const r = run(scn, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    const store = ev.indexOf('t0: store m:1 C');
    assert.ok(store > 0);
    const after = ev.slice(store);
    assert.ok(inOrder(after, [
      't0: ->pmd_fault',
      't0: grab_mapping_entry(d:0, PMD) -> PMD blk',
      'entry (locked) in place, tagged DIRTY',
      't0: vmf_insert_pfn_pmd(m pmd 0) -> DAX PMD',
      't0: store m:1 = C',
    ]), `${kernel}\n${after.join('\n')}`);
    // ->iomap_begin() before the entry lock in v4.10 (9f141d6ef625), after it in v4.12 (876f29460cbd)
    assert.ok(after.includes('t0: ->iomap_begin(d:0, PMD_SIZE, IOMAP_WRITE) -> mapped blk 0 +512'), kernel);
    const { k } = machine(scn, kernel);
    assert.equal(k.inode('d').mapping.tree.peekTags(0), DIRTY, kernel);
    const pmd = k.vmas.get('m')!.pmd!.pmds.peek(0)!;
    assert.ok(pmd.kind === 'devmap' && pmd.write && pmd.dirty, kernel);
  }
});

test('without f729c8c9b24f: follow_pte() gives up on the huge pmd, the PMD stays writable over a clean entry, the next store does not fault and the next fsync flushes nothing', () => {
  const scn = huge(SEQUENCE, { kernel: `{base: v4.10, ${FLAG}: false}`, final: CRASH });
  for (const kernel of ['v4.10', 'v4.12']) {
    const r = run(scn, { kernel, seed: '0', record: true });
    const ev = events(r);
    assert.ok(inOrder(ev, [
      't0: dax_mapping_entry_mkclean(d:0): follow_pte(m:0) -> -EINVAL (DAX PMD',
      't0: dax_writeback_one(d:0): DIRTY cleared',
      't0: store m:1 = C',
      't0: tag_pages_for_writeback(d): nothing dirty',
    ]), `${kernel}\n${ev.join('\n')}`);
    const store = ev.indexOf('t0: store m:1 C');
    assert.ok(store > 0);
    assert.ok(!ev.slice(store).some((x) => x.includes('->iomap_begin') || x.includes('pmd_fault')), `${kernel}: the store took no fault`);
    assert.deepEqual(r.violations.map((v) => v.id).sort(), ['final-state', 'lost-write'], kernel);
    assert.match(r.violations.find((v) => v.id === 'lost-write')!.message, /d:1 holds 0 after the crash, but C/);
  }
});

test('the commit\'s sequence (write via PMD, fsync, write via PMD, fsync, crash) keeps both stores on v4.6, v4.10 and v4.12', () => {
  const scn = huge(SEQUENCE, { final: CRASH });
  for (const kernel of ['v4.6', 'v4.10', 'v4.12']) {
    const r = run(scn, { kernel, seed: '0' });
    assert.deepEqual(r.violations, [], kernel);
    const { k } = machine(scn, kernel);
    const head = k.inode('d').extents.peek(0)!.block;
    assert.equal(k.pmem.block(head + 1).peekMedia(), 'C', kernel);
  }
});

test('msync of a huge shared mapping writes the 2 MiB entry back and write-protects the PMD (v4.12); the crash keeps the store', () => {
  const scn = huge(`${PMD_WRITE}\n    - store: {map: m, page: 2, value: "B"}\n    - msync: {map: m, expect: [ok]}`, {
    kernel: 'v4.12',
    final: 'final:\n  crash: true\n  files: {d: {2: "B"}}',
  });
  const r = run(scn, { kernel: 'v4.12', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  assert.ok(inOrder(events(r), ['t0: dax_mapping_entry_mkclean(d:0): m pmd 0 -> DAX PMD', 't0: dax_writeback_one(d:0): wb_cache_pmem(blk 0-511, PMD_SIZE) -> 1 line written back (blk 2 = B)']), events(r).join('\n'));
  const { k } = machine(scn, 'v4.12');
  const m = k.vmas.get('m')!.pmd!.pmds.peek(0)!;
  assert.ok(m.kind === 'devmap' && !m.write && !m.dirty);
});

test('two shared mappings: fsync write-protects the PMD in each (v4.10); without the flag both stay writable', () => {
  const ops = `${PMD_WRITE}\n    - fault: {map: n, page: 0, write: true, huge: true}\n    - fsync: {file: d, expect: [ok]}`;
  const maps = 'm: {file: d}, n: {file: d}';
  const { k } = machine(huge(ops, { maps }), 'v4.10');
  for (const v of ['m', 'n']) {
    const pmd = k.vmas.get(v)!.pmd!.pmds.peek(0)!;
    assert.ok(pmd.kind === 'devmap' && !pmd.write && !pmd.dirty, v);
  }
  const old = machine(huge(ops, { maps, kernel: `{base: v4.10, ${FLAG}: false}` }), 'v4.10').k;
  for (const v of ['m', 'n']) {
    const pmd = old.vmas.get(v)!.pmd!.pmds.peek(0)!;
    assert.ok(pmd.kind === 'devmap' && pmd.write, v);
  }
});

test('a huge file mapped by PTEs (the store took the PTE path): fsync cleans the PTE under the page-table pmd, either way', () => {
  for (const kernel of ['v4.10', `{base: v4.10, ${FLAG}: false}`]) {
    const scn = huge('    - store: {map: m, page: 3, value: "B"}\n    - fsync: {file: d, expect: [ok]}', { kernel });
    const r = run(scn, { kernel: 'v4.10', seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const { k } = machine(scn, 'v4.10');
    assert.equal(k.vmas.get('m')!.pmd!.pmds.peek(0)?.kind, 'table', kernel);
    const pte = k.vmas.get('m')!.ptes.peek(3)!;
    assert.ok(pte.kind === 'pfn' && !pte.write && !pte.dirty, kernel);
    assert.ok(inOrder(events(r), ['t0: dax_mapping_entry_mkclean(d:3): m:3 ->', 't0: dax_writeback_one(d:3): wb_cache_pmem(blk']), kernel);
  }
});

test('explored (DPOR): the scenario loses the second store only with follow_pte() in mkclean; v4.10 as released is clean', () => {
  const scn = loadScenarioFile('scenarios/dax-pmd-not-writeprotected-on-fsync.yaml', vocabulary());
  assert.deepEqual(scn.kernel?.flags, { [FLAG]: false });
  const broken = exploreScenario(scn, { kernel: 'v4.10' });
  assert.ok(broken.complete, 'explored exhaustively');
  assert.deepEqual([...new Set(broken.violations.map((v) => v.id))].sort(), ['final-state', 'lost-write']);
  const released = exploreScenario({ ...scn, kernel: { ...scn.kernel!, flags: {} } }, { kernel: 'v4.10' });
  assert.ok(released.complete, 'explored exhaustively');
  assert.deepEqual(released.violations, []);
});

// ---------------------------------------------------------------------------
// Media errors in huge files: dax_map_atomic() / dax_direct_access() of the 2 MiB in the PMD fault
// (v4.6 __dax_pmd_fault(): SIGBUS on an error, but v4.6's pmem_direct_access() does not consult
// badblocks; v4.9–v4.12 dax_pmd_insert_mapping(): fallback to PTEs), a load through a PMD of a
// poisoned block (machine check), and the 2 MiB direct access of writeback.

function poisoned(ops: string, kernel: string, extra = ''): Scenario {
  return scenario(`
name: pmd-poison
kernel: ${kernel}
setup:
  files: {d: {pages: 512, huge: true, written: {0: "A", 3: "D"}}}
  maps: {m: {file: d}}
${extra}
threads:
  t0:
${ops}`);
}

test('v4.10/v4.12: a known bad block in the 2 MiB makes the PMD fault fall back; the PTE faults map the good pages and only the bad one gets SIGBUS', () => {
  const ops = '    - fault: {map: m, page: 0, huge: true}\n    - load: {map: m, page: 0, expect: ["A"]}\n    - load: {map: m, page: 3, expect: [SIGBUS]}';
  for (const kernel of ['v4.10', 'v4.12']) {
    const scn = poisoned(ops, kernel, '  badblocks: [{file: d, page: 3}]');
    const r = run(scn, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    assert.ok(inOrder(events(r), [
      'dax_pmd_insert_mapping: dax_map_atomic(PMD_SIZE) failed -> VM_FAULT_FALLBACK',
      'dax_iomap_pmd_fault -> VM_FAULT_FALLBACK',
      'load m:0 = A',
    ]), `${kernel}\n${events(r).join('\n')}`);
    const { k } = machine(scn, kernel);
    assert.equal(k.vmas.get('m')!.pmd!.pmds.peek(0)?.kind, 'table', kernel);
    assert.equal(k.vmas.get('m')!.ptes.peek(3), undefined, kernel);
  }
});

test('v4.6: pmem_direct_access() does not consult badblocks, so the PMD maps the poisoned block and a load through it consumes the poison', () => {
  const scn = poisoned('    - fault: {map: m, page: 0, huge: true}\n    - load: {map: m, page: 3}', 'v4.6', '  badblocks: [{file: d, page: 3}]');
  const r = run(scn, { kernel: 'v4.6', seed: '0', record: true });
  assert.deepEqual(r.violations.map((v) => v.id), ['poison-consumed']);
  assert.ok(inOrder(events(r), ['vmf_insert_pfn_pmd(m pmd 0) -> DAX PMD', 'is poisoned (PMD) -> machine check', 'poison-consumed']), events(r).join('\n'));
});

test('poison after the PMD is mapped: a load through it is a machine check that memory_failure() cannot handle before v4.19 (v4.12); clear lets a new PMD fault map the 2 MiB', () => {
  const after = poisoned('    - fault: {map: m, page: 0, huge: true}\n    - poison: {file: d, page: 3, expect: [ok]}\n    - load: {map: m, page: 3}', 'v4.12');
  assert.deepEqual(run(after, { kernel: 'v4.12', seed: '0' }).violations.map((v) => v.id), ['poison-consumed']);
  const cleared = poisoned('    - clear: {file: d, page: 3, expect: [ok]}\n    - fault: {map: m, page: 0, huge: true}\n    - load: {map: m, page: 3, expect: ["D"]}', 'v4.12', '  badblocks: [{file: d, page: 3}]');
  assert.deepEqual(run(cleared, { kernel: 'v4.12', seed: '0' }).violations, []);
  const { k } = machine(cleared, 'v4.12');
  assert.equal(k.vmas.get('m')!.pmd!.pmds.peek(0)?.kind, 'devmap');
});

test('fsync of a 2 MiB entry with a known bad block in it fails with EIO (v4.12: dax_direct_access() of the whole entry)', () => {
  const scn = poisoned('    - fault: {map: m, page: 0, write: true, huge: true}\n    - store: {map: m, page: 0, value: "B"}\n    - poison: {file: d, page: 5, expect: [ok]}\n    - fsync: {file: d, expect: [EIO]}', 'v4.12');
  const r = run(scn, { kernel: 'v4.12', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  assert.ok(events(r).some((x) => x.includes('dax_writeback_one: pmem_direct_access(blk') && x.includes('-> -EIO')), events(r).join('\n'));
});

test('v4.6 on a partition that does not start on a page boundary: dax_map_atomic() of the 2 MiB fails and __dax_pmd_fault() returns SIGBUS (no fallback yet)', () => {
  const scn = scenario(`
name: pmd-unaligned
kernel: v4.6
setup:
  partition_offset: 512
  files: {d: {pages: 512, huge: true, written: {0: "A"}}}
  maps: {m: {file: d}}
threads:
  t0:
    - fault: {map: m, page: 0, huge: true, expect: [SIGBUS]}
`);
  const r = run(scn, { kernel: 'v4.6', seed: '0', record: true });
  assert.ok(inOrder(events(r), ['__dax_pmd_fault: bdev_direct_access(blk', '__dax_pmd_fault -> VM_FAULT_SIGBUS']), events(r).join('\n'));
  assert.ok(!r.violations.some((v) => v.id === 'unexpected-result'));
});
