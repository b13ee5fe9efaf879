// Ingest benchmark: HTTP batch → stored → profile updated, against `herald serve` in its own
// process, with this process as the load generator on the same machine.
//   npm run bench:ingest                      (embedded SQLite)
//   npm run bench:ingest -- --postgres postgres://postgres@127.0.0.1:5432/test
// Options: --seconds N (closed-loop phase, default 20) --connections N (8) --batch N (100)
//          --customers N (10000) --rate N (paced phase rate; default 80 % of the sustained rate)
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createEventMix } from './event-mix.js';
import { measureSqliteCeiling } from './sqlite-ceiling.js';
import { runServer } from './run-server.js';

const { values: args } = parseArgs({
  options: {
    postgres: { type: 'string' },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '8' },
    batch: { type: 'string', default: '100' },
    customers: { type: 'string', default: '10000' },
    rate: { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const batchSize = Number(args.batch);
const writeKey = 'bench-write-key-0001';
const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
const agent = new Agent({ keepAlive: true, maxSockets: connections * 2 });

const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
const schema = `herald_bench_${Date.now().toString(36)}`;
const databaseUrl =
  args.postgres === undefined ? `sqlite:${join(dir, 'herald.db')}` : args.postgres;
const env: Record<string, string> = {
  HERALD_DATABASE_URL: databaseUrl,
  HERALD_WRITE_KEYS: writeKey,
  HERALD_ADMIN_TOKEN: 'bench-admin-token-0001',
};
if (args.postgres !== undefined) env['PGOPTIONS'] = `-c search_path=${schema}`;
if (args.postgres !== undefined) {
  const client = new pg.Client({ connectionString: args.postgres });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
}
const server = await runServer(env);
const mix = createEventMix({
  customers: Number(args.customers),
  runId: `r${Date.now().toString(36)}`,
});

const post = (body: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = request(
      `${server.url}/v1/batch`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          authorization: auth,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** Closed loop: each connection sends its next batch as soon as the last one is answered. */
const closedLoop = async (durationMs: number) => {
  let events = 0;
  let failures = 0;
  const end = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const status = await post(mix.batch(batchSize, Date.now()));
        if (status === 200) events += batchSize;
        else failures += 1;
      }
    }),
  );
  return { eventsPerSecond: events / ((performance.now() - started) / 1000), events, failures };
};

/** Open loop at a fixed rate; latency counts from when a batch was due, not when it left. */
const openLoop = async (eventsPerSecond: number, durationMs: number) => {
  const intervalMs = (batchSize / eventsPerSecond) * 1000;
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let failures = 0;
  for (let i = 0; ; i += 1) {
    const due = start + i * intervalMs;
    if (due - start > durationMs) break;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      post(mix.batch(batchSize, Date.now())).then((status) => {
        if (status !== 200) failures += 1;
        latencies.push(performance.now() - due);
      }),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
    batches: latencies.length,
    failures,
  };
};

await closedLoop(3000); // warm-up: JIT, caches, first pages of the database
const max = await closedLoop(seconds * 1000);
const target = args.rate === undefined ? Math.round(max.eventsPerSecond * 0.8) : Number(args.rate);
const paced = await openLoop(target, 10_000);
await server.stop();

const ceiling =
  args.postgres === undefined
    ? await measureSqliteCeiling(
        join(dir, 'ceiling.db'),
        mix,
        Math.max(2000, Math.min(2_000_000, Math.round(max.events / 2000) * 2000)),
        2000,
      )
    : undefined;
rmSync(dir, { recursive: true, force: true });
if (args.postgres !== undefined) {
  const client = new pg.Client({ connectionString: args.postgres });
  await client.connect();
  await client.query(`DROP SCHEMA ${schema} CASCADE`);
  await client.end();
}

const f = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(
  `database            ${args.postgres === undefined ? 'SQLite (embedded)' : 'PostgreSQL'}`,
);
console.log(
  `load                ${connections} connections × ${batchSize}-event batches, ${args.customers} customers`,
);
console.log(
  `sustained           ${f(max.eventsPerSecond)} events/s over ${seconds} s (${max.failures} failed requests)`,
);
console.log(
  `paced at ${f(target)}/s (${Math.round((target / max.eventsPerSecond) * 100)} % of sustained)  p50 ${paced.p50.toFixed(1)} ms, p99 ${paced.p99.toFixed(1)} ms, max ${paced.max.toFixed(1)} ms per batch (${paced.batches} batches, ${paced.failures} failed)`,
);
if (ceiling !== undefined) {
  console.log(
    `ceiling             ${f(ceiling)} rows/s: raw prepared inserts of as many rows of the same mix into SQLite (same schema, 2000 per transaction)`,
  );
  console.log(
    `ratio               Herald end to end = ${((max.eventsPerSecond / ceiling) * 100).toFixed(0)} % of the ceiling`,
  );
}
