// v4.14–v4.19: zero-page holes and full write-protect faults (91d25ba8a6b0),
// page association and its truncate WARN (d2c997c0f145), dax_layout_busy_page()
// and ext4_break_layouts() (5fac7408d828, 430657b6be89), get_user_pages_fast()
// with its PTE re-check and the x86 TLB-shootdown IPI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';
import { unsupported } from '../../src/kernel/kernel.js';
import { findProfile } from '../../src/kernel/versions.js';

const HOLE = `
name: hole
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 0, expect: 0}
    - store: {map: m, page: 0, value: X}
    - load: {map: m, page: 0, expect: X}
final:
  files: {a: {0: X}}
`;

test('v4.14: a read of a hole maps the shared zero page under a ZERO entry; the write unmaps it and maps the new block writable', () => {
  const r = run(scenario(HOLE), { kernel: 'v4.14', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  const ev = events(r);
  assert.ok(
    inOrder(ev, [
      't: grab_mapping_entry(a:0) -> new empty entry, locked',
      't: ->iomap_begin(a:0) -> hole',
      't: dax_insert_mapping_entry(a:0) -> zero, locked, replaced the empty entry',
      't: vm_insert_mixed(m:0 -> zero page)',
      't: load m:0 = 0 (zero page)',
      // the store hits the read-only zero-page PTE: ->pfn_mkwrite is the full DAX fault
      't: grab_mapping_entry(a:0) -> zero entry, locked',
      't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0 (new)',
      't: unmap_mapping_range(a:0)',
      't: zap m:0',
      't: dax_insert_mapping_entry(a:0) -> blk 0, locked, replaced the zero entry',
      't: vm_insert_mixed_mkwrite(m:0 -> blk 0) rw',
      't: store m:0 = X (blk 0)',
    ]),
  );
  assert.ok(!ev.some((e) => e.includes('hole page')), 'no page-cache hole page in v4.14');
  // v4.12 still uses a page-cache hole page and dax_pfn_mkwrite()
  const old = run(scenario(HOLE), { kernel: 'v4.12', seed: '0', record: true });
  assert.deepEqual(old.violations, []);
  assert.ok(events(old).some((e) => e.includes('hole page #1')));
  assert.ok(!events(old).some((e) => e.includes('zero page')));
});

test('v4.14: a store to a read-only block PTE is a full fault (entry lock, ->iomap_begin(IOMAP_WRITE), vm_insert_mixed_mkwrite); v4.12 uses dax_pfn_mkwrite()', () => {
  const scn = scenario(`
name: wp
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 0, expect: A}
    - store: {map: m, page: 0, value: X}
final:
  files: {a: {0: X}}
`);
  const r = run(scn, { kernel: 'v4.14', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  assert.ok(
    inOrder(events(r), [
      't: vm_insert_mixed(m:0 -> blk 0)',
      't: grab_mapping_entry(a:0) -> blk 0 entry, locked',
      't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0',
      't: dax_insert_mapping_entry(a:0) -> blk 0, locked, left blk 0 entry (locked) in place',
      't: vm_insert_mixed_mkwrite(m:0 -> blk 0) rw',
      't: store m:0 = X (blk 0)',
    ]),
  );
  const old = run(scn, { kernel: 'v4.12', seed: '0', record: true });
  assert.deepEqual(old.violations, []);
  assert.ok(events(old).some((e) => e.includes('dax_pfn_mkwrite(a:0): entry locked')));
  assert.ok(!events(old).some((e) => e.includes('vm_insert_mixed_mkwrite')));
});

test('v4.14: truncate deletes a ZERO entry and zaps the zero-page PTE; a later read faults SIGBUS', () => {
  const scn = scenario(`
name: tz
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 0, expect: 0}
    - truncate: {file: a, pages: 0}
    - load: {map: m, page: 0, expect: SIGBUS}
`);
  const r = run(scn, { kernel: 'v4.19', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  assert.ok(inOrder(events(r), ['t: vm_insert_mixed(m:0 -> zero page)', 't: zap m:0', 't: dax_delete_mapping_entry(a:0)', 't: dax_iomap_fault: i_size 0 <= 0 -> VM_FAULT_SIGBUS']));
});

test('get_user_pages of a zero-page PTE pins the zero page for a read; a write pin faults a block in', () => {
  const scn = scenario(`
name: zp
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 0, expect: 0}
    - pin: {map: m, page: 0, as: r, expect: ok}
    - unpin: {pin: r, expect: ok}
    - pin: {map: m, page: 0, write: true, as: w, expect: ok}
    - dma: {pin: w, value: D, expect: ok}
    - unpin: {pin: w, expect: ok}
final:
  files: {a: {0: D}}
`);
  const r = run(scn, { kernel: 'v4.15', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  assert.ok(inOrder(events(r), ['t: get_user_pages(m:0) -> the zero page', 't: put_page(zero page)', 't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0 (new)', 't: get_user_pages(m:0, FOLL_WRITE) -> blk 0, page ref 2']));
});

const FAST = (pre: string) => `
name: fast
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
${pre}
    - pin: {map: m, page: 0, fast: true, write: true, as: p, expect: ok}
    - dma: {pin: p, value: D, expect: ok}
    - unpin: {pin: p, expect: ok}
final:
  files: {a: {0: D}}
`;

test('get_user_pages_fast: a writable PTE is pinned without mmap_sem; a read-only or missing one falls back to the slow path', () => {
  const fast = run(scenario(FAST('    - store: {map: m, page: 0, value: S}')), { kernel: 'v4.19', seed: '0', record: true });
  assert.deepEqual(fast.violations, []);
  const ev = events(fast);
  const pinAt = ev.findIndex((e) => e.includes('pin m:0 fast'));
  assert.ok(inOrder(ev.slice(pinAt), ['t: gup_pte_range(m:0): get_page(blk 0), page ref 2', 't: get_user_pages_fast(m:0, write) -> blk 0, page ref 2']));
  assert.ok(!ev.slice(pinAt).some((e) => e.includes('mmap_sem')), 'the fast walk takes no mmap_sem');
  for (const pre of ['    - load: {map: m, page: 0, expect: A}', '']) {
    const slow = run(scenario(FAST(pre)), { kernel: 'v4.19', seed: '0', record: true });
    assert.deepEqual(slow.violations, [], pre);
    const e2 = events(slow);
    assert.ok(inOrder(e2, [`t: gup_pte_range(m:0): pte ${pre ? 'read-only' : 'none'} -> slow path`, 't: vm_insert_mixed_mkwrite(m:0 -> blk 0) rw', 't: get_user_pages_fast(m:0, write) -> blk 0, page ref 2']), pre);
  }
});

test('get_user_pages_fast as a long-term pin is refused (FOLL_LONGTERM in gup-fast is v5.2)', () => {
  const lt = scenario(FAST('').replace('fast: true,', 'fast: true, longterm: true,'));
  const d = unsupported(lt, findProfile('v4.19')!.flags, 'v4.19');
  assert.equal(d.length, 1);
  assert.match(d[0]!.message, /FOLL_LONGTERM in gup-fast is v5\.2/);
  assert.deepEqual(unsupported(scenario(FAST('')), findProfile('v4.9')!.flags, 'v4.9'), []);
});

const RO = `
name: ro
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {r: {file: a, readonly: true}}
threads:
  t:
    - load: {map: r, page: 0, expect: A}
    - pin: {map: r, page: 0, fast: true, write: true, as: p, expect: [ok, EFAULT]}
    - dma: {pin: p, value: Z, expect: [ok, no-pin]}
    - store: {map: r, page: 0, value: S, expect: SIGSEGV}
`;

test('x86 gup-fast before ef947b2 (v4.9, v4.10) pins a read-only DAX PTE for writing; after it, and in the generic walk, the write pin of a PROT_READ mapping fails with EFAULT', () => {
  const old = run(scenario(RO), { kernel: 'v4.10', seed: '0', record: true });
  assert.deepEqual(old.violations, []);
  assert.ok(inOrder(events(old), ['t: gup_pte_range(r:0): pte_devmap -> get_page(blk 0), page ref 2 (a read-only PTE, for a write)', 't: dma p: blk 0 = Z', 't: access_error(r): write to a PROT_READ mapping']));
  for (const kernel of ['v4.9.140', 'v4.12', 'v4.19']) {
    const r = run(scenario(RO), { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(ev.some((e) => /gup_pte_range\(r:0\): (!pte_allows_gup|pte read-only) -> slow path/.test(e)), kernel);
    assert.ok(inOrder(ev, ['t: pin -> EFAULT', 't: dma -> no-pin']), kernel);
  }
});

test('x86 gup-fast before v4.13 takes the reference without re-reading the PTE', () => {
  const scn = scenario(FAST('    - store: {map: m, page: 0, value: S}'));
  const r = run(scn, { kernel: 'v4.12', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  const ev = events(r);
  assert.ok(ev.some((e) => e.includes('gup_pte_range(m:0): pte_devmap -> get_page(blk 0), page ref 2')));
  assert.ok(!ev.some((e) => e.includes('pte changed under us')));
});

const PIN = (op: string, pinOps: string) => `
name: pin-vs-${op.startsWith('truncate') ? 'truncate' : 'punch'}
setup:
  files: {a: {pages: 1, written: {0: A}}, b: {pages: 1}}
  maps: {m: {file: a}, n: {file: b}}
threads:
  driver:
${pinOps}
  fs:
    - ${op}
  writer:
    - store: {map: n, page: 0, value: B}
final:
  files: {b: {0: B}}
`;
const TRANSIENT = `    - pin: {map: m, page: 0, write: true, as: p, expect: [ok, EFAULT]}
    - dma: {pin: p, value: D, expect: [ok, no-pin]}
    - unpin: {pin: p, expect: [ok, no-pin]}`;

test('v4.18: deleting the entry of a pinned page WARNs in dax_disassociate_entry(); v4.15 has no association', () => {
  const seenIds = (kernel: string) => [...exploreScenario(scenario(PIN('truncate: {file: a, pages: 0}', TRANSIENT)), { kernel }).tokens.keys()].sort();
  assert.deepEqual(seenIds('v4.15'), ['dma-after-free', 'final-state', 'refcount']);
  assert.deepEqual(seenIds('v4.18'), ['dma-after-free', 'final-state', 'kernel-warn', 'refcount']);
  const x = exploreScenario(scenario(PIN('truncate: {file: a, pages: 0}', TRANSIENT)), { kernel: 'v4.18' });
  const r = run(scenario(PIN('truncate: {file: a, pages: 0}', TRANSIENT)), { kernel: 'v4.18', schedule: x.tokens.get('kernel-warn')!, record: true });
  assert.ok(r.violations.some((v) => v.id === 'kernel-warn' && v.message.includes('WARN_ON_ONCE(trunc && page_ref_count(page) > 1) in dax_disassociate_entry()')));
});

test('v4.19: ext4 truncate and hole punch wait in ext4_break_layouts() for the pin to be dropped', () => {
  for (const op of ['truncate: {file: a, pages: 0}', 'punch: {file: a, page: 0}']) {
    const x = exploreScenario(scenario(PIN(op, TRANSIENT)), { kernel: 'v4.19' });
    assert.ok(x.complete, op);
    assert.deepEqual([...x.tokens.keys()], [], op);
  }
  // a schedule in which the truncate finds the page busy, sleeps, and is woken by the unpin
  const scn = scenario(PIN('truncate: {file: a, pages: 0}', TRANSIENT));
  let shown = false;
  for (let s = 0; s < 200 && !shown; s++) {
    const r = run(scn, { kernel: 'v4.19', seed: String(s), record: true });
    const ev = events(r);
    if (!ev.some((e) => e.includes('-> page of blk 0 (refcount 2)'))) continue;
    shown = true;
    assert.deepEqual(r.violations, []);
    assert.ok(
      inOrder(ev, [
        'fs: dax_layout_busy_page(a) -> page of blk 0 (refcount 2)',
        'fs: up_write(i_mmap_sem a)',
        'fs: waits in ___wait_var_event(blk 0 page refcount == 1)',
        'driver: put_devmap_managed_page(blk 0): refcount 1 -> generic_dax_pagefree(): wake_up_var(&page->_refcount)',
        'fs: down_write(i_mmap_sem a)',
        'fs: dax_layout_busy_page(a) -> NULL',
        'fs: ext4_truncate: free blk 0',
      ]),
    );
  }
  assert.ok(shown, 'some seed below 200 shows the wait');
});

test('v4.19: a pin that is never dropped leaves truncate waiting forever (what a long-term pin would do)', () => {
  const held = `    - pin: {map: m, page: 0, write: true, as: p, expect: [ok, EFAULT]}
    - dma: {pin: p, value: D, expect: [ok, no-pin]}`;
  const scn = scenario(`
name: held
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  driver:
${held}
  fs:
    - truncate: {file: a, pages: 0}
`);
  const x = exploreScenario(scn, { kernel: 'v4.19' });
  assert.deepEqual([...x.tokens.keys()], ['deadlock']);
  const r = run(scn, { kernel: 'v4.19', schedule: x.tokens.get('deadlock')!, record: true });
  assert.match(r.violations[0]!.message, /___wait_var_event\(blk 0 page refcount == 1\)/);
  // v4.18 does not wait: it frees the referenced block (WARN), and the device writes the freed block
  assert.deepEqual([...exploreScenario(scn, { kernel: 'v4.18' }).tokens.keys()].sort(), ['dma-after-free', 'kernel-warn', 'refcount']);
});

test('gup-fast racing truncate: the x86 TLB flush waits for the interrupts-off walk, whose PTE re-check drops the stale reference', () => {
  const scn = scenario(`
name: gf
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  dio:
    - store: {map: m, page: 0, value: S, expect: [ok, SIGBUS]}
    - pin: {map: m, page: 0, fast: true, write: true, as: p, expect: [ok, EFAULT]}
    - unpin: {pin: p, expect: [ok, no-pin]}
  fs:
    - truncate: {file: a, pages: 0}
`);
  const x = exploreScenario(scn, { kernel: 'v4.19' });
  assert.ok(x.complete);
  assert.deepEqual([...x.tokens.keys()], []);
  let shown = false;
  for (let s = 0; s < 1000 && !shown; s++) {
    const ev = events(run(scn, { kernel: 'v4.19', seed: String(s), record: true }));
    if (!ev.some((e) => e.includes('to take the IPI')) || !ev.some((e) => e.includes('pte changed under us'))) continue;
    shown = true;
    assert.ok(inOrder(ev, ['dio: gup_pte_range(m:0): get_page(blk 0)', 'fs: zap m:0', 'fs: waits in flush_tlb_mm_range: waits for dio to take the IPI', 'dio: gup_pte_range(m:0): pte changed under us -> put_page(), slow path']));
  }
  assert.ok(shown, 'some seed below 1000 shows the IPI wait');
});

test('profiles v4.14, v4.15, v4.18 and v4.19 turn on the mechanisms where the commits landed', () => {
  const f = (n: string) => findProfile(n)!.flags;
  assert.deepEqual(f('v4.14'), { ...f('v4.12'), dax_zero_page_holes: true, gup_fast_generic: true });
  assert.deepEqual(f('v4.15'), { ...f('v4.14'), gup_longterm_refuses_fsdax: true, dax_map_sync: true, xfs_map_sync: true, xfs_pfn_mkwrite_full_fault: true, dax_pmd_fault_size_round_up: true });
  assert.deepEqual(f('v4.18'), { ...f('v4.15'), dax_page_association: true, dax_layout_busy_page: true, xfs_break_dax_layouts: true, gup_fast_device_huge_recheck: true });
  assert.deepEqual(f('v4.19'), { ...f('v4.18'), ext4_break_layouts: true, memory_failure_dev_pagemap: true, dax_layout_busy_page_pmd_index: true });
});
