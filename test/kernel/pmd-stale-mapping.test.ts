// stale-mapping for DAX PMDs: a devmap PMD counts as a mapper of each of its 512 blocks
// (Pmem.pmdMapAdd()/pmdMapRemove(), set from setHugePmd() / clearHugePmd() / pmd_clear_bad()
// in pagetable.ts and huge.ts), so a PMD that maps a block the file no longer owns at that
// offset is reported in the step that installs it or in the step that frees the block.
// The race: hole punch against a PMD fault without ext4's i_mmap_sem (the v4.4 state of
// ext4_dax_pmd_fault(), store id 20962640145: only sb_start_pagefault() and a handle),
// fixed by ea3d7209ca01.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, scenario } from '../helpers.js';
import { buildRun, finishRun, kernelFor } from '../../src/check/run.js';
import { exploreScenario } from '../../src/check/explore.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { vocabulary } from '../../src/cli/vocab.js';
import { RandomStrategy } from '../../src/sim/strategy.js';
import type { Scenario } from '../../src/scenario/types.js';

/** A fault of page 0 of the 512-page huge file `d` against `other` (a punch or truncate of it). */
function race(kernel: string, other: string): Scenario {
  return scenario(`
name: pmd-stale
kernel: ${kernel}
setup:
  files: {d: {pages: 512, huge: true, written: {0: "A"}}}
  maps: {m: {file: d}}
threads:
  faulter:
    - fault: {map: m, page: 0, huge: true}
  other:
    - ${other}
`);
}

const PUNCH = 'punch: {file: d, page: 0, pages: 512}';
const TRUNCATE = 'truncate: {file: d, pages: 0}';

function ids(r: { violations: { id: string }[] }): string[] {
  return [...new Set(r.violations.map((v) => v.id))].sort();
}

test('without i_mmap_sem, a PMD fault racing hole punch leaves a DAX PMD over the freed 2 MiB: stale-mapping (v4.6 get_block path, v4.10 iomap path)', () => {
  for (const base of ['v4.6', 'v4.10']) {
    const r = exploreScenario(race(`{base: ${base}, ext4_i_mmap_sem: false}`, PUNCH), { kernel: base });
    assert.ok(r.complete, `${base}: explored exhaustively`);
    assert.deepEqual(ids(r), ['stale-mapping'], base);
    assert.match(r.violations[0]!.message, /^m pmd 0 \(a DAX PMD\) maps blk \d+ as d:\d+, which is free$/, base);
  }
});

test('the stale PMD is reported in the step that creates it: the install over freed blocks (faulter) or the free under the PMD (the punching thread)', () => {
  const by = new Set<string>();
  const scn = race('{base: v4.10, ext4_i_mmap_sem: false}', PUNCH);
  for (let s = 0; s < 300 && by.size < 2; s++) {
    for (const v of run(scn, { kernel: 'v4.10', seed: String(s) }).violations) {
      if (v.id === 'stale-mapping') by.add(v.thread!);
    }
  }
  assert.deepEqual([...by].sort(), ['faulter', 'other']);
});

test('without i_mmap_sem, truncate against a v4.10 PMD fault (iomap_begin before the entry lock, no i_size re-check after it) maps freed blocks; v4.6 re-checks i_size under i_mmap_lock', () => {
  const broken = exploreScenario(race('{base: v4.10, ext4_i_mmap_sem: false}', TRUNCATE), { kernel: 'v4.10' });
  assert.ok(broken.complete);
  assert.deepEqual(ids(broken), ['stale-mapping']);
  const v46 = exploreScenario(race('{base: v4.6, ext4_i_mmap_sem: false}', TRUNCATE), { kernel: 'v4.6' });
  assert.ok(v46.complete);
  assert.deepEqual(v46.violations, []);
});

test('the released kernels keep punch and truncate away from PMD faults: clean in every interleaving', () => {
  for (const kernel of ['v4.6', 'v4.10', 'v4.12']) {
    for (const other of [PUNCH, TRUNCATE]) {
      const r = exploreScenario(race(kernel, other), { kernel });
      assert.ok(r.complete, `${kernel} ${other}`);
      assert.deepEqual(r.violations, [], `${kernel} ${other}`);
    }
  }
});

test('the bundled scenario proves stale-mapping on v4.6 and v4.10 with i_mmap_sem off', () => {
  const scn = loadScenarioFile('scenarios/ext4-pmd-fault-vs-hole-punch.yaml', vocabulary());
  for (const kernel of ['v4.6', 'v4.10']) {
    const r = exploreScenario(scn, { kernel });
    assert.ok(r.complete, kernel);
    assert.deepEqual(ids(r), ['stale-mapping'], kernel);
  }
});

function machine(scn: Scenario, kernel: string) {
  const { sim, model } = buildRun(scn, kernelFor(scn, kernel).flags, { record: true });
  return { sim, model, k: model.k };
}

test('the PMD rmap: a DAX PMD maps each of its 512 blocks and no other; the huge zero page maps none; a zap forgets it', () => {
  // a read fault through the PMD, then munmap
  const scn = scenario(`
name: rmap
kernel: v4.10
setup:
  files:
    d: {pages: 512, huge: true, written: {0: "A"}}
    h: {pages: 512, huge: true}
  maps: {m: {file: d}, z: {file: h}}
threads:
  t0:
    - fault: {map: m, page: 3, huge: true}
    - fault: {map: z, page: 0, huge: true}
`);
  const { sim, model, k } = machine(scn, 'v4.10');
  finishRun(scn, sim, model, new RandomStrategy('0'));
  const pmd = k.vmas.get('m')!.pmd!.pmds.peek(0);
  assert.equal(pmd?.kind, 'devmap');
  const block = (pmd as { block: number }).block;
  for (const nr of [block, block + 1, block + 511]) assert.deepEqual(k.pmem.pmdMappersOf(nr).map((x) => x.key), ['m:pmd0'], `blk ${nr}`);
  if (block + 512 < k.pmem.count) assert.deepEqual(k.pmem.pmdMappersOf(block + 512), []);
  assert.equal(k.vmas.get('z')!.pmd!.pmds.peek(0)?.kind, 'huge-zero');
  // only m's PMD is in the rmap anywhere
  const keys = new Set<string>();
  for (let nr = 0; nr < k.pmem.count; nr++) for (const x of k.pmem.pmdMappersOf(nr)) keys.add(x.key);
  assert.deepEqual([...keys], ['m:pmd0']);

  const unmapped = scenario(`
name: rmap-munmap
kernel: v4.10
setup:
  files: {d: {pages: 512, huge: true, written: {0: "A"}}}
  maps: {m: {file: d}}
threads:
  t0:
    - fault: {map: m, page: 3, huge: true}
    - munmap: {map: m}
    - truncate: {file: d, pages: 0}
`);
  const u = machine(unmapped, 'v4.10');
  finishRun(unmapped, u.sim, u.model, new RandomStrategy('0'));
  assert.deepEqual(u.k.pmem.pmdMappersOf(block), []);
  assert.equal(u.sim.violations.length, 0);
});
