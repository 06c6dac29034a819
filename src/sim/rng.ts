// The engine's only source of randomness: seedrandom's xor128 with string seeds.
import seedrandom from 'seedrandom';

export interface Rng {
  /** a uniformly distributed 32-bit unsigned integer */
  u32(): number;
  /** an integer in [0, n) */
  below(n: number): number;
}

/** xor128 (Marsaglia), seeded from a string; the first outputs are pinned by a golden test. */
export function makeRng(seed: string): Rng {
  const prng = seedrandom.xor128(seed);
  return {
    u32: () => prng.int32() >>> 0,
    // Multiply-shift keeps the draw to one u32 and is unbiased enough for n ≤ 2^16
    // (the engine never draws from more than LIMITS.threads choices).
    below: (n: number) => Math.floor(((prng.int32() >>> 0) * n) / 4294967296),
  };
}
