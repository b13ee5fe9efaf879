import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../ports/random.js';
import { sampleBeta, sampleGamma, sampleNormal } from './sample-gamma.js';

const N = 100_000;
const moments = (draw: () => number) => {
  let sum = 0;
  let squares = 0;
  const values: number[] = [];
  for (let i = 0; i < N; i++) {
    const x = draw();
    values.push(x);
    sum += x;
    squares += x * x;
  }
  const mean = sum / N;
  return { mean, variance: (squares - N * mean * mean) / (N - 1), values };
};

describe('sampleNormal', () => {
  it('has mean 0, variance 1 and 95 % of draws within ±1.96', () => {
    const random = seededRandom(1);
    const { mean, variance, values } = moments(() => sampleNormal(random));
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    const inside = values.filter((x) => Math.abs(x) < 1.959963984540054).length / N;
    expect(Math.abs(inside - 0.95)).toBeLessThan(5 * Math.sqrt((0.95 * 0.05) / N));
  });
});

describe('sampleGamma', () => {
  it.each([0.3, 1, 2.5, 10, 1000])('matches the mean and variance of Gamma(%s, 1)', (shape) => {
    const random = seededRandom(Math.round(shape * 1000));
    const { mean, variance } = moments(() => sampleGamma(shape, random));
    // Mean and variance both equal the shape; the standard error of the sample variance is
    // σ²·√((2 + 6/k)/N) from Gamma's excess kurtosis 6/k.
    expect(Math.abs(mean - shape)).toBeLessThan(5 * Math.sqrt(shape / N));
    expect(Math.abs(variance - shape)).toBeLessThan(5 * shape * Math.sqrt((2 + 6 / shape) / N));
  });

  it('gives the exponential distribution at shape 1: Pr(X < 1) = 1 − 1/e', () => {
    const random = seededRandom(99);
    const { values } = moments(() => sampleGamma(1, random));
    const below = values.filter((x) => x < 1).length / N;
    expect(Math.abs(below - (1 - Math.exp(-1)))).toBeLessThan(0.0075);
  });

  it('repeats with the seed and refuses a non-positive shape', () => {
    const a = seededRandom(5);
    const b = seededRandom(5);
    expect([sampleGamma(0.7, a), sampleGamma(3, a)]).toEqual([
      sampleGamma(0.7, b),
      sampleGamma(3, b),
    ]);
    expect(() => sampleGamma(0, a)).toThrow(RangeError);
    expect(() => sampleGamma(Infinity, a)).toThrow(RangeError);
  });
});

describe('sampleBeta', () => {
  it.each([
    [2, 5],
    [0.5, 0.5],
    [30, 270],
    [100_001, 900_001],
  ])('matches the mean and variance of Beta(%s, %s)', (a, b) => {
    const random = seededRandom(a + b);
    const { mean, variance } = moments(() => sampleBeta(a, b, random));
    const expectedMean = a / (a + b);
    const expectedVariance = (a * b) / ((a + b) ** 2 * (a + b + 1));
    expect(Math.abs(mean - expectedMean)).toBeLessThan(5 * Math.sqrt(expectedVariance / N));
    // Beta's fourth moment is bounded by the variance, so 5 % relative is > 5 standard errors.
    expect(Math.abs(variance / expectedVariance - 1)).toBeLessThan(0.05);
  });

  it('follows the arcsine law at Beta(½, ½): Pr(X < ¼) = ⅓', () => {
    const random = seededRandom(3);
    const { values } = moments(() => sampleBeta(0.5, 0.5, random));
    expect(Math.abs(values.filter((x) => x < 0.25).length / N - 1 / 3)).toBeLessThan(0.0075);
  });
});
