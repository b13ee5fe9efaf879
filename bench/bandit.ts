// Bandit reallocation benchmark: Thompson sampling (plain and top-two) and the three-phase policy
// over 10 arms, timed over many calls after a warm-up; prints the median and p95 per call.
//   npm run bench:bandit [-- --draws N --runs N]
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { allocateThompson, allocateThreePhase } from '../src/pipeline/experiment/index.js';
import { seededRandom } from '../src/ports/random.js';

const { values: args } = parseArgs({
  options: {
    draws: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '200' },
  },
});
const draws = Number(args.draws);
const runs = Number(args.runs);
const random = seededRandom(1);
// Ten arms with rates 4.0 %–5.8 % after 20,000 exposures each: close enough to keep every arm
// in play, the case where Monte Carlo draws are spent on every arm.
const arms = Array.from({ length: 10 }, (_, i) => ({
  name: `arm-${i}`,
  successes: Math.round(20_000 * (0.04 + 0.002 * i)),
  trials: 20_000,
}));

const time = (label: string, call: () => unknown) => {
  for (let i = 0; i < 20; i++) call();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    call();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(2);
  console.log(`${label}: median ${at(0.5)} ms, p95 ${at(0.95)} ms (${runs} runs, ${draws} draws)`);
};

time('thompson, 10 arms', () => allocateThompson(arms, random, { draws, minShare: 0.01 }));
time('top-two thompson, 10 arms', () =>
  allocateThompson(arms, random, { draws, minShare: 0.01, topTwoBeta: 0.5 }),
);
time('three-phase policy, 10 arms', () =>
  allocateThreePhase(
    { control: 'arm-0', arms, alwaysValidP: { 'arm-9': 0.2 }, sampleRatioAlarm: false },
    random,
    { draws },
  ),
);
