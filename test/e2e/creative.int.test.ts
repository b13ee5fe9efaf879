import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { readContentDir } from '../../src/cli/commands/content.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import { prepareCreative } from '../../src/pipeline/creative.js';
import { promoteDueWinners, promoteWinner } from '../../src/pipeline/experiment-results.js';
import { writeCampaignVariants } from '../../src/pipeline/personalize.js';
import {
  batchCall,
  startHerald,
  type TestHerald,
  ingestCall,
  adminCall,
} from '../support/start-herald.js';
import { sharedDataDir, sharedDataNote } from '../support/shared-data.js';
import { storeFactories } from '../support/stores.js';
import { personalizeOptions } from '../support/personalize-options.js';

const T0 = Date.UTC(2026, 11, 1, 12);
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
      const ingest = (route: string, body: object) => ingestCall(herald, clock, route, body);
      const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
        adminCall(herald, method, url, body);

      it('refuses creative together with an incentive the written copy would not name', async () => {
        const refused = await admin('POST', '/v1/campaigns', {
          id: 'sale',
          template: 'upsell',
          channels: ['email'],
          incentive: { percent: 10, validHours: 48 },
          creative: { query: 'features' },
        });
        expect(refused.statusCode).toBe(400);
        expect(refused.body).toContain('not allowed together with creative');
      });

      it('refuses a send time the calendar does not have, naming it', async () => {
        for (const sendAt of ['2026-06-30T23:59:60Z', '9999-12-31T23:00:00-05:00']) {
          const refused = await admin('POST', '/v1/campaigns', {
            id: 'leap',
            template: 'upsell',
            channels: ['email'],
            sendAt,
          });
          expect([sendAt, refused.statusCode]).toEqual([sendAt, 400]);
          expect(refused.json()).toMatchObject({
            error: { message: expect.stringMatching(/^sendAt: /) },
          });
        }
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
          variants: {
            id: string;
            citations: string[];
            subject: string;
            validUntil: string | null;
          }[];
        }>();
        expect(body.audience).toBe(60);
        expect(body.variants.length).toBeGreaterThanOrEqual(2);
        for (const v of body.variants) expect(v.citations.length).toBeGreaterThan(0);
        // Until when each may go: the first expiry among its sources — none of the scenario's
        // documents expires (the unit tests of the guard cover one that does).
        for (const v of body.variants) expect(v.validUntil).toBeNull();
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
        // The variant test reads units whose window (7 days from the send) has closed.
        clock.set(T0 + 8 * DAY_MS);
        const results = (await admin('GET', '/v1/campaigns/autumn/results')).json<{
          arms: {
            arm: string;
            units: number;
            exposed: number;
            converted: number;
            revenue: number;
          }[];
          test: { analysis: { control: string } };
        }>();
        expect(results.arms.reduce((n, v) => n + v.exposed, 0)).toBe(60);
        const winner = results.arms.find((v) => v.arm === first?.id);
        expect(winner?.converted).toBe(winner?.exposed);
        expect(winner?.revenue).toBe((winner?.exposed ?? 0) * 20);
        for (const v of results.arms.filter((x) => x.arm !== first?.id))
          expect(v.converted).toBe(0);
        // The first variant written is the control the others are compared with.
        expect(results.test.analysis.control).toBe(first?.id);
      });

      it('promotes a variant that beat control on live data, keeps the learnings, and writes it first next time', async () => {
        const ids = Array.from({ length: 600 }, (_, i) => `pw${i}`);
        for (let i = 0; i < ids.length; i += 200) {
          seq += 1;
          await batchCall(
            herald,
            ids.slice(i, i + 200).map((id) => ({
              type: 'identify',
              messageId: `pw-${seq}-${id}`,
              userId: id,
              traits: { email: `${id}@example.com`, firstName: 'Pat' },
              timestamp: new Date(clock.nowMs()).toISOString(),
            })),
          );
        }
        const created = await admin('POST', '/v1/campaigns', {
          id: 'winter',
          template: 'upsell',
          channels: ['email'],
          creative: { query: 'features' },
        });
        const variants = created.json<{ variants: { id: string; strategy: string }[] }>().variants;
        expect(variants[0]?.strategy).toBe('control');
        await herald.services.worker.runDue();
        await herald.services.dispatcher.runDue();
        const promote = async () =>
          (await admin('POST', '/v1/experiments/winter/promote', {})).json<{
            promoted: boolean;
            winner?: string;
            reason?: string;
          }>();
        // No window has closed yet: nothing to promote.
        const first = await promote();
        expect(first, JSON.stringify(first)).toMatchObject({ promoted: false });
        expect(first.reason).toContain('no units yet');
        const challenger = variants[1];
        const messages = (await admin('GET', '/v1/messages?limit=500')).json<{
          messages: { id: string; variant: string; customerId: string }[];
        }>().messages;
        const more = (
          await admin('GET', `/v1/messages?limit=500&before=${messages.at(-1)?.id ?? ''}`)
        ).json<{
          messages: { variant: string; customerId: string }[];
        }>().messages;
        const all = [...messages, ...more];
        expect(all).toHaveLength(600);
        // Six in ten of the challenger's customers order; one in ten of everyone else's.
        clock.set(T0 + 5 * HOUR_MS);
        const orders = all.filter((m, i) =>
          m.variant === challenger?.id ? i % 10 < 6 : i % 10 === 0,
        );
        for (const m of orders)
          await ingest('track', {
            userId: m.customerId,
            event: 'Order Completed',
            properties: { order_id: `w-${m.customerId}`, total: 25 },
          });
        // Not before the windows close: an early lead may be the youngest units' luck.
        expect((await promote()).reason).toContain('no units yet');
        clock.set(T0 + 8 * DAY_MS);
        // The hourly job and a person ask at the same moment: exactly one promotes it.
        const [due, direct] = await Promise.all([
          promoteDueWinners(herald.services.store, clock.nowMs()),
          promoteWinner(herald.services.store, 'winter', clock.nowMs()),
        ]);
        expect([due.includes('winter'), direct.promoted].filter(Boolean)).toHaveLength(1);
        const audit = await herald.services.store.scanAudit(0, 100_000);
        expect(audit.filter((e) => e.kind === 'promotion')).toHaveLength(1);
        const results = (await admin('GET', '/v1/experiments/winter/results')).json<{
          design: { promoted: { winner: string } };
          promotion: { allowed: boolean };
        }>();
        expect(results.design.promoted.winner).toBe(challenger?.id);
        expect(results.promotion.allowed).toBe(true);
        expect((await promote()).reason).toContain('already promoted');
        // Launched again, the campaign keeps the variants its experiment was designed with.
        const again = await admin('POST', '/v1/campaigns', {
          id: 'winter',
          template: 'upsell',
          channels: ['email'],
          creative: { query: 'features' },
        });
        expect(again.json<{ variants: { id: string }[] }>().variants.map((v) => v.id)).toEqual(
          variants.map((v) => v.id),
        );
        const learnings = (await admin('GET', '/v1/learnings?segment=all&channel=email')).json<{
          learnings: { strategy: string; lift: number; lower: number; upper: number }[];
        }>().learnings;
        const learned = learnings.find((l) => l.strategy === challenger?.strategy);
        expect(learned?.lower).toBeGreaterThan(0);
        expect(learned?.lift).toBeGreaterThan(learned?.lower ?? Infinity);
        // The next campaign to the same segment and channel starts from the winner.
        const next = await prepareCreative(
          herald.services.store,
          { id: 'spring', segment: null, channel: 'email', query: null },
          herald.services.writing(clock.nowMs()),
        );
        expect(next.variants[0]?.strategy).toBe(challenger?.strategy);
      });

      it("sends each campaign its own copy when their variants' ids are the same", async () => {
        for (const id of ['ka', 'kb', 'kc', 'kd'])
          await ingest('identify', {
            userId: id,
            traits: { email: `${id}@example.com`, firstName: 'Pat' },
          });
        type Created = { variants: { id: string; subject: string }[] };
        const launch = async (id: string, query: string) =>
          (
            await admin('POST', '/v1/campaigns', {
              id,
              template: 'upsell',
              channels: ['email'],
              creative: { query },
            })
          ).json<Created>().variants;
        const a = await launch('camp-a', 'features');
        await herald.services.worker.runDue();
        clock.set(T0 + 3 * DAY_MS);
        const b = await launch('camp-b', 'password account security support');
        // The composer names variants by segment, place, strategy and tone: the same ids.
        const shared = b.filter((v) => a.some((w) => w.id === v.id && w.subject !== v.subject));
        expect(shared.length).toBeGreaterThan(0);
        await herald.services.worker.runDue();
        const messages = (await admin('GET', '/v1/messages?limit=500')).json<{
          messages: { campaignId: string | null; variant: string; content: { subject: string } }[];
        }>().messages;
        expect(messages).toHaveLength(8);
        for (const m of messages) {
          const written = m.campaignId === 'camp-b' ? b : a;
          expect(m.content.subject).toBe(written.find((v) => v.id === m.variant)?.subject);
        }
      });

      it('blocks copy whose cited document was withdrawn or replaced before it went', async () => {
        const docs = readContentDir(library ?? '');
        const save = (doc: (typeof docs)[number], atMs: number) =>
          herald.services.store.saveDocument({
            id: doc.id,
            version: doc.version,
            hash: createHash('sha256').update(JSON.stringify(doc)).digest('hex'),
            document: doc,
            importedAtMs: atMs,
          });
        const customers = Array.from({ length: 12 }, (_, i) => `w${String(i)}`);
        for (const id of customers)
          await ingest('identify', {
            userId: id,
            traits: { email: `${id}@example.com`, firstName: 'Pat' },
          });
        const launch = async (id: string, query: string, sendAtMs: number) =>
          (
            await admin('POST', '/v1/campaigns', {
              id,
              template: 'upsell',
              channels: ['email'],
              sendAt: new Date(sendAtMs).toISOString(),
              creative: { query },
            })
          ).json<{ variants: { id: string; citations: string[] }[] }>().variants;
        const later = await launch('later', 'features', T0 + 2 * DAY_MS);
        // An hour apart: two campaigns due at once for a customer are arbitrated to one.
        const steady = await launch(
          'steady',
          'training resources library',
          T0 + 2 * DAY_MS + HOUR_MS,
        );
        const [first, second] = later;
        const withdrawnId = first?.citations[0];
        const replacedId = second?.citations.find((id) => !(first?.citations ?? []).includes(id));
        if (withdrawnId === undefined || replacedId === undefined)
          throw new Error('two variants citing two documents expected');
        // A day later the first variant's source is withdrawn (a version that has expired) and
        // the second's replaced by a new version; the other sources stand.
        clock.set(T0 + DAY_MS);
        for (const doc of docs) {
          if (doc.id === withdrawnId)
            await save(
              {
                ...doc,
                version: `${doc.version}-withdrawn`,
                approvedAt: new Date(T0 + DAY_MS - 1000).toISOString(),
                expiresAt: new Date(T0 + DAY_MS).toISOString(),
              },
              T0 + DAY_MS,
            );
          if (doc.id === replacedId)
            await save(
              {
                ...doc,
                version: `${doc.version}-b`,
                approvedAt: new Date(T0 + DAY_MS).toISOString(),
              },
              T0 + DAY_MS,
            );
        }
        clock.set(T0 + 2 * DAY_MS);
        await herald.services.worker.runDue();
        clock.set(T0 + 2 * DAY_MS + HOUR_MS);
        await herald.services.worker.runDue();
        const messages = (await admin('GET', '/v1/messages?limit=500')).json<{
          messages: {
            campaignId: string;
            variant: string;
            status: string;
            reasonCode: string | null;
            verdicts: { code: string; reason: string }[];
          }[];
        }>().messages;
        expect(messages).toHaveLength(2 * customers.length);
        const written = [...later, ...steady];
        const reasonOf = (m: { campaignId: string; variant: string }) => {
          const cites = (m.campaignId === 'later' ? later : steady).find(
            (v) => v.id === m.variant,
          )?.citations;
          if (cites === undefined) throw new Error(`unknown variant ${m.variant}`);
          return cites.includes(withdrawnId)
            ? `document ${withdrawnId}, which is no longer in force`
            : cites.includes(replacedId)
              ? `of document ${replacedId}, replaced by version`
              : null;
        };
        for (const m of messages) {
          const reason = reasonOf(m);
          if (reason === null) expect(m.status).toBe('queued');
          else {
            expect(m).toMatchObject({ status: 'blocked', reasonCode: 'content_withdrawn' });
            expect(m.verdicts[0]?.reason).toContain(reason);
          }
        }
        expect(written.length).toBeGreaterThan(2);
        expect(messages.some((m) => m.status === 'queued')).toBe(true);
        const said = messages.map((m) => m.verdicts[0]?.reason ?? '');
        expect(said.some((r) => r.includes('replaced by'))).toBe(true);
        expect(said.some((r) => r.includes('no longer in force'))).toBe(true);
      });

      it('refuses at hand-off copy whose cited document was replaced after its message was made', async () => {
        await ingest('identify', {
          userId: 'hx',
          traits: { email: 'hx@example.com', firstName: 'Pat' },
        });
        const created = await admin('POST', '/v1/campaigns', {
          id: 'queued-then-replaced',
          template: 'upsell',
          channels: ['email'],
          creative: { query: 'features' },
        });
        const cited = created
          .json<{ variants: { citations: string[] }[] }>()
          .variants.flatMap((v) => v.citations);
        await herald.services.worker.runDue();
        const queued = (await admin('GET', '/v1/messages?limit=10')).json<{
          messages: { id: string; status: string }[];
        }>().messages;
        expect(queued.map((m) => m.status)).toEqual(['queued']);
        // Before the dispatcher gets to it, every cited document gets a new version.
        clock.set(T0 + HOUR_MS);
        for (const doc of readContentDir(library ?? ''))
          if (cited.includes(doc.id))
            await herald.services.store.saveDocument({
              id: doc.id,
              version: `${doc.version}-b`,
              hash: `replaced-${doc.id}`,
              document: {
                ...doc,
                version: `${doc.version}-b`,
                approvedAt: new Date(T0 + HOUR_MS).toISOString(),
              },
              importedAtMs: T0 + HOUR_MS,
            });
        await herald.services.dispatcher.runDue();
        const after = (await admin('GET', `/v1/messages/${queued[0]?.id ?? ''}`)).json<{
          status: string;
          reasonCode: string | null;
        }>();
        expect(after).toMatchObject({ status: 'blocked', reasonCode: 'content_withdrawn' });
      });

      it('writes control first when nothing was learned, and promotes no unknown experiment', async () => {
        const store = herald.services.store;
        const first = await prepareCreative(
          store,
          { id: 'c1', segment: null, channel: 'email', query: null },
          herald.services.writing(T0),
        );
        expect(first.variants[0]?.strategy).toBe('control');
        // No experiment was launched under that id: nothing to promote.
        await expect(promoteWinner(store, 'c1', T0)).rejects.toThrow(/no experiment c1/);
        const refused = await admin('GET', '/v1/campaigns/none/results');
        expect(refused.statusCode).toBe(404);
      });
    },
  );

describe.skipIf(library === undefined)("a campaign's learnings", () => {
  const options = personalizeOptions(Date.UTC(2025, 11, 1));
  const write = (segment: string, learned: string[]) =>
    writeCampaignVariants(
      readContentDir(library ?? ''),
      { segment, query: null, learned },
      options,
    );
  // The composer names a variant by its place (which picks its document) and its strategy.
  const written = (w: Awaited<ReturnType<typeof write>>) =>
    [
      ...w.usable.map((v) => `${v.id} ${v.citations.join(',')}`),
      ...w.refused.map((r) => r.id),
    ].sort();

  it('keeps each strategy on its document, only putting the winners first', async () => {
    for (const [segment, winner] of [
      ['At-Risk', 'fomo'],
      ['New', 'curiosity'],
      ['High-Value Recent', 'social-proof'],
    ] as const) {
      const plain = await write(segment, []);
      const learned = await write(segment, [winner]);
      expect(learned.learnedOrder).toEqual([winner]);
      // The same copy, strategy by strategy: a learned order moves no strategy elsewhere.
      expect(written(learned)).toEqual(written(plain));
      // The control arm the composer writes stays usable.
      expect(learned.usable.map((v) => v.strategy)).toContain('control');
      const winnerWritten = learned.usable.findIndex((v) => v.strategy === winner);
      if (winnerWritten !== -1) expect(winnerWritten).toBe(0);
    }
  });

  it("records a learning outside the segment's plan as ignored, not as applied", async () => {
    const written = await write('Standard', ['social-proof', 'benefit']);
    expect(written.learnedOrder).toEqual(['benefit']);
    expect(written.learnedIgnored).toEqual(['social-proof']);
    expect(written.usable[0]?.strategy).toBe('benefit');
  });
});
