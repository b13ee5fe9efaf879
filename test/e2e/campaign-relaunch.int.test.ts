import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import { aDocument } from '../../src/pipeline/content/test-builders.js';
import { isInCampaignHoldout } from '../../src/pipeline/experiment/index.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const MONDAY = Date.UTC(2026, 2, 2, 12);

interface Listed {
  customerId: string;
  campaignId: string | null;
  status: string;
  variant: string | null;
}

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`a campaign launched again (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    beforeEach(async () => {
      clock = createVirtualClock(MONDAY);
      herald = await startHerald(factory, { clock });
    });
    afterEach(async () => {
      await herald.close();
    });
    const identify = (userId: string) =>
      ingestCall(herald, clock, 'identify', {
        userId,
        traits: { email: `${userId}@example.com`, firstName: 'Kim' },
      });
    const merge = (previousId: string, userId: string) =>
      ingestCall(herald, clock, 'alias', { previousId, userId });
    const launch = (body: object) =>
      adminCall(herald, 'POST', '/v1/campaigns', {
        template: 'upsell',
        channels: ['email'],
        ...body,
      });
    const run = async () => {
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
    };
    const messagesOf = async (campaignId: string): Promise<Listed[]> =>
      (await adminCall(herald, 'GET', '/v1/messages?limit=100'))
        .json<{ messages: Listed[] }>()
        .messages.filter((m) => m.campaignId === campaignId);
    /** A sale's document in the library, imported the day before Monday. */
    const stock = (season: 'Spring' | 'Summer', approvedAt: string, expiresAt: string | null) => {
      const sale = aDocument({
        id: season.toUpperCase(),
        title: `${season} Sale Preview`,
        audience: ['All'],
        keywords: ['sale', season.toLowerCase()],
        body: `Our ${season} Sale brings new features to every plan. Shop the sale this week.`,
        approvedAt,
        expiresAt,
      });
      return herald.services.store.saveDocument({
        id: sale.id,
        version: sale.version,
        hash: createHash('sha256').update(JSON.stringify(sale)).digest('hex'),
        document: sale,
        importedAtMs: MONDAY - DAY_MS,
      });
    };
    // The sale ends on Wednesday.
    const stockSale = () => stock('Spring', '2026-02-20T00:00:00Z', '2026-03-04T00:00:00Z');

    it('schedules nobody given the campaign under an id merged into them since', async () => {
      await identify('old-u');
      expect((await launch({ id: 'spring' })).json()).toMatchObject({
        audience: 1,
        alreadyScheduled: 0,
      });
      await run();
      // The same person signs up again; the shop aliases the old account into the new one.
      clock.set(MONDAY + HOUR_MS);
      await identify('new-u');
      await identify('other');
      await merge('old-u', 'new-u');

      const again = await launch({ id: 'spring' });
      await run();

      expect(again.statusCode).toBe(202);
      // The newcomer only; new-u was given it as old-u.
      expect(again.json()).toMatchObject({ audience: 1, alreadyScheduled: 1 });
      const sent = (await messagesOf('spring')).filter((m) => m.status === 'sent');
      expect(sent.map((m) => m.customerId).sort()).toEqual(['new-u', 'other']);
    });

    it('keeps a customer held out of the campaign out of it after a merge', async () => {
      const held = (id: string) =>
        isInCampaignHoldout(toCustomerId(id), {
          salt: 'campaign',
          campaignId: 'spring',
          percent: 50,
        });
      const oldId = Array.from({ length: 50 }, (_, i) => `old-${String(i)}`).find(held) ?? '';
      const newId =
        Array.from({ length: 50 }, (_, i) => `new-${String(i)}`).find((id) => !held(id)) ?? '';
      await identify(oldId);
      expect((await launch({ id: 'spring', holdoutPercent: 50 })).statusCode).toBe(202);
      await run();
      clock.set(MONDAY + HOUR_MS);
      await identify(newId);
      await merge(oldId, newId);

      expect((await launch({ id: 'spring', holdoutPercent: 50 })).statusCode).toBe(202);
      await run();

      expect((await messagesOf('spring')).map((m) => [m.customerId, m.status])).toEqual([
        [newId, 'held-out'],
      ]);
    });

    it('withdraws a message still queued when its customer is merged into one held out of it', async () => {
      const held = (id: string) =>
        isInCampaignHoldout(toCustomerId(id), {
          salt: 'campaign',
          campaignId: 'spring',
          percent: 50,
        });
      const ids = Array.from({ length: 50 }, (_, i) => `u-${String(i)}`);
      const treated = ids.find((id) => !held(id)) ?? '';
      const heldOut = ids.find(held) ?? '';
      // Launched at 23:00: the treated customer's message waits in the outbox for the morning.
      clock.set(MONDAY + 11 * HOUR_MS);
      for (const id of [treated, heldOut]) await identify(id);
      await launch({ id: 'spring', holdoutPercent: 50 });
      await herald.services.worker.runDue();
      await merge(treated, heldOut);
      clock.set(MONDAY + DAY_MS);
      await run();

      expect((await messagesOf('spring')).map((m) => [m.customerId, m.status]).sort()).toEqual([
        [heldOut, 'cancelled'],
        [heldOut, 'held-out'],
      ]);
    });

    it('sends one of two queued messages of a campaign when their customers are merged', async () => {
      const held = (id: string) =>
        isInCampaignHoldout(toCustomerId(id), {
          salt: 'campaign',
          campaignId: 'spring',
          percent: 50,
        });
      const [first = '', second = ''] = Array.from(
        { length: 50 },
        (_, i) => `u-${String(i)}`,
      ).filter((id) => !held(id));
      clock.set(MONDAY + 11 * HOUR_MS);
      for (const id of [first, second]) await identify(id);
      await launch({ id: 'spring', holdoutPercent: 50 });
      await herald.services.worker.runDue();
      await merge(first, second);
      clock.set(MONDAY + DAY_MS);
      await run();

      expect((await messagesOf('spring')).map((m) => [m.customerId, m.status]).sort()).toEqual([
        [second, 'cancelled'],
        [second, 'sent'],
      ]);
    });

    it('cancels the survivor’s turn still to come when the customer merged into them was given the campaign', async () => {
      await identify('old-u');
      await launch({ id: 'spring' });
      await run();
      clock.set(MONDAY + HOUR_MS);
      await identify('new-u');
      // Launched again for the newcomers, to go tomorrow: new-u is one of them, for now.
      const again = await launch({ id: 'spring', sendAt: new Date(MONDAY + DAY_MS).toISOString() });
      expect(again.json()).toMatchObject({ audience: 1, alreadyScheduled: 1 });
      await merge('old-u', 'new-u');
      clock.set(MONDAY + 2 * DAY_MS);
      await run();

      expect((await messagesOf('spring')).map((m) => [m.customerId, m.status])).toEqual([
        ['new-u', 'sent'],
      ]);
      const work = await herald.services.store.listWork(toCustomerId('new-u'), 10);
      expect(work.find((w) => w.key === 'new-u|campaign|spring')).toMatchObject({
        status: 'cancelled',
        note: 'merged with old-u: campaign spring was theirs already',
      });
    });

    it('keeps what went to a customer erased since counted against the budget', async () => {
      await identify('a');
      await identify('b');
      // Two emails' worth (0.001 each).
      const spring = { id: 'spring', budget: 0.002 };
      expect((await launch(spring)).statusCode).toBe(202);
      await run();
      expect((await messagesOf('spring')).map((m) => m.status)).toEqual(['sent', 'sent']);
      clock.set(MONDAY + HOUR_MS);
      expect(
        (await adminCall(herald, 'POST', '/v1/customers/a/erase', { reason: 'asked' })).statusCode,
      ).toBe(200);
      await identify('c');
      expect((await launch(spring)).statusCode).toBe(202);
      await run();
      // a's email was paid for: the newcomer finds the budget spent.
      const after = await messagesOf('spring');
      expect(after.map((m) => [m.customerId, m.status]).sort()).toEqual([
        ['b', 'sent'],
        ['c', 'blocked'],
      ]);
    });

    it('pauses at its budget, and a raised one gives the customers it blocked another turn', async () => {
      for (const id of ['a', 'b', 'c', 'd']) await identify(id);
      // Two emails' worth (0.001 each).
      expect((await launch({ id: 'spring', budget: 0.002 })).json()).toMatchObject({
        audience: 4,
        resumed: 0,
      });
      await run();
      const statuses = async () =>
        (await messagesOf('spring')).map((m) => m.status).sort((x, y) => x.localeCompare(y));
      expect(await statuses()).toEqual(['blocked', 'blocked', 'sent', 'sent']);
      // The campaign says it waits at its budget, and for whom.
      const standing = async () =>
        (await adminCall(herald, 'GET', '/v1/campaigns/spring')).json<Record<string, unknown>>();
      expect(await standing()).toMatchObject({
        campaignId: 'spring',
        definition: { template: 'upsell', budget: 0.002, firstSendAt: expect.any(String) },
        spent: 0.002,
        messages: { sent: 2, blocked: 2 },
        blockedByBudget: 2,
        paused: true,
      });
      // The same budget again changes nothing.
      expect((await launch({ id: 'spring', budget: 0.002 })).json()).toMatchObject({
        audience: 0,
        alreadyScheduled: 4,
        resumed: 0,
      });
      // Raised by one email's worth: both blocked customers get a turn, one of them fits.
      clock.set(MONDAY + HOUR_MS);
      expect((await launch({ id: 'spring', budget: 0.003 })).json()).toMatchObject({
        audience: 2,
        alreadyScheduled: 2,
        resumed: 2,
      });
      // Raised again before those turns are taken: nobody gets a second one.
      expect((await launch({ id: 'spring', budget: 0.0035 })).json()).toMatchObject({
        resumed: 0,
      });
      expect((await launch({ id: 'spring', budget: 0.003 })).json()).toMatchObject({
        resumed: 0,
      });
      // Their turns are to come: nobody waits for a raise now.
      expect(await standing()).toMatchObject({ blockedByBudget: 0, paused: false });
      await run();
      expect(await statuses()).toEqual(['blocked', 'blocked', 'blocked', 'sent', 'sent', 'sent']);
      // One fitted; the other was blocked again and waits.
      expect(await standing()).toMatchObject({ blockedByBudget: 1, paused: true });
      // Launched again without naming a budget: the cap stays, nobody gets a turn.
      clock.set(MONDAY + 2 * HOUR_MS);
      expect((await launch({ id: 'spring' })).json()).toMatchObject({ audience: 0, resumed: 0 });
      // No cap at all: the customer blocked twice gets a third turn, and then everyone is reached.
      expect((await launch({ id: 'spring', budget: null })).json()).toMatchObject({ resumed: 1 });
      await run();
      const byCustomer = new Map<string, string[]>();
      for (const m of await messagesOf('spring'))
        byCustomer.set(m.customerId, [...(byCustomer.get(m.customerId) ?? []), m.status]);
      expect([...byCustomer.values()].map((s) => s.filter((x) => x === 'sent').length)).toEqual([
        1, 1, 1, 1,
      ]);
      expect(await standing()).toMatchObject({
        definition: { budget: null },
        messages: { sent: 4 },
        blockedByBudget: 0,
        paused: false,
      });
      expect((await adminCall(herald, 'GET', '/v1/campaigns/autumn')).statusCode).toBe(404);
      expect((await launch({ id: 'spring', budget: 1 })).json()).toMatchObject({ resumed: 0 });
    });

    it("gives a raise's turn to a customer its cap blocked after another's turn was taken", async () => {
      for (const id of ['a', 'b']) await identify(id);
      expect((await launch({ id: 'spring', budget: 0.001 })).statusCode).toBe(202);
      await run();
      // The one blocked gets a turn from a raise, and is reached.
      clock.set(MONDAY + HOUR_MS);
      expect((await launch({ id: 'spring', budget: 0.002 })).json()).toMatchObject({ resumed: 1 });
      await run();
      // A customer who joins later is blocked at the same budget…
      clock.set(MONDAY + 2 * HOUR_MS);
      await identify('d');
      expect((await launch({ id: 'spring', budget: 0.002 })).json()).toMatchObject({ audience: 1 });
      await run();
      expect((await messagesOf('spring')).find((m) => m.customerId === 'd')?.status).toBe(
        'blocked',
      );
      // …and the next raise gives them their turn: the first one's, taken, is not theirs.
      clock.set(MONDAY + 3 * HOUR_MS);
      expect((await launch({ id: 'spring', budget: 1 })).json()).toMatchObject({ resumed: 1 });
      await run();
      const sent = (await messagesOf('spring')).filter((m) => m.status === 'sent');
      expect(sent.map((m) => m.customerId).sort()).toEqual(['a', 'b', 'd']);
    });

    it('keeps the turn a raise gave through a merge of two customers its cap blocked', async () => {
      for (const id of ['a', 'old-u', 'new-u']) await identify(id);
      expect((await launch({ id: 'spring', budget: 0.001 })).statusCode).toBe(202);
      await run();
      clock.set(MONDAY + HOUR_MS);
      const tomorrow = new Date(MONDAY + DAY_MS).toISOString();
      expect((await launch({ id: 'spring', budget: 1, sendAt: tomorrow })).json()).toMatchObject({
        resumed: 2,
      });
      // The same person: one turn is owed, and given.
      await merge('old-u', 'new-u');
      clock.set(MONDAY + 2 * DAY_MS);
      await run();
      const sent = (await messagesOf('spring')).filter((m) => m.status === 'sent');
      expect(sent.map((m) => m.customerId).sort()).toEqual(['a', 'new-u']);
    });

    it('gives no turn for a raise to a customer merged into one whose turn is still to come', async () => {
      for (const id of ['p0', 'p1']) await identify(id);
      expect((await launch({ id: 'dd', budget: 0.001 })).statusCode).toBe(202);
      await run();
      // A customer who signs up later gets the campaign in four hours...
      clock.set(MONDAY + HOUR_MS);
      await identify('nb');
      const later = new Date(MONDAY + 4 * HOUR_MS).toISOString();
      expect((await launch({ id: 'dd', sendAt: later })).json()).toMatchObject({ audience: 1 });
      // ...and turns out to be the customer the budget blocked.
      await merge('p1', 'nb');
      expect((await launch({ id: 'dd', budget: 1 })).json()).toMatchObject({ resumed: 0 });
      await run();
      clock.set(MONDAY + 4 * HOUR_MS + 1000);
      await run();
      const sent = (await messagesOf('dd')).filter((m) => m.status === 'sent');
      expect(sent.map((m) => m.customerId).sort()).toEqual(['nb', 'p0']);
    });

    it('gives no second turn to two customers its cap blocked, merged between two raises', async () => {
      for (const id of ['a', 'b1', 'b2']) await identify(id);
      expect((await launch({ id: 'spring', budget: 0.001 })).statusCode).toBe(202);
      await run();
      const blocked = (await messagesOf('spring'))
        .filter((m) => m.status === 'blocked')
        .map((m) => m.customerId)
        .sort();
      expect(blocked).toHaveLength(2);
      clock.set(MONDAY + HOUR_MS);
      const later = new Date(MONDAY + 4 * HOUR_MS).toISOString();
      expect((await launch({ id: 'spring', budget: 0.002, sendAt: later })).json()).toMatchObject({
        resumed: 2,
      });
      await merge(blocked[0] ?? '', blocked[1] ?? '');
      expect((await launch({ id: 'spring', budget: 1 })).json()).toMatchObject({ resumed: 0 });
      await run();
      clock.set(MONDAY + 4 * HOUR_MS + 1000);
      await run();
      const reached = (await messagesOf('spring')).filter(
        (m) => m.customerId === blocked[1] && m.status !== 'blocked',
      );
      expect(reached).toHaveLength(1);
    });

    it('judges the work already scheduled by the budget a relaunch cut it to', async () => {
      await identify('a');
      await identify('b');
      const tomorrow = new Date(MONDAY + DAY_MS).toISOString();
      expect((await launch({ id: 'later', sendAt: tomorrow, budget: 1000 })).statusCode).toBe(202);
      expect((await launch({ id: 'later', sendAt: tomorrow, budget: 0.001 })).json()).toMatchObject(
        { audience: 0, alreadyScheduled: 2, resumed: 0 },
      );
      clock.set(MONDAY + DAY_MS);
      await run();
      expect(
        (await messagesOf('later')).map((m) => m.status).sort((x, y) => x.localeCompare(y)),
      ).toEqual(['blocked', 'sent']);
    });

    it('keeps the design of the first launch it keeps, of two launched at once', async () => {
      for (const id of ['a', 'b', 'c']) await identify(id);
      for (let k = 0; k < 30; k += 1) {
        const id = `race-${String(k)}`;
        const answers = await Promise.all(
          [10, 40].map((holdoutPercent) => launch({ id, holdoutPercent })),
        );
        expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 409]);
        const defined = (await adminCall(herald, 'GET', `/v1/campaigns/${id}`)).json<{
          definition: { holdoutPercent: number };
        }>().definition.holdoutPercent;
        const designed = (await adminCall(herald, 'GET', `/v1/campaigns/${id}/results`)).json<{
          design: { holdoutPercent: number };
        }>().design.holdoutPercent;
        expect(designed, id).toBe(defined);
      }
    });

    it('refuses a relaunch that differs in anything but the send time, naming what differs', async () => {
      await identify('c1');
      const sendAt = new Date(MONDAY + DAY_MS).toISOString();
      const first = { id: 'capped', sendAt, budget: 1000 };
      expect((await launch(first)).statusCode).toBe(202);
      const refusals = [
        [{ holdoutPercent: 30 }, 'holdoutPercent 0 (now 30)'],
        [{ template: 'welcome-banner' }, 'template "upsell" (now "welcome-banner")'],
        [{ channels: ['email', 'sms'] }, 'channels ["email"] (now ["email","sms"])'],
        // With a template that prints the code: `upsell` does not, and is refused with one.
        [
          { template: 'win-back-offer', incentive: { percent: 10, validHours: 24 } },
          'incentive none (now',
        ],
        [{ stratify: true }, 'stratify false (now true)'],
      ] as const;
      for (const [change, named] of refusals) {
        const refused = await launch({ ...first, ...change });
        expect(refused.statusCode).toBe(409);
        expect(refused.json<{ error: { message: string } }>().error.message).toContain(named);
      }
      // Another send time is what a relaunch may change; everyone is scheduled already.
      const later = await launch({ ...first, sendAt: new Date(MONDAY + 2 * DAY_MS).toISOString() });
      expect(later.statusCode).toBe(202);
      expect(later.json()).toMatchObject({ audience: 0, alreadyScheduled: 1 });
    });

    it('refuses a creative campaign launched again without its creative, and a plain one with', async () => {
      await stockSale();
      await identify('c1');
      expect((await launch({ id: 'written', creative: { query: 'sale' } })).statusCode).toBe(202);
      expect((await launch({ id: 'plain' })).statusCode).toBe(202);
      await run();
      await identify('n1');

      const dropped = await launch({ id: 'written' });
      const added = await launch({ id: 'plain', creative: { query: 'sale' } });
      await run();

      expect([dropped.statusCode, added.statusCode]).toEqual([409, 409]);
      expect(dropped.body).toContain('creative {\\"query\\":\\"sale\\"} (now none)');
      // Nobody got the plain template as if it were a variant of the test.
      expect((await messagesOf('written')).map((m) => m.variant === null)).toEqual([false]);
    });

    it('judges the copy kept at now when the send time given is past', async () => {
      await stockSale();
      await identify('c1');
      const body = {
        id: 'written',
        sendAt: new Date(MONDAY).toISOString(),
        creative: { query: 'sale' },
      };
      expect((await launch(body)).statusCode).toBe(202);
      await run();
      // Thursday: the sale ended on Wednesday, and the same launch is sent again.
      clock.set(MONDAY + 3 * DAY_MS);
      await identify('c2');

      const again = await launch(body);
      await run();

      expect(again.statusCode).toBe(409);
      expect(again.body).toContain('keeps the copy it was first written with');
      expect((await messagesOf('written')).map((m) => m.customerId)).toEqual(['c1']);
    });

    it('refuses a relaunch for a time before the copy kept is approved', async () => {
      // Written on Monday for Friday from a document approved from Thursday…
      await stock('Summer', new Date(MONDAY + 3 * DAY_MS).toISOString(), null);
      await identify('c1');
      const body = { id: 'summer', creative: { query: 'summer' } };
      const friday = new Date(MONDAY + 4 * DAY_MS).toISOString();
      expect((await launch({ ...body, sendAt: friday })).statusCode).toBe(202);
      // …and launched again for now: every message of it would be blocked as withdrawn.
      await identify('c2');
      const again = await launch(body);
      await run();
      expect(again.statusCode).toBe(409);
      expect(again.body).toContain('not yet approved');
      expect(await messagesOf('summer')).toEqual([]);
    });
  });
