// munmap(2): the VMA leaves the mm under mmap_sem (write), its PTEs are zapped
// and it leaves i_mmap. Later accesses find no VMA (SIGSEGV, gup -EFAULT, msync
// -ENOMEM); a pin taken before keeps its page, as get_user_pages() promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';
import { PROFILES } from '../../src/kernel/versions.js';

test('after munmap a load, a fault and a pin find no VMA; a second munmap is a no-op', () => {
  const scn = scenario(`
name: munmap-then-access
setup:
  files: {a: {pages: 2, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - store: {map: m, page: 1, value: X, expect: ok}
    - munmap: {map: m, expect: ok}
    - load: {map: m, page: 0, expect: SIGSEGV}
    - fault: {map: m, page: 1, write: true, expect: SIGSEGV}
    - pin: {map: m, page: 0, as: p, expect: EFAULT}
    - munmap: {map: m, expect: ok}
final:
  files: {a: {0: A, 1: X}}
`);
  for (const p of PROFILES) {
    const r = run(scn, { kernel: p.name, seed: '0', record: true });
    assert.deepEqual(r.violations, [], p.name);
    assert.ok(inOrder(events(r), ['t: munmap m: zap 1', 't: find_vma(m) -> NULL: bad_area']), p.name);
  }
});

test('msync of an unmapped range fails with ENOMEM', () => {
  const scn = scenario(`
name: munmap-msync
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  t:
    - munmap: {map: m}
    - msync: {map: m, expect: ENOMEM}
`);
  for (const kernel of ['v4.6', 'v4.7']) assert.deepEqual(run(scn, { kernel, seed: '0' }).violations, [], kernel);
});

test('a pin outlives munmap: the DMA still lands in the file page it pinned', () => {
  const scn = scenario(`
name: pin-munmap-dma
setup:
  files: {a: {pages: 1, written: {0: A}}}
  maps: {m: {file: a}}
threads:
  t:
    - pin: {map: m, page: 0, write: true, as: p, expect: ok}
    - munmap: {map: m}
    - dma: {pin: p, value: D, expect: ok}
    - unpin: {pin: p, expect: ok}
final:
  files: {a: {0: D}}
`);
  for (const kernel of ['v4.6', 'v4.9', 'v4.12']) assert.deepEqual(run(scn, { kernel, seed: '0' }).violations, [], kernel);
});

test('a fault racing munmap either maps before the teardown or finds no VMA; nothing stays mapped', () => {
  const scn = scenario(`
name: fault-vs-munmap
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}, n: {file: a}}
threads:
  f:
    - fault: {map: m, page: 0, write: true, expect: [ok, SIGSEGV, SIGBUS]}
  u:
    - munmap: {map: m}
    - load: {map: m, page: 0, expect: SIGSEGV}
  x:
    - truncate: {file: a, pages: 0}
`);
  for (const kernel of ['v4.6', 'v4.7', 'v4.10', 'v4.12']) {
    const x = exploreScenario(scn, { kernel });
    assert.ok(x.complete, kernel);
    assert.deepEqual([...x.tokens.keys()], [], kernel);
  }
  // the same fault without the munmap is mapped afterwards: the check above can fail
  const mapped = scenario(`
name: fault-no-munmap
setup:
  files: {a: {pages: 1}}
  maps: {m: {file: a}}
threads:
  f:
    - fault: {map: m, page: 0, write: true}
    - load: {map: m, page: 0, expect: SIGSEGV}
`);
  assert.deepEqual(run(mapped, { kernel: 'v4.7', seed: '0' }).violations.map((v) => v.id), ['unexpected-result']);
});
