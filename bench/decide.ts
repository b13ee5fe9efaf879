// Decide benchmark, in one process on the embedded default:
//   1. the decision core alone (agents, journeys, arbitration over in-memory profiles, no I/O);
//   2. stored: 100,000 customers in the welcome journey, the day-3 step decided and stored;
//   3. event → decision latency in process (record an order, run the due work);
//   4. a 30-day simulation of 10,000 customers (`herald simulate`'s engine).
//   npm run bench:decide [-- --customers N --sim-customers N --only core|stored|simulate]
// runs it with the young generation `npm start` gives the server (--max-semi-space-size=64);
// `node bin/bench.js bench/decide.ts` runs it with Node's default. The first line says which.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { createVirtualClock } from '../src/adapters/clock/virtual-clock.js';
import { createSqliteStore } from '../src/adapters/storage/sqlite/create-sqlite-store.js';
import { createServices } from '../src/app/create-services.js';
import { loadConfig } from '../src/app/load-config.js';
import type { HeraldEvent } from '../src/core/event.js';
import { toCustomerId, toMessageId, toSourceId } from '../src/core/ids.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/core/time.js';
import {
  decideForCustomer,
  decidePolicySchema,
  runSweepIfDue,
  defaultJourneys,
  type DecideEnv,
} from '../src/pipeline/decide/index.js';
import { buildCatalog } from '../src/pipeline/decide/journeys/journey-catalog.js';
import {
  applyEvent,
  deriveComputed,
  emptyProfile,
  profilePolicySchema,
} from '../src/pipeline/profile/index.js';
import { silentLogger } from '../src/ports/logger.js';
import { simulate, simulationConfig } from '../src/sim/simulate.js';
import { nodeLine } from './node-line.js';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: '100000' },
    'sim-customers': { type: 'string', default: '10000' },
    only: { type: 'string', description: 'core, stored or simulate' },
  },
});
const customers = Number(args.customers);
console.log(nodeLine());
const T0 = Date.UTC(2026, 5, 3, 12);
const source = toSourceId('web');
let seq = 0;
const event = (userId: string, atMs: number, fields: Partial<HeraldEvent>): HeraldEvent => ({
  messageId: toMessageId(`b-${(seq += 1)}`),
  sourceId: source,
  type: 'track',
  userId,
  anonymousId: null,
  previousId: null,
  groupId: null,
  name: null,
  properties: {},
  traits: {},
  context: {},
  timestampMs: atMs,
  receivedAtMs: atMs,
  ...fields,
});
const identify = (userId: string, atMs: number) =>
  event(userId, atMs, { type: 'identify', traits: { email: `${userId}@example.com` } });
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// 1. The core.
if (args.only === undefined || args.only === 'core') {
  const profilePolicy = Value.Default(profilePolicySchema, {}) as never;
  const policy = Value.Default(decidePolicySchema, {}) as DecideEnv['policy'];
  let id = 0;
  const env: DecideEnv = {
    policy,
    journeys: buildCatalog(defaultJourneys, []).catalog,
    computeProfile: (state, nowMs) => deriveComputed(state, nowMs, profilePolicy),
    population: null,
    nextId: () => `d${(id += 1)}`,
    emailBounceLimit: 3,
    impliedConsentSources: ['implied', 'import:implied'],
    transactionalTemplates: new Set(),
  };
  const inputs = Array.from({ length: customers }, (_, i) => {
    const userId = `c-${i}`;
    let state = emptyProfile(toCustomerId(userId), T0 - 30 * DAY_MS);
    state = applyEvent(
      state,
      identify(userId, T0 - 30 * DAY_MS),
      { repeatOrder: false },
      profilePolicy,
    );
    state = applyEvent(
      state,
      event(userId, T0 - 2 * HOUR_MS, {
        name: 'Product Added',
        properties: { product_id: `p${i % 50}`, price: 20 + (i % 400), quantity: 1 },
      }),
      { repeatOrder: false },
      profilePolicy,
    );
    return { customerId: toCustomerId(userId), state, memberships: [], marks: undefined };
  });
  const item = (i: number) => ({
    id: i,
    key: `c-${i}|cart`,
    customerId: toCustomerId(`c-${i}`),
    dueAtMs: T0,
    attempts: 0,
    trigger: { kind: 'cart-abandoned' as const, cartUpdatedAtMs: T0 - 2 * HOUR_MS },
  });
  const run = () => {
    let decisions = 0;
    const started = performance.now();
    inputs.forEach((input, i) => {
      decisions += decideForCustomer(input, [item(i)], env, T0).decisions.length;
    });
    return { decisions, ms: performance.now() - started };
  };
  // One run to warm the JIT up, then five measured: the median and the range.
  run();
  const runs = Array.from({ length: 5 }, run).sort((a, b) => a.ms - b.ms);
  const rate = (r: { decisions: number; ms: number }) => (r.decisions / r.ms) * 1000;
  const median = runs[2] ?? { decisions: 0, ms: 1 };
  console.log(
    `core                ${fmt(median.decisions)} cart-recovery decisions (journey entry, cart offer, arbitration) in ${median.ms.toFixed(0)} ms: ${fmt(rate(median))} decisions/s (median of 5 runs; ${fmt(rate(runs[4] ?? median))}–${fmt(rate(runs[0] ?? median))})`,
  );
}

// 2 and 3. Stored, on a fresh SQLite file.
if (args.only === undefined || args.only === 'stored') {
  const dir = mkdtempSync(join(tmpdir(), 'herald-decide-bench-'));
  try {
    const config = loadConfig(
      {
        HERALD_DATABASE_URL: `sqlite:${join(dir, 'herald.db')}`,
        HERALD_LOG_LEVEL: 'silent',
        HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
        HERALD_PUBLIC_URL: 'https://herald.example.com',
      },
      null,
    );
    const clock = createVirtualClock(T0);
    const services = await createServices(config, {
      clock,
      logger: silentLogger,
      store: await createSqliteStore({ file: join(dir, 'herald.db'), synchronous: 'normal' }),
    });
    for (let i = 0; i < customers; i += 1000) {
      const batch: HeraldEvent[] = [];
      for (let j = i; j < Math.min(customers, i + 1000); j += 1)
        batch.push(identify(`c-${j}`, T0), event(`c-${j}`, T0, { name: 'Signed Up' }));
      await services.recorder.record(batch, T0);
    }
    let started = performance.now();
    let decided = await services.worker.countDue();
    let ms = performance.now() - started;
    console.log(
      `stored, day 1       ${fmt(customers)} customers enter the welcome journey: ${fmt(decided)} decisions stored in ${ms.toFixed(0)} ms: ${fmt((decided / ms) * 1000)} decisions/s`,
    );
    clock.set(T0 + 2 * DAY_MS);
    started = performance.now();
    const swept = await runSweepIfDue(services.store, services.decide, clock.nowMs());
    console.log(
      `daily sweep         ${fmt(typeof swept === 'number' ? swept : 0)} customers in ${(performance.now() - started).toFixed(0)} ms`,
    );
    started = performance.now();
    decided = await services.worker.countDue();
    ms = performance.now() - started;
    console.log(
      `stored, day 3       ${fmt(customers)} journeys at a due step: ${fmt(decided)} decisions stored in ${ms.toFixed(0)} ms: ${fmt((decided / ms) * 1000)} decisions/s `,
    );

    const latencies: number[] = [];
    for (let i = 0; i < 2000; i += 1) {
      const userId = `c-${i}`;
      // A server turns its event loop between requests (timers, the checkpoint thread's
      // answers); an untimed turn here does the same, or nothing but promises would ever run.
      await new Promise((resolve) => setImmediate(resolve));
      const t = performance.now();
      await services.recorder.record(
        [
          event(userId, clock.nowMs(), {
            name: 'Order Completed',
            properties: { order_id: `o-${i}`, total: 30 },
          }),
        ],
        clock.nowMs(),
      );
      const out = await services.worker.countDue();
      latencies.push(performance.now() - t);
      if (out === 0) throw new Error('an order produced no decision');
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `latency             event recorded → decision stored, in process, 2,000 orders: p50 ${pct(latencies, 0.5).toFixed(2)} ms, p95 ${pct(latencies, 0.95).toFixed(2)} ms, p99 ${pct(latencies, 0.99).toFixed(2)} ms`,
    );
    await services.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// 4. A 30-day simulation.
if (args.only === undefined || args.only === 'simulate') {
  const simCustomers = Number(args['sim-customers']);
  const simDir = mkdtempSync(join(tmpdir(), 'herald-sim-bench-'));
  try {
    const config = loadConfig(
      {
        HERALD_DATABASE_URL: `sqlite:${join(simDir, 'source.db')}`,
        HERALD_LOG_LEVEL: 'silent',
        HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
        HERALD_PUBLIC_URL: 'https://herald.example.com',
      },
      null,
    );
    const end = T0 + 30 * DAY_MS;
    const sourceServices = await createServices(config, {
      logger: silentLogger,
      clock: { nowMs: () => end + DAY_MS },
    });
    let x = 7;
    const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const events: HeraldEvent[] = [];
    for (let i = 0; i < simCustomers; i += 1) {
      const userId = `s-${i}`;
      const joined = T0 + Math.floor(rand() * 20 * DAY_MS);
      events.push(identify(userId, joined), event(userId, joined, { name: 'Signed Up' }));
      for (let k = 0; k < 8; k += 1) {
        const at = joined + Math.floor(rand() * 10 * DAY_MS);
        const r = rand();
        if (r < 0.5) events.push(event(userId, at, { type: 'page', name: 'Home' }));
        else if (r < 0.8)
          events.push(
            event(userId, at, {
              name: 'Product Added',
              properties: {
                product_id: `p${k}`,
                price: 10 + Math.floor(rand() * 300),
                quantity: 1,
              },
            }),
          );
        else if (r < 0.9)
          events.push(
            event(userId, at, {
              name: 'Order Completed',
              properties: { order_id: `so-${i}-${k}`, total: 50 },
            }),
          );
        else events.push(event(userId, at + MINUTE_MS, { name: 'Email Opened' }));
      }
    }
    for (let i = 0; i < events.length; i += 2000)
      await sourceServices.recorder.record(events.slice(i, i + 2000), end + DAY_MS);
    const clock = createVirtualClock(T0);
    const target = await createServices(simulationConfig(config), { clock, logger: silentLogger });
    const summary = await simulate(sourceServices.store, target, clock, {
      fromMs: T0,
      toMs: end,
      wallNowMs: () => performance.now(),
    });
    console.log(
      `simulate            30 days, ${fmt(simCustomers)} customers, ${fmt(summary.events)} events: ${fmt(summary.decisions)} decisions in ${(summary.wallMs / 1000).toFixed(1)} s`,
    );
    console.log(`                    ${JSON.stringify(summary.byAgent)}`);
    await target.close();
    await sourceServices.close();
  } finally {
    rmSync(simDir, { recursive: true, force: true });
  }
}
