// Private (MAP_PRIVATE) mappings of XFS files: xfs_filemap_fault() sends a COW fault, like
// any DAX write fault, to xfs_filemap_page_mkwrite() (__xfs_filemap_fault(write) from
// v4.14) under XFS_MMAPLOCK_SHARED; the DAX fault copies the block (or zeroes, for a hole)
// into the anonymous page and allocates nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';

const ALL = ['v4.6', 'v4.7', 'v4.9', 'v4.10', 'v4.12', 'v4.14', 'v4.15', 'v4.18', 'v4.19'];

const COW = `
name: cow
fs: xfs
setup:
  files: {a: {pages: 2, written: {0: A}}}
  maps: {p: {file: a, private: true}, m: {file: a}}
threads:
  t:
    - store: {map: p, page: 0, value: X}
    - load: {map: p, page: 0, expect: X}
    - load: {map: m, page: 0, expect: A}
    - store: {map: p, page: 1, value: Y}
    - read: {file: a, page: 1, expect: 0}
    - load: {map: p, page: 1, expect: Y}
    - fsync: {file: a}
final:
  crash: true
  files: {a: {0: A}}
`;

test('xfs COW fault: under XFS_MMAPLOCK_SHARED the DAX fault copies the block into an anonymous page; the file keeps its data, and a COW of a hole allocates no block, on every profile', () => {
  for (const kernel of ALL) {
    const r = run(scenario(COW), { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, ['t: store p:0 X', 't: down_read(xfs_mmaplock a)', 't: copy_user_dax(blk 0 -> anon page #1) = A', 't: up_read(xfs_mmaplock a)', 't: store p:0 = X (anon page #1)']), `${kernel}\n${ev.join('\n')}`);
    assert.ok(!ev.some((e) => e.includes('xfs_bmapi_write')), `${kernel}: a COW fault allocates nothing`);
  }
});

test('xfs COW fault per version: v4.6 returns with i_mmap_lock held, v4.7-v4.9 with the entry locked (VM_FAULT_DAX_LOCKED), v4.10+ installs the COW page itself under the entry lock (VM_FAULT_DONE_COW) before XFS drops the MMAPLOCK', () => {
  const ev = (k: string) => events(run(scenario(COW), { kernel: k, seed: '0', record: true }));
  assert.ok(inOrder(ev('v4.6'), ['t: __dax_fault (cow) -> VM_FAULT_LOCKED, i_mmap_lock held', 't: up_read(xfs_mmaplock a)', 't: cow: map p:0 -> anon page #1 rw (A)', 't: do_cow_fault: release i_mmap_lock']));
  for (const k of ['v4.7', 'v4.9']) assert.ok(inOrder(ev(k), ['VM_FAULT_DAX_LOCKED', 't: up_read(xfs_mmaplock a)', 't: cow: map p:0 -> anon page #1 rw (A)', 't: do_cow_fault: release the DAX entry lock']), k);
  for (const k of ['v4.10', 'v4.19']) assert.ok(inOrder(ev(k), ['t: cow: map p:0 -> anon page #1 rw (A)', 't: dax_iomap_fault -> VM_FAULT_DONE_COW', 't: up_read(xfs_mmaplock a)']), k);
});

test('xfs COW fault vs truncate (bc2466e42573 on XFS): clean where the kernel protects the window, a COW page left mapped beyond EOF when the entry-lock protection is taken out of v4.7 (DPOR)', () => {
  const text = (kernel: string) => `
name: ct
kernel: ${kernel}
fs: xfs
setup:
  files: {a: {pages: 2, written: {1: A}}}
  maps: {p: {file: a, private: true}}
threads:
  cow:
    - fault: {map: p, page: 1, write: true}
  truncator:
    - truncate: {file: a, pages: 1}
`;
  for (const k of ['v4.6', 'v4.7', 'v4.10', 'v4.19']) assert.deepEqual([...exploreScenario(scenario(text(k)), { kernel: k }).tokens.keys()], [], k);
  const off = scenario(text('{base: v4.7, dax_cow_entry_lock: false}'));
  assert.deepEqual([...exploreScenario(off, {}).tokens.keys()], ['stale-mapping']);
});
