// PMD (huge) faults, pins of huge files and gup-fast on DAX PMDs in the v4.14–v4.19
// profiles (huge.ts, dax-iomap.ts, dax-pfn.ts, gup.ts, layout.ts, tlb.ts), against the
// behaviour of the real code: 2 MiB zero entries with the huge zero page, page association
// of the 512 pages of a PMD entry (v4.17 code, v4.18 profile), dax_layout_busy_page() over
// PMD entries and its step past them (d7782145e1ad), follow_devmap_pmd(), gup-fast's
// __gup_device_huge_pmd() with and without "mm: fix __gup_device_huge vs unmap", and the
// TLB flush by IPI or by hypercall (setup.tlb_flush).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { FLAGS, findProfile } from '../../src/kernel/versions.js';
import { exploreScenario } from '../../src/check/explore.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { vocabulary } from '../../src/cli/vocab.js';
import { InputError } from '../../src/scenario/diagnostic.js';
import { buildRun } from '../../src/check/run.js';
import { pinState } from '../../src/kernel/gup.js';
import { RandomStrategy } from '../../src/sim/strategy.js';

const flags = (v: string) => findProfile(v)!.flags;

test('the v4.18/v4.19 PMD flags switch where their commits landed, each naming its commit and a mechanism', () => {
  for (const v of ['v4.6', 'v4.12', 'v4.14', 'v4.15']) assert.equal(flags(v).gup_fast_device_huge_recheck, false, v);
  assert.equal(flags('v4.18').gup_fast_device_huge_recheck, true);
  assert.equal(flags('v4.19').gup_fast_device_huge_recheck, true);
  assert.equal(flags('v4.18').dax_layout_busy_page_pmd_index, false);
  assert.equal(flags('v4.19').dax_layout_busy_page_pmd_index, true);
  for (const f of ['gup_fast_device_huge_recheck', 'dax_pmd_fault_size_round_up', 'dax_layout_busy_page_pmd_index'] as const) {
    const info = FLAGS[f] as { commit: string; since: string; mechanism: string };
    assert.ok(info.commit.length > 20 && /^v4\.\d+$/.test(info.since) && info.mechanism.length > 60, f);
    assert.doesNotMatch(info.mechanism, /\bbug\b/i, f);
  }
  // the order of the FLAGS table: right after dax_layout_busy_page
  const names = Object.keys(FLAGS);
  assert.deepEqual(names.slice(names.indexOf('dax_layout_busy_page'), names.indexOf('dax_layout_busy_page') + 4), ['dax_layout_busy_page', 'gup_fast_device_huge_recheck', 'dax_pmd_fault_size_round_up', 'dax_layout_busy_page_pmd_index']);
});

const HOLE = (kernel: string) => `
name: pmd-hole
kernel: ${kernel}
setup:
  files:
    d: {pages: 512, huge: true}
  maps:
    m: {file: d}
threads:
  t0:
    - fault: {map: m, page: 0, huge: true}
    - load: {map: m, page: 100, expect: [0]}
    - store: {map: m, page: 3, value: "S"}
    - load: {map: m, page: 3, expect: ["S"]}
    - load: {map: m, page: 100, expect: [0]}
`;

test('v4.14+: a PMD read fault of a 2 MiB hole maps the huge zero page over a 2 MiB zero entry; a store faults it away (4k: downgrade, ZERO entry era)', () => {
  for (const kernel of ['v4.14', 'v4.15', 'v4.18', 'v4.19']) {
    const r = run(scenario(HOLE(kernel)), { kernel, seed: '1', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, [
      'grab_mapping_entry(d:0, PMD) -> new PMD empty entry, locked',
      '->iomap_begin(d:0, PMD_SIZE) -> hole +512',
      'dax_insert_mapping_entry(d:0) -> huge zero (PMD), locked, replaced the PMD empty entry',
      'dax_pmd_load_hole: m pmd 0 -> huge zero page',
      'load m:100 = 0 (huge zero page)',
      // the store is a PTE fault (no `huge`) through wp_huge_pmd(): the DAX PMD handler
      // allocates 2 MiB and replaces the zero entry after unmapping the huge zero page
      '->iomap_begin(d:0, PMD_SIZE, IOMAP_WRITE) -> mapped blk',
      'unmap_mapping_range(d:0-511)',
      'zap m pmd 0 (huge zero page ro)',
      'replaced the PMD huge zero entry, tagged DIRTY',
      'vmf_insert_pfn_pmd(m pmd 0) -> DAX PMD',
      'store m:3 = S',
    ]), `${kernel}\n${ev.join('\n')}`);
  }
});

const ASSOC = `
name: pmd-assoc
setup:
  files:
    d: {pages: 512, huge: true}
  maps:
    m: {file: d}
threads:
  t0:
    - fault: {map: m, page: 0, huge: true, write: true}
`;

test('v4.18+: a 2 MiB entry associates the 512 pages of its blocks with the file (dax_associate_entry() over for_each_mapped_pfn); v4.15 associates none', () => {
  for (const kernel of ['v4.15', 'v4.18', 'v4.19']) {
    const scn = scenario(ASSOC);
    const { sim, model } = buildRun(scn, flags(kernel), {});
    sim.run(new RandomStrategy('1'));
    assert.deepEqual(sim.violations, [], kernel);
    const assoc = pinState(model.k).assoc;
    const entries = assoc.peekEntries();
    if (kernel === 'v4.15') {
      assert.equal(entries.length, 0);
      continue;
    }
    assert.equal(entries.length, 512, kernel);
    const first = entries[0]!;
    const last = entries[511]!;
    assert.deepEqual(first[1], { file: 'd', index: 0 });
    assert.deepEqual(last[1], { file: 'd', index: 511 });
    assert.equal(last[0] - first[0], 511);
  }
});

const PIN_WAIT = (kernel: string, op = 'truncate: {file: d, pages: 0}') => `
name: pmd-pin-wait
kernel: ${kernel}
setup:
  files:
    d: {pages: 512, huge: true, written: {0: "A"}}
  maps:
    m: {file: d}
threads:
  dio:
    - fault: {map: m, page: 0, huge: true}
    - pin: {map: m, page: 3, as: p}
    - dma: {pin: p, value: "D", expect: [ok, no-pin]}
    - unpin: {pin: p}
  truncator:
    - ${op}
`;

test('v4.14+ slow path: get_user_pages() of a page of a DAX PMD takes that 4 KiB page (follow_devmap_pmd() under the pmd lock)', () => {
  for (const kernel of ['v4.14', 'v4.19']) {
    const text = `
name: pmd-pin
kernel: ${kernel}
setup:
  files:
    d: {pages: 512, huge: true, written: {0: "A"}}
  maps:
    m: {file: d}
threads:
  t0:
    - fault: {map: m, page: 0, huge: true}
    - pin: {map: m, page: 3, as: r}
    - pin: {map: m, page: 5, write: true, as: w}
    - dma: {pin: w, value: "D"}
    - load: {map: m, page: 5, expect: ["D"]}
    - unpin: {pin: r}
    - unpin: {pin: w}
`;
    const r = run(scenario(text), { kernel, seed: '1', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, [
      'vmf_insert_pfn_pmd(m pmd 0) -> DAX PMD blk 0-511 ro',
      'follow_devmap_pmd(m:3): get_page(blk 3), page ref 2',
      // the write pin finds the PMD read-only: faultin_page() -> wp_huge_pmd() -> a DAX PMD write fault
      '->iomap_begin(d:0, PMD_SIZE, IOMAP_WRITE) -> mapped blk 0 +512',
      'vmf_insert_pfn_pmd(m pmd 0) -> DAX PMD blk 0-511 rw',
      'follow_devmap_pmd(m:5): get_page(blk 5), page ref 2',
      'dma w: blk 5 = D',
      'load m:5 = D (blk 5, PMD)',
    ]), `${kernel}\n${ev.join('\n')}`);
  }
});

test('a read pin of the huge zero page pins it, not a file block; a write pin of it allocates the 2 MiB first', () => {
  const text = (write: boolean, fast: boolean) => `
name: pmd-pin-zero
kernel: v4.19
setup:
  files:
    d: {pages: 512, huge: true}
  maps:
    m: {file: d}
threads:
  t0:
    - fault: {map: m, page: 0, huge: true}
    - pin: {map: m, page: 3, as: p, write: ${write}, fast: ${fast}}
    - dma: {pin: p, value: "D"}
    - load: {map: m, page: 3, expect: [${write ? '"D"' : '0'}]}
`;
  for (const fast of [false, true]) {
    const ro = events(run(scenario(text(false, fast)), { kernel: 'v4.19', seed: '1', record: true }));
    assert.ok(ro.some((e) => e.includes('-> the huge zero page')), ro.join('\n'));
    assert.ok(ro.some((e) => e.includes('dma p: the huge zero page = D (not the file')), ro.join('\n'));
    const rw = run(scenario(text(true, fast)), { kernel: 'v4.19', seed: '1', record: true });
    assert.deepEqual(rw.violations, [], String(fast));
    assert.ok(inOrder(events(rw), ['replaced the PMD huge zero entry, tagged DIRTY', 'dma p: blk']), events(rw).join('\n'));
  }
});

test('pins of a PMD-mapped page: v4.18 ext4 truncate frees the pinned block (1.34), v4.19 waits for the pin of any of the 512 pages', () => {
  const v418 = exploreScenario(scenario(PIN_WAIT('v4.18')), { kernel: 'v4.18' });
  assert.ok(v418.complete);
  assert.deepEqual([...v418.tokens.keys()].sort(), ['dma-after-free', 'kernel-warn', 'refcount']);
  for (const op of ['truncate: {file: d, pages: 0}', 'punch: {file: d, page: 0}']) {
    const v419 = exploreScenario(scenario(PIN_WAIT('v4.19', op)), { kernel: 'v4.19' });
    assert.ok(v419.complete, op);
    assert.deepEqual([...v419.tokens.keys()], [], op);
  }
  // a schedule in which dax_layout_busy_page() finds blk 3 of the 2 MiB entry busy and waits
  const scn = scenario(PIN_WAIT('v4.19'));
  let shown = false;
  for (let seed = 50; seed < 120 && !shown; seed++) {
    const ev = events(run(scn, { kernel: 'v4.19', seed: String(seed), record: true }));
    shown = inOrder(ev, ['follow_devmap_pmd(m:3): get_page(blk 3)', 'dax_layout_busy_page(d) -> page of blk 3 (refcount 2)', 'wake_up_var', 'dax_layout_busy_page(d) -> NULL', 'ext4_truncate: free blk']);
  }
  assert.ok(shown, 'no seed showed the wait for blk 3');
});

test('v4.19.0 without d7782145e1ad: dax_layout_busy_page() finds the 2 MiB entry again from index 1 for ever (livelock); 4.19.y steps past it', () => {
  const text = (override: string) => `
name: pmd-busy-livelock
kernel: ${override}
setup:
  files:
    d: {pages: 512, huge: true, written: {0: "A"}}
  maps:
    m: {file: d}
threads:
  t0:
    - fault: {map: m, page: 0, huge: true}
    - truncate: {file: d, pages: 0}
`;
  const fixed = run(scenario(text('v4.19')), { kernel: 'v4.19', seed: '1', record: true });
  assert.deepEqual(fixed.violations, []);
  assert.ok(events(fixed).some((e) => e.includes('dax_layout_busy_page(d) -> NULL')));
  const old = run(scenario(text('{base: v4.19, dax_layout_busy_page_pmd_index: false}')), { kernel: 'v4.19', seed: '1', maxSteps: 3000 });
  assert.deepEqual(old.violations.map((v) => v.id), ['livelock']);
  // v4.18's ext4 does not call it
  assert.deepEqual(run(scenario(text('v4.18')), { kernel: 'v4.18', seed: '1' }).violations, []);
});

const GUP_FAST = (kernel: string, tlb: string) => `
name: gup-fast-pmd
kernel: ${kernel}
setup:
  tlb_flush: ${tlb}
  files:
    d: {pages: 512, huge: true, written: {0: "A"}}
  maps:
    m: {file: d}
threads:
  dio:
    - fault: {map: m, page: 0, huge: true}
    - pin: {map: m, page: 3, fast: true, as: p, expect: [ok, EFAULT]}
    - dma: {pin: p, value: "D", expect: [ok, no-pin]}
    - unpin: {pin: p, expect: [ok, no-pin]}
  truncator:
    - truncate: {file: d, pages: 0}
`;

const seenIds = (text: string, kernel: string) => {
  const x = exploreScenario(scenario(text), { kernel });
  assert.ok(x.complete, kernel);
  return [...x.tokens.keys()].sort();
};

test('gup-fast on a DAX PMD vs truncate (1.35): with x86 IPI flushes the unmap waits for the walk, with or without the re-check', () => {
  assert.deepEqual(seenIds(GUP_FAST('v4.19', 'ipi'), 'v4.19'), []);
  assert.deepEqual(seenIds(GUP_FAST('{base: v4.19, gup_fast_device_huge_recheck: false}', 'ipi'), 'v4.19'), []);
  // the default is ipi
  assert.deepEqual(seenIds(GUP_FAST('{base: v4.19, gup_fast_device_huge_recheck: false}', 'ipi').replace('  tlb_flush: ipi\n', ''), 'v4.19'), []);
});

test('gup-fast on a DAX PMD vs truncate (1.35): with hypercall flushes only the re-check keeps the reference out; without it the pinned block is freed', () => {
  const reverted = GUP_FAST('{base: v4.19, gup_fast_device_huge_recheck: false}', 'hypercall');
  assert.deepEqual(seenIds(reverted, 'v4.19'), ['dma-after-free', 'kernel-warn', 'refcount']);
  // with the re-check, the reference taken after dax_layout_busy_page()'s scan is dropped again;
  // the only trace of it is dax_disassociate_entry()'s WARN when the entry goes while it is held
  assert.deepEqual(seenIds(GUP_FAST('v4.19', 'hypercall'), 'v4.19'), ['kernel-warn']);
  const x = exploreScenario(scenario(GUP_FAST('v4.19', 'hypercall')), { kernel: 'v4.19' });
  const r = run(scenario(GUP_FAST('v4.19', 'hypercall')), { kernel: 'v4.19', schedule: x.tokens.get('kernel-warn')!, record: true });
  assert.match(r.violations[0]!.message, /WARN_ON_ONCE\(trunc && page_ref_count\(page\) > 1\) in dax_disassociate_entry\(\)/);
  assert.ok(inOrder(events(r), ['__gup_device_huge_pmd(m:3): get_page(blk 3)', 'WARN_ON_ONCE(trunc', 'gup_huge_pmd(m:3): pmd changed under us -> put_page(), slow path', 'pin -> EFAULT']), events(r).join('\n'));
  // the reverted walk keeps a reference on a freed block: a schedule of dma-after-free
  const y = exploreScenario(scenario(reverted), { kernel: 'v4.19' });
  const bad = run(scenario(reverted), { kernel: 'v4.19', schedule: y.tokens.get('dma-after-free')!, record: true });
  assert.ok(inOrder(events(bad), ['zap m pmd 0', 'dax_layout_busy_page(d) -> NULL', 'ext4_truncate: free blk', '__gup_device_huge_pmd(m:3): get_page(blk 3)', 'pin -> ok', 'dma p: blk 3 = D']), events(bad).join('\n'));
});

test('x86 gup-fast before v4.13 (arch/x86/mm/gup.c) takes DAX PMD pages without a re-check; a write needs a writable PMD (pte_allows_gup())', () => {
  const text = (write: boolean) => `
name: gup-fast-pmd-x86
kernel: v4.12
setup:
  files:
    d: {pages: 512, huge: true, written: {0: "A"}}
  maps:
    m: {file: d}
threads:
  t0:
    - fault: {map: m, page: 0, huge: true}
    - pin: {map: m, page: 7, fast: true, write: ${write}, as: p}
`;
  const ro = events(run(scenario(text(false)), { kernel: 'v4.12', seed: '1', record: true }));
  assert.ok(ro.some((e) => e.includes('__gup_device_huge_pmd(m:7): get_page(blk 7), page ref 2')), ro.join('\n'));
  assert.ok(!ro.some((e) => e.includes('pmd changed')));
  const rw = events(run(scenario(text(true)), { kernel: 'v4.12', seed: '1', record: true }));
  assert.ok(inOrder(rw, ['gup_huge_pmd(m:7): !pte_allows_gup (read-only DAX PMD', 'follow_devmap_pmd(m:7): get_page(blk 7)']), rw.join('\n'));
  // with hypercall flushes the v4.12 walk has the same hole at the PMD level (ext4 does not wait for pins before v4.19 anyway)
  assert.ok(seenIds(GUP_FAST('v4.12', 'hypercall'), 'v4.12').includes('dma-after-free'));
});

test('setup.tlb_flush: ipi or hypercall, anything else is refused with its position', () => {
  const text = (v: string) => GUP_FAST('v4.19', v);
  assert.equal(scenario(text('hypercall')).tlbFlush, 'hypercall');
  assert.equal(scenario(text('ipi')).tlbFlush, 'ipi');
  assert.equal(scenario(text('ipi').replace('  tlb_flush: ipi\n', '')).tlbFlush, undefined);
  assert.throws(() => scenario(text('hypercal')), (e: unknown) => {
    assert.ok(e instanceof InputError);
    const d = e.diagnostics[0]!;
    assert.equal(d.line, 5);
    assert.equal(d.col, 14);
    assert.match(d.message, /unknown tlb_flush 'hypercal' \(expected one of: ipi, hypercall\); did you mean 'hypercall'\?/);
    return true;
  });
});

test('v4.15+ MAP_SYNC of a huge file: the PMD write fault that allocates returns VM_FAULT_NEEDDSYNC, ext4 commits the 2 MiB allocation, then maps the PMD writable', () => {
  const text = (map: string, extra = '') => `
name: pmd-map-sync
setup:
  files:
    d: {pages: 512, huge: true}
  maps:
    s: {file: d${map}}
threads:
  t0:
    - fault: {map: s, page: 3, huge: true, write: true}
    - store: {map: s, page: 3, value: "X"}
${extra}
final:
  crash: true
  allocated: {d: [0, 3, 511]}
`;
  for (const kernel of ['v4.15', 'v4.19']) {
    const r = run(scenario(text(', sync: true')), { kernel, seed: '1', record: true });
    assert.deepEqual(r.violations, [], kernel);
    assert.ok(inOrder(events(r), [
      'dax_insert_mapping_entry(d:0) -> blk 0 (PMD), locked, replaced the PMD empty entry',
      'dax_iomap_pmd_fault: synchronous fault, blk 0 not mapped yet -> VM_FAULT_NEEDDSYNC',
      'jbd2: transaction 2 committed (for d)',
      'dax_insert_pfn_mkwrite(d:3, PMD): PMD blk 0 entry tagged DIRTY, locked',
      'vmf_insert_pfn_pmd(s pmd 0) -> DAX PMD blk 0-511 rw',
      'store s:3 = X (blk 3, PMD)',
    ]), events(r).join('\n'));
    // the entry went in clean (write && !sync) and was dirtied by dax_insert_pfn_mkwrite()
    assert.ok(!events(r).some((e) => e.includes('replaced the PMD empty entry, tagged DIRTY')));
    // a plain shared mapping: the allocation stays in the running transaction and the crash loses it
    const plain = run(scenario(text('')), { kernel, seed: '1' });
    assert.deepEqual([...new Set(plain.violations.map((v) => v.id))], ['final-state'], kernel);
    // ... unless an fsync commits it (ext4MapBlocksRange() puts the 2 MiB allocation in the transaction)
    assert.deepEqual(run(scenario(text('', '    - fsync: {file: d}')), { kernel, seed: '1' }).violations, [], kernel);
  }
  // MAP_SYNC is v4.15
  assert.throws(() => run(scenario(text(', sync: true')), { kernel: 'v4.14', seed: '1' }), /a MAP_SYNC mapping \(s; MAP_SYNC is v4.15/);
});

test('a PMD fault on an empty file: no SIGBUS until 957ac8c421ad (v4.15; max_pgoff was ULONG_MAX for i_size 0), SIGBUS from v4.15', () => {
  const text = `
name: pmd-zero-len
setup:
  files:
    d: {pages: 512, huge: true}
  maps:
    m: {file: d}
threads:
  t0:
    - truncate: {file: d, pages: 0}
    - fault: {map: m, page: 0, huge: true, write: true}
`;
  const result = (kernel: string) => {
    const r = run(scenario(text), { kernel, seed: '1', record: true });
    return r.trace.filter((e) => e.text.startsWith('fault -> ')).map((e) => e.text);
  };
  assert.deepEqual(result('v4.12'), ['fault -> ok']);
  assert.deepEqual(result('v4.14'), ['fault -> ok']);
  assert.deepEqual(result('v4.15'), ['fault -> SIGBUS']);
  assert.deepEqual(result('v4.19'), ['fault -> SIGBUS']);
  assert.equal(flags('v4.14').dax_pmd_fault_size_round_up, false);
  assert.equal(flags('v4.15').dax_pmd_fault_size_round_up, true);
});

test('1.35 trace: gup-fast reads the DAX PMD without a lock before truncate zaps it, and takes its reference after the 2 MiB are freed', () => {
  const r = run(loadScenarioFile('scenarios/gup-fast-device-huge-vs-unmap.yaml', vocabulary()), { kernel: 'v4.19', schedule: 's1-a16b22a5', record: true });
  assert.ok(inOrder(events(r), [
    'gup_pmd_range(m:3): READ_ONCE(*pmdp) -> DAX PMD blk 0-511 ro, no lock, interrupts off',
    'zap m pmd 0 (DAX PMD blk 0-511 ro)',
    'dax_layout_busy_page(d) -> NULL',
    'ext4_truncate: free blk 0-511',
    '__gup_device_huge_pmd(m:3): get_page(blk 3), page ref 2',
    'dma p: blk 3 = D',
  ]), events(r).join('\n'));
});
