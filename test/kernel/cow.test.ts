// Private (MAP_PRIVATE) mappings: read faults, COW faults, wp_page_copy(),
// loads/stores, truncate/punch/munmap/msync, per version where the code differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findProfile } from '../../src/kernel/versions.js';
import { events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';
import type { RunResult } from '../../src/check/run.js';

const ALL = ['v4.6', 'v4.7', 'v4.9', 'v4.10', 'v4.12', 'v4.19'];

function once(text: string, kernel: string): RunResult {
  return run(scenario(text), { kernel, seed: '1', record: true });
}

function ids(r: { violations: { id: string }[] }): string[] {
  return [...new Set(r.violations.map((v) => v.id))].sort();
}

/** One thread's op results, from the trace (`op -> result` lines). */
function results(r: RunResult, thread = 't0'): string[] {
  return events(r).filter((e) => e.startsWith(`${thread}: `) && / -> /.test(e) && /^(fault|load|store|truncate|punch|munmap|msync|read|fsync) -> /.test(e.slice(thread.length + 2))).map((e) => e.slice(e.indexOf(' -> ') + 4));
}

const VIEW = `
name: private-view
setup:
  files: {a: {pages: 2, written: {0: "A"}}}
  maps: {p: {file: a, private: true}, m: {file: a}}
threads:
  t0:
    - load: {map: p, page: 0}
    - store: {map: p, page: 0, value: "X"}
    - load: {map: p, page: 0}
    - load: {map: m, page: 0}
    - store: {map: p, page: 1, value: "Y"}
    - load: {map: p, page: 1}
    - load: {map: m, page: 1}
`;

for (const v of ALL) {
  test(`${v}: a private mapping reads the file until a store, then its own copy; the file never sees the store`, () => {
    const r = once(VIEW, v);
    assert.deepEqual(r.violations, []);
    assert.deepEqual(results(r), ['A', 'ok', 'X', 'A', 'ok', 'Y', '0']);
    const ev = events(r);
    // the read fault maps the block's pfn read-only; the store copies it (wp_page_copy) into an anon page
    assert.ok(inOrder(ev, ['t0: vm_insert_mixed(p:0 -> blk', 't0: wp_page_copy(p:0: blk', 't0: cow: map p:0 -> anon page', 't0: store p:0 = X (anon page']), ev.join('\n'));
    // the store to a hole is a COW fault (do_cow_fault) that allocates no block: the page is zeroed
    assert.ok(inOrder(ev, ['t0: clear_user_highpage(anon page', 't0: cow: map p:1 -> anon page', 't0: store p:1 = Y']), ev.join('\n'));
    assert.ok(!ev.some((e) => e.includes('get_block(a:1, create)') || e.includes('IOMAP_WRITE')), 'no allocation for a COW fault');
  });
}

const COW_MAPPED = `
name: cow-mapped
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
  maps: {p: {file: a, private: true}}
threads:
  t0:
    - fault: {map: p, page: 0, write: true}
    - load: {map: p, page: 0}
`;

test('v4.6: the COW fault copies the block, returns VM_FAULT_LOCKED holding i_mmap_lock_read, and do_cow_fault drops it after the install', () => {
  const ev = events(once(COW_MAPPED, 'v4.6'));
  assert.ok(inOrder(ev, [
    't0: copy_user_dax(blk 0 -> anon page',
    't0: down_read(i_mmap_rwsem a)',
    't0: i_size_read(a) = 1',
    't0: __dax_fault (cow) -> VM_FAULT_LOCKED, i_mmap_lock held',
    't0: up_read(i_mmap_sem a)',
    't0: cow: map p:0 -> anon page #1 rw (A)',
    't0: do_cow_fault: release i_mmap_lock',
    't0: up_read(i_mmap_rwsem a)',
    't0: load p:0 = A (anon page #1)',
  ]), ev.join('\n'));
});

for (const v of ['v4.7', 'v4.9']) {
  test(`${v}: the COW fault returns VM_FAULT_DAX_LOCKED and do_cow_fault unlocks the entry after the install (bc2466e42573)`, () => {
    const ev = events(once(COW_MAPPED, v));
    assert.ok(inOrder(ev, [
      't0: grab_mapping_entry(a:0) -> new empty entry, locked',
      't0: copy_user_dax(blk 0 -> anon page',
      't0: dax_fault (cow) -> VM_FAULT_DAX_LOCKED',
      't0: up_read(i_mmap_sem a)',
      't0: cow: map p:0 -> anon page #1 rw (A)',
      't0: do_cow_fault: release the DAX entry lock',
    ]), ev.join('\n'));
    assert.ok(!ev.some((e) => e.includes('i_mmap_rwsem')), 'no i_mmap_lock in the v4.7+ COW path');
  });
}

for (const v of ['v4.10', 'v4.12', 'v4.19']) {
  test(`${v}: the DAX handler installs the COW page itself (finish_fault, VM_FAULT_DONE_COW) before the entry unlock and i_mmap_sem release (b1aa812b2108)`, () => {
    const ev = events(once(COW_MAPPED, v));
    assert.ok(inOrder(ev, [
      't0: copy_user_dax(blk 0 -> anon page',
      't0: cow: map p:0 -> anon page #1 rw (A)',
      't0: dax_iomap_fault -> VM_FAULT_DONE_COW',
      't0: up_read(i_mmap_sem a)',
    ]), ev.join('\n'));
    assert.ok(ev.some((e) => e.startsWith('t0: ->iomap_begin(a:0)') && !e.includes('IOMAP_WRITE')), 'a COW fault asks ->iomap_begin without IOMAP_WRITE');
  });
}

test('v4.6–v4.10 take ext4\'s write-fault handle for a COW fault; from v4.12 (fd96b8da68d3) a COW fault is handled like a read', () => {
  // the jbd2 handle is a lockdep map (no trace line); sb_start_pagefault() shows through
  // file_update_time's yield only, so compare the step at which i_mmap_sem is taken
  const r10 = once(COW_MAPPED, 'v4.10');
  const r12 = once(COW_MAPPED, 'v4.12');
  assert.deepEqual(ids(r10), []);
  assert.deepEqual(ids(r12), []);
  const s10 = r10.trace.find((e) => e.text.startsWith('down_read(i_mmap_sem a)'))!.step;
  const s12 = r12.trace.find((e) => e.text.startsWith('down_read(i_mmap_sem a)'))!.step;
  assert.ok(s12 < s10, `the v4.12 COW fault skips sb_start_pagefault()/file_update_time() (${s12} < ${s10})`);
});

const PUNCH_TRUNC = `
name: cow-punch-truncate
setup:
  files: {a: {pages: 3, written: {0: "A", 1: "B", 2: "C"}}}
  maps: {p: {file: a, private: true}}
threads:
  t0:
    - store: {map: p, page: 0, value: "X"}
    - store: {map: p, page: 2, value: "Z"}
    - punch: {file: a, page: 0}
    - load: {map: p, page: 0}
    - truncate: {file: a, pages: 2}
    - load: {map: p, page: 2}
    - load: {map: p, page: 1}
`;

for (const v of ALL) {
  test(`${v}: hole punch keeps private COW pages (no even_cows); truncate zaps them (even_cows) and a load beyond EOF gets SIGBUS`, () => {
    const r = once(PUNCH_TRUNC, v);
    assert.deepEqual(r.violations, []);
    assert.deepEqual(results(r), ['ok', 'ok', 'ok', 'X', 'ok', 'SIGBUS', 'B']);
    const ev = events(r);
    assert.ok(ev.includes('t0: unmap_mapping_range(a:0)'), 'punch unmaps without even_cows');
    assert.ok(ev.includes('t0: unmap_mapping_range(a:2-, even_cows)'), 'truncate unmaps with even_cows');
    assert.ok(inOrder(ev, ['t0: unmap_mapping_range(a:2-, even_cows)', 't0: zap p:2']), ev.join('\n'));
  });
}

for (const v of ['v4.6', 'v4.10', 'v4.19']) test(`${v}: fsync and msync write nothing of a private mapping; its stores are not durable and are not lost writes`, () => {
  const r = once(`
name: cow-fsync
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
  maps: {p: {file: a, private: true}}
threads:
  t0:
    - store: {map: p, page: 0, value: "X"}
    - msync: {map: p}
    - fsync: {file: a}
final:
  crash: true
  files: {a: {0: "A"}}
`, v);
  assert.deepEqual(r.violations, []);
  assert.deepEqual(results(r), ['ok', 'ok', 'ok']);
  assert.ok(!events(r).some((e) => e.includes('dax_writeback_one')), events(r).join('\n'));
});

test('munmap drops the private pages; a later access or fault is SIGSEGV', () => {
  for (const v of ['v4.6', 'v4.12']) {
    const r = once(`
name: cow-munmap
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
  maps: {p: {file: a, private: true}}
threads:
  t0:
    - store: {map: p, page: 0, value: "X"}
    - munmap: {map: p}
    - load: {map: p, page: 0}
    - fault: {map: p, page: 0}
    - munmap: {map: p}
`, v);
    assert.deepEqual(r.violations, []);
    assert.deepEqual(results(r), ['ok', 'ok', 'SIGSEGV', 'SIGSEGV', 'ok']);
    assert.ok(events(r).includes('t0: munmap p: zap 0'), events(r).join('\n'));
  }
});

test('v4.7: a COW fault on a hole page copies zeros and releases the hole page lock (VM_FAULT_LOCKED)', () => {
  const r = once(`
name: cow-hole-page
setup:
  files: {a: {pages: 1}}
  maps: {p: {file: a, private: true}, m: {file: a}}
threads:
  t0:
    - load: {map: m, page: 0}
    - fault: {map: p, page: 0, write: true}
    - load: {map: p, page: 0}
`, 'v4.7');
  assert.deepEqual(r.violations, []);
  const ev = events(r);
  assert.ok(inOrder(ev, ['t0: grab_mapping_entry(a:0) -> hole page #1, page locked', 't0: dax_fault (cow) -> VM_FAULT_LOCKED, hole page #1', 't0: cow: map p:0 -> anon page', 't0: do_cow_fault: release hole page #1']), ev.join('\n'));
  assert.deepEqual(results(r), ['0', 'ok', '0']);
});

test('v4.6 ext4: a COW fault on an unwritten extent converts and zeroes it (ext4_dax_mmap_get_block converts even on a lookup)', () => {
  const text = `
name: cow-unwritten
setup:
  files: {a: {pages: 1, unwritten: [0]}}
  maps: {p: {file: a, private: true}}
threads:
  t0:
    - fault: {map: p, page: 0, write: true}
    - load: {map: p, page: 0}
`;
  const r6 = once(text, 'v4.6');
  assert.deepEqual(r6.violations, []);
  assert.ok(events(r6).some((e) => e.includes('unwritten blk') && e.includes('converted to written and zeroed')));
  assert.ok(events(r6).some((e) => e.startsWith('t0: copy_user_dax(') && e.endsWith('= 0')));
  // v4.7: a lookup is a lookup; the COW fault zeroes the page without touching the extent
  const r7 = once(text, 'v4.7');
  assert.deepEqual(r7.violations, []);
  assert.ok(!events(r7).some((e) => e.includes('converted')));
  assert.ok(events(r7).some((e) => e.startsWith('t0: clear_user_highpage(')));
  assert.deepEqual(results(r7), ['ok', '0']);
});

test('ext2 (v4.6–v4.12): private mappings through the get_block and iomap DAX faults', () => {
  for (const v of ['v4.6', 'v4.7', 'v4.9', 'v4.10', 'v4.12']) {
    const r = once(`
name: cow-ext2
fs: ext2
setup:
  files: {a: {pages: 2, written: {0: "A"}}}
  maps: {p: {file: a, private: true}}
threads:
  t0:
    - store: {map: p, page: 0, value: "X"}
    - store: {map: p, page: 1, value: "Y"}
    - load: {map: p, page: 0}
    - truncate: {file: a, pages: 1}
    - load: {map: p, page: 1}
`, v);
    assert.deepEqual(r.violations, []);
    assert.deepEqual(results(r), ['ok', 'ok', 'X', 'ok', 'SIGBUS']);
  }
});

test('a pin of a private mapping is refused up front', () => {
  assert.throws(() => run(scenario(`
name: cow-pin
setup:
  files: {a: {pages: 1}}
  maps: {p: {file: a, private: true}}
threads:
  t0:
    - pin: {map: p, page: 0, as: x}
`), { kernel: 'v4.7', seed: '1' }), /pin of the private mapping p/);
});

// 1.11: what holds truncate off between the COW copy and the install
const COW_TRUNC = (kernel: string) => `
name: cow-vs-truncate
kernel: ${kernel}
setup:
  files: {a: {pages: 2, written: {1: "A"}}}
  maps: {p: {file: a, private: true}}
threads:
  cow:
    - fault: {map: p, page: 1, write: true}
  truncator:
    - truncate: {file: a, pages: 1}
`;

for (const [kernel, profile, want] of [
  ['v4.6', 'v4.6', []],
  ['v4.7', 'v4.7', []],
  ['v4.9', 'v4.9', []],
  ['v4.10', 'v4.10', []],
  ['v4.12', 'v4.12', []],
  // the ac401cc78242 state of the tree: entry locking, i_mmap_lock still in the fault path, COW under i_mmap_lock
  ['{base: v4.7, dax_cow_entry_lock: false, dax_fault_i_mmap_lock: true}', 'v4.7', []],
  // 4d9a2c874667 without bc2466e42573: nothing holds the window
  ['{base: v4.7, dax_cow_entry_lock: false}', 'v4.7', ['stale-mapping']],
  ['{base: v4.9, dax_cow_entry_lock: false}', 'v4.9', ['stale-mapping']],
] as const) {
  test(`COW fault vs truncate, ${kernel}: ${want.length ? want.join(', ') : 'clean'} (DPOR, exhaustive)`, () => {
    const x = exploreScenario(scenario(COW_TRUNC(kernel)), { kernel: profile });
    assert.ok(x.complete);
    assert.deepEqual([...new Set(x.violations.map((v) => v.id))].sort(), [...want]);
  });
}

test('without bc2466e42573 the COW page is installed after truncate\'s second even_cows unmap and outlives it', () => {
  const x = exploreScenario(scenario(COW_TRUNC('{base: v4.7, dax_cow_entry_lock: false}')), { kernel: 'v4.7' });
  const r = run(scenario(COW_TRUNC('{base: v4.7, dax_cow_entry_lock: false}')), { kernel: 'v4.7', schedule: x.tokens.get('stale-mapping')!, record: true });
  const ev = events(r);
  assert.ok(inOrder(ev, [
    'cow: copy_user_dax(blk 0 -> anon page #1) = A',
    'cow: dax_fault (cow) -> VM_FAULT_LOCKED, entry unlocked',
    'truncator: unmap_mapping_range(a:1-, even_cows)',
    'truncator: dax_delete_mapping_entry(a:1)',
    'truncator: unmap_mapping_range(a:1-, even_cows)',
    'cow: cow: map p:1 -> anon page #1 rw (A)',
    'cow: do_cow_fault: release nothing',
  ]), ev.join('\n'));
  assert.match(r.violations.find((v) => v.id === 'stale-mapping')!.message, /p:1 still maps anon page #1 \(a private copy of a:1\).*beyond EOF/);
});

// 1.44: unwritten extents and the write-fault hole test
const UNWRITTEN = (kernel: string) => `
name: unwritten-write-fault
kernel: ${kernel}
setup:
  files: {a: {pages: 2, unwritten: [1]}}
  maps: {m: {file: a}}
threads:
  t0:
    - store: {map: m, page: 1, value: "X"}
    - read: {file: a, page: 1}
    - load: {map: m, page: 1}
`;

for (const v of ['v4.6', 'v4.7']) {
  test(`${v}: a write fault on an unwritten extent converts it; read(2) sees the store`, () => {
    const r = once(UNWRITTEN(v), v);
    assert.deepEqual(r.violations, []);
    assert.deepEqual(results(r), ['ok', 'X', 'X']);
  });
}

test('v4.7 without aef39ab1534d: the write fault maps the unwritten block unconverted (WARN), and read(2) returns zeros', () => {
  const r = once(UNWRITTEN('{base: v4.7, dax_fault_unwritten_create: false}'), 'v4.7');
  assert.deepEqual(ids(r), ['kernel-warn', 'stale-read']);
  assert.deepEqual(results(r), ['ok', '0', 'X']);
  const ev = events(r);
  assert.ok(ev.includes('t0: get_block(a:1) -> unwritten blk 0'));
  assert.ok(!ev.some((e) => e.includes('get_block(a:1, create)')), 'no create = 1 call');
  // with aef39ab1534d, the create = 1 call converts it
  const fixed = events(once(UNWRITTEN('v4.7'), 'v4.7'));
  assert.ok(fixed.includes('t0: get_block(a:1, create) -> blk 0'), fixed.join('\n'));
});

test('v4.6 with aef39ab1534d\'s test: ext4 never hands back an unwritten buffer, so nothing changes', () => {
  const a = once(UNWRITTEN('{base: v4.6, dax_fault_unwritten_create: true}'), 'v4.6');
  const b = once(UNWRITTEN('v4.6'), 'v4.6');
  assert.deepEqual(a.violations, []);
  assert.deepEqual(events(a), events(b));
});

// The COW copy's own check (stale-data): without ext4's i_mmap_sem nothing keeps
// truncate's block free (ext4_truncate(), after truncate_pagecache()) away from a COW
// fault that looked the block up, with the entry lock held or not, so the copy can read
// a block another file has reused.
const STALE_COPY = (kernel: string) => `
name: cow-stale-copy
kernel: ${kernel}
setup:
  files: {a: {pages: 2, written: {1: "A"}}, b: {pages: 1}}
  maps: {p: {file: a, private: true}, mb: {file: b}}
threads:
  cow:
    - fault: {map: p, page: 1, write: true}
  truncator:
    - truncate: {file: a, pages: 1}
    - store: {map: mb, page: 0, value: "B"}
`;

for (const [kernel, profile, want] of [
  ['{base: v4.10, ext4_i_mmap_sem: false}', 'v4.10', ['stale-data', 'stale-mapping']],
  ['{base: v4.12, ext4_i_mmap_sem: false}', 'v4.12', ['stale-data', 'stale-mapping']],
  ['{base: v4.7, ext4_i_mmap_sem: false}', 'v4.7', ['stale-data', 'stale-mapping']],
  ['v4.10', 'v4.10', []],
] as const) {
  test(`COW copy of a freed and reused block, ${kernel}: ${want.length ? want.join(', ') : 'clean'} (DPOR, exhaustive)`, () => {
    const x = exploreScenario(scenario(STALE_COPY(kernel)), { kernel: profile });
    assert.ok(x.complete);
    assert.deepEqual([...new Set(x.violations.map((v) => v.id))].sort(), [...want]);
    const sd = x.violations.find((v) => v.id === 'stale-data');
    if (sd) assert.match(sd.message, /copied B from a:1 into a private page of p/);
  });
}

test('private mappings are refused on huge xfs files and together with media errors (COW copies from a bad block are not modelled)', () => {
  assert.throws(() => run(scenario(`
name: cow-xfs
fs: xfs
setup:
  files: {a: {pages: 512, huge: true}}
  maps: {p: {file: a, private: true}}
threads:
  t0:
    - load: {map: p, page: 0}
`), { kernel: 'v4.7', seed: '1' }), /a private mapping of a huge xfs file \(p\)/);
  assert.throws(() => run(scenario(`
name: cow-poison
setup:
  files: {a: {pages: 1, written: {0: "A"}}}
  maps: {p: {file: a, private: true}}
threads:
  t0:
    - poison: {file: a, page: 0}
    - load: {map: p, page: 0}
`), { kernel: 'v4.7', seed: '1' }), /a private mapping \(p\) with media errors/);
});

for (const v of ALL) {
  test(`${v}: a COW fault over a hole page copies zeros and leaves the hole page unlocked (a later punch can lock it)`, () => {
    const r = once(`
name: cow-hole-page-all
setup:
  files: {a: {pages: 1}}
  maps: {p: {file: a, private: true}, m: {file: a}}
threads:
  t0:
    - load: {map: m, page: 0}
    - fault: {map: p, page: 0, write: true}
    - load: {map: p, page: 0}
    - punch: {file: a, page: 0}
    - load: {map: p, page: 0}
    - load: {map: m, page: 0}
`, v);
    assert.deepEqual(r.violations, []);
    assert.deepEqual(results(r), ['0', 'ok', '0', 'ok', '0', '0']);
    const ev = events(r);
    // v4.14+ (91d25ba8a6b0): no hole page; the shared read maps the zero page under a ZERO entry
    const want = findProfile(v)!.flags.dax_zero_page_holes
      ? ['t0: vm_insert_mixed(m:0 -> zero page)', 't0: cow: map p:0 -> anon page #1 rw (0)', 't0: punch a:0', 't0: load p:0 = 0 (anon page #1)']
      : ['t0: find_or_create_page(a:0) -> new hole page #1', 't0: cow: map p:0 -> anon page #2 rw (0)', 't0: punch a:0', 't0: load p:0 = 0 (anon page #2)'];
    assert.ok(inOrder(ev, want), ev.join('\n'));
  });
}
