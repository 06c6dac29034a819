// read(2)/write(2) whose user buffer is a page of a DAX mapping (`into:` / `from:`):
// copy_to_user()/copy_from_user() fault the mapping in under the syscall's locks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { InputError } from '../../src/scenario/diagnostic.js';
import type { Scenario } from '../../src/scenario/types.js';

const scn = (ops: string, kernel = 'v4.10'): Scenario => scenario(`
name: ubuf
kernel: ${kernel}
setup:
  files:
    src: {pages: 1, written: {0: "S"}}
    dst: {pages: 1}
  maps: {m: {file: src}}
threads:
  t0:
${ops}
`);

test('the loader: a write takes value or from, not both and not neither; a mapping buffer covers one page', () => {
  const op = scn('    - write: {file: dst, page: 0, from: {map: m, page: 0}}').threads[0]!.ops[0]!;
  assert.deepEqual({ ...op, pos: undefined }, { kind: 'write', file: 'dst', page: 0, pages: 1, from: { map: 'm', page: 0 }, pos: undefined });
  const bad = (ops: string, re: RegExp) => assert.throws(() => scn(ops), (e: Error) => e instanceof InputError && re.test(e.message), ops);
  bad('    - write: {file: dst, page: 0}', /write needs 'value' or 'from'/);
  bad('    - write: {file: dst, page: 0, value: X, from: {map: m, page: 0}}', /write takes 'value' or 'from', not both/);
  bad('    - read: {file: dst, page: 0, pages: 2, into: {map: m, page: 0}}', /covers one page/);
  bad('    - read: {file: dst, page: 0, into: {map: q, page: 0}}', /unknown map 'q'/);
});

test('write from a mapping: copy_from_user() takes the read fault on src under dst\'s i_rwsem; read into it takes the write fault', () => {
  const s = scn('    - write: {file: dst, page: 0, from: {map: m, page: 0}, expect: [ok]}\n    - read: {file: dst, page: 0, into: {map: m, page: 0}, expect: ["S"]}');
  for (const kernel of ['v4.6', 'v4.7', 'v4.9', 'v4.10', 'v4.12']) {
    const r = run(s, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    const fault = kernel === 'v4.6' ? 'get_block(src:0)' : kernel === 'v4.7' || kernel === 'v4.9' ? 'get_block(src:0)' : '->iomap_begin(src:0)';
    assert.ok(inOrder(ev, ['t0: write dst:0 from m:0', 't0: down_write(i_rwsem dst)', `t0: ${fault}`, 't0: load m:0 = S', 't0: copy_from_iter_pmem(dst:0', 't0: up_write(i_rwsem dst)',
      't0: read dst:0 into m:0', 't0: copy_to_iter(dst:0', 't0: wp_page_reuse: m:0', 't0: store m:0 = S']), `${kernel}\n${ev.join('\n')}`);
  }
});

test('a buffer that is no longer mapped: the copy fails with EFAULT, nothing is written', () => {
  const s = scn('    - munmap: {map: m}\n    - write: {file: dst, page: 0, from: {map: m, page: 0}, expect: [EFAULT]}\n    - read: {file: src, page: 0, into: {map: m, page: 0}, expect: [EFAULT]}');
  for (const kernel of ['v4.7', 'v4.10']) {
    const r = run(s, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], `${kernel}\n${events(r).join('\n')}`);
  }
});
