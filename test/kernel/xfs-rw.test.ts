// XFS read(2)/write(2)/fsync from v4.9: xfs_file_dax_read() (XFS_IOLOCK_SHARED) and
// xfs_file_dax_write() (XFS_IOLOCK_EXCL) around dax_iomap_rw() with xfs_iomap_ops;
// v4.9's whole-range invalidation before the block lookup, v4.10's after an allocation
// (e3fce68cdbed); the i_size update and xfs_setfilesize(); xfs_file_fsync()'s log force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';

function trace(text: string, kernel: string): string[] {
  const r = run(scenario(text), { kernel, seed: '0', record: true });
  assert.deepEqual(r.violations, [], `${kernel}: ${JSON.stringify(r.violations)}`);
  return events(r);
}

/** The trace lines of one op, from its op line to its result line. */
function opLines(ev: string[], op: string, result: string): string[] {
  const a = ev.findIndex((e) => e.includes(op));
  const b = ev.findIndex((e, i) => i > a && e.includes(result));
  assert.ok(a >= 0 && b > a, `${op} .. ${result}\n${ev.join('\n')}`);
  return ev.slice(a, b + 1);
}

const WRITE_READ = `
name: wr
fs: xfs
setup:
  files: {a: {pages: 1}}
threads:
  t:
    - write: {file: a, page: 0, pages: 2, value: W}
    - read: {file: a, page: 0, pages: 2, expect: "W W"}
    - read: {file: a, page: 2, expect: EOF}
`;

test('xfs write(2), v4.9: xfs_rw_ilock(XFS_IOLOCK_EXCL) takes inode_lock and the iolock; dax_iomap_rw() allocates zeroed written extents (IOMAP_F_NEW) and the write past EOF ends with i_size_write() and xfs_setfilesize()', () => {
  const ev = trace(WRITE_READ, 'v4.9');
  const w = opLines(ev, 't: write a:0+2 W', 't: write -> ok');
  assert.ok(inOrder(w, [
    't: down_write(i_rwsem a)',
    't: down_write(xfs_iolock a)',
    't: dax_iomap_rw',
    't: xfs_bmapi_write(a:0, CONVERT|ZERO): blk 0 allocated and zeroed',
    't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0 (new)',
    't: copy_from_iter_pmem(a:0 -> blk 0) = W',
    't: xfs_bmapi_write(a:1, CONVERT|ZERO): blk 1 allocated and zeroed',
    't: copy_from_iter_pmem(a:1 -> blk 1) = W',
    't: xfs_file_dax_write: i_size_write(a, 2)',
    't: down_write(xfs_ilock a)',
    't: up_write(xfs_ilock a)',
    't: up_write(xfs_iolock a)',
    't: up_write(i_rwsem a)',
  ]), w.join('\n'));
  // v4.6/v4.7's shared iolock for aligned writes is gone (17879e8f865f)
  assert.ok(!w.some((e) => e.includes('down_read(xfs_iolock')), w.join('\n'));
});

test('xfs write(2) and read(2) from v4.10: the iolock is i_rwsem (exclusive for the write, shared for the read), and no xfs_iolock is taken', () => {
  for (const kernel of ['v4.10', 'v4.12', 'v4.14', 'v4.19']) {
    const ev = trace(WRITE_READ, kernel);
    const w = opLines(ev, 't: write a:0+2 W', 't: write -> ok');
    assert.ok(inOrder(w, ['t: down_write(i_rwsem a)', 't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0 (new)', 't: xfs_file_dax_write: i_size_write(a, 2)', 't: up_write(i_rwsem a)']), `${kernel}\n${w.join('\n')}`);
    const r = opLines(ev, 't: read a:0+2', 't: read -> W W');
    assert.ok(inOrder(r, ['t: down_read(i_rwsem a)', 't: ->iomap_begin(a:0) -> blk 0', 't: copy_to_iter(a:0 <- blk 0) = W', 't: copy_to_iter(a:1 <- blk 1) = W', 't: up_read(i_rwsem a)']), `${kernel}\n${r.join('\n')}`);
    assert.ok(!ev.some((e) => e.includes('xfs_iolock')), kernel);
  }
});

test('xfs read(2), v4.9: xfs_rw_ilock(XFS_IOLOCK_SHARED) takes only the iolock, not inode_lock', () => {
  const ev = trace(WRITE_READ, 'v4.9');
  const r = opLines(ev, 't: read a:0+2', 't: read -> W W');
  assert.ok(inOrder(r, ['t: down_read(xfs_iolock a)', 't: copy_to_iter(a:1 <- blk 1) = W', 't: up_read(xfs_iolock a)']), r.join('\n'));
  assert.ok(!r.some((e) => e.includes('i_rwsem')), r.join('\n'));
});

const HOLE_PAGE = `
name: hp
fs: xfs
setup:
  files: {a: {pages: 2, written: {1: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 0, expect: 0}
    - read: {file: a, page: 1, expect: A}
    - write: {file: a, page: 0, value: W}
    - load: {map: m, page: 0, expect: W}
`;

test('v4.9 dax_iomap_rw(): with a hole page in the mapping, invalidate_inode_pages2_range() of the I/O range runs before ->iomap_begin(), for a read too', () => {
  const ev = trace(HOLE_PAGE, 'v4.9');
  const r = opLines(ev, 't: read a:1', 't: read -> A');
  assert.ok(inOrder(r, ['t: down_read(xfs_iolock a)', 't: invalidate_inode_pages2_range', 't: ->iomap_begin(a:1) -> blk 0']), r.join('\n'));
  // the write of page 0 drops the hole page before it allocates
  const w = opLines(ev, 't: write a:0 W', 't: write -> ok');
  assert.ok(inOrder(w, ['t: invalidate_complete_page2(hole page #1)', 't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 1 (new)', 't: copy_from_iter_pmem(a:0 -> blk 1) = W']), w.join('\n'));
});

test('v4.10+ dax_iomap_actor() (e3fce68cdbed): a read invalidates nothing; a write drops the hole page only after ->iomap_begin() allocated', () => {
  for (const kernel of ['v4.10', 'v4.12']) {
    const ev = trace(HOLE_PAGE, kernel);
    const r = opLines(ev, 't: read a:1', 't: read -> A');
    assert.ok(!r.some((e) => e.includes('invalidate')), `${kernel}\n${r.join('\n')}`);
    const w = opLines(ev, 't: write a:0 W', 't: write -> ok');
    assert.ok(inOrder(w, ['t: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 1 (new)', 't: invalidate_complete_page2(hole page #1)', 't: copy_from_iter_pmem(a:0 -> blk 1) = W']), `${kernel}\n${w.join('\n')}`);
  }
});

test('v4.9: read(2) with a hole page in the mapping deletes a dirty DAX entry in its range; fsync then misses the store and a crash loses it (lost-write); v4.10 keeps it', () => {
  const text = `
name: ld
fs: xfs
setup:
  files: {a: {pages: 2, written: {1: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 0, expect: 0}
    - store: {map: m, page: 1, value: S}
    - read: {file: a, page: 1, expect: S}
    - fsync: {file: a}
final:
  crash: true
`;
  const r = run(scenario(text), { kernel: 'v4.9', seed: '0', record: true });
  assert.deepEqual(r.violations.map((v) => v.id), ['lost-write']);
  assert.ok(inOrder(events(r), ['t: dax_delete_mapping_entry(a:1)', 't: read -> S', 't: fsync a', 't: fsync -> ok']), events(r).join('\n'));
  for (const kernel of ['v4.10', 'v4.12', 'v4.19']) {
    const ev = trace(text, kernel);
    assert.ok(inOrder(ev, ['t: fsync a', 't: dax_writeback_one(a:1): wb_cache_pmem(blk 0) -> line written back, media = S']), `${kernel}\n${ev.join('\n')}`);
  }
});

test('xfs write(2) holds XFS_IOLOCK_EXCL across the copy from v4.9: a concurrent read(2) of the same pages sees all old or all new (proved by DPOR)', () => {
  const scn = scenario(`
name: ex
fs: xfs
setup:
  files: {a: {pages: 2, written: {0: A, 1: A}}}
threads:
  w:
    - write: {file: a, page: 0, pages: 2, value: W}
  r:
    - read: {file: a, page: 0, pages: 2, expect: ["A A", "W W"]}
`);
  for (const kernel of ['v4.9', 'v4.10', 'v4.19']) {
    const res = exploreScenario(scn, { kernel });
    assert.ok(res.complete, kernel);
    assert.deepEqual([...res.tokens.keys()], [], kernel);
  }
});

test('xfs write(2) from a mapping\'s page (from:) and read(2) into one (into:), every profile: the copy faults the user page in under the iolock (IOLOCK -> MMAPLOCK order, no lock-order report)', () => {
  const text = `
name: ub
fs: xfs
setup:
  files: {a: {pages: 2, written: {0: A}}, b: {pages: 1, written: {0: B}}}
  maps: {m: {file: a}, n: {file: b}}
threads:
  t:
    - write: {file: a, page: 1, from: {map: n, page: 0}}
    - read: {file: a, page: 1, expect: B}
    - read: {file: a, page: 0, into: {map: n, page: 0}, expect: A}
    - load: {map: n, page: 0, expect: A}
`;
  for (const kernel of ['v4.9', 'v4.12', 'v4.18']) {
    const ev = trace(text, kernel);
    const r = opLines(ev, 't: read a:0 into n:0', 't: read -> A');
    assert.ok(inOrder(r, ['t: copy_to_iter(a:0 <- blk 0) = A', 't: store n:0 = A']), `${kernel}\n${r.join('\n')}`);
  }
  // v4.6/v4.7: the same through dax_do_io() (one page per op there)
  for (const kernel of ['v4.6', 'v4.7']) {
    const ev = trace(text, kernel);
    const r = opLines(ev, 't: read a:0 into n:0', 't: read -> A');
    assert.ok(inOrder(r, ['t: down_read(xfs_iolock a)', 't: store n:0 = A', 't: up_read(xfs_iolock a)']), `${kernel}\n${r.join('\n')}`);
  }
});

test('xfs fsync forces the log: a write(2) that allocated survives a crash after fsync, and is lost with its allocation without one (v4.7 and v4.9+)', () => {
  const text = (fsync: boolean) => `
name: fs
fs: xfs
setup:
  files: {a: {pages: 1}}
threads:
  t:
    - write: {file: a, page: 0, value: W}
    ${fsync ? '- fsync: {file: a}' : '- read: {file: a, page: 0, expect: W}'}
final:
  crash: true
  files: {a: {0: W}}
`;
  for (const kernel of ['v4.7', 'v4.9', 'v4.10', 'v4.15', 'v4.19']) {
    const ok = run(scenario(text(true)), { kernel, seed: '0', record: true });
    assert.deepEqual(ok.violations, [], kernel);
    assert.ok(inOrder(events(ok), ['t: fsync a', 't: xfs_log_force_lsn: checkpoint 2 on disk (for a)', 't: fsync -> ok']), `${kernel}\n${events(ok).join('\n')}`);
    // without fsync the allocation is only in the unforced log: allowed to be lost
    const lost = run(scenario(text(false)), { kernel, seed: '0' });
    assert.deepEqual(lost.violations.map((v) => v.id), ['final-state'], kernel);
  }
});

test('xfs msync(MS_SYNC): vfs_fsync_range() -> xfs_file_fsync(): the store is written back and the allocation its write fault made is in the forced log, so both survive a crash (every profile)', () => {
  const text = `
name: ms
fs: xfs
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t:
    - store: {map: m, page: 0, value: S}
    - msync: {map: m}
final:
  crash: true
  files: {a: {0: S}}
`;
  for (const kernel of ['v4.6', 'v4.7', 'v4.9', 'v4.10', 'v4.14', 'v4.19']) {
    const ev = trace(text, kernel);
    assert.ok(inOrder(ev, ['t: msync m', 't: dax_writeback_one(a:0)', 't: xfs_log_force_lsn: checkpoint 2 on disk (for a)', 't: msync -> ok']), `${kernel}\n${ev.join('\n')}`);
  }
  // without the msync both the cache line and the allocation are lost: allowed, and final-state says so
  const none = run(scenario(text.replace('    - msync: {map: m}\n', '')), { kernel: 'v4.19', seed: '0' });
  assert.deepEqual(none.violations.map((v) => v.id), ['final-state']);
});
