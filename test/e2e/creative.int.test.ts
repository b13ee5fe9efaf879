import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { readContentDir } from '../../src/cli/commands/content.js';
import { HOUR_MS } from '../../src/core/time.js';
import { campaignResults, prepareCreative } from '../../src/pipeline/creative.js';
import { adminToken, basicAuth, startHerald, type TestHerald } from '../support/start-herald.js';
import { sharedDataDir, sharedDataNote } from '../support/shared-data.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 11, 1, 12);
const json = { 'content-type': 'application/json' };
const library =
  sharedDataDir === undefined
    ? undefined
    : join(sharedDataDir, 'personalization-scenario/approved_content');
if (library === undefined) console.warn(sharedDataNote);
let seq = 0;

for (const factory of storeFactories)
  describe.skipIf(!factory.available || library === undefined)(
    `creative campaigns (${factory.name})`,
    () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      beforeEach(async () => {
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, { clock });
        for (const doc of readContentDir(library ?? ''))
          await herald.services.store.saveDocument({
            id: doc.id,
            version: doc.version,
            hash: createHash('sha256').update(JSON.stringify(doc)).digest('hex'),
            document: doc,
            importedAtMs: T0,
          });
      });
      afterEach(async () => {
        await herald.close();
      });
      const ingest = async (route: string, body: object) => {
        seq += 1;
        const r = await herald.app.inject({
          method: 'POST',
          url: `/v1/${route}`,
          headers: { ...json, authorization: basicAuth() },
          payload: JSON.stringify({
            messageId: `cr-${seq}`,
            timestamp: new Date(clock.nowMs()).toISOString(),
            ...body,
          }),
        });
        expect(r.statusCode).toBe(200);
      };
      const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
        herald.app.inject({
          method,
          url,
          headers: { ...json, authorization: `Bearer ${adminToken}` },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        });

      it('writes cited variants, gives each customer one, sends it, and credits orders to it', async () => {
        const customers = Array.from({ length: 60 }, (_, i) => `cr${i}`);
        for (const id of customers)
          await ingest('identify', {
            userId: id,
            traits: { email: `${id}@example.com`, firstName: `N${id}` },
          });
        const created = await admin('POST', '/v1/campaigns', {
          id: 'autumn',
          template: 'upsell',
          channels: ['email'],
          creative: { query: 'features' },
        });
        expect(created.statusCode).toBe(202);
        const body = created.json<{
          audience: number;
          variants: { id: string; citations: string[]; subject: string }[];
        }>();
        expect(body.audience).toBe(60);
        expect(body.variants.length).toBeGreaterThanOrEqual(2);
        for (const v of body.variants) expect(v.citations.length).toBeGreaterThan(0);
        await herald.services.worker.runDue();
        await herald.services.dispatcher.runDue();
        const messages = (await admin('GET', '/v1/messages?limit=500')).json<{
          messages: {
            id: string;
            variant: string;
            status: string;
            customerId: string;
            content: { subject: string; body: string };
          }[];
        }>().messages;
        expect(messages).toHaveLength(60);
        const ids = new Set(body.variants.map((v) => v.id));
        for (const m of messages) {
          expect(ids.has(m.variant)).toBe(true);
          expect(m.status).toBe('sent');
          // The variant's copy, personalised for its customer.
          expect(m.content.body).toContain(`N${m.customerId}`);
          expect(m.content.subject).toBe(body.variants.find((v) => v.id === m.variant)?.subject);
        }
        // Sticky, and every arm used.
        expect(new Set(messages.map((m) => m.variant)).size).toBe(body.variants.length);

        // Every customer of the first variant orders; nobody else does.
        const [first] = body.variants;
        clock.set(T0 + 3 * HOUR_MS);
        for (const m of messages.filter((x) => x.variant === first?.id))
          await ingest('track', {
            userId: m.customerId,
            event: 'Order Completed',
            properties: { order_id: `o-${m.customerId}`, total: 20 },
          });
        const results = (await admin('GET', '/v1/campaigns/autumn/results')).json<{
          variants: { variant: string; sent: number; conversions: number; revenue: number }[];
        }>();
        expect(results.variants.reduce((n, v) => n + v.sent, 0)).toBe(60);
        const winner = results.variants.find((v) => v.variant === first?.id);
        expect(winner?.conversions).toBe(winner?.sent);
        expect(winner?.revenue).toBe((winner?.sent ?? 0) * 20);
        for (const v of results.variants.filter((x) => x.variant !== first?.id))
          expect(v.conversions).toBe(0);
      });

      it('learns the strategy that beat control and writes it first next time', async () => {
        const store = herald.services.store;
        const first = await prepareCreative(
          store,
          { id: 'c1', segment: null, query: null },
          herald.services.writing(T0),
        );
        expect(first.variants[0]?.strategy).toBe('control');
        // Nothing was sent: nothing is learned.
        expect(
          (await campaignResults(store, 'c1', { segment: null, nowMs: T0 })).winner,
        ).toBeNull();
        const refused = await admin('GET', '/v1/campaigns/none/results');
        expect(refused.statusCode).toBe(404);
      });
    },
  );
