// The v4.6 and v4.7 PTE fault paths against the behaviour of the real code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario, seen } from '../helpers.js';

const RACE = `
name: race
kernel: v4.6
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t0:
    - fault: {map: m, page: 0, write: true}
  t1:
    - fault: {map: m, page: 0}
`;

test('v4.6: write fault vs read fault on a hole: the ac401cc78242 interleaving ends in WARN + SIGBUS', () => {
  const scn = scenario(RACE);
  let found: ReturnType<typeof run> | null = null;
  for (let s = 0; s < 200 && found === null; s++) {
    const r = run(scn, { kernel: 'v4.6', seed: String(s), record: true });
    if (r.violations.some((v) => v.id === 'kernel-warn' && v.message.includes('dax_radix_entry'))) found = r;
  }
  assert.ok(found, 'the race shows within 200 seeds');
  const ev = events(found);
  // CPU0 and CPU1 of the commit message, in the commit's order
  assert.ok(inOrder(ev, [
    't0: get_block(a:0) -> hole',
    't0: get_block(a:0, create) -> blk',
    't1: dax_load_hole: hole page',
    't0: dax_radix_entry(a:0, blk 0) -> -EIO',
    't0: fault -> SIGBUS',
  ]), ev.join('\n'));
  assert.ok(ev.some((e) => e.startsWith('t1: get_block(a:0) -> hole')));
  assert.deepEqual(found.violations.map((v) => [v.id, v.thread]), [['kernel-warn', 't0'], ['fault-sigbus', 't0']]);
});

test('v4.6: the mirror order (DAX entry first, then the hole page insert) is a WARN and VM_FAULT_OOM', () => {
  const scn = scenario(RACE);
  let hit = false;
  for (let s = 0; s < 300 && !hit; s++) {
    const r = run(scn, { kernel: 'v4.6', seed: String(s), record: true });
    if (r.violations.some((v) => v.message.includes('page_cache_tree_insert'))) {
      hit = true;
      assert.ok(events(r).includes('t1: fault -> OOM'));
      assert.deepEqual(r.violations.map((v) => [v.id, v.thread]), [['kernel-warn', 't1'], ['fault-sigbus', 't1']]);
    }
  }
  assert.ok(hit);
});

test('v4.7: the entry lock serialises the two faults: clean over 2000 seeds', () => {
  assert.deepEqual([...seen(scenario(RACE), 'v4.7', 2000).keys()], []);
});

test('v4.7: a reader that loses the race sleeps on the entry lock, then finds the block mapped', () => {
  const scn = scenario(RACE);
  let shown = false;
  for (let s = 0; s < 300 && !shown; s++) {
    const r = run(scn, { kernel: 'v4.7', seed: String(s), record: true });
    const ev = events(r);
    if (ev.some((e) => e.startsWith('t1: waits in get_unlocked_mapping_entry(a:0)'))) {
      shown = true;
      assert.ok(inOrder(ev, [
        't0: grab_mapping_entry(a:0) -> new empty entry, locked',
        't1: waits in get_unlocked_mapping_entry(a:0)',
        't0: vm_insert_mixed(m:0 -> blk 0)',
        't1: grab_mapping_entry(a:0) -> blk 0 entry, locked',
        't1: get_block(a:0) -> blk 0',
      ]), ev.join('\n'));
    }
  }
  assert.ok(shown);
});

test('v4.7: a writer that finds the reader\'s hole page replaces it (hole fill) and zaps the reader\'s PTE', () => {
  const scn = scenario(RACE);
  let shown = false;
  for (let s = 0; s < 300 && !shown; s++) {
    const r = run(scn, { kernel: 'v4.7', seed: String(s), record: true });
    const ev = events(r);
    if (ev.some((e) => e.includes('t0: grab_mapping_entry(a:0) -> hole page'))) {
      shown = true;
      assert.ok(inOrder(ev, [
        't1: do_read_fault: map m:0 -> hole page #1 ro',
        't0: grab_mapping_entry(a:0) -> hole page #1, page locked',
        't0: zap m:0',
        't0: dax_insert_mapping_entry(a:0) -> blk 0, locked, replaced hole page #1',
      ]), ev.join('\n'));
      assert.deepEqual(r.violations, []);
    }
  }
  assert.ok(shown);
});

test('loads and stores go through faults: a store is visible to a later load, and a hole reads as zeros', () => {
  const scn = scenario(`
name: rw
setup:
  files: {a: {pages: 2, written: {1: "B"}}}
  maps: {m: {file: a}}
threads:
  t0:
    - load: {map: m, page: 0, expect: 0}
    - load: {map: m, page: 1, expect: B}
    - store: {map: m, page: 0, value: X}
    - load: {map: m, page: 0, expect: X}
    - store: {map: m, page: 1, value: Y}
    - load: {map: m, page: 1, expect: Y}
    - load: {map: m, page: 2, expect: SIGBUS}
final:
  files: {a: {0: X, 1: Y}}
`);
  for (const kernel of ['v4.6', 'v4.7']) {
    const r = run(scn, { kernel, seed: '1', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    // a store to a hole page maps read-only first, then takes the write-protect fault (pfn_mkwrite)
    assert.ok(inOrder(ev, ['t0: do_read_fault: map m:0 -> hole page', 't0: store m:0 X', 't0: get_block(a:0, create)', 't0: wp_page_reuse: m:0 -> blk', 't0: store m:0 = X']), `${kernel}\n${ev.join('\n')}`);
  }
});

test('final-state and unexpected-result report what the run left', () => {
  const scn = scenario(`
name: wrong
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t0:
    - store: {map: m, page: 0, value: X}
    - load: {map: m, page: 0, expect: Y}
final:
  files: {a: {0: Z}}
`);
  const r = run(scn, { kernel: 'v4.7', seed: '0' });
  assert.deepEqual(r.violations.map((v) => v.id), ['unexpected-result', 'final-state']);
  assert.equal(r.violations[0]!.message, "t0's load returned X, expected Y");
  assert.equal(r.violations[1]!.message, 'a:0 holds X after the run, expected Z');
});

test('a fault beyond i_size is SIGBUS and not a violation; truncation below a fault excuses its SIGBUS', () => {
  const scn = scenario(`
name: eof
setup:
  files: {a: {pages: 2, written: {1: A}}}
  maps: {m: {file: a}}
threads:
  t0:
    - fault: {map: m, page: 2, expect: SIGBUS}
  t1:
    - fault: {map: m, page: 1, expect: [ok, SIGBUS]}
  t2:
    - truncate: {file: a, pages: 1}
`);
  const results = new Set<string>();
  for (let s = 0; s < 300; s++) {
    const r = run(scn, { kernel: 'v4.7', seed: String(s), record: true });
    assert.deepEqual(r.violations, [], `seed ${s}`);
    results.add(events(r).filter((e) => e.startsWith('t1: fault ->')).join());
  }
  assert.deepEqual([...results].sort(), ['t1: fault -> SIGBUS', 't1: fault -> ok']);
});

const TRUNC = (override: string) => `
name: t
kernel: ${override}
setup:
  files: {a: {pages: 2, written: {1: A}}}
  maps: {m: {file: a}}
threads:
  f:
    - fault: {map: m, page: 1}
  t:
    - truncate: {file: a, pages: 1}
`;

test('fault vs truncate: i_mmap_sem keeps it clean; without it v4.7 maps a freed block, v4.6 is saved by its i_size re-check', () => {
  assert.deepEqual([...seen(scenario(TRUNC('v4.7')), 'v4.7', 1000).keys()], []);
  assert.deepEqual([...seen(scenario(TRUNC('{base: v4.7, ext4_i_mmap_sem: false}')), 'v4.7', 1000).keys()], ['stale-mapping']);
  assert.deepEqual([...seen(scenario(TRUNC('{base: v4.6, ext4_i_mmap_sem: false}')), 'v4.6', 1000).keys()], []);
  // and the v4.6 re-check is what saves it: turn it off too and the race is back
  assert.deepEqual([...seen(scenario(TRUNC('{base: v4.6, ext4_i_mmap_sem: false, dax_fault_i_mmap_lock: false}')), 'v4.6', 1000).keys()], ['stale-mapping']);
});

test('fault vs punch hole without i_mmap_sem (CVE-2015-8839): a PTE survives the block free and reads what the block holds', () => {
  const scn = scenario(`
name: punch
kernel: {base: v4.6, ext4_i_mmap_sem: false}
setup:
  files: {a: {pages: 2, written: {0: A}}, b: {pages: 1}}
  maps: {m: {file: a}, n: {file: b}}
threads:
  f:
    - fault: {map: m, page: 0}
    - load: {map: m, page: 0, expect: [A, 0]}
  p:
    - punch: {file: a, page: 0}
    - store: {map: n, page: 0, value: B}
`);
  const ids = seen(scn, 'v4.6', 2000);
  assert.ok(ids.has('stale-mapping'));
  // the old A through the stale PTE after the punch completed, or b's B once the block is reused
  assert.ok(ids.has('stale-read') || ids.has('stale-data'), [...ids.keys()].join());
  const fixed = scenario(`
name: punch
setup:
  files: {a: {pages: 2, written: {0: A}}, b: {pages: 1}}
  maps: {m: {file: a}, n: {file: b}}
threads:
  f:
    - fault: {map: m, page: 0}
    - load: {map: m, page: 0, expect: [A, 0]}
  p:
    - punch: {file: a, page: 0}
    - store: {map: n, page: 0, value: B}
`);
  for (const k of ['v4.6', 'v4.7']) assert.deepEqual([...seen(fixed, k, 1000).keys()], [], k);
});

test('same scenario, kernel and seed: the same trace; the schedule token replays it', () => {
  const scn = scenario(RACE);
  const a = run(scn, { kernel: 'v4.6', seed: '12', record: true });
  const b = run(scn, { kernel: 'v4.6', seed: '12', record: true });
  assert.deepEqual(a.trace, b.trace);
  const c = run(scn, { kernel: 'v4.6', schedule: a.schedule, record: true });
  assert.deepEqual(c.trace, a.trace);
  assert.equal(c.schedule, a.schedule);
  assert.deepEqual(c.violations, a.violations);
});
