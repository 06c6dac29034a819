// ext2, v4.6–v4.12: dax_sem around faults and truncate, pre-zeroed allocation, no punch;
// dax_fault(ext2_get_block) to v4.8, dax_iomap_fault(ext2_iomap_ops) from v4.9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';
import { assertSupported, kernelFor } from '../../src/check/run.js';
import { InputError } from '../../src/scenario/diagnostic.js';

const BASIC = `
name: e2
fs: ext2
setup:
  files: {a: {pages: 2}}
  maps: {m: {file: a}}
threads:
  t:
    - store: {map: m, page: 0, value: X}
    - load: {map: m, page: 0, expect: X}
    - punch: {file: a, page: 0, expect: EOPNOTSUPP}
    - truncate: {file: a, pages: 0}
    - load: {map: m, page: 0, expect: SIGBUS}
`;

test('ext2 write fault: dax_sem for read, the block zeroed under truncate_mutex before it is spliced in; truncate under dax_sem for write', () => {
  for (const kernel of ['v4.6', 'v4.7']) {
    const r = run(scenario(BASIC), { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, [
      't: down_read(dax_sem a)',
      't: get_block(a:0) -> hole',
      't: get_block(a:0, create) -> blk 0',
      't: up_read(dax_sem a)',
      't: punch -> EOPNOTSUPP',
      't: down_write(dax_sem a)',
      't: i_size_write(a, 0)',
      't: __ext2_truncate_blocks: free blk 0',
      't: up_write(dax_sem a)',
    ]), `${kernel}\n${ev.join('\n')}`);
  }
});

/** A fault of page 1 against a truncate to 1 page, with ext2's dax_sem turned off. */
const noDaxSem = (k: string) => scenario(`
name: r
kernel: {base: ${k}, ext2_dax_sem: false}
fs: ext2
setup:
  files: {a: {pages: 2, written: {1: A}}}
  maps: {m: {file: a}}
threads:
  f:
    - fault: {map: m, page: 1}
  t:
    - truncate: {file: a, pages: 1}
`);

test('without dax_sem v4.7 maps a block truncate then frees; v4.6 is saved by its own i_size re-check', () => {
  const scn = noDaxSem;
  assert.deepEqual([...exploreScenario(scn('v4.7'), { kernel: 'v4.7' }).tokens.keys()], ['stale-mapping']);
  assert.deepEqual([...exploreScenario(scn('v4.6'), { kernel: 'v4.6' }).tokens.keys()], []);
});

test('ext2 from v4.9: dax_iomap_fault() with ext2_iomap_begin() under dax_sem; entry lock before ->iomap_begin except in v4.10', () => {
  for (const kernel of ['v4.9', 'v4.9.140', 'v4.10', 'v4.12']) {
    const r = run(scenario(BASIC), { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    const lockFirst = ['t: grab_mapping_entry(a:0) -> new empty entry, locked', 't: ->iomap_begin(a:0, IOMAP_WRITE) -> blk 0'];
    assert.ok(inOrder(ev, [
      't: down_read(dax_sem a)',
      ...(kernel === 'v4.10' ? [...lockFirst].reverse() : lockFirst),
      't: up_read(dax_sem a)',
      't: punch -> EOPNOTSUPP',
      't: down_write(dax_sem a)',
      't: i_size_write(a, 0)',
      't: __ext2_truncate_blocks: free blk 0',
      't: up_write(dax_sem a)',
    ]), `${kernel}\n${ev.join('\n')}`);
    assert.ok(!ev.some((e) => e.includes('get_block(a:0)')), `${kernel}: no get_block-era lookup`);
  }
});

test('ext2 from v4.9: a write to a read-only DAX PTE goes through ext2_dax_pfn_mkwrite (i_size re-check under dax_sem)', () => {
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
  for (const kernel of ['v4.9', 'v4.10', 'v4.12']) {
    const r = run(scn, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    // v4.10+ (2f89dc12a25d): dax_pfn_mkwrite() makes the PTE writable under the entry lock
    const mk = kernel === 'v4.9' ? [] : ['t: dax_pfn_mkwrite(a:0): entry locked'];
    assert.ok(inOrder(ev, ['t: down_read(dax_sem a)', ...mk, 't: up_read(dax_sem a)', 't: store m:0 = B']), `${kernel}\n${ev.join('\n')}`);
  }
});

test('ext2 without dax_sem races truncate in the iomap era too (v4.9–v4.12)', () => {
  const scn = noDaxSem;
  for (const k of ['v4.9', 'v4.10', 'v4.12']) {
    assert.deepEqual([...exploreScenario(scn(k), { kernel: k }).tokens.keys()], ['stale-mapping'], k);
    assert.deepEqual([...exploreScenario(scenario(BASIC), { kernel: k }).tokens.keys()], [], k);
  }
});

test('ext2 setups with unwritten extents are rejected (ext2 has none), on every profile', () => {
  const rw = scenario(`
name: rw
fs: ext2
setup:
  files: {a: {pages: 1, unwritten: [0]}}
threads:
  t:
    - read: {file: a, page: 0}
`);
  for (const k of ['v4.7', 'v4.19']) {
    assert.throws(() => assertSupported(rw, kernelFor(rw, k)), (e: Error) => e instanceof InputError && /unwritten extents on ext2 \(a\): ext2 has no unwritten extents/.test(e.message), k);
  }
  // every profile accepts ext2 faults, truncate, read/write/fsync and a crash
  const scn = scenario(BASIC);
  for (const k of ['v4.6', 'v4.12', 'v4.14', 'v4.15', 'v4.18', 'v4.19']) assert.doesNotThrow(() => assertSupported(scn, kernelFor(scn, k)), k);
});
