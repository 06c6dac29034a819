// Pins and DMA: get_user_pages on a DAX mapping references the block's page;
// before v4.18 truncate frees it anyway; get_user_pages_longterm refuses fs-DAX.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';

const PIN = (longterm: boolean) => `
name: pin
setup:
  files: {a: {pages: 1, written: {0: A}}, b: {pages: 1}}
  maps: {m: {file: a}, n: {file: b}}
threads:
  driver:
    - pin: {map: m, page: 0, write: true, longterm: ${longterm}, as: p}
    - dma: {pin: p, value: D}
    - unpin: {pin: p}
  truncator:
    - truncate: {file: a, pages: 0}
  writer:
    - store: {map: n, page: 0, value: B}
final:
  files: {b: {0: B}}
`;

test('a write pin faults the page in writable, then holds a page reference until unpin', () => {
  const scn = scenario(`
name: p
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t:
    - pin: {map: m, page: 0, write: true, as: p, expect: ok}
    - dma: {pin: p, value: D, expect: ok}
    - load: {map: m, page: 0, expect: D}
    - unpin: {pin: p, expect: ok}
    - unpin: {pin: p, expect: no-pin}
final:
  files: {a: {0: D}}
`);
  for (const kernel of ['v4.6', 'v4.7']) {
    const r = run(scn, { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    assert.ok(inOrder(events(r), ['t: get_block(a:0, create)', 't: wp_page_reuse: m:0 -> blk 0 rw', 't: get_user_pages(m:0, FOLL_WRITE) -> blk 0, page ref 2', 't: dma p: blk 0 = D', 't: put_page(blk 0)']), kernel);
  }
});

test('before v4.18 truncate frees a pinned block: the DMA lands in the file that reuses it', () => {
  for (const kernel of ['v4.6', 'v4.7']) {
    const x = exploreScenario(scenario(PIN(false)), { kernel });
    assert.ok(x.complete);
    assert.deepEqual([...x.tokens.keys()].sort(), ['dma-after-free', 'final-state', 'refcount'], kernel);
  }
});

test('get_user_pages_longterm refuses a filesystem-DAX mapping with EOPNOTSUPP (v4.9.140), after taking and dropping the page', () => {
  const scn = scenario(`
name: lt
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t:
    - pin: {map: m, page: 0, write: true, longterm: true, as: p, expect: EOPNOTSUPP}
    - dma: {pin: p, value: D, expect: no-pin}
`);
  const r = run(scn, { kernel: 'v4.9.140', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  assert.ok(inOrder(events(r), ['t: get_block(a:0, create)', 't: get_user_pages_longterm(m:0): vma_is_fsdax -> -EOPNOTSUPP']));
  // before the backport the long-term pin is an ordinary one
  const old = run(scn, { kernel: 'v4.9', seed: '0' });
  assert.deepEqual(old.violations.map((v) => v.id), ['unexpected-result', 'unexpected-result']);
  // and on v4.9.140 a transient pin (not long-term) still races truncate
  const x = exploreScenario(scenario(PIN(false)), { kernel: 'v4.9.140' });
  assert.deepEqual([...x.tokens.keys()].sort(), ['dma-after-free', 'final-state', 'refcount']);
  const lt = exploreScenario(scenario(PIN(true)), { kernel: 'v4.9.140' });
  assert.deepEqual([...lt.tokens.keys()], []);
});
