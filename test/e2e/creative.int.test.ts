import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { readContentDir } from '../../src/cli/commands/content.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/core/time.js';
import type { ContentDocument } from '../../src/pipeline/content/index.js';
import { aDocument } from '../../src/pipeline/content/test-builders.js';
import { prepareCreative } from '../../src/pipeline/creative.js';
import {
  designKey,
  learnedStrategies,
  mostCautiousPerStrategy,
  promoteDueWinners,
  promoteWinner,
  storedDesign,
} from '../../src/pipeline/experiment-results.js';
import { writeCampaignVariants } from '../../src/pipeline/personalize.js';
import {
  batchCall,
  startHerald,
  storeDocuments,
  type TestHerald,
  ingestCall,
  adminCall,
} from '../support/start-herald.js';
import { sharedDataDir, sharedDataNote } from '../support/shared-data.js';
import { sqliteFactory, storeFactories } from '../support/stores.js';
import { personalizeOptions } from '../support/personalize-options.js';

const T0 = Date.UTC(2026, 11, 1, 12);
const library =
  sharedDataDir === undefined
    ? undefined
    : join(sharedDataDir, 'personalization-scenario/approved_content');
if (library === undefined) console.warn(sharedDataNote);
/**
 * The scenario's documents, those for the Standard audience approved for everyone as well: these
 * campaigns go to everyone, whose copy is written from documents for `All` only (the audience
 * filter is tested on its own), and were written for the Standard audience's.
 */
const documentsForEveryone = () =>
  readContentDir(library ?? '').map((doc) =>
    doc.audience.includes('Standard') ? { ...doc, audience: [...doc.audience, 'All'] } : doc,
  );
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
        await storeDocuments(herald, documentsForEveryone(), T0);
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
          creative: { query: 'collaboration tools' },
        });
        expect(refused.statusCode).toBe(400);
        expect(refused.body).toContain('not allowed together with creative');
      });

      it('refuses a campaign whose query no document of the library matches', async () => {
        await ingest('identify', { userId: 'q1', traits: { email: 'q1@example.com' } });
        const refused = await admin('POST', '/v1/campaigns', {
          id: 'doorbusters',
          template: 'upsell',
          channels: ['email'],
          creative: { query: 'doorbuster' },
        });
        // Before, the segment's themes retrieved "Automation Workflows" and others, and the
        // campaign went out with copy about them.
        expect(refused.statusCode).toBe(409);
        expect(refused.json()).toMatchObject({
          error: {
            message: expect.stringContaining(
              'nothing in the library matches the query "doorbuster"',
            ) as unknown,
          },
        });
        const work = await admin('GET', '/v1/customers/q1/work');
        expect(work.json<{ work: unknown[] }>().work).toEqual([]);
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
          creative: { query: 'collaboration tools' },
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

      it('blocks written copy whose greeting a customer’s own first name made unsafe', async () => {
        // A first name set through a public write key: the variant was screened as its source.
        await ingest('identify', {
          userId: 'hx',
          traits: { email: 'hx@example.com', firstName: 'you are worthless, go kill yourself' },
        });
        await ingest('identify', {
          userId: 'ok',
          traits: { email: 'ok@example.com', firstName: 'Pat' },
        });
        const created = await admin('POST', '/v1/campaigns', {
          id: 'greeting',
          template: 'upsell',
          channels: ['email'],
          creative: { query: 'collaboration tools' },
        });
        expect(created.statusCode).toBe(202);
        await herald.services.worker.runDue();
        const messages = (await admin('GET', '/v1/messages?limit=10')).json<{
          messages: { customerId: string; status: string; reasonCode: string | null }[];
        }>().messages;
        expect(messages.map((m) => [m.customerId, m.status, m.reasonCode]).sort()).toEqual([
          ['hx', 'blocked', 'unsafe_content'],
          ['ok', 'queued', null],
        ]);
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
          creative: { query: 'integrations' },
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
          creative: { query: 'integrations' },
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
        // The next campaign to the same segment and channel starts from the winner, and sends
        // it twice as much as each of the others (`content.learnedTrafficWeight`).
        const next = await admin('POST', '/v1/campaigns', {
          id: 'spring',
          template: 'upsell',
          channels: ['email'],
          creative: { query: 'integrations' },
        });
        const written = next.json<{
          variants: { id: string; strategy: string; weight: number }[];
        }>().variants;
        expect(written.map((v) => [v.strategy, v.weight])).toEqual(
          variants
            .map((v) => [v.strategy, v.strategy === challenger?.strategy ? 2 : 1])
            .sort(([, a], [, b]) => Number(b) - Number(a)),
        );
        await herald.services.worker.runDue();
        const results2 = (await admin('GET', '/v1/experiments/spring/results')).json<{
          design: { arms: { name: string; weight?: number }[] };
          arms: { arm: string; units: number }[];
        }>();
        expect(results2.design.arms.map((a) => a.weight ?? 1)).toEqual(
          written.map((v) => v.weight),
        );
        const shares = new Map(results2.arms.map((a) => [a.arm, a.units]));
        const total = [...shares.values()].reduce((a, b) => a + b, 0);
        const weights = written.reduce((sum, v) => sum + v.weight, 0);
        // In the weights' proportions (within 2.5 standard deviations of a share near 2/3),
        // not in equal shares.
        for (const v of written)
          expect(Math.abs((shares.get(v.id) ?? 0) / total - v.weight / weights)).toBeLessThan(0.06);
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
        const a = await launch('camp-a', 'collaboration tools');
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
        const docs = documentsForEveryone();
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
        const later = await launch('later', 'collaboration tools', T0 + 2 * DAY_MS);
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
          creative: { query: 'collaboration tools' },
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
        for (const doc of documentsForEveryone())
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
          { id: 'c1', segment: null, channel: 'email', query: null, sendAtMs: T0 },
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

// Monday 2 March 2026: the spring sale's copy is approved until Wednesday, the summer sale's
// from Thursday.
const MONDAY = Date.UTC(2026, 2, 2, 12);
const FRIDAY = '2026-03-06T12:00:00.000Z';
const saleOf = (
  id: string,
  season: string,
  dates: { approvedAt: string; expiresAt: string | null },
) =>
  aDocument({
    id,
    title: `${season} Sale Preview`,
    audience: ['All'],
    keywords: ['sale', season.toLowerCase()],
    body: `Our ${season} Sale brings new features to every plan. Shop the sale this week.`,
    ...dates,
  });
const spring = saleOf('SPRING', 'Spring', {
  approvedAt: '2026-02-20T00:00:00Z',
  expiresAt: '2026-03-04T00:00:00Z',
});
const summer = saleOf('SUMMER', 'Summer', { approvedAt: '2026-03-05T00:00:00Z', expiresAt: null });

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(
    `creative campaigns written for their send time (${factory.name})`,
    () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      const stock = async (...docs: ContentDocument[]) => {
        for (const doc of docs)
          await herald.services.store.saveDocument({
            id: doc.id,
            version: doc.version,
            hash: createHash('sha256').update(JSON.stringify(doc)).digest('hex'),
            document: doc,
            importedAtMs: MONDAY - DAY_MS,
          });
      };
      beforeEach(async () => {
        clock = createVirtualClock(MONDAY);
        herald = await startHerald(factory, { clock });
        await ingestCall(herald, clock, 'identify', {
          userId: 'c1',
          traits: { email: 'c1@example.com', firstName: 'Ann' },
        });
      });
      afterEach(async () => {
        await herald.close();
      });
      type Launched = { variants: { citations: string[]; validUntil: string | null }[] };
      const launch = (id: string, sendAt?: string) =>
        adminCall(herald, 'POST', '/v1/campaigns', {
          id,
          template: 'upsell',
          channels: ['email'],
          ...(sendAt === undefined ? {} : { sendAt }),
          creative: { query: 'sale' },
        });
      const messageOf = async (campaignId: string) =>
        (await adminCall(herald, 'GET', '/v1/messages?limit=50'))
          .json<{ messages: { campaignId: string; status: string; reasonCode: string | null }[] }>()
          .messages.filter((m) => m.campaignId === campaignId)
          .map((m) => [m.status, m.reasonCode]);

      it('writes a later send from the library as it will stand then, and sends it', async () => {
        await stock(spring, summer);
        // Launched on Monday for Friday: the spring sale has ended by then (before, every
        // variant cited it and the message was blocked, content_withdrawn), the summer one is on.
        const friday = await launch('friday', FRIDAY);
        expect(friday.statusCode).toBe(202);
        expect(friday.json<Launched>().variants.map((v) => [v.citations, v.validUntil])).toEqual(
          Array.from({ length: 3 }, () => [['SUMMER'], null]),
        );
        clock.set(Date.parse(FRIDAY) + MINUTE_MS);
        await herald.services.worker.runDue();
        expect(await messageOf('friday')).toEqual([['queued', null]]);
      });

      it('refuses a later send when nothing in force then matches its query', async () => {
        await stock(spring);
        const refusals = async () => {
          const refused = await launch('friday', FRIDAY);
          expect(refused.statusCode).toBe(409);
          return refused.json<{ error: { message: string } }>().error.message;
        };
        expect(await refusals()).toBe(
          `the content library has no document in force at ${FRIDAY}, when the campaign is sent: import approved ones with \`herald content import DIR\``,
        );
        await stock(
          aDocument({
            id: 'GUIDE',
            audience: ['All'],
            title: 'Getting Started Guide',
            body: 'Welcome aboard.',
          }),
        );
        expect(await refusals()).toBe(
          `nothing in the library matches the query "sale": no document for the All audience in force at ${FRIDAY}, when the campaign is sent, holds any of its words`,
        );
        const work = await adminCall(herald, 'GET', '/v1/customers/c1/work');
        expect(work.json<{ work: unknown[] }>().work).toEqual([]);
      });

      it('refuses to launch again for a time its kept copy has expired by', async () => {
        await stock(spring, summer);
        // Sent now, the copy is the spring sale's, until it ends.
        const first = await launch('spring');
        expect(first.json<Launched>().variants.map((v) => [v.citations, v.validUntil])).toEqual(
          Array.from({ length: 3 }, () => [['SPRING'], '2026-03-04T00:00:00.000Z']),
        );
        // Launched again, a campaign keeps the variants its experiment compares: they cannot
        // go on Thursday (before, the launch was accepted and every message blocked).
        const again = await launch('spring', '2026-03-05T09:00:00.000Z');
        expect(again.statusCode).toBe(409);
        expect(again.json<{ error: { message: string } }>().error.message).toContain(
          'cites a document that expires 2026-03-04T00:00:00.000Z, at or before the send time 2026-03-05T09:00:00.000Z); launch it under a new id',
        );
        const sooner = await launch('spring', '2026-03-03T09:00:00.000Z');
        expect(sooner.statusCode).toBe(202);
        expect(sooner.json<Launched>().variants).toEqual(first.json<Launched>().variants);
      });

      it('writes again copy an unfinished launch wrote for a time it cannot go at', async () => {
        await stock(spring, summer);
        // A launch for now wrote the spring sale's copy and failed before its definition was
        // kept; tried again for Friday, the copy kept for the same brief cannot go then (before,
        // it was reused and every message blocked as content_expired).
        const brief = { id: 'sale', segment: null, channel: 'email' as const, query: 'sale' };
        const monday = await prepareCreative(
          herald.services.store,
          brief,
          personalizeOptions(MONDAY),
        );
        expect(monday.variants.map((v) => v.citations)).toEqual([
          ['SPRING'],
          ['SPRING'],
          ['SPRING'],
        ]);
        const friday = await launch('sale', FRIDAY);
        expect(friday.statusCode).toBe(202);
        expect(friday.json<Launched>().variants.map((v) => [v.citations, v.validUntil])).toEqual(
          Array.from({ length: 3 }, () => [['SUMMER'], null]),
        );
        clock.set(Date.parse(FRIDAY) + MINUTE_MS);
        await herald.services.worker.runDue();
        expect(await messageOf('sale')).toEqual([['queued', null]]);
        // The copy kept and the experiment's arms are the Friday launch's.
        const design = await herald.services.store.transaction((tx) =>
          tx.getSetting(designKey('sale')),
        );
        expect(
          design === null
            ? null
            : (JSON.parse(design) as { arms: { name: string }[] }).arms.map((a) => a.name),
        ).toEqual(friday.json<{ variants: { id: string }[] }>().variants.map((v) => v.id));
      });

      it('compares with the control strategy when no test promoted one, not with a learning', async () => {
        await stock(spring, summer);
        // An earlier campaign to everyone found `benefit` better among Standard customers (a
        // cut, kept as a learning) and promoted nothing for them: the composer's control is
        // this test's control (before, the cut's strategy was), and benefit is written first.
        const benefit = {
          experimentId: 'earlier',
          strategy: 'benefit',
          segment: 'Standard',
          channel: 'email' as const,
          metric: 'conversion',
          lift: 0.3,
          lower: 0.05,
          upper: 0.6,
          p: 0.01,
          units: 400,
          createdAtMs: MONDAY - DAY_MS,
        };
        await herald.services.store.transaction((tx) => tx.saveLearnings([benefit]));
        const launched = await adminCall(herald, 'POST', '/v1/campaigns', {
          id: 'standard',
          template: 'upsell',
          channels: ['email'],
          segment: 'Standard',
          creative: { query: 'sale' },
        });
        expect(launched.statusCode).toBe(202);
        const design = await storedDesign(herald.services.store, 'standard');
        expect(design?.arms.map((a) => a.strategy)).toEqual(['benefit', 'control', 'curiosity']);
        expect(design?.arms.find((a) => a.name === design.control)?.strategy).toBe('control');
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

  it('judges a strategy by its latest learning: a later test that found it worse drops it', async () => {
    const { store, cleanup } = await sqliteFactory.make();
    const curiosity = {
      strategy: 'curiosity',
      segment: 'Standard',
      channel: 'email' as const,
      metric: 'conversion',
      units: 500,
    };
    const january = { ...curiosity, experimentId: 'jan', lift: 0.2, lower: 0.02, upper: 0.4 };
    await store.transaction((tx) => tx.saveLearnings([{ ...january, p: 0.01, createdAtMs: 1 }]));
    expect(await learnedStrategies(store, 'Standard', 'email')).toEqual(['curiosity']);
    await store.transaction((tx) =>
      tx.saveLearnings([
        {
          ...curiosity,
          experimentId: 'jun',
          lift: -0.3,
          lower: -0.5,
          upper: -0.1,
          p: 0.001,
          createdAtMs: 2,
        },
      ]),
    );
    expect(await learnedStrategies(store, 'Standard', 'email')).toEqual([]);
    // Two arms of one strategy in one test teach one thing of it, the more cautious, whichever
    // arm came first; strategies found equally good rank by name, whatever order they are in.
    const sep = { ...curiosity, experimentId: 'sep', upper: 0.5, p: 0.01, createdAtMs: 3 };
    const arms = [
      { ...sep, lift: 0.3, lower: 0.1 },
      { ...sep, lift: 0.1, lower: -0.1, p: 0.3 },
      { ...sep, strategy: 'fomo', lift: 0.2, lower: 0.05 },
      { ...sep, strategy: 'benefit', lift: 0.2, lower: 0.05 },
    ];
    for (const order of [arms, [...arms].reverse()]) {
      const kept = mostCautiousPerStrategy(order);
      expect(kept.find((l) => l.strategy === 'curiosity')?.lower).toBe(-0.1);
      const { store: fresh, cleanup: done } = await sqliteFactory.make();
      await fresh.transaction((tx) => tx.saveLearnings(kept));
      expect(await learnedStrategies(fresh, 'Standard', 'email')).toEqual(['benefit', 'fomo']);
      await done();
    }
    await cleanup();
  });

  it("records a learning outside the segment's plan as ignored, not as applied", async () => {
    const written = await write('Standard', ['social-proof', 'benefit']);
    expect(written.learnedOrder).toEqual(['benefit']);
    expect(written.learnedIgnored).toEqual(['social-proof']);
    expect(written.usable[0]?.strategy).toBe('benefit');
  });
});
