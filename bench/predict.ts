// Predict benchmark: fitting BG/NBD + Gamma-Gamma on CDNOW's 23,570 customers (39-week
// calibration), and scoring 1,000,000 simulated customers (P(alive), expected purchases in 90
// days, CLV over 365 days with and without monthly discounting), one by one and with the
// batch scorer that shares forecasts between customers with one (x, T); then the live churn
// score the profile stage computes for each profile, with a classifier trained on CDNOW.
//   npm run bench:predict [-- --customers N]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import {
  createCustomerScorer,
  fitBgNbd,
  fitGammaGamma,
  parseCdnowTransactions,
  scoreCustomer,
  simulatePurchaseTimes,
  toChurnDraft,
  toChurnModel,
  summariseTransactions,
  type ClvModel,
} from '../src/pipeline/predict/index.js';
import { seededRandom } from '../src/ports/random.js';
import type { ModelDraft } from '../src/ports/model-store.js';
import type { ProfileState } from '../src/core/profile.js';
import { toCustomerId } from '../src/core/ids.js';
import { emptyProfile } from '../src/pipeline/profile/index.js';

const { values: args } = parseArgs({
  options: { customers: { type: 'string', default: '1000000' } },
});
const customers = Number(args.customers);

const timed = <T>(label: string, work: () => T): T => {
  const start = performance.now();
  const result = work();
  console.log(`${label}: ${((performance.now() - start) / 1000).toFixed(2)} s`);
  return result;
};

const cdnowFile = join(
  // From the repository root (where npm runs scripts): the benchmark runs compiled elsewhere.
  process.env['HERALD_SHARED_DATA'] ?? resolve('../shared/data'),
  'cdnow/CDNOW_master.txt',
);
let model: ClvModel = {
  bgNbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
  gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 },
  periodDays: 7,
};
let churnDraft: ModelDraft | null = null;
if (existsSync(cdnowFile)) {
  const { transactions, summaries } = timed(
    'read + summarise CDNOW (69,659 rows, 23,570 customers)',
    () => {
      const read = parseCdnowTransactions(readFileSync(cdnowFile, 'utf8'));
      return {
        transactions: read,
        summaries: summariseTransactions(read, { cutoffMs: Date.UTC(1997, 9, 1), periodDays: 7 }),
      };
    },
  );
  churnDraft = timed('train the churn classifier on CDNOW (cutoff 1998-07-01)', () =>
    toChurnDraft(transactions, { nowMs: Date.UTC(1998, 6, 1) }),
  );
  const fitted = timed('fit BG/NBD + Gamma-Gamma on 23,570 customers', () => ({
    bg: fitBgNbd(summaries),
    gg: fitGammaGamma(summaries.filter((s) => s.x > 0 && s.meanSpend > 0)),
  }));
  console.log('  BG/NBD', fitted.bg.params, 'Gamma-Gamma', fitted.gg.params);
  model = { bgNbd: fitted.bg.params, gammaGamma: fitted.gg.params, periodDays: 7 };
} else console.log(`${cdnowFile} not found: scoring with the published CDNOW parameters`);

// A store's customers: first purchases spread over the last two years, counted in whole days as
// summariseTransactions counts them (so T and t_x are multiples of 1/7 week).
const random = seededRandom(3);
const histories = Array.from({ length: customers }, (_, i) => {
  const T = Math.floor(random.next() * 730) / 7;
  const times = simulatePurchaseTimes(model.bgNbd, T, random).map((t) => Math.floor(t * 7) / 7);
  const x = times.length;
  return { x, tx: times.at(-1) ?? 0, T, meanSpend: x === 0 ? 0 : 20 + (i % 40) };
});
for (const [label, options] of [
  ['undiscounted CLV', { horizonDays: 90, clvMonths: 12 }],
  ['CLV discounted 1 %/month', { horizonDays: 90, clvMonths: 12, monthlyDiscount: 0.01 }],
] as const) {
  const reference: number[] = [];
  timed(`score ${customers.toLocaleString('en')} customers one by one, ${label}`, () => {
    for (const h of histories) reference.push(scoreCustomer(model, h, options).clv ?? 0);
  });
  const score = createCustomerScorer(model, options);
  let total = 0;
  let worst = 0;
  timed(`score ${customers.toLocaleString('en')} customers sharing (x, T), ${label}`, () => {
    for (const [i, h] of histories.entries()) {
      const clv = score(h).clv ?? 0;
      total += clv;
      const ref = reference[i] ?? 0;
      worst = Math.max(worst, Math.abs(clv - ref) / Math.max(Math.abs(ref), 1e-300));
    }
  });
  console.log(
    `  mean CLV ${(total / customers).toFixed(2)}; largest relative difference ${worst.toExponential(1)}`,
  );
}

// The live churn score: what the profile stage adds to each profile it computes at ingest.
const churnModel = churnDraft === null ? null : toChurnModel({ ...churnDraft, version: 1 });
if (churnModel !== null) {
  const nowMs = Date.UTC(2026, 0, 1);
  const DAY_MS = 86_400_000;
  const profiles = histories.map((h, i): ProfileState => ({
    ...emptyProfile(toCustomerId(`c${i}`), nowMs - h.T * 7 * DAY_MS),
    lastSeenAtMs: nowMs,
    orders: {
      count: h.x + 1,
      revenueCents: Math.round((h.x + 1) * h.meanSpend * 100),
      refundedCents: 0,
      firstAtMs: nowMs - (h.T * 7 + 1) * DAY_MS,
      lastAtMs: nowMs - ((h.T - h.tx) * 7 + 1) * DAY_MS,
    },
    engagement: { points: 0, asOfMs: nowMs },
    eventCount: h.x + 1,
  }));
  let risk = 0;
  const start = performance.now();
  for (const state of profiles)
    risk +=
      churnModel.score(state, nowMs, {
        engagementScore: 0,
        daysSinceActive: null,
        cartValue: 0,
        responsesByChannel: {},
      }) ?? 0;
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `live churn score of ${customers.toLocaleString('en')} profiles: ${seconds.toFixed(2)} s (${((seconds * 1e6) / customers).toFixed(2)} µs each); mean risk ${(risk / customers).toFixed(3)}`,
  );
}
