// Personalisation benchmark, in one process on the embedded default:
//   1. the scenario: 250 customers, 25 approved documents → segments, retrieval, 3 variants per
//      segment, grounding, screen, scores (the offline composer);
//   2. a creative campaign to N customers (100,000 by default): variants written, the campaign
//      fanned out, and every message decided, assigned a variant, rendered, guarded and queued
//      (the day's sweep of every customer, the worker's first drain, runs and is timed before).
//   npm run bench:personalize [-- --customers N]   (needs ../shared/data)
// runs it with the young generation `npm start` gives the server (bench/node-line.ts).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '../src/adapters/storage/sqlite/create-sqlite-store.js';
import { createServices } from '../src/app/create-services.js';
import { loadConfig } from '../src/app/load-config.js';
import { readContentDir, readScenarioCustomers } from '../src/cli/commands/content.js';
import type { HeraldEvent } from '../src/core/event.js';
import { toMessageId, toSourceId } from '../src/core/ids.js';
import { prepareCreative } from '../src/pipeline/creative.js';
import { fanOutCampaign } from '../src/pipeline/decide/index.js';
import { personalize } from '../src/pipeline/personalize.js';
import { silentLogger } from '../src/ports/logger.js';
import { nodeLine } from './node-line.js';

const { values: args } = parseArgs({
  options: { customers: { type: 'string', default: '100000' } },
});
const total = Number(args.customers);
console.log(nodeLine());
// From the repository root (where npm runs scripts): the benchmark runs compiled elsewhere.
const data = join(
  process.env['HERALD_SHARED_DATA'] ?? resolve('../shared/data'),
  'personalization-scenario',
);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const dir = mkdtempSync(join(tmpdir(), 'herald-personalize-bench-'));
try {
  const file = join(dir, 'herald.db');
  const config = loadConfig(
    {
      HERALD_DATABASE_URL: `sqlite:${file}`,
      HERALD_LOG_LEVEL: 'silent',
      HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
      HERALD_PUBLIC_URL: 'https://herald.example.com',
    },
    null,
  );
  const services = await createServices(config, {
    logger: silentLogger,
    store: await createSqliteStore({ file, synchronous: 'normal' }),
  });
  const documents = readContentDir(join(data, 'approved_content'));
  const customers = readScenarioCustomers(join(data, 'customers.csv'));
  const nowMs = services.clock.nowMs();

  // 1. The scenario.
  await personalize(customers, documents, services.writing(nowMs)); // warm-up
  const started = performance.now();
  const result = await personalize(customers, documents, services.writing(nowMs));
  console.log(
    `scenario            ${fmt(result.customers)} customers, ${String(documents.length)} documents, ${String(result.segments.length)} segments × 3 variants in ${(performance.now() - started).toFixed(1)} ms`,
  );

  // 2. A creative campaign to everyone.
  for (const doc of documents)
    await services.store.saveDocument({
      id: doc.id,
      version: doc.version,
      hash: createHash('sha256').update(JSON.stringify(doc)).digest('hex'),
      document: doc,
      importedAtMs: nowMs,
    });
  for (let i = 0; i < total; i += 2000) {
    const batch: HeraldEvent[] = [];
    for (let j = i; j < Math.min(total, i + 2000); j += 1)
      batch.push({
        messageId: toMessageId(`p-${j}`),
        sourceId: toSourceId('bench'),
        type: 'identify',
        userId: `u${j}`,
        anonymousId: null,
        previousId: null,
        groupId: null,
        name: null,
        properties: {},
        traits: { email: `u${j}@example.com`, firstName: `N${j}` },
        context: {},
        timestampMs: nowMs - 86_400_000,
        receivedAtMs: nowMs - 86_400_000,
      });
    await services.recorder.record(batch, nowMs - 86_400_000);
  }
  // The worker's first drain sweeps every customer for the day (a running server did so at its
  // start, or at the sweep hour): done before the campaign, and timed on its own.
  const ts = performance.now();
  await services.worker.countDue(nowMs);
  const swept = (performance.now() - ts) / 1000;
  const t0 = performance.now();
  const creative = await prepareCreative(
    services.store,
    { id: 'bench', segment: null, channel: 'email', query: 'features' },
    services.writing(nowMs),
  );
  const t1 = performance.now();
  const { scheduled: audience } = await fanOutCampaign(
    services.store,
    services.decide,
    {
      id: 'bench',
      template: 'upsell',
      channels: ['email'],
      segment: null,
      incentive: null,
      sendAtMs: nowMs,
      variantIds: creative.variants.map((v) => v.id),
    },
    nowMs,
  );
  const t2 = performance.now();
  await services.worker.countDue(nowMs);
  const t3 = performance.now();
  const queued = (await services.store.listMessages({ status: 'queued', limit: 10 * total }))
    .length;
  console.log(
    `sweep               the day's sweep of ${fmt(total)} customers, before the campaign: ${swept.toFixed(2)} s`,
  );
  console.log(
    `campaign            ${fmt(audience)} customers, ${String(creative.variants.length)} variants: written in ${(t1 - t0).toFixed(0)} ms, fanned out in ${((t2 - t1) / 1000).toFixed(2)} s, decided + assigned + rendered + guarded + queued in ${((t3 - t2) / 1000).toFixed(2)} s — ${((t3 - t0) / 1000).toFixed(2)} s in all (${fmt(queued)} queued)`,
  );
  await services.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
