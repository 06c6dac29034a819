import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng } from '../../src/sim/rng.js';
import { decodeSchedule, encodeSchedule, BadToken } from '../../src/sim/schedule.js';

test('xor128 from a string seed: the first outputs are pinned', () => {
  const r = makeRng('daxsim');
  const got = Array.from({ length: 6 }, () => r.u32());
  assert.deepEqual(got, GOLDEN);
  const b = makeRng('3');
  assert.deepEqual(Array.from({ length: 8 }, () => b.below(2)), GOLDEN_BELOW);
});

test('schedule tokens round-trip and refuse other versions', () => {
  const c = [0, 0, 0, 1, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
  const t = encodeSchedule(c);
  assert.equal(t, 's1-a3b2ac12');
  assert.deepEqual(decodeSchedule(t), c);
  assert.throws(() => decodeSchedule('s0-a3'), (e: Error) => e instanceof BadToken && /format s0 is not supported/.test(e.message));
  assert.throws(() => decodeSchedule('hello'), BadToken);
  assert.throws(() => decodeSchedule('s1-a3!'), /unexpected '!'/);
});

const GOLDEN = [3702271652, 3307297628, 1156480803, 1722911528, 3688190036, 350292937];
const GOLDEN_BELOW = [1, 1, 0, 1, 1, 0, 0, 0];
