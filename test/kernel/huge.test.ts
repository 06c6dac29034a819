// PMD (huge) faults (src/kernel/huge.ts, the PMD level of pagetable.ts, multi-order
// entries, PMD requests and downgrades of grab_mapping_entry()) against the behaviour
// of the real code, per version: v4.6's __dax_pmd_fault(), the fallbacks of v4.7–v4.9
// on ext4, v4.10's dax_iomap_pmd_fault() and v4.12's collision checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { FLAGS, findProfile, type FlagName } from '../../src/kernel/versions.js';
import { exploreScenario } from '../../src/check/explore.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { vocabulary } from '../../src/cli/vocab.js';
import { Sim } from '../../src/sim/engine.js';
import { RadixTree } from '../../src/kernel/radix-tree.js';

const PMD_FLAGS: FlagName[] = ['dax_get_block_pmd_fault_stub', 'mm_pte_alloc_deferred', 'mm_pmd_devmap_checked_first', 'dax_grab_unmap_before_preload', 'dax_pmd_pte_collision_checks'];

function flagsOf(name: string): Record<string, boolean> {
  const p = findProfile(name);
  assert.ok(p, name);
  return p.flags;
}

test('the PMD flags switch where the commits landed, each naming its commit and a mechanism', () => {
  const on = (v: string) => PMD_FLAGS.filter((f) => flagsOf(v)[f]).sort();
  assert.deepEqual(on('v4.6'), []);
  assert.deepEqual(on('v4.7'), []);
  assert.deepEqual(on('v4.9'), ['dax_get_block_pmd_fault_stub', 'mm_pte_alloc_deferred']);
  assert.deepEqual(on('v4.10'), ['dax_get_block_pmd_fault_stub', 'dax_grab_unmap_before_preload', 'mm_pte_alloc_deferred']);
  assert.deepEqual(on('v4.12'), [...PMD_FLAGS].sort());
  assert.deepEqual(on('v4.19'), [...PMD_FLAGS].sort());
  for (const f of PMD_FLAGS) {
    const info = FLAGS[f] as { commit: string; since: string; mechanism: string };
    assert.ok(info.commit.length > 20 && /^v4\.\d+$/.test(info.since) && info.mechanism.length > 60, f);
    assert.doesNotMatch(info.mechanism, /\bbug\b/i, f);
  }
});

test('radix tree: a multi-order entry is found from every index it covers and collides with any entry in its range', () => {
  const sim = new Sim({ record: false, maxSteps: 10, track: false });
  const t = new RadixTree<{ big: boolean; v: string }>(sim, (x) => x.big);
  t.set(512, { big: true, v: 'P' });
  assert.equal(t.get(512)?.v, 'P');
  assert.equal(t.get(1023)?.v, 'P');
  assert.equal(t.get(1024), undefined);
  assert.equal(t.get(511), undefined);
  assert.equal(t.slotIndex(700), 512);
  t.tagSet(700, 0);
  assert.equal(t.tagGet(512, 0), true);
  assert.equal(t.rangeOccupied(512), true);
  assert.equal(t.rangeOccupied(0), false);
  t.set(3, { big: false, v: 'a' });
  assert.equal(t.rangeOccupied(0), true);
  // replacing the head keeps the entry multi-order; deleting from a covered index removes it all
  t.set(600, { big: true, v: 'Q' });
  assert.equal(t.get(513)?.v, 'Q');
  assert.equal(t.delete(900), true);
  assert.equal(t.get(512), undefined);
  assert.equal(t.get(700), undefined);
  assert.throws(() => t.set(5, { big: true, v: 'x' }), /unaligned/);
});

const READ = (kernel: string) => `
name: pmd-read
kernel: ${kernel}
setup:
  files:
    d: {pages: 512, huge: true, written: {0: "A", 300: "Z"}}
  maps:
    m: {file: d}
threads:
  t0:
    - fault: {map: m, page: 7, huge: true}
    - load: {map: m, page: 300, expect: ["Z"]}
    - load: {map: m, page: 1, expect: [0]}
`;

test('a PMD read fault of a written 2 MiB extent maps a DAX PMD in v4.6 and v4.10+, and falls back to a PTE in v4.7 and v4.9 (ext4)', () => {
  for (const kernel of ['v4.6', 'v4.7', 'v4.9', 'v4.10', 'v4.12']) {
    const r = run(scenario(READ(kernel)), { kernel, seed: '1', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    const pmd = ev.some((e) => e.includes('vmf_insert_pfn_pmd(m pmd 0) -> DAX PMD blk 0-511 ro'));
    const iomap = ['v4.10', 'v4.12'].includes(kernel);
    assert.equal(pmd, kernel === 'v4.6' || iomap, `${kernel}: ${ev.join('\n')}`);
    if (pmd) {
      // every load after it goes through the PMD: no 4 KiB fault
      assert.ok(ev.some((e) => e.includes('load m:300 = Z (blk 300, PMD)')), kernel);
      assert.ok(!ev.some((e) => e.includes('vm_insert_mixed')), kernel);
    } else {
      assert.ok(ev.some((e) => e.includes('create_huge_pmd -> VM_FAULT_FALLBACK')), kernel);
      assert.ok(ev.some((e) => e.includes('vm_insert_mixed(m:7 -> blk 7)')), kernel);
    }
    // v4.6 inserts no radix entry for a PMD read ("skip inserting a radix tree entry completely on the initial read")
    if (kernel === 'v4.6') assert.ok(!ev.some((e) => e.includes('dax_radix_entry')), 'v4.6');
    if (iomap) assert.ok(inOrder(ev, ['grab_mapping_entry(d:0, PMD) -> new PMD empty entry, locked', 'dax_insert_mapping_entry(d:0) -> blk 0 (PMD), locked, replaced the PMD empty entry']), kernel);
  }
});

const WRITE_HOLE = (kernel: string) => `
name: pmd-write-hole
kernel: ${kernel}
setup:
  files:
    other: {pages: 3, written: {0: "o"}}
    d: {pages: 1024, huge: true}
  maps:
    m: {file: d}
threads:
  t0:
    - fault: {map: m, page: 515, write: true, huge: true}
    - store: {map: m, page: 600, value: "S"}
    - load: {map: m, page: 513, expect: [0]}
final:
  files: {d: {600: "S", 512: 0}}
`;

test('a PMD write fault to a 2 MiB hole allocates a zeroed, 2 MiB-aligned extent and maps it writable (v4.6, v4.10, v4.12)', () => {
  for (const kernel of ['v4.6', 'v4.10', 'v4.12']) {
    const r = run(scenario(WRITE_HOLE(kernel)), { kernel, seed: '2', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    const line = ev.find((e) => e.includes('vmf_insert_pfn_pmd(m pmd 1)'));
    assert.ok(line !== undefined && / rw$/.test(line), `${kernel}: ${line}`);
    const blk = Number(/DAX PMD blk (\d+)-/.exec(line)![1]);
    assert.equal(blk % 512, 0, kernel);
    assert.ok(ev.some((e) => e.includes(`store m:600 = S (blk ${blk + 88}, PMD)`)), kernel);
  }
});

test('a PMD fault falls back when a 4 KiB entry is in its 2 MiB range (-EEXIST from grab_mapping_entry()), then faults the page', () => {
  const text = `
name: pmd-eexist
kernel: v4.12
setup:
  files:
    d: {pages: 512, huge: true, written: {0: "A", 9: "N"}}
  maps:
    m: {file: d}
    m2: {file: d}
threads:
  t0:
    - fault: {map: m2, page: 9}
    - fault: {map: m, page: 0, huge: true}
    - load: {map: m, page: 0, expect: ["A"]}
`;
  const r = run(scenario(text), { kernel: 'v4.12', seed: '1', record: true });
  assert.deepEqual(r.violations, []);
  assert.ok(inOrder(events(r), ['grab_mapping_entry(d:9) -> new empty entry, locked', 'grab_mapping_entry(d:0, PMD) -> -EEXIST', 'dax_iomap_pmd_fault -> VM_FAULT_FALLBACK', 'vm_insert_mixed(m:0 -> blk 0)']));
});

const HOLE_DOWNGRADE = (kernel: string) => `
name: pmd-hole-downgrade
kernel: ${kernel}
setup:
  files:
    d: {pages: 512, huge: true}
  maps:
    m: {file: d}
    m2: {file: d}
threads:
  t0:
    - fault: {map: m, page: 0, huge: true}
    - load: {map: m, page: 100, expect: [0]}
    - fault: {map: m2, page: 3}
    - load: {map: m, page: 100, expect: [0]}
`;

test('a PMD read of a hole maps the huge zero page; a 4 KiB fault downgrades the 2 MiB zero entry, unmapping it before (v4.10) or after (v4.9 order) the preload', () => {
  const r = run(scenario(HOLE_DOWNGRADE('v4.10')), { kernel: 'v4.10', seed: '1', record: true });
  assert.deepEqual(r.violations, []);
  const ev = events(r);
  assert.ok(inOrder(ev, [
    'dax_insert_mapping_entry(d:0) -> huge zero (PMD), locked, replaced the PMD empty entry', 'dax_pmd_load_hole: m pmd 0 -> huge zero page', 'load m:100 = 0 (huge zero page)',
    'unmap_mapping_range(d:0-511)', 'zap m pmd 0 (huge zero page ro)', 'PMD downgrade, PMD huge zero entry (locked) deleted',
    'grab_mapping_entry(d:3) -> new empty entry, locked', 'hole page #1 replaces the locked entry',
    // the zapped huge zero page is faulted back at 4 KiB
    'grab_mapping_entry(d:100) -> new empty entry, locked',
  ]), ev.join('\n'));
  const reverted = run(scenario(HOLE_DOWNGRADE('{base: v4.10, dax_grab_unmap_before_preload: false}')), { kernel: 'v4.10', seed: '1' });
  assert.deepEqual(reverted.violations.map((v) => [v.id, v.message]), [['sleep-in-atomic', 't0 calls down_write(i_mmap_rwsem d) with preemption disabled']]);
  // ext4 in v4.9 has no PMD faults: no huge zero page, nothing to downgrade
  assert.ok(!events(run(scenario(HOLE_DOWNGRADE('v4.9')), { kernel: 'v4.9', seed: '1', record: true })).some((e) => e.includes('huge zero')));
});

test('huge files are refused on ext2, and on XFS before v4.7', () => {
  const text = (fs: string, kernel: string) => `
name: p
kernel: ${kernel}
fs: ${fs}
setup:
  files: {d: {pages: 512, huge: true}}
  maps: {m: {file: d}}
threads:
  t0:
    - fault: {map: m, page: 0, huge: true}
`;
  assert.throws(() => run(scenario(text('ext2', 'v4.7')), { kernel: 'v4.7', seed: '0' }), /huge: true on ext2 \(d\) is not modelled yet/);
  assert.throws(() => run(scenario(text('xfs', 'v4.6')), { kernel: 'v4.6', seed: '0' }), /huge: true on xfs under v4.6 \(d\) is not modelled yet/);
  // v4.14+ is modelled (test/kernel/pmd-v4.14plus.test.ts)
  assert.deepEqual(run(scenario(text('ext4', 'v4.14')), { kernel: 'v4.14', seed: '0' }).violations, []);
  assert.deepEqual(run(scenario(text('xfs', 'v4.7')), { kernel: 'v4.7', seed: '0' }).violations, []);
});

test('colliding PMD and COW PTE faults of a private mapping corrupt the page tables in v4.10 (generic/437: rss-counter, nr_ptes, bad pmd) and retry in v4.12', () => {
  const scn = loadScenarioFile('scenarios/dax-colliding-pmd-pte-faults.yaml', vocabulary());
  const msgs = new Set<string>();
  for (let s = 0; s < 40; s++) for (const v of run(scn, { kernel: 'v4.10', seed: String(s) }).violations) msgs.add(v.message.replace(/ \(.*/, ''));
  assert.ok(msgs.has('BUG: non-zero nr_ptes on freeing mm: 1'), [...msgs].join('; '));
  assert.ok(msgs.has('BUG: Bad rss-counter state mm idx:1 val:1'), [...msgs].join('; '));
  const d = exploreScenario(scn, { kernel: 'v4.10' });
  assert.ok(d.complete);
  const bad = run(scn, { kernel: 'v4.10', schedule: d.tokens.get('kernel-warn')!, record: true });
  assert.ok(bad.violations.some((v) => /bad pmd|non-zero nr_ptes|rss-counter/.test(v.message)));
  const fixed = exploreScenario(scn, { kernel: 'v4.12' });
  assert.ok(fixed.complete);
  assert.deepEqual(fixed.violations, []);
  // the v4.12 checks are what keeps it clean: v4.12 without them collides again
  const without = scenario(readScn('scenarios/dax-colliding-pmd-pte-faults.yaml').replace('kernel: v4.10', 'kernel: {base: v4.12, dax_pmd_pte_collision_checks: false}'));
  const u = exploreScenario(without, { kernel: 'v4.12' });
  assert.deepEqual(u.violations.map((v) => v.id), ['kernel-warn']);
});

test('v4.6: a PMD write fault and a PTE read fault of the same 2 MiB leak a page table; v4.7 falls back and stays clean', () => {
  const scn = loadScenarioFile('scenarios/dax-pmd-write-fault-vs-pte-read-fault.yaml', vocabulary());
  const d = exploreScenario(scn, { kernel: 'v4.6' });
  assert.ok(d.complete);
  assert.deepEqual(d.violations.map((v) => v.id), ['kernel-warn']);
  const r = run(scn, { kernel: 'v4.6', schedule: d.tokens.get('kernel-warn')!, record: true });
  assert.ok(events(r).some((e) => e.includes('set_pmd_at(m pmd 0) over a page table: the PTE page is leaked')));
  assert.ok(r.violations.some((v) => v.message.startsWith('BUG: non-zero nr_ptes on freeing mm: 1') || v.message.startsWith('BUG: Bad rss-counter state')));
  const v47 = exploreScenario(scn, { kernel: 'v4.7' });
  assert.ok(v47.complete);
  assert.deepEqual(v47.violations, []);
});

import { readFileSync } from 'node:fs';
function readScn(path: string): string {
  return readFileSync(path, 'utf8');
}

test('XFS (v4.9+): PMD read faults through dax_iomap_pmd_fault() under XFS_MMAPLOCK; v4.9 downgrades a huge zero entry with preemption off (1.15), v4.10 does not; a store then allocates through the PTE write fault', () => {
  const text = (kernel: string, extra = '') => `
name: xfs-pmd
kernel: ${kernel}
fs: xfs
setup:
  files:
    d: {pages: 512, huge: true}
    w: {pages: 512, huge: true, written: {4: "W"}}
  maps:
    m: {file: d}
    m2: {file: d}
    mw: {file: w}
threads:
  t0:
    - fault: {map: mw, page: 4, huge: true}
    - load: {map: mw, page: 4, expect: ["W"]}
    - fault: {map: m, page: 0, huge: true}
    - fault: {map: m2, page: 3}${extra}
`;
  const v49 = run(scenario(text('v4.9')), { kernel: 'v4.9', seed: '0', record: true });
  assert.deepEqual(v49.violations.map((v) => v.id), ['sleep-in-atomic']);
  const ev = events(v49);
  assert.ok(inOrder(ev, ['down_read(xfs_mmaplock w)', 'vmf_insert_pfn_pmd(mw pmd 0) -> DAX PMD', 'load mw:4 = W', 'dax_pmd_load_hole: m pmd 0 -> huge zero page', 'unmap_mapping_range(d:0-511)']), ev.join('\n'));
  assert.deepEqual(run(scenario(text('v4.10')), { kernel: 'v4.10', seed: '0' }).violations, []);
  // a store after the downgrade: a PTE write fault, for which XFS allocates one block (2 MiB allocations of PMD write faults: xfs-pmd.test.ts)
  const st = run(scenario(text('v4.10', '\n    - store: {map: m, page: 9, value: "x"}\n    - load: {map: m2, page: 9, expect: ["x"]}')), { kernel: 'v4.10', seed: '0', record: true });
  assert.deepEqual(st.violations, []);
  assert.ok(inOrder(events(st), ['xfs_bmapi_write(d:9, CONVERT|ZERO)', 'store m:9 = x']), events(st).join('\n'));
});

test('a write(2) into a 2 MiB hole mapped by the huge zero page leaves the zero page mapped in v4.10 (stale mmap read), not in v4.12', () => {
  const scn = loadScenarioFile('scenarios/dax-pmd-stale-mmap-read-after-write.yaml', vocabulary());
  const d = exploreScenario(scn, { kernel: 'v4.10' });
  assert.ok(d.complete);
  assert.deepEqual(d.violations.map((v) => v.id), ['stale-read']);
  const ev = events(run(scn, { kernel: 'v4.10', schedule: d.tokens.get('stale-read')!, record: true }));
  assert.ok(inOrder(ev, ['dax_pmd_load_hole: m pmd 0 -> huge zero page', 'writer: write -> ok', 'load m:3 = 0 (huge zero page)']), ev.join('\n'));
});
