// ext2 read(2)/write(2)/fsync(2) per version, ext2 on v4.14–v4.19 (->pfn_mkwrite is the
// fault handler), ext2's crash model (no journal: the inode reaches the media only
// through fsync), and the v4.9 whole-range invalidation of dax_iomap_rw().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';

const WRITE_THEN_READ = scenario(`
name: w
fs: ext2
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t:
    - write: {file: a, page: 1, value: W}
    - read: {file: a, page: 1, expect: W}
`);

test('ext2 write(2) extending the file: get_block era through dax_do_io() (v4.6/v4.7), dax_iomap_rw() from v4.9; i_rwsem only, never dax_sem', () => {
  for (const kernel of ['v4.6', 'v4.7']) {
    const r = run(WRITE_THEN_READ, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, [
      't: down_write(i_rwsem a)', 't: get_block(a:1, create) -> blk 0', 't: copy_from_iter_pmem(a:1 -> blk 0) = W',
      't: i_size_write(a, 2)', 't: up_write(i_rwsem a)',
      // generic_file_read_iter() -> dax_do_io(DIO_LOCKING): the read takes i_rwsem exclusive itself
      't: down_write(i_rwsem a)', 't: get_block(a:1) -> blk 0', 't: copy_to_iter(a:1 <- blk 0) = W', 't: up_write(i_rwsem a)',
    ]), `${kernel}\n${ev.join('\n')}`);
    assert.ok(!ev.some((e) => e.includes('dax_sem')), kernel);
    assert.ok(!ev.some((e) => e.includes('iomap_begin')), kernel);
  }
  for (const kernel of ['v4.9', 'v4.9.140', 'v4.10', 'v4.12', 'v4.14', 'v4.19']) {
    const r = run(WRITE_THEN_READ, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    // e568df6b84ff (v4.10): the zeroed block is reported new (IOMAP_F_NEW)
    const isNew = kernel === 'v4.9' || kernel === 'v4.9.140' ? '' : ' (new)';
    assert.ok(inOrder(ev, [
      't: down_write(i_rwsem a)', `t: ->iomap_begin(a:1, IOMAP_WRITE) -> blk 0${isNew}`, 't: copy_from_iter_pmem(a:1 -> blk 0) = W',
      't: i_size_write(a, 2)', 't: up_write(i_rwsem a)',
      't: down_read(i_rwsem a)', 't: ->iomap_begin(a:1) -> blk 0', 't: copy_to_iter(a:1 <- blk 0) = W', 't: up_read(i_rwsem a)',
    ]), `${kernel}\n${ev.join('\n')}`);
    assert.ok(!ev.some((e) => e.includes('dax_sem') || e.includes('get_block(')), kernel);
  }
});

test('ext2 from v4.14: a write to a read-only DAX PTE is a full ext2_dax_fault() (entry lock, ->iomap_begin) under dax_sem; before, ext2_dax_pfn_mkwrite()', () => {
  const scn = scenario(`
name: mkwrite
fs: ext2
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 0, expect: A}
    - store: {map: m, page: 0, value: B}
    - load: {map: m, page: 0, expect: B}
`);
  for (const kernel of ['v4.14', 'v4.15', 'v4.18', 'v4.19']) {
    const r = run(scn, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    const store = ev.findIndex((e) => e.includes('store m:0 B'));
    const after = ev.slice(store);
    assert.ok(inOrder(after, [
      't: down_read(dax_sem a)', 't: grab_mapping_entry(a:0) -> blk 0 entry, locked', 't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0',
      't: vm_insert_mixed_mkwrite(m:0 -> blk 0) rw', 't: up_read(dax_sem a)', 't: store m:0 = B',
    ]), `${kernel}\n${ev.join('\n')}`);
    assert.ok(!ev.some((e) => e.includes('dax_pfn_mkwrite')), kernel);
  }
  const r = run(scn, { kernel: 'v4.12', seed: '0', record: true });
  const after = events(r).slice(events(r).findIndex((e) => e.includes('store m:0 B')));
  assert.ok(after.some((e) => e.includes('dax_pfn_mkwrite(a:0)')), 'v4.12 still has ext2_dax_pfn_mkwrite()');
  assert.ok(!after.some((e) => e.includes('->iomap_begin')), 'v4.12: no block lookup for a write-protect fault');
});

/** A write past EOF, an optional fsync, then the power fails. */
const crash = (fsync: boolean) => scenario(`
name: crash
fs: ext2
setup:
  files: {a: {pages: 1, written: {0: A}}}
threads:
  t:
    - write: {file: a, page: 1, value: W}
${fsync ? '    - fsync: {file: a}\n' : ''}final:
  crash: true
  files: {a: {0: A, 1: W}}
`);

test('ext2 has no journal: the block map and i_size of a write past EOF survive a crash only once fsync wrote the inode', () => {
  for (const kernel of ['v4.6', 'v4.7', 'v4.9', 'v4.12', 'v4.19']) {
    const lost = run(crash(false), { kernel, seed: '0', record: true });
    // the data went to the block by non-temporal stores, but the inode on the media has 1 page and no block for page 1
    assert.deepEqual([...new Set(lost.violations.map((v) => v.id))], ['final-state'], kernel);
    const synced = run(crash(true), { kernel, seed: '0', record: true });
    assert.deepEqual(synced.violations, [], kernel);
    assert.ok(inOrder(events(synced), ['t: i_size_write(a, 2)', 't: __generic_file_fsync(a): sync_mapping_buffers(), sync_inode_metadata(): i_size 2']), kernel);
  }
});

test('ext2 truncate without fsync: after a crash the inode on the media still has the truncated page and its block', () => {
  const scn = scenario(`
name: t
fs: ext2
setup:
  files: {a: {pages: 2, written: {0: A, 1: B}}}
threads:
  t:
    - truncate: {file: a, pages: 1}
final:
  crash: true
  files: {a: {1: B}}
`);
  for (const kernel of ['v4.7', 'v4.19']) assert.deepEqual(run(scn, { kernel, seed: '0' }).violations, [], kernel);
});

test('v4.9 dax_iomap_rw() invalidates the whole range up front when the file has hole pages (reads too); v4.10 only newly allocated extents', () => {
  const scn = scenario(`
name: inv
fs: ext2
setup:
  files: {a: {pages: 2, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - load: {map: m, page: 1, expect: 0}
    - read: {file: a, page: 0, pages: 2, expect: "A 0"}
    - load: {map: m, page: 1, expect: 0}
`);
  const v49 = events(run(scn, { kernel: 'v4.9', seed: '0', record: true }));
  assert.ok(inOrder(v49, ['t: down_read(i_rwsem a)', 't: invalidate_complete_page2(hole page #1)', 't: ->iomap_begin(a:0) -> blk 0', 't: up_read(i_rwsem a)', 't: find_or_create_page(a:1) -> new hole page #2']), v49.join('\n'));
  const v410 = events(run(scn, { kernel: 'v4.10', seed: '0', record: true }));
  assert.ok(!v410.some((e) => e.includes('invalidate')), v410.join('\n'));
});

test('ext2 write(2) against a read fault of the same hole: a stale hole page after write(2) returned up to v4.12, not from v4.14', () => {
  const scn = scenario(`
name: r
fs: ext2
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  writer:
    - write: {file: a, page: 0, value: W}
  reader:
    - fault: {map: m, page: 0}
    - load: {map: m, page: 0}
`);
  for (const k of ['v4.7', 'v4.9', 'v4.12']) assert.deepEqual([...exploreScenario(scn, { kernel: k }).tokens.keys()], ['stale-read'], k);
  for (const k of ['v4.14', 'v4.19']) assert.deepEqual([...exploreScenario(scn, { kernel: k }).tokens.keys()], [], k);
});
