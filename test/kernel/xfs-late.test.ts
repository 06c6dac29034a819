// XFS from v4.14: pfn_mkwrite as a DAX write fault (v4.14 dax_iomap_fault() under
// xfs_filemap_pfn_mkwrite()'s own i_size check, v4.15 __xfs_filemap_fault()), MAP_SYNC
// (v4.15: IOMAP_F_DIRTY from xfs_file_iomap_begin(), dax_finish_sync_fault() under
// MMAPLOCK_SHARED, xfs_file_fsync()'s log force), and v4.18 xfs_break_layouts(BREAK_UNMAP)
// in truncate and hole punch (MMAPLOCK_EXCL first, xfs_break_dax_layouts()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';

function trace(text: string, kernel: string): string[] {
  const r = run(scenario(text), { kernel, seed: '0', record: true });
  assert.deepEqual(r.violations, [], `${kernel}: ${JSON.stringify(r.violations)}`);
  return events(r);
}

test('xfs pfn_mkwrite from v4.14: a store to a read-only DAX PTE is a full dax_iomap_fault(IOMAP_WRITE) under MMAPLOCK_SHARED that maps the pfn with vm_insert_mixed_mkwrite() (dax_pfn_mkwrite() is gone)', () => {
  const text = `
name: pm
fs: xfs
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 0, expect: A}
    - store: {map: m, page: 0, value: B}
    - load: {map: m, page: 0, expect: B}
`;
  for (const kernel of ['v4.14', 'v4.15', 'v4.18', 'v4.19']) {
    const ev = trace(text, kernel);
    assert.ok(inOrder(ev, [
      't: store m:0 B',
      't: ->pfn_mkwrite',
      't: down_read(xfs_mmaplock a)',
      't: grab_mapping_entry(a:0) -> blk 0 entry, locked',
      't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0',
      't: vm_insert_mixed_mkwrite(m:0 -> blk 0) rw',
      't: up_read(xfs_mmaplock a)',
      't: store m:0 = B (blk 0)',
    ]), `${kernel}\n${ev.join('\n')}`);
    assert.ok(!ev.some((e) => e.includes('dax_pfn_mkwrite')), kernel);
  }
  const v412 = trace(text, 'v4.12');
  assert.ok(inOrder(v412, ['t: ->pfn_mkwrite', 't: dax_pfn_mkwrite(a:0)', 't: wp_page_reuse: m:0 -> blk 0 rw']), v412.join('\n'));
});

const SYNC = `
name: ms
fs: xfs
setup:
  files: {a: {pages: 2, written: {1: A}}}
  maps: {s: {file: a, sync: true}}
threads:
  t:
    - store: {map: s, page: 0, value: X}
    - store: {map: s, page: 1, value: Y}
final:
  crash: true
  allocated: {a: [0, 1]}
`;

test('xfs MAP_SYNC (v4.15): a write fault that allocates gets IOMAP_F_DIRTY, VM_FAULT_NEEDDSYNC, and __xfs_filemap_fault() runs dax_finish_sync_fault() (fsync, log force) before the PTE, still under MMAPLOCK_SHARED', () => {
  for (const kernel of ['v4.15', 'v4.18', 'v4.19']) {
    const ev = trace(SYNC, kernel);
    assert.ok(inOrder(ev, [
      't: store s:0 X',
      't: down_read(xfs_mmaplock a)',
      't: xfs_bmapi_write(a:0, CONVERT|ZERO): blk 1 allocated and zeroed',
      't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 1 (new)',
      't: dax_iomap_fault: synchronous fault, blk 1 not mapped yet -> VM_FAULT_NEEDDSYNC',
      't: xfs_file_fsync',
      't: xfs_log_force_lsn: checkpoint 2 on disk (for a)',
      't: dax_insert_pfn_mkwrite(a:0)',
      't: vm_insert_mixed_mkwrite(s:0 -> blk 1) rw',
      't: up_read(xfs_mmaplock a)',
      't: store s:0 = X (blk 1)',
    ]), `${kernel}\n${ev.join('\n')}`);
    // page 1's block was committed before: the inode is no longer pinned, so no synchronous fault
    const second = ev.slice(ev.findIndex((e) => e.includes('t: store s:1 Y')));
    assert.ok(!second.some((e) => e.includes('NEEDDSYNC') || e.includes('xfs_log_force_lsn')), `${kernel}\n${second.join('\n')}`);
  }
});

test('xfs MAP_SYNC (v4.15): a store to a read-only PTE of a block write(2) allocated goes through pfn_mkwrite = __xfs_filemap_fault(), which finishes the synchronous fault: the allocation survives a crash', () => {
  const text = `
name: pw
fs: xfs
setup:
  files: {a: {pages: 1}}
  maps: {s: {file: a, sync: true}}
threads:
  t:
    - write: {file: a, page: 0, value: W}
    - load: {map: s, page: 0, expect: W}
    - store: {map: s, page: 0, value: Y}
final:
  crash: true
  allocated: {a: [0]}
`;
  for (const kernel of ['v4.15', 'v4.19']) {
    const ev = trace(text, kernel);
    assert.ok(inOrder(ev, [
      't: store s:0 Y',
      't: ->pfn_mkwrite',
      't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0',
      't: dax_iomap_fault: synchronous fault, blk 0 not mapped yet -> VM_FAULT_NEEDDSYNC',
      't: xfs_log_force_lsn',
      't: vm_insert_mixed_mkwrite(s:0 -> blk 0) rw',
    ]), `${kernel}\n${ev.join('\n')}`);
  }
  // through a plain shared mapping nothing forces the log: the allocation is lost
  const plain = run(scenario(text.replace('sync: true', 'sync: false')), { kernel: 'v4.15', seed: '0' });
  assert.deepEqual(plain.violations.map((v) => v.id), ['final-state']);
});

test('xfs truncate and punch, v4.18: XFS_MMAPLOCK_EXCL, then xfs_break_layouts(BREAK_UNMAP) -> dax_layout_busy_page(), before i_size and the page cache; not before v4.18', () => {
  const text = `
name: bl
fs: xfs
setup:
  files: {a: {pages: 2, written: {0: A, 1: B}}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 0, expect: A}
    - punch: {file: a, page: 0}
    - truncate: {file: a, pages: 1}
`;
  for (const kernel of ['v4.18', 'v4.19']) {
    const ev = trace(text, kernel);
    assert.ok(inOrder(ev, [
      't: punch a:0',
      't: down_write(i_rwsem a)',
      't: down_write(xfs_mmaplock a)',
      't: xfs_break_layouts',
      't: dax_layout_busy_page(a) -> NULL',
      't: xfs_free_file_space: free blk 0',
      't: truncate a 1',
      't: down_write(i_rwsem a)',
      't: down_write(xfs_mmaplock a)',
      't: dax_layout_busy_page(a) -> NULL',
      't: i_size_write(a, 1)',
      't: xfs_itruncate_extents: free blk 1',
    ]), `${kernel}\n${ev.join('\n')}`);
  }
  for (const kernel of ['v4.12', 'v4.15']) {
    const ev = trace(text, kernel);
    assert.ok(!ev.some((e) => e.includes('dax_layout_busy_page') || e.includes('xfs_break_layouts')), kernel);
  }
});

test('xfs v4.18: truncate of a page the caller itself still pins waits for the pin forever (deadlock); v4.15 frees the pinned block', () => {
  const text = `
name: sp
fs: xfs
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - pin: {map: m, page: 0, write: true, as: p}
    - truncate: {file: a, pages: 0}
    - unpin: {pin: p}
`;
  for (const kernel of ['v4.18', 'v4.19']) {
    const r = run(scenario(text), { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations.map((v) => v.id), ['deadlock'], kernel);
    const ev = events(r);
    // xfs_wait_dax_page() dropped MMAPLOCK_EXCL before it slept
    assert.ok(inOrder(ev, ['t: dax_layout_busy_page(a) -> page of blk 0 (refcount 2)', 't: up_write(xfs_mmaplock a)']), `${kernel}\n${ev.join('\n')}`);
  }
  const v415 = run(scenario(text), { kernel: 'v4.15', seed: '0' });
  assert.ok(!v415.violations.some((v) => v.id === 'deadlock'), JSON.stringify(v415.violations));
});

test('xfs-dma-to-truncated-fsdax-block-transient verdicts: the device writes into a freed, reallocated block up to v4.15; from v4.18 XFS truncate waits for the pin (proved by DPOR)', () => {
  const scn = scenario(`
name: dma
fs: xfs
setup:
  files: {a: {pages: 1, written: {0: A}}, b: {pages: 1}}
  maps: {m: {file: a}, n: {file: b}}
threads:
  driver:
    - pin: {map: m, page: 0, write: true, as: p, expect: [ok, EFAULT]}
    - dma: {pin: p, value: D, expect: [ok, no-pin]}
    - unpin: {pin: p, expect: [ok, no-pin]}
  truncator:
    - truncate: {file: a, pages: 0}
  writer:
    - store: {map: n, page: 0, value: B}
final:
  files: {b: {0: B}}
`);
  for (const [kernel, ids] of [['v4.14', ['dma-after-free', 'final-state', 'refcount']], ['v4.15', ['dma-after-free', 'final-state', 'refcount']], ['v4.18', []], ['v4.19', []]] as const) {
    const res = exploreScenario(scn, { kernel });
    assert.ok(res.complete, kernel);
    assert.deepEqual([...res.tokens.keys()].sort(), [...ids], kernel);
  }
});

test('xfs lock order from v4.18: faults, truncate and punch with the busy-page check take IOLOCK -> MMAPLOCK -> ILOCK consistently (no lock-order report)', () => {
  const scn = scenario(`
name: o
fs: xfs
setup:
  files: {a: {pages: 2, written: {1: A}}}
  maps: {m: {file: a}}
threads:
  f:
    - fault: {map: m, page: 0, write: true}
  t:
    - truncate: {file: a, pages: 1}
  p:
    - punch: {file: a, page: 0}
`);
  for (const kernel of ['v4.14', 'v4.18']) {
    const r = exploreScenario(scn, { kernel });
    assert.deepEqual([...r.tokens.keys()], [], kernel);
  }
});
