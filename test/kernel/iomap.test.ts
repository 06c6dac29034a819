// The v4.9–v4.12 DAX fault paths (src/kernel/dax-iomap.ts, ext4's iomap ops) against
// the behaviour of the real code, per version, and the verdicts of their scenarios
// proved by exhaustive exploration (DPOR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { FLAGS, PROFILES, findProfile, type FlagName } from '../../src/kernel/versions.js';
import { exploreScenario } from '../../src/check/explore.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { vocabulary } from '../../src/cli/vocab.js';
import type { RunResult } from '../../src/check/run.js';

const NEW_FLAGS: FlagName[] = [
  'dax_radix_pmd_entries', 'ext4_dax_iomap_fault', 'ext4_dax_fault_no_handle', 'dax_iomap_begin_before_entry_lock',
  'dax_load_hole_finish_fault', 'dax_hole_insert_wake_all', 'dax_invalidate_entry_wake_one',
  'dax_pfn_mkwrite_under_entry_lock', 'dax_grab_relookup_after_preload', 'gup_longterm_refuses_fsdax',
];

function flagsOf(name: string): Record<string, boolean> {
  const p = findProfile(name);
  assert.ok(p, name);
  return p.flags;
}

test('profiles v4.9, v4.9.140, v4.10 and v4.12 switch the mechanisms where the commits did', () => {
  for (const name of ['v4.9', 'v4.9.140', 'v4.10', 'v4.12']) assert.ok(PROFILES.some((p) => p.name === name), name);
  const v47 = flagsOf('v4.7');
  const v49 = flagsOf('v4.9');
  const v49s = flagsOf('v4.9.140');
  const v410 = flagsOf('v4.10');
  const v412 = flagsOf('v4.12');
  for (const f of NEW_FLAGS) assert.equal(v47[f], false, `v4.7 ${f}`);
  // v4.9: the entry bits of 642261ac995e, ext4 still on get_block-based dax_fault()
  assert.equal(v49.dax_radix_pmd_entries, true);
  for (const f of NEW_FLAGS.filter((x) => x !== 'dax_radix_pmd_entries')) assert.equal(v49[f], false, `v4.9 ${f}`);
  // v4.9.140: v4.9 with the longterm-pin refusal and the stable backport of 965d004af540
  assert.deepEqual(v49s, { ...v49, gup_longterm_refuses_fsdax: true, dax_hole_insert_wake_all: true, x86_gup_pte_allows_gup_first: true });
  // v4.10
  for (const f of ['ext4_dax_iomap_fault', 'ext4_dax_fault_no_handle', 'dax_iomap_begin_before_entry_lock', 'dax_load_hole_finish_fault',
    'dax_hole_insert_wake_all', 'dax_invalidate_entry_wake_one', 'dax_pfn_mkwrite_under_entry_lock'] as FlagName[]) {
    assert.equal(v410[f], true, `v4.10 ${f}`);
  }
  assert.equal(v410.dax_grab_relookup_after_preload, false);
  assert.equal(v410.gup_longterm_refuses_fsdax, false);
  // v4.12: 13e451fdc1af and the ext4 handle move back; e11f8b7b6c4e (v4.11)
  // ...and ff5462e39ca1 (v4.11), cd656375f946 (test/kernel/rw-iomap.test.ts)
  assert.deepEqual(v412, {
    ...v410, dax_iomap_begin_before_entry_lock: false, ext4_dax_fault_no_handle: false, dax_grab_relookup_after_preload: true, ext4_dax_cow_fault_not_write: true,
    ext4_dax_write_excl: true, dax_invalidate_unmaps: true, x86_gup_pte_allows_gup_first: true,
    // the PMD/PTE collision fixes (test/kernel/huge.test.ts)
    mm_pmd_devmap_checked_first: true, dax_pmd_pte_collision_checks: true,
  });
});

test('each new flag names its commit, its release and a mechanism, not a bug', () => {
  for (const f of NEW_FLAGS) {
    const info = FLAGS[f] as { commit: string; since: string; mechanism: string; removed?: string };
    assert.match(info.commit, /^[0-9a-f]{12} \S/, f);
    assert.match(info.since, /^v4\.\d+$/, f);
    assert.ok(info.mechanism.length > 40, f);
    assert.doesNotMatch(info.mechanism, /\bbug\b/i, f);
  }
  assert.equal(FLAGS.dax_iomap_begin_before_entry_lock.removed, '13e451fdc1af dax: fix data corruption when fault races with write (v4.12)');
  assert.match(FLAGS.gup_longterm_refuses_fsdax.mechanism, /The pages are taken first and put back/);
});

const THREE = `
name: three
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t0:
    - fault: {map: m, page: 0}
  t1:
    - fault: {map: m, page: 0}
  t2:
    - fault: {map: m, page: 0}
`;

/** The first seed whose run has two faults asleep on the entry lock when the first one swaps in the hole page. */
function twoSleepersAtTheSwap(kernel: string): { r: RunResult; ev: string[]; waker: string; woken: string[] } {
  const scn = scenario(THREE);
  for (let s = 0; s < 500; s++) {
    const r = run(scn, { kernel, seed: String(s), record: true });
    const swap = r.trace.find((e) => e.text.startsWith('dax_load_hole: hole page #1 replaces the locked entry'));
    if (swap === undefined) continue;
    const waker = r.threads[swap.thread]!;
    const asleep = new Set<string>();
    for (const e of r.trace) {
      if (e.step >= swap.step) break;
      const who = r.threads[e.thread]!;
      if (e.kind === 'block' && e.text.startsWith('waits in get_unlocked_mapping_entry(a:0)')) asleep.add(who);
      if (e.kind === 'wake') asleep.delete(r.threads[e.other!]!);
    }
    if (asleep.size < 2) continue;
    const woken = r.trace.filter((e) => e.step === swap.step && e.kind === 'wake' && r.threads[e.thread] === waker).map((e) => r.threads[e.other!]!);
    return { r, ev: events(r), waker, woken };
  }
  throw new Error(`no run of ${kernel} within 500 seeds has two sleepers at the swap`);
}

test('v4.9: page_cache_tree_insert() wakes one entry-lock waiter, and the other is stranded (the 965d004af540 diagram)', () => {
  const { r, ev, waker, woken } = twoSleepersAtTheSwap('v4.9');
  assert.equal(woken.length, 1, ev.join('\n'));
  const stranded = ['t0', 't1', 't2'].find((t) => t !== waker && t !== woken[0])!;
  assert.ok(inOrder(ev, [
    `${waker}: grab_mapping_entry(a:0) -> new empty entry, locked`,
    `${waker}: wakes ${woken[0]}`,
    `${waker}: find_or_create_page(a:0) -> new hole page #1`,
    `${woken[0]}: grab_mapping_entry(a:0) -> hole page #1, page locked`,
    `${woken[0]}: dax_load_hole: hole page #1 already there`,
  ]), ev.join('\n'));
  assert.deepEqual(r.violations.map((v) => [v.id, v.thread]), [['lost-wakeup', stranded]]);
  assert.match(r.violations[0]!.message, /sleeps in get_unlocked_mapping_entry\(a:0\)/);
});

test('v4.10 (and the 4.9.140 backport): the same swap wakes every waiter, and each finds the hole page', () => {
  for (const kernel of ['v4.10', 'v4.9.140']) {
    const { r, ev, waker, woken } = twoSleepersAtTheSwap(kernel);
    assert.equal(woken.length, 2, `${kernel}\n${ev.join('\n')}`);
    assert.deepEqual(r.violations, [], kernel);
    for (const t of woken) assert.ok(ev.includes(`${t}: grab_mapping_entry(a:0) -> hole page #1, page locked`), `${kernel} ${t} (woken by ${waker})`);
  }
});

const ONE_READ = `
name: one
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t0:
    - fault: {map: m, page: 0}
`;

test('the order of block lookup and entry lock: v4.9 get_block under the entry lock, v4.10 ->iomap_begin before it, v4.12 after it', () => {
  const scn = scenario(ONE_READ);
  const ev = (kernel: string) => events(run(scn, { kernel, seed: '0', record: true }));
  const v49 = ev('v4.9');
  assert.ok(inOrder(v49, ['t0: grab_mapping_entry(a:0) -> new empty entry, locked', 't0: get_block(a:0) -> hole', 't0: dax_load_hole: hole page #1 replaces the locked entry', 't0: do_read_fault: map m:0 -> hole page #1 ro']), v49.join('\n'));
  assert.ok(!v49.some((e) => e.includes('iomap_begin')));
  const v410 = ev('v4.10');
  assert.ok(inOrder(v410, ['t0: ->iomap_begin(a:0) -> hole', 't0: grab_mapping_entry(a:0) -> new empty entry, locked', 't0: dax_load_hole: hole page #1 replaces the locked entry', 't0: finish_fault: map m:0 -> hole page #1 ro']), v410.join('\n'));
  assert.ok(!v410.some((e) => e.includes('get_block') || e.includes('do_read_fault')), 'v4.10 maps the hole page inside DAX (f449b936f1af)');
  const v412 = ev('v4.12');
  assert.ok(inOrder(v412, ['t0: grab_mapping_entry(a:0) -> new empty entry, locked', 't0: ->iomap_begin(a:0) -> hole', 't0: finish_fault: map m:0 -> hole page #1 ro']), v412.join('\n'));
});

test('every version reads holes as zeros, fills them on a store, converts unwritten extents and truncates', () => {
  const scn = scenario(`
name: rw
setup:
  files: {a: {pages: 3, written: {1: B}, unwritten: [2]}}
  maps: {m: {file: a}}
threads:
  t0:
    - load: {map: m, page: 0, expect: 0}
    - load: {map: m, page: 1, expect: B}
    - load: {map: m, page: 2, expect: 0}
    - store: {map: m, page: 0, value: X}
    - load: {map: m, page: 0, expect: X}
    - store: {map: m, page: 1, value: Y}
    - store: {map: m, page: 2, value: Z}
    - load: {map: m, page: 2, expect: Z}
    - load: {map: m, page: 3, expect: SIGBUS}
    - truncate: {file: a, pages: 1}
    - load: {map: m, page: 1, expect: SIGBUS}
final:
  files: {a: {0: X}}
`);
  for (const kernel of ['v4.9', 'v4.9.140', 'v4.10', 'v4.12']) {
    const r = run(scn, { kernel, seed: '1', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    // the store to the hole page: ->page_mkwrite allocates and replaces the page (hole fill), then ->pfn_mkwrite
    assert.ok(inOrder(ev, ['t0: store m:0 X', 't0: zap m:0', 't0: dax_insert_mapping_entry(a:0) -> blk 2, locked, replaced hole page #1', 't0: wp_page_reuse: m:0 -> blk 2 rw', 't0: store m:0 = X']), `${kernel}\n${ev.join('\n')}`);
    assert.ok(ev.includes('t0: dax_delete_mapping_entry(a:1)'), `${kernel}: truncate deletes the DAX entry`);
  }
  const v410 = events(run(scn, { kernel: 'v4.10', seed: '1', record: true }));
  assert.ok(v410.includes('t0: ->iomap_begin(a:2, IOMAP_WRITE) -> blk 1 (new)'), 'ext4_iomap_begin() converts the unwritten extent (EXT4_GET_BLOCKS_CREATE_ZERO)');
});

const STORE = `
name: store
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t0:
    - store: {map: m, page: 0, value: X}
  t1:
    - fault: {map: m, page: 0}
`;

test('v4.10 (2f89dc12a25d): dax_pfn_mkwrite() makes the PTE writable with the entry locked; v4.9 leaves it to wp_pfn_shared() after unlocking', () => {
  const scn = scenario(STORE);
  // a fault that sleeps on the entry lock between the lock and the PTE update shows the PTE is made writable under it
  let shown = false;
  for (let s = 0; s < 400 && !shown; s++) {
    const r = run(scn, { kernel: 'v4.10', seed: String(s), record: true });
    assert.deepEqual(r.violations, [], `v4.10 seed ${s}`);
    const ev = events(r);
    if (inOrder(ev, ['t0: dax_pfn_mkwrite(a:0): entry locked', 't1: waits in get_unlocked_mapping_entry(a:0) [entry locked by t0]', 't0: wp_page_reuse: m:0 -> blk 0 rw'])) shown = true;
  }
  assert.ok(shown, 'v4.10: a fault waits on the entry lock while dax_pfn_mkwrite() updates the PTE');
  // v4.9: once t0's fault has unlocked its entry, nothing t0 does later (its ->pfn_mkwrite) holds the entry lock
  for (let s = 0; s < 400; s++) {
    const r = run(scn, { kernel: 'v4.9', seed: String(s), record: true });
    assert.deepEqual(r.violations, [], `v4.9 seed ${s}`);
    const ev = events(r);
    assert.ok(!ev.some((e) => e.includes('dax_pfn_mkwrite') && e.includes('entry locked')), 'v4.9 dax_pfn_mkwrite() never locks the entry');
    // t1 can wait for t0 only while t0's own fault (if it took one) holds the entry
    const faultDone = Math.max(0, ev.findIndex((e) => e.startsWith('t0: dax_fault ->')));
    assert.ok(ev.some((e) => e.startsWith('t0: wp_page_reuse: m:0 -> blk 0 rw')), `v4.9 seed ${s}`);
    assert.ok(!ev.slice(faultDone).some((e) => e.startsWith('t1: waits in get_unlocked_mapping_entry') && e.includes('locked by t0')), `v4.9 seed ${s}\n${ev.join('\n')}`);
  }
});

test('v4.10 (9f141d6ef625): a read fault that saw a hole before a write fault allocated loads a hole page over the new block (the 13e451fdc1af window)', () => {
  const scn = loadScenarioFile('scenarios/read-fault-hole-vs-write-fault-iomap.yaml', vocabulary());
  let found: RunResult | null = null;
  for (let s = 0; s < 300 && found === null; s++) {
    const r = run(scn, { kernel: 'v4.10', seed: String(s), record: true });
    if (r.violations.length > 0) found = r;
  }
  assert.ok(found, 'within 300 seeds');
  const ev = events(found);
  assert.ok(inOrder(ev, [
    'reader: ->iomap_begin(a:0) -> hole',
    'writer: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0 (new)',
    'writer: dax_insert_mapping_entry(a:0) -> blk 0, locked, replaced the empty entry',
    'reader: grab_mapping_entry(a:0) -> blk 0 entry, locked',
    'reader: kernel-warn: WARN_ON_ONCE(p != dax_radix_locked_entry(0, RADIX_DAX_EMPTY)) in page_cache_tree_insert(): a:0 holds blk 0 entry (locked)',
    'reader: dax_load_hole: hole page #1 replaces the locked entry',
  ]), ev.join('\n'));
  assert.deepEqual(found.violations.map((v) => [v.id, v.thread]), [['kernel-warn', 'reader']]);
});

function prove(file: string, kernel: string, opts: { maxExecutions?: number } = {}): { ids: string[]; complete: boolean } {
  const r = exploreScenario(loadScenarioFile(file, vocabulary()), { kernel, ...opts });
  return { ids: r.violations.map((v) => v.id).sort(), complete: r.complete };
}

test('explored (DPOR): three read faults on a hole strand a waiter on v4.9 and never on v4.9.140 or v4.10', () => {
  assert.deepEqual(prove('scenarios/three-read-faults-on-hole.yaml', 'v4.9'), { ids: ['lost-wakeup'], complete: true });
  assert.deepEqual(prove('scenarios/three-read-faults-on-hole.yaml', 'v4.9.140'), { ids: [], complete: true });
  assert.deepEqual(prove('scenarios/three-read-faults-on-hole.yaml', 'v4.10'), { ids: [], complete: true });
});

test('explored (DPOR): the ->iomap_begin window WARNs on v4.10 only; the fault-vs-fault and fault-vs-truncate scenarios are clean on v4.9 and v4.10', () => {
  assert.deepEqual(prove('scenarios/read-fault-hole-vs-write-fault-iomap.yaml', 'v4.10'), { ids: ['kernel-warn'], complete: true });
  assert.deepEqual(prove('scenarios/read-fault-hole-vs-write-fault-iomap.yaml', 'v4.12'), { ids: [], complete: true });
  assert.deepEqual(prove('scenarios/write-fault-vs-read-fault-hole.yaml', 'v4.9'), { ids: [], complete: true });
  assert.deepEqual(prove('scenarios/write-fault-vs-read-fault-hole.yaml', 'v4.12'), { ids: [], complete: true });
  for (const kernel of ['v4.9', 'v4.10', 'v4.12']) assert.deepEqual(prove('scenarios/fault-vs-truncate.yaml', kernel), { ids: [], complete: true }, kernel);
});

test('v4.6 and v4.7 are untouched by the new flags: the v4.7 stranded waiter of ac401cc78242 is still there', () => {
  const r = prove('scenarios/three-read-faults-on-hole.yaml', 'v4.7');
  assert.deepEqual(r, { ids: ['lost-wakeup'], complete: true });
});
