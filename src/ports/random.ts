/** A source of uniform random numbers; seeded in tests, simulations and benchmarks so runs repeat. */
export interface Random {
  /** A uniform double in [0, 1) with 53 random bits. */
  next(): number;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/**
 * xoshiro128** 1.1 (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021;
 * reference C at https://prng.di.unimi.it/xoshiro128starstar.c): a 128-bit state, period 2¹²⁸ − 1,
 * one unsigned 32-bit output per call. The state must not be all zero.
 */
export const createXoshiro128 = (
  state: readonly [number, number, number, number],
): (() => number) => {
  let [s0, s1, s2, s3] = state.map((word) => word >>> 0) as [number, number, number, number];
  if ((s0 | s1 | s2 | s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');
  return () => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
};

/**
 * SplitMix32 (the 32-bit finaliser of MurmurHash3 over a Weyl sequence with step 0x9e3779b9), used
 * only to spread a 32-bit seed over xoshiro's four state words, as Vigna recommends.
 */
const splitMix32 = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
};

/**
 * A deterministic `Random` from a 32-bit integer seed: xoshiro128** seeded by SplitMix32, each
 * double built from two outputs, (a >>> 5)·2²⁶ + (b >>> 6)) / 2⁵³, so every value k/2⁵³ in [0, 1)
 * is possible. The same seed gives the same sequence on every platform.
 */
export const seededRandom = (seed: number): Random => {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const spread = splitMix32(seed);
  const next32 = createXoshiro128([spread(), spread(), spread(), spread()]);
  return {
    next: () => ((next32() >>> 5) * 67_108_864 + (next32() >>> 6)) / 9_007_199_254_740_992,
  };
};
