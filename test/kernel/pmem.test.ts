// Pmem: blocks are made on first use, with object ids reserved up front, so a run's
// footprints (and DPOR's dependence relation) do not depend on which blocks were used first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim } from '../../src/sim/engine.js';
import { Pmem } from '../../src/kernel/pmem.js';

test('a block made late gets the same object id and starting state as one made first', () => {
  const a = new Pmem(new Sim({ record: false, maxSteps: 100 }), 8);
  const b = new Pmem(new Sim({ record: false, maxSteps: 100 }), 8);
  const late = a.block(6);
  b.block(1);
  b.block(3);
  assert.equal(b.block(6).obj, late.obj);
  assert.equal(b.block(6).peekContent(), 'stale@6');
  assert.equal(b.block(6).peekOwner(), null);
  assert.equal(b.block(6).peekBad(), false);
  // the allocator's object follows the reserved block ids
  assert.equal(a.allocObj, a.block(0).obj + 8);
  assert.equal(a.block(6), late, 'the same block object on every use');
});

test('peekOwner of a block never used is null and does not make it; out-of-range blocks throw', () => {
  const p = new Pmem(new Sim({ record: false, maxSteps: 100 }), 4);
  assert.equal(p.peekOwner(2), null);
  p.block(2).owner = { file: 'a', page: 0 };
  assert.deepEqual(p.peekOwner(2), { file: 'a', page: 0 });
  assert.throws(() => p.block(4), /pmem: no block 4/);
  assert.throws(() => p.block(-1), /pmem: no block -1/);
});

test('powerFail drops the dirty lines of the blocks made and reports them in block order', () => {
  const p = new Pmem(new Sim({ record: false, maxSteps: 100 }), 6);
  p.block(4).store('X');
  p.block(1).store('Y');
  p.block(2).content = 'Z';
  assert.deepEqual(p.powerFail(), [1, 4]);
  assert.equal(p.block(4).peekContent(), 'stale@4');
  assert.equal(p.block(2).peekContent(), 'Z');
});

test('trace block lists: runs of consecutive blocks are written first-last', async () => {
  const { blkList } = await import('../../src/kernel/blockmap.js');
  assert.equal(blkList([0]), '0');
  assert.equal(blkList(Array.from({ length: 512 }, (_, i) => i)), '0-511');
  assert.equal(blkList([3, 7, 8, 9, 12, 13]), '3,7-9,12-13');
  assert.equal(blkList([]), '');
});
