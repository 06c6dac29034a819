// Media errors: badblocks and direct_access() (v4.7: -EIO), loads consuming poison
// (memory_failure(): plain SIGBUS and the page left mapped before v4.19, unmap +
// BUS_MCEERR_AR from v4.19), read/write/fsync, zeroing through the driver clearing
// poison, and the v4.7 mount check for an unaligned partition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';
import { assertSupported, kernelFor } from '../../src/check/run.js';
import { InputError } from '../../src/scenario/diagnostic.js';

function go(text: string, kernel: string) {
  const r = run(scenario(text), { kernel, seed: '0', record: true });
  return { r, ev: events(r), ids: [...new Set(r.violations.map((v) => v.id))].sort() };
}

const FAULT = (fs: string) => `
name: f
fs: ${fs}
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
  badblocks: [{file: a, page: 0}]
threads:
  t:
    - fault: {map: m, page: 0}
    - load: {map: m, page: 0}
`;

test('a fault on a known bad block: v4.6 maps it (direct_access ignores badblocks) and the load consumes the poison; v4.7+ direct_access -EIO -> SIGBUS, no violation', () => {
  for (const fs of ['ext4', 'xfs']) {
    const v46 = go(FAULT(fs), 'v4.6');
    assert.deepEqual(v46.ids, ['poison-consumed'], fs);
    assert.ok(inOrder(v46.ev, ['t: fault -> ok', 't: load m:0: blk 0 is poisoned -> machine check', 't: load -> SIGBUS']), v46.ev.join('\n'));
    for (const k of ['v4.7', 'v4.9', 'v4.10', 'v4.12']) {
      const x = go(FAULT(fs), k);
      assert.deepEqual(x.ids, [], `${fs} ${k}: ${x.ev.join('\n')}`);
      assert.ok(inOrder(x.ev, ['pmem_direct_access(blk 0) -> -EIO (is_bad_pmem)', 't: fault -> SIGBUS', 't: load -> SIGBUS']), `${fs} ${k}\n${x.ev.join('\n')}`);
      // no PTE to the poisoned block was ever installed
      assert.ok(!x.ev.some((e) => e.includes('vm_insert_mixed')), `${fs} ${k}`);
    }
  }
});

const LIVE = `
name: l
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 0, expect: A}
    - poison: {file: a, page: 0}
    - load: {map: m, page: 0, expect: SIGBUS}
    - load: {map: m, page: 0, expect: SIGBUS}
`;

test('poison under a live mapping: before v4.19 memory_failure() fails, plain SIGBUS, the PTE stays (the next load machine-checks again); v4.19 unmaps and the next access faults into direct_access -EIO', () => {
  for (const k of ['v4.7', 'v4.12', 'v4.18']) {
    const x = go(LIVE, k);
    assert.deepEqual(x.ids, ['poison-consumed'], k);
    assert.equal(x.r.violations.filter((v) => v.id === 'poison-consumed').length, 2, `${k}: both loads consume it`);
    assert.ok(!x.ev.some((e) => e.includes('zap m:0')), k);
  }
  const x = go(LIVE, 'v4.19');
  assert.deepEqual(x.ids, [], x.ev.join('\n'));
  assert.ok(inOrder(x.ev, [
    't: load m:0: blk 0 is poisoned -> machine check',
    't: zap m:0',
    't: memory_failure(blk 0): dev_pagemap page, unmapped, SIGBUS (BUS_MCEERR_AR)',
    't: load -> SIGBUS',
    'pmem_direct_access(blk 0) -> -EIO (is_bad_pmem)',
    't: load -> SIGBUS',
  ]), x.ev.join('\n'));
});

test('read(2) of a bad block: v4.6 copies from the poison in kernel mode (poison-consumed), v4.7 returns EIO; a write(2) to it: v4.6 ok with the poison left, v4.7 EIO', () => {
  const text = `
name: rw
setup:
  files: {a: {pages: 1, written: {0: A}}}
  badblocks: [{file: a, page: 0}]
threads:
  t:
    - write: {file: a, page: 0, value: W}
    - read: {file: a, page: 0}
`;
  const v46 = go(text, 'v4.6');
  assert.deepEqual(v46.ids, ['poison-consumed']);
  assert.ok(inOrder(v46.ev, ['t: write -> ok', 't: read -> EIO']), v46.ev.join('\n'));
  const v47 = go(text, 'v4.7');
  assert.deepEqual(v47.ids, []);
  assert.ok(inOrder(v47.ev, ['dax_io: pmem_direct_access(blk 0) -> -EIO', 't: write -> EIO', 'dax_io: pmem_direct_access(blk 0) -> -EIO', 't: read -> EIO']), v47.ev.join('\n'));
});

test('fsync of a dirty entry whose block went bad: dax_writeback_one()\'s dax_map_atomic() fails, fsync returns EIO (v4.7)', () => {
  const text = `
name: s
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - store: {map: m, page: 0, value: S}
    - poison: {file: a, page: 0}
    - fsync: {file: a, expect: EIO}
`;
  const x = go(text, 'v4.7');
  assert.ok(!x.ids.includes('unexpected-result'), x.ev.join('\n'));
  assert.ok(inOrder(x.ev, ['dax_writeback_one: pmem_direct_access(blk 0) -> -EIO', 't: fsync -> EIO']), x.ev.join('\n'));
});

test('zeroing a new block through the driver clears poison (ext4 sb_issue_zeroout, every version; ext2/XFS from v4.7); the CPU zeroing of v4.6 ext2/XFS does not', () => {
  const text = (fs: string) => `
name: z
fs: ${fs}
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
  badblocks: [{file: a, page: 0}]
threads:
  t:
    - ${fs === 'ext2' ? 'truncate: {file: a, pages: 0}' : 'punch: {file: a, page: 0}'}
    ${fs === 'ext2' ? '- truncate: {file: a, pages: 1}' : ''}
    - store: {map: m, page: 0, value: B}
    - load: {map: m, page: 0}
`;
  for (const k of ['v4.6', 'v4.7']) {
    const e4 = go(text('ext4'), k);
    assert.deepEqual(e4.ids, [], `ext4 ${k}`);
    assert.ok(inOrder(e4.ev, ['pmem_do_bvec(blk 0): pmem_clear_poison()', 't: load -> B']), e4.ev.join('\n'));
  }
  for (const fs of ['xfs', 'ext2']) {
    assert.deepEqual(go(text(fs), 'v4.6').ids, ['poison-consumed'], `${fs} v4.6`);
    const v47 = go(text(fs), 'v4.7');
    assert.deepEqual(v47.ids, [], `${fs} v4.7`);
    assert.ok(inOrder(v47.ev, ['pmem_do_bvec(blk 0): pmem_clear_poison()', 't: load -> B']), v47.ev.join('\n'));
  }
});

test('poison and clear: a hole has no block to poison; clear makes the block readable again', () => {
  const text = `
name: c
setup:
  files: {a: {pages: 2, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - poison: {file: a, page: 1, expect: hole}
    - poison: {file: a, page: 0, expect: ok}
    - load: {map: m, page: 0, expect: SIGBUS}
    - clear: {file: a, page: 0, expect: ok}
    - load: {map: m, page: 0, expect: A}
`;
  const x = go(text, 'v4.12');
  assert.deepEqual(x.ids, [], x.ev.join('\n'));
});

test('a poison op racing a fault: either the fault maps the block first (the load consumes it) or direct_access refuses it (SIGBUS); never a fault-sigbus', () => {
  const scn = scenario(`
name: race
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  f:
    - load: {map: m, page: 0}
  p:
    - poison: {file: a, page: 0}
`);
  assert.deepEqual([...exploreScenario(scn, { kernel: 'v4.12' }).tokens.keys()].sort(), ['poison-consumed']);
  assert.deepEqual([...exploreScenario(scn, { kernel: 'v4.19' }).tokens.keys()], []);
});

const UNALIGNED = (fs: string, off: number) => `
name: p
fs: ${fs}
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
  partition_offset: ${off}
threads:
  t:
    - fault: {map: m, page: 0}
    - load: {map: m, page: 0}
`;

test('an unaligned partition: v4.6 mounts and every DAX access fails (fault-sigbus); v4.7 bdev_dax_supported() refuses the ext2/ext4 mount (no-mount); XFS turning DAX off is refused', () => {
  const v46 = go(UNALIGNED('ext4', 512), 'v4.6');
  assert.deepEqual(v46.ids, ['fault-sigbus']);
  assert.ok(inOrder(v46.ev, ['bdev_direct_access(blk 0) -> -EINVAL', 't: fault -> SIGBUS', 't: load -> SIGBUS']), v46.ev.join('\n'));
  for (const k of ['v4.7', 'v4.12']) {
    const x = go(UNALIGNED('ext4', 512), k);
    assert.deepEqual(x.ids, []);
    assert.ok(inOrder(x.ev, ['unaligned partition for dax', 't: fault -> no-mount', 't: load -> no-mount']), x.ev.join('\n'));
  }
  assert.deepEqual(go(UNALIGNED('ext4', 8192), 'v4.6').ids, [], 'a page-aligned offset is fine');
  assert.deepEqual(go(UNALIGNED('xfs', 512), 'v4.6').ids, ['fault-sigbus']);
  const xfs = scenario(UNALIGNED('xfs', 512));
  assert.throws(() => assertSupported(xfs, kernelFor(xfs, 'v4.7')), (e: Error) => e instanceof InputError && /Turning off DAX/.test(e.message));
});

test('the format: partition_offset must be a multiple of 512; a bad block must back a written or unwritten page', async () => {
  assert.throws(() => scenario(UNALIGNED('ext4', 100)), (e: Error) => /test\.yaml:\d+:\d+: 'partition_offset' is in bytes and must be a multiple of the 512-byte sector, got 100/.test(e.message));
  const hole = scenario(`
name: h
setup:
  files: {a: {pages: 2}}
  badblocks: [{file: a, page: 1}]
threads:
  t:
    - poison: {file: a, page: 0}
`);
  assert.throws(() => assertSupported(hole, kernelFor(hole, 'v4.7')), /setup\.badblocks: a:1 is a hole/);
  const inv = await cli(['invariants']);
  assert.match(inv.out, /poison-consumed +a CPU load consumed poisoned media instead of getting SIGBUS\/EIO\n/);
});
