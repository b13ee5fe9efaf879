// Experiment results over a large experiment on the embedded default: 1,000,000 units exposed
// across 5 variant arms (plus a 10 % holdout that is assigned but never exposed), with orders
// at 4–6 %; times `experimentResults` (sums per arm and per segment in SQL, then the full
// analysis) and the day-by-day timeline. Prints the median and the slowest of the runs.
//   npm run bench:experiment-results [-- --units N --runs N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { createSqliteStore } from '../src/adapters/storage/sqlite/create-sqlite-store.js';
import { DAY_MS } from '../src/core/time.js';
import {
  experimentDesignOf,
  experimentResults,
  experimentTimeline,
  registerExperiment,
} from '../src/pipeline/experiment-results.js';
import { seededRandom } from '../src/ports/random.js';

const { values: args } = parseArgs({
  options: {
    units: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '7' },
  },
});
const units = Number(args.units);
const runs = Number(args.runs);
const dir = mkdtempSync(join(tmpdir(), 'herald-bench-results-'));
const file = join(dir, 'herald.db');
const T0 = Date.UTC(2026, 5, 1);
// Read three weeks after the first assignment: every unit's window has closed.
const nowMs = T0 + 21 * DAY_MS;
const arms = ['v-control', 'v-benefit', 'v-curiosity', 'v-fomo', 'v-social'];
const segments = ['High-Value Recent', 'New', 'Standard', 'At-Risk', 'Dormant'];

try {
  const store = await createSqliteStore({ file, synchronous: 'normal' });
  await registerExperiment(store, {
    id: 'big',
    kind: 'campaign',
    arms: arms.map((name) => ({ name, strategy: name.slice(2) })),
    control: 'v-control',
    holdoutPercent: 10,
    segment: null,
    channel: 'email',
    createdAtMs: T0,
  });
  await store.close();

  // Loaded straight into the table (what the guard stage and the dispatcher write one by one).
  const loadStart = performance.now();
  const db = new BetterSqlite3(file);
  const insert = db.prepare(
    `INSERT INTO experiment_units (experiment_id, customer_id, arm, message_id, segment, channel,
       assigned_at_ms, window_ends_ms, exposed_at_ms, orders, revenue_cents, exposed_orders,
       exposed_revenue_cents)
     VALUES ('big', ?, ?, ?, ?, 'email', ?, ?, ?, ?, ?, ?, ?)`,
  );
  const random = seededRandom(7);
  const total = Math.round(units / 0.9);
  db.transaction(() => {
    for (let i = 0; i < total; i++) {
      const held = random.next() < 0.1;
      const arm = held ? 'holdout' : (arms[i % arms.length] ?? 'v-control');
      const rate = held ? 0.04 : 0.05 + 0.0025 * (i % arms.length);
      const ordered = random.next() < rate;
      const assigned = T0 + Math.floor(random.next() * 14) * DAY_MS;
      const revenue = ordered ? 1000 + Math.floor(random.next() * 20_000) : 0;
      insert.run(
        `c${String(i)}`,
        arm,
        `m${String(i)}`,
        segments[Math.floor(random.next() * segments.length)] ?? 'Standard',
        assigned,
        assigned + 7 * DAY_MS,
        held ? null : assigned + 1000,
        ordered ? 1 : 0,
        revenue,
        // Exposed a second after assignment: the same orders in the window from exposure.
        held || !ordered ? 0 : 1,
        held ? 0 : revenue,
      );
    }
  })();
  db.close();
  console.log(
    `loaded              ${total.toLocaleString('en')} units (${units.toLocaleString('en')} exposed, 5 arms + holdout) in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`,
  );

  const reopened = await createSqliteStore({ file, synchronous: 'normal' });
  const time = async (label: string, call: () => Promise<unknown>) => {
    await call();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await call();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    console.log(
      `${label.padEnd(20)}median ${(times[Math.floor(times.length / 2)] ?? 0).toFixed(0)} ms, slowest ${(times.at(-1) ?? 0).toFixed(0)} ms over ${String(runs)} runs`,
    );
  };
  const results = await experimentResults(reopened, 'big', { nowMs });
  const exposed = results.arms.reduce((n, a) => n + a.exposed, 0);
  console.log(
    `check               ${exposed.toLocaleString('en')} exposed; SRM p = ${'analysis' in (results.test ?? {}) ? (results.test as { analysis: { sampleRatio: { p: number } } }).analysis.sampleRatio.p.toFixed(3) : 'n/a'}; promotion ${JSON.stringify(results.promotion)}`,
  );
  await time('results', () => experimentResults(reopened, 'big', { nowMs }));
  const design = await experimentDesignOf(reopened, 'big');
  await time('timeline (14 days)', () => experimentTimeline(reopened, design, nowMs));
  await reopened.close();
} finally {
  if (process.env['KEEP'] === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(dir);
}
