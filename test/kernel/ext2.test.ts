// ext2 in its get_block era (v4.6-v4.8): dax_sem around faults and truncate, pre-zeroed allocation, no punch.
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

test('without dax_sem v4.7 maps a block truncate then frees; v4.6 is saved by its own i_size re-check', () => {
  const scn = (k: string) => scenario(`
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
  assert.deepEqual([...exploreScenario(scn('v4.7'), { kernel: 'v4.7' }).tokens.keys()], ['stale-mapping']);
  assert.deepEqual([...exploreScenario(scn('v4.6'), { kernel: 'v4.6' }).tokens.keys()], []);
});

test('ext2 is refused where it is not modelled: from v4.9 (iomap), and read/write/unwritten on ext2', () => {
  const scn = scenario(BASIC);
  assert.throws(() => assertSupported(scn, kernelFor(scn, 'v4.9')), (e: Error) => e instanceof InputError && /fs: ext2 is not modelled yet under v4\.9/.test(e.message));
  const rw = scenario(`
name: rw
fs: ext2
setup:
  files: {a: {pages: 1, unwritten: [0]}}
threads:
  t:
    - read: {file: a, page: 0}
`);
  assert.throws(() => assertSupported(rw, kernelFor(rw, 'v4.7')), /unwritten extents on ext2 \(a\) is not modelled yet under v4\.7[\s\S]*the read op on ext2 is not modelled yet/);
});
