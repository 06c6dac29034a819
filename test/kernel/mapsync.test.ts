// MAP_SYNC (v4.15) and the jbd2 metadata durability model: a synchronous write
// fault commits its allocation before the PTE is installed; otherwise metadata
// survives a crash only if an fsync committed it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { unsupported } from '../../src/kernel/kernel.js';
import { findProfile } from '../../src/kernel/versions.js';
import { InputError } from '../../src/scenario/diagnostic.js';

const STORE = (sync: boolean, kernel: string, extra = '') => `
name: s
kernel: ${kernel}
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a${sync ? ', sync: true' : ''}}}
threads:
  t:
    - store: {map: m, page: 0, value: X}
${extra}
final:
  crash: true
  allocated: {a: [0]}
`;

test('MAP_SYNC: the allocating write fault returns VM_FAULT_NEEDDSYNC, ext4 commits the journal, then dax_insert_pfn_mkwrite() maps the block', () => {
  const r = run(scenario(STORE(true, 'v4.15')), { seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  assert.ok(
    inOrder(events(r), [
      't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0 (new)',
      't: dax_insert_mapping_entry(a:0) -> blk 0, locked, replaced the empty entry',
      't: dax_iomap_fault: synchronous fault, blk 0 not mapped yet -> VM_FAULT_NEEDDSYNC',
      't: jbd2: transaction 2 committed (for a)',
      't: dax_insert_pfn_mkwrite(a:0): blk 0 entry tagged DIRTY, locked',
      't: vm_insert_mixed_mkwrite(m:0 -> blk 0) rw',
      't: store m:0 = X (blk 0)',
    ]),
  );
});

test('without MAP_SYNC the allocation is lost with the uncommitted transaction; fsync commits it', () => {
  const r = run(scenario(STORE(false, 'v4.15')), { seed: '0', record: true });
  assert.deepEqual(r.violations.map((v) => [v.id, v.message]), [['final-state', 'a:0 has no block after the crash, expected one (final.allocated)']]);
  assert.ok(!events(r).some((e) => e.includes('NEEDDSYNC') || e.includes('jbd2')));
  // v4.6/v4.7: fsync(2) -> ext4_sync_file() -> jbd2_complete_transaction()
  const synced = run(scenario(STORE(false, 'v4.7', '    - fsync: {file: a, expect: ok}')), { seed: '0', record: true });
  assert.deepEqual(synced.violations, []);
  assert.ok(inOrder(events(synced), ['t: store m:0 = X', 't: jbd2: transaction 2 committed (for a)']));
});

test('a MAP_SYNC write fault on a block whose metadata is committed is an ordinary one (no IOMAP_F_DIRTY)', () => {
  const scn = scenario(`
name: clean
kernel: v4.19
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a, sync: true}}
threads:
  t:
    - store: {map: m, page: 0, value: X}
`);
  const r = run(scn, { seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  const ev = events(r);
  assert.ok(inOrder(ev, ['t: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0', 't: vm_insert_mixed_mkwrite(m:0 -> blk 0) rw']));
  assert.ok(!ev.some((e) => e.includes('NEEDDSYNC') || e.includes('jbd2')));
});

test('MAP_SYNC mappings are refused before v4.15 (mmap fails with EINVAL there) and for private mappings', () => {
  const scn = scenario(STORE(true, 'v4.14'));
  const d = unsupported(scn, findProfile('v4.14')!.flags, 'v4.14');
  assert.equal(d.length, 1);
  assert.match(d[0]!.message, /a MAP_SYNC mapping \(m; MAP_SYNC is v4\.15, b6fb293f2497: mmap\(MAP_SHARED_VALIDATE \| MAP_SYNC\) fails with EINVAL before it/);
  assert.deepEqual(unsupported(scn, findProfile('v4.15')!.flags, 'v4.15'), []);
  const priv = scenario(STORE(true, 'v4.15').replace('sync: true', 'sync: true, private: true'));
  assert.ok(unsupported(priv, findProfile('v4.15')!.flags, 'v4.15').some((x) => /MAP_SYNC mapping/.test(x.message)));
});

test('journal replay after a crash undoes an uncommitted truncate', () => {
  const scn = scenario(`
name: trunc-crash
kernel: v4.19
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - truncate: {file: a, pages: 0}
final:
  crash: true
  files: {a: {0: A}}
  allocated: {a: [0]}
`);
  assert.deepEqual(run(scn, { seed: '0' }).violations, []);
  // without the crash the truncate stands
  const noCrash = scenario(`
name: trunc
kernel: v4.19
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - truncate: {file: a, pages: 0}
final:
  allocated: {a: [0]}
`);
  assert.deepEqual(run(noCrash, { seed: '0' }).violations.map((v) => v.message), ['a:0 has no block after the run, expected one (final.allocated)']);
});

test('final.allocated: unknown files and duplicate pages are input errors', () => {
  const bad = `
name: b
setup:
  files: {a: {pages: 1}}
threads:
  t:
    - truncate: {file: a, pages: 0}
final:
  allocated: {a: [0, 0], z: [1]}
`;
  assert.throws(
    () => scenario(bad),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      const msgs = e.diagnostics.map((d) => d.message);
      assert.ok(msgs.some((m) => m.includes('duplicate page 0 in final.allocated.a')), msgs.join('\n'));
      assert.ok(msgs.some((m) => m.includes("unknown file 'z'")), msgs.join('\n'));
      return true;
    },
  );
});
