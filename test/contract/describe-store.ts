import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { toCustomerId, toMessageId, type CustomerId } from '../../src/core/ids.js';
import { ERASURE_KEY, keptIdentityHash, optOutIdentity } from '../../src/core/kept-identity.js';
import type { Trigger } from '../../src/core/decision.js';
import type { EventDraft, Store } from '../../src/ports/store.js';
import {
  deriveComputed,
  emptyProfile,
  profilePolicySchema,
  recordEvents,
  sweepProfiles,
  type ProfilePolicy,
} from '../../src/pipeline/profile/index.js';
import { aMembership } from '../../src/pipeline/decide/test-builders.js';
import { aDecision, aSentMessage, aTrack } from '../support/builders.js';
import type { RawSql, StoreFactory } from '../support/stores.js';

const policy: ProfilePolicy = Value.Default(profilePolicySchema, {}) as ProfilePolicy;
const t0 = Date.UTC(2026, 0, 1);
const u = (id: string): CustomerId => toCustomerId(id);
const draft = (overrides: Partial<EventDraft> = {}): EventDraft => ({
  ...aTrack(),
  customerId: u('u1'),
  ...overrides,
});

/** The storage contract: every adapter must pass all of it. */
export const describeStore = (factory: StoreFactory): void => {
  describe.skipIf(!factory.available)(`store contract: ${factory.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let raw: RawSql;
    let reopen: () => Promise<Store>;
    beforeEach(async () => {
      ({ store, cleanup, raw, reopen } = await factory.make());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('answers ping once migrated', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      expect(await store.counts()).toEqual({ events: 0, profiles: 0 });
    });

    it('reports which events are new and which repeat a messageId of the same source', async () => {
      const a = draft({ messageId: toMessageId('a') });
      const b = draft({ messageId: toMessageId('b') });
      const flags1 = await store.transaction((tx) => tx.insertEvents([a, b, { ...a }]));
      expect(flags1).toEqual([true, true, false]);
      const flags2 = await store.transaction((tx) =>
        tx.insertEvents([b, draft({ messageId: toMessageId('c') })]),
      );
      expect(flags2).toEqual([false, true]);
      expect((await store.counts()).events).toBe(3);
    });

    it('knows every event of a large batch again, each by its own row', async () => {
      const events = Array.from({ length: 120 }, (_, i) =>
        draft({ messageId: toMessageId(`big-${i}`), timestampMs: t0 + i }),
      );
      // A repeat inside the batch, and one of a row written before it.
      const first = await store.transaction((tx) =>
        tx.insertEvents([...events.slice(0, 60), events[7] ?? draft(), ...events.slice(60)]),
      );
      expect(first.filter(Boolean)).toHaveLength(120);
      expect(first[60]).toBe(false);
      const again = await store.transaction((tx) =>
        tx.insertEvents([draft({ messageId: toMessageId('new-1') }), ...events.reverse()]),
      );
      expect(again).toEqual([true, ...events.map(() => false)]);
      expect((await store.counts()).events).toBe(121);
      const stored = await store.transaction((tx) => tx.loadEventsOf([u('u1')]));
      expect(stored.get(u('u1'))?.filter((e) => e.messageId.startsWith('big-')).length).toBe(120);
    });

    it('names the seq of the last event stored, and the events after it', async () => {
      expect(await store.transaction((tx) => tx.lastEventSeq())).toBe(0);
      await store.transaction((tx) => tx.insertEvents([draft({ messageId: toMessageId('s1') })]));
      const before = await store.transaction((tx) => tx.lastEventSeq());
      await store.transaction((tx) =>
        tx.insertEvents([
          draft({ messageId: toMessageId('s2') }),
          draft({ messageId: toMessageId('s3') }),
        ]),
      );
      const events = (await store.transaction((tx) => tx.loadEventsOf([u('u1')]))).get(u('u1'));
      const after = events?.filter((e) => e.seq > before).map((e) => e.messageId);
      expect(after?.sort()).toEqual(['s2', 's3']);
      expect(await store.transaction((tx) => tx.lastEventSeq())).toBe(
        Math.max(...(events ?? []).map((e) => e.seq)),
      );
    });

    it('finds the messages sent to several customers in a window, oldest first, then by id', async () => {
      await store.transaction((tx) =>
        tx.insertMessages([
          aSentMessage('s-tie', 'u1', t0 + 3000),
          aSentMessage('s-late', 'u1', t0 + 3000),
          aSentMessage('s-early', 'u1', t0 + 1000),
          aSentMessage('s-u2', 'u2', t0 + 2000),
          aSentMessage('s-out', 'u2', t0 + 9000),
          aSentMessage('s-queued', 'u3', t0 + 2000, { status: 'queued' }),
        ]),
      );
      const sent = await store.transaction((tx) =>
        tx.sentMessagesOf([u('u1'), u('u2'), u('u3'), u('u1')], t0, t0 + 5000),
      );
      expect([...sent].map(([id, ms]) => [id, ms.map((m) => m.id)])).toEqual(
        expect.arrayContaining([
          ['u1', ['s-early', 's-late', 's-tie']],
          ['u2', ['s-u2']],
        ]),
      );
      expect(sent.size).toBe(2);
      expect(await store.transaction((tx) => tx.sentMessagesOf([], t0, t0 + 5000))).toEqual(
        new Map(),
      );
    });

    it('finds every customer texted at a number, each by their newest message, however many others had', async () => {
      const sms = { channel: 'sms' as const, recipient: '+14155550188' };
      await store.transaction((tx) =>
        tx.insertMessages([
          aSentMessage('ann-1', 'ann', t0, sms),
          aSentMessage('ann-2', 'ann', t0 + 10, sms),
          // Another channel, and an address never sent to, are not the number's.
          aSentMessage('mail', 'other', t0 + 20, { recipient: '+14155550188' }),
          aSentMessage('unsent', 'later', t0 + 30, {
            ...sms,
            status: 'queued',
            sentAtMs: null,
            attempts: 0,
          }),
          // A household member texted 1,200 times since (a cap on the rows read missed 'ann').
          ...Array.from({ length: 1200 }, (_, i) =>
            aSentMessage(`zoe-${String(i)}`, 'zoe', t0 + 100 + i, sms),
          ),
        ]),
      );
      // Newest first, as the port promises.
      const latest = await store.latestMessagesTo('+14155550188', 'sms');
      expect(latest.map((m) => [m.customerId, m.id])).toEqual([
        ['zoe', 'zoe-1199'],
        ['ann', 'ann-2'],
      ]);
    });

    it('counts toward the marketing ever sent only messages a customer can engage with, not web content', async () => {
      await store.transaction((tx) =>
        tx.insertMessages([
          aSentMessage('h-web-1', 'u1', t0 + 1000, { channel: 'web' }),
          aSentMessage('h-web-2', 'u1', t0 + 2000, { channel: 'web' }),
          aSentMessage('h-mail', 'u1', t0 + 3000),
        ]),
      );
      const history = await store.transaction((tx) =>
        tx.sendHistory([u('u1')], { windowStartMs: t0, dayStartMs: t0 }),
      );
      expect(history.get(u('u1'))).toMatchObject({
        marketingInWindow: { web: 2, email: 1 },
        campaignsToday: 1,
        marketingTotal: 1,
      });
    });

    it('keeps until when the copy and the offer of a message may go, through an update and a claim', async () => {
      await store.transaction((tx) =>
        tx.insertMessages([
          aSentMessage('m-until', 'u1', t0, {
            status: 'review',
            validUntilMs: t0 + 5000,
            offerEndsMs: t0 + 6000,
            // And what delivery and the rollout noted of it.
            throttledSinceMs: t0 - 1000,
            staleTokens: ['dead-token'],
            rolloutSalt: 'cohort-1',
          }),
          aSentMessage('m-plain', 'u1', t0, { status: 'queued' }),
        ]),
      );
      expect(await store.getMessage('m-until')).toMatchObject({
        validUntilMs: t0 + 5000,
        offerEndsMs: t0 + 6000,
      });
      expect((await store.getMessage('m-plain'))?.validUntilMs).toBeUndefined();
      expect((await store.getMessage('m-plain'))?.offerEndsMs).toBeUndefined();
      await store.transaction((tx) =>
        tx.updateMessage('m-until', { status: 'queued' }, t0 + 1, 'review'),
      );
      const claimed = await store.transaction((tx) =>
        tx.claimOutbox(['email'], t0 + 2, 10, t0 + 1000),
      );
      expect(claimed.find((m) => m.id === 'm-until')).toMatchObject({
        validUntilMs: t0 + 5000,
        offerEndsMs: t0 + 6000,
        throttledSinceMs: t0 - 1000,
        staleTokens: ['dead-token'],
        rolloutSalt: 'cohort-1',
      });
    });

    /** A message in the outbox that no attempt has reached a provider with. */
    const unsent = {
      status: 'queued',
      attempts: 0,
      sentAtMs: null,
      recipient: null,
      provider: null,
    } as const;

    it('writes an outcome only under the claim that sent it, not after another claimed it again', async () => {
      await store.transaction((tx) => tx.insertMessages([aSentMessage('m1', 'u1', t0, unsent)]));
      const claim = (nowMs: number, leaseUntilMs: number) =>
        store.transaction((tx) => tx.claimOutbox(['email'], nowMs, 10, leaseUntilMs));
      expect((await claim(t0, t0 + 1000)).map((m) => m.id)).toEqual(['m1']);
      // The first dispatcher stalled past its lease; a second claims the message again.
      expect((await claim(t0 + 2000, t0 + 3000)).map((m) => m.id)).toEqual(['m1']);
      const sent = {
        status: 'sent' as const,
        attempted: true,
        recipient: 'u1@example.com',
        provider: 'capture',
        providerId: null,
        sentAtMs: t0 + 2500,
        lastError: null,
        reasonCode: null,
      };
      const finish = (leaseUntilMs: number, update: typeof sent | { status: 'queued' }) =>
        store.transaction((tx) =>
          tx.finishDelivery('m1', { ...sent, ...update }, t0 + 2500, leaseUntilMs),
        );
      // The first one's late retry does not give the message back under the second's feet.
      expect(await finish(t0 + 1000, { status: 'queued' })).toBeNull();
      expect((await store.getMessage('m1'))?.status).toBe('sending');
      expect(await finish(t0 + 3000, sent)).toBe('u1');
      expect((await store.getMessage('m1'))?.status).toBe('sent');
    });

    it('marks sent, never claims again, what a report showed taken before its dispatcher died', async () => {
      await store.transaction((tx) =>
        tx.insertMessages([
          aSentMessage('m-taken', 'u1', t0, unsent),
          aSentMessage('m-silent', 'u2', t0, unsent),
        ]),
      );
      await store.transaction((tx) => tx.claimOutbox(['email'], t0, 10, t0 + 1000));
      // The provider's report for one comes while the (dead) dispatcher's lease still runs.
      expect(
        await store.transaction((tx) =>
          tx.markAcceptedAfterAll('m-taken', 'p-1', null, t0 + 5, t0 + 10),
        ),
      ).toBeNull();
      const left = () =>
        store.transaction((tx) => tx.acceptedLeftSending(['email'], t0 + 2000, 10));
      expect(
        await store.transaction((tx) => tx.acceptedLeftSending(['email'], t0 + 500, 10)),
      ).toEqual([]);
      expect((await left()).map((m) => m.id)).toEqual(['m-taken']);
      // After the lease: only the one nobody reported on is claimed again.
      const claimed = await store.transaction((tx) =>
        tx.claimOutbox(['email'], t0 + 2000, 10, t0 + 3000),
      );
      expect(claimed.map((m) => m.id)).toEqual(['m-silent']);
      expect(
        await store.transaction((tx) =>
          tx.markAcceptedAfterAll('m-taken', 'p-1', 'u1@example.com', t0 + 5, t0 + 2000),
        ),
      ).toBe('u1');
      expect(await store.getMessage('m-taken')).toMatchObject({
        status: 'sent',
        sentAtMs: t0 + 5,
        providerId: 'p-1',
        recipient: 'u1@example.com',
      });
      expect(await left()).toEqual([]);
    });

    it('turns a message filed failed when its last attempt gave up into sent on a report it went', async () => {
      await store.transaction((tx) =>
        tx.insertMessages([
          aSentMessage('m-gave-up', 'u1', t0, { ...unsent, attempts: 7 }),
          aSentMessage('m-refused', 'u2', t0, { ...unsent, attempts: 1 }),
        ]),
      );
      const claimed = await store.transaction((tx) => tx.claimOutbox(['email'], t0, 10, t0 + 1000));
      expect(claimed).toHaveLength(2);
      const failed = (id: string, reasonCode: string) =>
        store.transaction((tx) =>
          tx.finishDelivery(
            id,
            {
              status: 'failed',
              attempted: true,
              recipient: 'someone@example.com',
              provider: 'sendgrid',
              providerId: null,
              sentAtMs: null,
              lastError: 'no answer within 15000 ms',
              reasonCode,
            },
            t0 + 20,
            t0 + 1000,
          ),
        );
      expect(await failed('m-gave-up', 'retries_exhausted')).toBe('u1');
      expect(await failed('m-refused', 'provider_rejected')).toBe('u2');
      const report = (id: string) =>
        store.transaction((tx) => tx.markAcceptedAfterAll(id, 'p-9', null, t0 + 15, t0 + 30));
      expect(await report('m-gave-up')).toBe('u1');
      expect(await store.getMessage('m-gave-up')).toMatchObject({
        status: 'sent',
        sentAtMs: t0 + 15,
        reasonCode: null,
        lastError: null,
        attempts: 8,
      });
      // A refusal is the provider's own word: a report does not overrule it here.
      expect(await report('m-refused')).toBeNull();
      expect((await store.getMessage('m-refused'))?.status).toBe('failed');
      // Refused at a retry's hand-off after an attempt the provider took: it went; one never
      // attempted did not.
      await store.transaction((tx) =>
        tx.insertMessages([
          aSentMessage('m-retry-blocked', 'u3', t0, {
            ...unsent,
            status: 'blocked',
            attempts: 1,
            reasonCode: 'superseded',
          }),
          aSentMessage('m-never-tried', 'u3', t0, {
            ...unsent,
            status: 'blocked',
            reasonCode: 'superseded',
          }),
        ]),
      );
      expect(await report('m-retry-blocked')).toBe('u3');
      expect(await store.getMessage('m-retry-blocked')).toMatchObject({
        status: 'sent',
        reasonCode: null,
      });
      expect(await report('m-never-tried')).toBeNull();
      // Both count as texted at their number, the one given up on too.
      expect(
        (await store.latestMessagesTo('someone@example.com', 'email')).map((m) => m.id).sort(),
      ).toEqual(['m-gave-up', 'm-refused']);
    });

    it('writes a message’s new cost with its edited copy', async () => {
      await store.transaction((tx) =>
        tx.insertMessages([
          aSentMessage('m-edited', 'u1', t0, { status: 'review', channel: 'sms', cost: 0.0079 }),
        ]),
      );
      expect(
        await store.transaction((tx) =>
          tx.updateMessage('m-edited', { status: 'queued', cost: 0.0316 }, t0 + 1, 'review'),
        ),
      ).toBe(true);
      expect(await store.getMessage('m-edited')).toMatchObject({ status: 'queued', cost: 0.0316 });
    });

    it('keeps a failure a provider reported before the send was written back, with the send', async () => {
      await store.transaction((tx) =>
        tx.insertMessages([aSentMessage('m1', 'u1', t0, { status: 'queued' })]),
      );
      await store.transaction((tx) => tx.claimOutbox(['email'], t0, 10, t0 + 1000));
      // The provider's "undelivered" came first.
      await store.transaction((tx) =>
        tx.updateMessage('m1', { status: 'failed', reasonCode: 'undelivered' }, t0 + 5, 'sending'),
      );
      const written = await store.transaction((tx) =>
        tx.finishDelivery(
          'm1',
          {
            status: 'sent',
            attempted: true,
            recipient: 'u1@example.com',
            provider: 'twilio',
            providerId: 'SM1',
            sentAtMs: t0 + 10,
            lastError: null,
            reasonCode: null,
          },
          t0 + 10,
          t0 + 1000,
        ),
      );
      expect(written).toBe('u1');
      expect(await store.getMessage('m1')).toMatchObject({
        status: 'failed',
        reasonCode: 'undelivered',
        provider: 'twilio',
        providerId: 'SM1',
        recipient: 'u1@example.com',
      });
    });

    it('captures a message once, and never one erased while it was being sent', async () => {
      await store.transaction((tx) =>
        tx.insertMessages([aSentMessage('m1', 'u1', t0, { status: 'sending' })]),
      );
      const capture = (messageId: string) =>
        store.transaction((tx) =>
          tx.capture({
            messageId,
            channel: 'email',
            recipient: 'x@example.com',
            payload: '{}',
            atMs: t0,
          }),
        );
      expect(await capture('m1')).toBe(true);
      expect(await capture('m1')).toBe(false);
      expect(await capture('gone')).toBe(false);
      expect(await store.capturedMessage('m1')).toBeDefined();
      expect(await store.capturedMessage('gone')).toBeUndefined();
    });

    it('keeps no copy of a message whose erasure was open while it was captured', async () => {
      await store.transaction((tx) =>
        tx.insertMessages([aSentMessage('m1', u('eve'), t0, { status: 'sending' })]),
      );
      let erased!: () => void;
      let commit!: () => void;
      const erasedYet = new Promise<void>((resolve) => (erased = resolve));
      const committing = new Promise<void>((resolve) => (commit = resolve));
      const erasing = store.transaction(async (tx) => {
        await tx.eraseCustomer(u('eve'));
        erased();
        await committing;
      });
      await erasedYet;
      // The dispatcher's capture, on a connection of its own, while the erasure is not committed.
      const capturing = store.transaction((tx) =>
        tx.capture({
          messageId: 'm1',
          channel: 'email',
          recipient: 'eve@example.com',
          payload: '{"content":"Hello Eve"}',
          atMs: t0,
        }),
      );
      // Time for a capture that does not wait for the erasure to finish before it commits.
      await new Promise((resolve) => setTimeout(resolve, 200));
      commit();
      await erasing;
      expect(await capturing).toBe(false);
      expect(await store.capturedMessage('m1')).toBeUndefined();
    });

    it('counts messages a dispatcher is sending toward caps and campaign budgets', async () => {
      const at = t0 + 1000;
      await store.transaction((tx) =>
        tx.insertMessages([
          ...(['queued', 'sending', 'sent', 'failed', 'blocked'] as const).map((status) =>
            aSentMessage(`m-${status}`, 'u1', at, { status, cost: 1 }),
          ),
          // Refused by the provider as it was handed over: it never left and cost nothing.
          aSentMessage('m-refused', 'u1', at, { status: 'failed', sentAtMs: null, cost: 1 }),
        ]),
      );
      const history = await store.transaction((tx) =>
        tx.sendHistory([u('u1')], { windowStartMs: t0, dayStartMs: t0 }),
      );
      expect(history.get(u('u1'))).toMatchObject({
        marketingInWindow: { email: 3 },
        campaignsToday: 3,
        lastMarketingAtMs: at,
      });
      // Web content counts toward its own channel's cap only: not the day's limit or the cadence.
      await store.transaction((tx) =>
        tx.insertMessages([aSentMessage('m-web', 'u1', at + 5000, { channel: 'web' })]),
      );
      expect(
        (
          await store.transaction((tx) =>
            tx.sendHistory([u('u1')], { windowStartMs: t0, dayStartMs: t0 }),
          )
        ).get(u('u1')),
      ).toMatchObject({
        marketingInWindow: { email: 3, web: 1 },
        campaignsToday: 3,
        lastMarketingAtMs: at,
      });
      // A message the provider took and then reported undelivered was billed all the same.
      expect(await store.transaction((tx) => tx.campaignSpend(['spring']))).toEqual(
        new Map([['spring', 4]]),
      );
    });

    it('counts a message toward caps, the day and the cadence from when it left, not when it was due', async () => {
      const hour = 3600 * 1000;
      // Due before the window and the day began, sent by a backlog 11 h later, inside both; one
      // still waiting counts from when it is due.
      await store.transaction((tx) =>
        tx.insertMessages([
          aSentMessage('m-late', 'u1', t0 + 11 * hour, { sendAtMs: t0 - hour }),
          aSentMessage('m-on-time', 'u1', t0 - 2 * hour),
          aSentMessage('m-waiting', 'u1', t0 + 10.5 * hour, { status: 'queued', sentAtMs: null }),
        ]),
      );
      const history = await store.transaction((tx) =>
        tx.sendHistory([u('u1')], { windowStartMs: t0, dayStartMs: t0 + 10 * hour }),
      );
      expect(history.get(u('u1'))).toMatchObject({
        marketingInWindow: { email: 2 },
        campaignsToday: 2,
        marketingTotal: 3,
        lastMarketingAtMs: t0 + 11 * hour,
      });
    });

    it('counts the carts recovered within the window after each cart message, orders once', async () => {
      const day = 24 * 3600 * 1000;
      const window = 7 * day;
      const cart = (id: string, customerId: string, sentAtMs: number) =>
        aSentMessage(id, customerId, sentAtMs, { agent: 'cart', campaignId: null });
      await store.transaction(async (tx) => {
        const messages = [
          cart('c-back', 'u1', t0), // an order 2 days later
          cart('c-twice', 'u1', t0 + day), // the same order, 1 day later: counted once
          cart('c-late', 'u2', t0), // an order 8 days later: outside the window
          cart('c-none', 'u3', t0),
          cart('c-before', 'u4', t0 + day), // the order came first
          aSentMessage('x-other', 'u5', t0), // not the cart agent's
          cart('c-out', 'u6', t0 + 20 * day), // sent after the range
        ];
        await tx.insertDecisions(
          messages.map((m) => aDecision({ id: m.id, customerId: m.customerId, agent: m.agent })),
        );
        await tx.insertMessages(messages);
      });
      const order = (userId: string, orderId: string, atMs: number, total: number) =>
        aTrack({
          userId,
          name: 'Order Completed',
          properties: { order_id: orderId, total },
          timestampMs: atMs,
        });
      await recordEvents(
        store,
        [
          order('u1', 'o1', t0 + 2 * day, 50),
          order('u2', 'o2', t0 + 8 * day, 70),
          order('u4', 'o4', t0, 30),
          order('u5', 'o5', t0 + day, 90),
        ],
        policy,
        t0 + 9 * day,
      );
      expect(await store.cartRecoveries(t0, t0 + 10 * day, window)).toEqual({
        sent: 5,
        recovered: 2,
        revenueCents: 5000,
      });
      expect(await store.cartRecoveries(t0, t0 + 10 * day, 9 * day)).toMatchObject({
        recovered: 3,
        revenueCents: 12_000,
      });
      expect(await store.cartRecoveries(t0 + 30 * day, t0 + 31 * day, window)).toEqual({
        sent: 0,
        recovered: 0,
        revenueCents: 0,
      });
    });

    it('marks only the customer’s own orders cancelled, and the order figures leave them out', async () => {
      const order = (orderId: string, customerId: string, totalCents: number) => ({
        orderId,
        customerId: u(customerId),
        placedAtMs: t0,
        totalCents,
      });
      await store.transaction((tx) =>
        tx.insertOrders([order('o1', 'u1', 5000), order('o2', 'u1', 1000), order('o3', 'u2', 700)]),
      );
      const cart = aSentMessage('c1', 'u1', t0 - 1000, { agent: 'cart', campaignId: null });
      await store.transaction(async (tx) => {
        await tx.insertDecisions([
          aDecision({ id: cart.id, customerId: cart.customerId, agent: 'cart' }),
        ]);
        await tx.insertMessages([cart]);
      });
      const figures = async () => ({
        orders: (await store.kpiTotals(t0 - 1000, t0 + 1000)).orders,
        carts: await store.cartRecoveries(t0 - 1000, t0 + 1000, 3600_000),
      });
      expect(await figures()).toEqual({
        orders: { count: 3, revenueCents: 6700, cancelled: 0 },
        carts: { sent: 1, recovered: 1, revenueCents: 6000 },
      });
      // o3 is u2's: u1 cannot cancel it; a second cancellation changes nothing.
      expect(
        await store.transaction((tx) => tx.markOrdersCancelled(u('u1'), ['o1', 'o3', 'o9'])),
      ).toBe(1);
      expect(await store.transaction((tx) => tx.markOrdersCancelled(u('u1'), ['o1']))).toBe(0);
      expect(await figures()).toEqual({
        orders: { count: 2, revenueCents: 1700, cancelled: 1 },
        carts: { sent: 1, recovered: 1, revenueCents: 1000 },
      });
      await store.transaction((tx) => tx.markOrdersCancelled(u('u1'), ['o2']));
      expect(await figures()).toEqual({
        orders: { count: 1, revenueCents: 700, cancelled: 2 },
        carts: { sent: 1, recovered: 0, revenueCents: 0 },
      });
      // Nor are they purchases to the models trained on the orders.
      expect((await store.listOrders(null, 10)).map((o) => o.orderId)).toEqual(['o3']);
      expect(await store.listCustomerOrders(u('u1'))).toEqual([]);
    });

    it('credits each unit with every order its window holds, in one call', async () => {
      const unit = (experimentId: string, customerId: string, windowEndsMs: number) => ({
        experimentId,
        customerId: u(customerId),
        arm: 'a',
        messageId: `${experimentId}-${customerId}`,
        segment: 'new',
        channel: 'email' as const,
        assignedAtMs: t0,
        windowEndsMs,
      });
      await store.transaction((tx) =>
        tx.assignUnits([
          unit('x', 'u1', t0 + 100),
          unit('y', 'u1', t0 + 10),
          unit('x', 'u2', t0 + 100),
        ]),
      );
      const credited = await store.transaction((tx) =>
        tx.creditOrders([
          { customerId: u('u1'), atMs: t0 + 5, revenueCents: 1000 },
          { customerId: u('u1'), atMs: t0 + 50, revenueCents: 250 },
          { customerId: u('u2'), atMs: t0 - 1, revenueCents: 99 }, // before its assignment
          { customerId: u('u3'), atMs: t0 + 5, revenueCents: 7 }, // in no experiment
        ]),
      );
      // x/u1 holds both orders, y/u1 only the first; u2's came before it was assigned.
      expect(credited).toBe(3);
      const totals = async (experimentId: string) =>
        (await store.unitTotals(experimentId, 'segment', t0 + 100)).map((t) => ({
          units: t.units,
          converted: t.converted,
          revenueCents: t.revenueCents,
        }));
      expect(await totals('x')).toEqual([{ units: 2, converted: 1, revenueCents: 1250 }]);
      expect(await totals('y')).toEqual([{ units: 1, converted: 1, revenueCents: 1000 }]);
      expect(await store.transaction((tx) => tx.creditOrders([]))).toBe(0);
    });

    it('sums units by segment, by day of assignment, or by both', async () => {
      const day = 86_400_000;
      const firstDay = Math.floor(t0 / day) * day;
      const unit = (customerId: string, segment: string, assignedAtMs: number) => ({
        experimentId: 'x',
        customerId: u(customerId),
        arm: 'a',
        messageId: `x-${customerId}`,
        segment,
        channel: 'email' as const,
        assignedAtMs,
        windowEndsMs: assignedAtMs + 100,
      });
      await store.transaction((tx) =>
        tx.assignUnits([
          unit('u1', 'new', firstDay + 1),
          unit('u2', 'new', firstDay + 2),
          unit('u3', 'new', firstDay + day + 1),
          unit('u4', 'vip', firstDay + day + 2),
        ]),
      );
      const summed = async (by: 'segment' | 'day' | 'segment-day') =>
        (await store.unitTotals('x', by, firstDay + 3 * day))
          .map((t) => ({ key: t.key, day: t.day, units: t.units }))
          .sort((a, b) =>
            `${String(a.key)}${String(a.day)}`.localeCompare(`${String(b.key)}${String(b.day)}`),
          );
      expect(await summed('segment')).toEqual([
        { key: 'new', day: undefined, units: 3 },
        { key: 'vip', day: undefined, units: 1 },
      ]);
      expect((await summed('day')).map((t) => [Number(t.key), t.units])).toEqual([
        [firstDay, 2],
        [firstDay + day, 2],
      ]);
      expect(await summed('segment-day')).toEqual([
        { key: 'new', day: firstDay, units: 2 },
        { key: 'new', day: firstDay + day, units: 1 },
        { key: 'vip', day: firstDay + day, units: 1 },
      ]);
    });

    /** u1's unit of experiment x for message m-u1, assigned at t0 with a 100 ms window. */
    const unitOfU1 = {
      experimentId: 'x',
      customerId: u('u1'),
      arm: 'a',
      messageId: 'm-u1',
      segment: 'new',
      channel: 'email' as const,
      assignedAtMs: t0,
      windowEndsMs: t0 + 100,
    };

    it('credits an exposed unit with the orders of the window from its exposure too', async () => {
      // Assigned at t0 with a 100 ms window, sent (exposed) at t0 + 50 after a review.
      await store.transaction((tx) => tx.assignUnits([unitOfU1]));
      await raw(`UPDATE experiment_units SET exposed_at_ms = ${String(t0 + 50)}`);
      const credited = await store.transaction((tx) =>
        tx.creditOrders([
          { customerId: u('u1'), atMs: t0 + 20, revenueCents: 100 }, // while it waited
          { customerId: u('u1'), atMs: t0 + 60, revenueCents: 200 }, // in both windows
          { customerId: u('u1'), atMs: t0 + 120, revenueCents: 400 }, // exposure window only
          { customerId: u('u1'), atMs: t0 + 151, revenueCents: 800 }, // in neither
        ]),
      );
      expect(credited).toBe(3);
      const [totals] = await store.unitTotals('x', 'segment', t0 + 1000);
      expect(totals).toMatchObject({
        converted: 1,
        revenueCents: 300,
        exposedConverted: 1,
        exposedRevenueCents: 600,
        matured: true,
      });
      // Its window from exposure closes at t0 + 150: not matured at t0 + 120.
      expect((await store.unitTotals('x', 'segment', t0 + 120))[0]?.matured).toBe(false);
    });

    it('credits a unit exposed late with the orders recorded since its message went', async () => {
      // Assigned at t0 with a 100 ms window; its attempt seemed to fail, and a provider's
      // report at t0 + 500 shows it was accepted at t0 + 50.
      await store.transaction(async (tx) => {
        await tx.assignUnits([unitOfU1]);
        await tx.insertDecisions([aDecision({ id: 'm-u1', customerId: u('u1') })]);
        await tx.insertMessages([
          aSentMessage('m-u1', 'u1', t0, { status: 'queued', attempts: 1, sentAtMs: null }),
        ]);
        const order = (orderId: string, customerId: string, atMs: number, totalCents: number) => ({
          orderId,
          customerId: u(customerId),
          placedAtMs: atMs,
          totalCents,
        });
        await tx.insertOrders([
          order('o1', 'u1', t0 + 20, 100), // before the message went
          order('o2', 'u1', t0 + 60, 200), // in the window from exposure
          order('o3', 'u1', t0 + 120, 400), // in it too
          order('o4', 'u1', t0 + 70, 800), // cancelled
          order('o5', 'u2', t0 + 60, 1600), // someone else's
          order('o6', 'u1', t0 + 151, 3200), // after the window
        ]);
        await tx.markOrdersCancelled(u('u1'), ['o4']);
      });
      const accepted = () =>
        store.transaction((tx) => tx.markAcceptedAfterAll('m-u1', 'p-1', null, t0 + 50, t0 + 500));
      expect(await accepted()).toBe('u1');
      const exposed = async () => {
        const [totals] = await store.unitTotals('x', 'segment', t0 + 1000);
        return [totals?.exposedConverted, totals?.exposedRevenueCents];
      };
      expect(await exposed()).toEqual([1, 600]);
      // Reported again: exposed once, credited once.
      expect(await accepted()).toBeNull();
      expect(await exposed()).toEqual([1, 600]);
      // An order recorded after the exposure is credited as it comes, once.
      await store.transaction((tx) =>
        tx.creditOrders([{ customerId: u('u1'), atMs: t0 + 90, revenueCents: 50 }]),
      );
      expect(await exposed()).toEqual([1, 650]);
    });

    it('says whose each recorded order is, after a merge too', async () => {
      const order = (orderId: string, customerId: CustomerId) => ({
        orderId,
        customerId,
        placedAtMs: t0,
        totalCents: 100,
      });
      await store.transaction(async (tx) => {
        await tx.insertEvents([draft({ customerId: u('anon:a') })]);
        await tx.insertOrders([order('o1', u('u1')), order('o2', u('anon:a'))]);
      });
      await store.transaction((tx) => tx.mergeCustomer(u('anon:a'), u('u2')));
      expect(await store.transaction((tx) => tx.orderOwners(['o1', 'o2', 'o3']))).toEqual(
        new Map([
          ['o1', 'u1'],
          ['o2', 'u2'],
        ]),
      );
      expect(await store.transaction((tx) => tx.orderOwners([]))).toEqual(new Map());
    });

    it('moves a merged customer’s journeys the other is not in or has left, with their steps', async () => {
      const member = (
        customerId: string,
        journeyId: string,
        stepId: string,
        status: 'active' | 'completed' = 'active',
      ) => aMembership({ customerId: u(customerId), journeyId, stepId, status });
      const step = (customerId: string, journeyId: string, stepId: string) => ({
        key: `${customerId}|journey|${journeyId}`,
        customerId: u(customerId),
        dueAtMs: t0 + 1000,
        trigger: { kind: 'journey-step' as const, journeyId, version: 1, stepId },
      });
      // Ids of any script (code points beyond 16 bits included) are keyed as they are.
      const visitor = 'anon:v😀';
      await store.transaction(async (tx) => {
        await tx.saveMemberships([
          member(visitor, 'welcome', 'day-3'),
          member(visitor, 'cart', 'offer'),
          member(visitor, 'win-back', 'wave-2'),
          member('ann', 'cart', 'wait'),
          member('ann', 'win-back', 'done', 'completed'),
        ]);
        await tx.schedule(
          [
            step(visitor, 'welcome', 'day-3'),
            step(visitor, 'cart', 'offer'),
            step(visitor, 'win-back', 'wave-2'),
            step('ann', 'cart', 'wait'),
            // ann's finished win-back left its row behind, done, under the key to move to.
            { ...step('ann', 'win-back', 'done'), mode: 'log' as const },
          ],
          t0,
        );
        await tx.handOver(u(visitor), u('ann'), t0 + 10);
      });
      const memberships = await store.transaction((tx) =>
        tx.loadMemberships([u(visitor), u('ann')]),
      );
      expect(memberships.get(u(visitor))).toBeUndefined();
      expect(
        (memberships.get(u('ann')) ?? [])
          .map((m) => `${m.journeyId}/${m.stepId}/${m.status}`)
          .sort(),
      ).toEqual(['cart/wait/active', 'welcome/day-3/active', 'win-back/wave-2/active']);
      const work = (id: string) =>
        store
          .listWork(u(id), 10)
          .then((rows) =>
            rows
              .map((w) => [
                w.key,
                w.status,
                w.trigger.kind === 'journey-step' ? w.trigger.stepId : '',
              ])
              .sort(),
          );
      // ann was in the cart journey already: the visitor's step there is cancelled, not moved;
      // the rows the moved steps left behind are ann's history now.
      expect(await work('ann')).toEqual([
        ['ann|journey|cart', 'pending', 'wait'],
        ['ann|journey|welcome', 'pending', 'day-3'],
        ['ann|journey|win-back', 'pending', 'wave-2'],
        [`${visitor}|journey|cart`, 'cancelled', 'offer'],
        [`${visitor}|journey|welcome`, 'cancelled', 'day-3'],
        [`${visitor}|journey|win-back`, 'cancelled', 'wave-2'],
      ]);
      expect(await work(visitor)).toEqual([]);
    });

    it('hands a merged customer’s work, decisions, messages and pseudonym over', async () => {
      const visitor = u('anon:v😀');
      const ann = u('ann');
      const work = (
        customerId: CustomerId,
        key: string,
        trigger: Trigger = { kind: 'signed-up' },
        mode?: 'log',
      ) => ({
        key: `${customerId}|${key}`,
        customerId,
        dueAtMs: t0 + 1000,
        trigger,
        ...(mode === undefined ? {} : { mode }),
      });
      const cart: Trigger = { kind: 'cart-abandoned', cartUpdatedAtMs: t0 };
      const unit = (experimentId: string, customerId: CustomerId) => ({
        experimentId,
        customerId,
        arm: 'a',
        messageId: `${experimentId}-${customerId}`,
        segment: 'new',
        channel: 'email' as const,
        assignedAtMs: t0,
        windowEndsMs: t0 + 100_000,
      });
      const mine = { visitor: '', ann: '' };
      await store.transaction(async (tx) => {
        mine.visitor = (await tx.pseudonymsOf([visitor], t0)).get(visitor) ?? '';
        mine.ann = (await tx.pseudonymsOf([ann], t0 + 1)).get(ann) ?? '';
        await tx.schedule(
          [
            work(visitor, 'cart', cart), // re-armed: over ann's finished one
            work(visitor, 'signed-up'), // ann's ran already, and fires once: cancelled
            work(visitor, 'check', { kind: 'profile-changed' }), // ann has one pending: it stands
            work(visitor, 'event|seen', undefined, 'log'), // finished: kept as history
            work(ann, 'cart', cart, 'log'),
            work(ann, 'signed-up', undefined, 'log'),
            work(ann, 'check', { kind: 'profile-changed' }),
          ],
          t0,
        );
        const messages = [
          aSentMessage('m-visitor', visitor, t0, { status: 'queued' }),
          aSentMessage('m-ann', ann, t0),
        ];
        await tx.insertDecisions(
          messages.map((m) => aDecision({ id: m.id, customerId: m.customerId })),
        );
        await tx.insertMessages(messages);
        await tx.insertConversion({
          orderId: 'o-visitor',
          customerId: visitor,
          decisionId: 'm-visitor',
          revenueCents: 500,
          atMs: t0 + 10,
          touches: [],
        });
        await tx.assignUnits([unit('x', visitor), unit('x', ann)]);
        await tx.saveMarks([
          { customerId: visitor, segment: 'New', stage: 'new', updatedAtMs: t0 },
        ]);
        await tx.saveIdempotent('send-1', visitor, 'hash', '{"status":"queued"}', t0 + 5);
        // As the merge links the visitor's device to ann.
        await tx.addLinks([{ key: 'a:v😀', customerId: ann, linkedAtMs: t0 + 10 }]);
        await tx.handOver(visitor, ann, t0 + 10);
      });
      const rows = await store.listWork(ann, 10);
      expect(rows.map((w) => [w.key, w.status, w.dueAtMs]).sort()).toEqual([
        ['ann|cart', 'pending', t0 + 1000],
        ['ann|check', 'pending', t0 + 1000],
        ['ann|signed-up', 'done', t0 + 1000],
        [`${visitor}|cart`, 'cancelled', t0 + 1000],
        [`${visitor}|check`, 'cancelled', t0 + 1000],
        [`${visitor}|event|seen`, 'done', t0 + 1000],
        [`${visitor}|signed-up`, 'cancelled', t0 + 1000],
      ]);
      expect(rows.find((w) => w.key === `${visitor}|cart`)?.note).toBe(
        'moved to ann, merged into them',
      );
      expect(await store.listWork(visitor, 10)).toEqual([]);
      const decisions = await store.listDecisions({ customerId: ann, limit: 10 });
      expect(decisions.map((d) => `${d.id}/${d.customerId}`).sort()).toEqual([
        'm-ann/ann',
        'm-visitor/ann',
      ]);
      expect((await store.getDecision('m-visitor'))?.customerId).toBe(ann);
      const messages = await store.listMessages({ customerId: ann, limit: 10 });
      expect(messages.map((m) => `${m.id}/${m.status}`).sort()).toEqual([
        'm-ann/sent',
        'm-visitor/queued',
      ]);
      expect(await store.listMessages({ customerId: visitor, limit: 10 })).toEqual([]);
      expect(
        (await store.listConversions({ customerId: ann, limit: 10 })).map((c) => c.orderId),
      ).toEqual(['o-visitor']);
      // One person, one unit: ann's stays, the visitor's is taken out.
      expect((await store.unitTotals('x', 'segment', t0 + 100)).map((t) => t.units)).toEqual([1]);
      expect(await store.transaction((tx) => tx.loadMarks([visitor]))).toEqual(new Map());
      // ann holds both pseudonyms; the one made first names what is written about her next.
      expect(await store.pseudonymsOfCustomer(ann)).toEqual([mine.visitor, mine.ann]);
      expect(await store.pseudonymsOfCustomer(visitor)).toEqual([]);
      // The answer kept for the visitor's API send is ann's now: her export shows it.
      expect((await store.idempotentAnswersOf(ann)).map((a) => a.key)).toEqual(['send-1']);
      expect(await store.idempotentAnswersOf(visitor)).toEqual([]);
      expect((await store.transaction((tx) => tx.pseudonymsOf([ann], t0 + 20))).get(ann)).toBe(
        mine.visitor,
      );
      // Erasing ann leaves nothing of the visitor she was either.
      await store.transaction((tx) => tx.eraseCustomer(ann));
      expect(await store.listMessages({ customerId: ann, limit: 10 })).toEqual([]);
      expect(await store.listDecisions({ customerId: ann, limit: 10 })).toEqual([]);
      expect(await store.listWork(ann, 10)).toEqual([]);
      expect(await store.pseudonymsOfCustomer(ann)).toEqual([]);
      expect(await store.unitTotals('x', 'segment', t0 + 100)).toEqual([]);
    });

    const campaignWork = (customerId: CustomerId, campaignId: string, mode?: 'log') => ({
      key: `${customerId}|campaign|${campaignId}`,
      customerId,
      dueAtMs: t0 + 1000,
      trigger: {
        kind: 'campaign',
        campaign: {
          id: campaignId,
          template: 'upsell',
          channels: ['email'],
          segment: null,
          incentive: null,
          sendAtMs: t0 + 1000,
        },
      } satisfies Trigger,
      mode: mode ?? ('once' as const),
    });
    const recordMessages = (
      tx: Parameters<Parameters<Store['transaction']>[0]>[0],
      messages: ReturnType<typeof aSentMessage>[],
    ) =>
      tx
        .insertDecisions(messages.map((m) => aDecision({ id: m.id, customerId: m.customerId })))
        .then(() => tx.insertMessages(messages));

    it('keeps the first of two once drafts of a key, and lists work due together in key order', async () => {
      const ann = u('ann');
      const at = (dueAtMs: number, key = `${ann}|signed-up`) => ({
        ...campaignWork(ann, 'spring'),
        key,
        dueAtMs,
        mode: 'once' as const,
      });
      await store.transaction((tx) =>
        tx.schedule(
          [at(t0 + 1000), at(t0 + 9000), at(t0 + 1000, `${ann}|b`), at(t0 + 1000, `${ann}|c`)],
          t0,
        ),
      );
      const work = await store.listWork(ann, 10);
      // PostgreSQL kept the last draft of a key: "once" is the first's to keep.
      expect(work.find((w) => w.key === `${ann}|signed-up`)?.dueAtMs).toBe(t0 + 1000);
      expect(work.map((w) => w.key)).toEqual([`${ann}|signed-up`, `${ann}|c`, `${ann}|b`]);
    });

    it('keeps a provider reason with a NUL or a lone surrogate, and reads the campaign’s messages', async () => {
      const ann = u('ann');
      await store.transaction((tx) =>
        recordMessages(tx, [
          aSentMessage('m-nul', ann, t0, {
            status: 'failed',
            sentAtMs: null,
            lastError: 'provider answered 502: \u0000\u0000<binary \ud800>',
          }),
        ]),
      );
      // PostgreSQL's jsonb refused the body's escapes, and the read failed.
      const read = await store.transaction((tx) => tx.campaignMessagesOf([ann]));
      expect(read.map((m) => m.id)).toEqual(['m-nul']);
      expect((await store.getMessage('m-nul'))?.lastError).toBe(
        'provider answered 502: <binary \ufffd>',
      );
    });

    it('finds who was identified with a number however it was written, and texts in both cases SQLite lowers', async () => {
      const [fr, jo, asa] = [u('fr'), u('jo'), u('asa')];
      await store.transaction((tx) =>
        tx.insertEvents([
          draft({
            customerId: fr,
            messageId: toMessageId('id-fr'),
            type: 'identify',
            name: null,
            traits: { phone: '+33 6 12 34 56 78' },
          }),
          draft({
            customerId: jo,
            messageId: toMessageId('id-jo'),
            type: 'identify',
            name: null,
            traits: { email: 'Jo@BÜCHER.de' },
          }),
          draft({
            customerId: asa,
            messageId: toMessageId('id-asa'),
            type: 'identify',
            name: null,
            traits: { email: 'ÅSA@example.se' },
          }),
          draft({
            customerId: fr,
            messageId: toMessageId('tr-fr'),
            type: 'track',
            name: 'Product Viewed',
            traits: { read: 'not as an identify' },
          }),
        ]),
      );
      // Their identify calls' traits alone, as erasure and the lookup of a person read them.
      const traits = await store.transaction((tx) => tx.identifyTraitsOf([fr, jo, fr]));
      expect([...traits.entries()]).toEqual([
        [fr, [{ phone: '+33 6 12 34 56 78' }]],
        [jo, [{ email: 'Jo@BÜCHER.de' }]],
      ]);
      expect(await store.customersIdentifiedWith([], ['345678'])).toEqual([fr]);
      expect(await store.customersIdentifiedWith(['jo@'])).toEqual([jo]);
      // SQLite's lower() leaves `Å` as written (`Åsa@`), PostgreSQL's folds it (`åsa@`) where
      // its locale knows the letter: the caller asks for both.
      expect(await store.customersIdentifiedWith(['åsa@', 'Åsa@'])).toEqual([asa]);
      // `_` is a letter here, not LIKE's wildcard; a letter beyond ASCII is itself, not any
      // character (`анна@` as `____@` made every customer a candidate).
      expect(await store.customersIdentifiedWith(['_sa@'])).toEqual([]);
      expect(await store.customersIdentifiedWith(['ÿsa@', 'жж@'])).toEqual([]);
      expect(await store.customersIdentifiedWith([], ['999999'])).toEqual([]);
    });

    it('names the customers a campaign has work of under their key, or a message of, whatever its status', async () => {
      const [ann, bob, cy, dee, eve] = [u('ann'), u('bob'), u('cy'), u('dee'), u('eve')];
      await store.transaction(async (tx) => {
        await tx.schedule([campaignWork(ann, 'spring'), campaignWork(eve, 'summer')], t0);
        await recordMessages(tx, [
          // bob's came from a customer merged into him: under another key, or none.
          aSentMessage('m-bob', bob, t0),
          aSentMessage('m-cy', cy, t0, { status: 'held-out', sentAtMs: null }),
          aSentMessage('m-dee', dee, t0, { campaignId: 'summer' }),
        ]);
      });
      const drafts = [ann, bob, cy, dee, eve].map((id) => campaignWork(id, 'spring'));
      const taken = await store.transaction((tx) => tx.campaignTurnsTaken('spring', drafts));
      expect([...taken].sort()).toEqual([ann, bob, cy]);
      expect(await store.transaction((tx) => tx.campaignTurnsTaken('spring', []))).toEqual(
        new Set(),
      );
    });

    it('cancels pending work of a campaign the merged customer or the survivor has a message of', async () => {
      const [visitor, ann] = [u('visitor'), u('ann')];
      await store.transaction(async (tx) => {
        await tx.schedule(
          [
            // The visitor was given spring; ann's turn is still to come: cancelled.
            campaignWork(visitor, 'spring', 'log'),
            campaignWork(ann, 'spring'),
            // Ann was held out of summer; the visitor's turn would go on as hers: cancelled.
            campaignWork(ann, 'summer', 'log'),
            campaignWork(visitor, 'summer'),
            // Neither has a message of autumn: the visitor's goes on as hers.
            campaignWork(visitor, 'autumn'),
          ],
          t0,
        );
        await recordMessages(tx, [
          aSentMessage('m-visitor', visitor, t0),
          aSentMessage('m-ann', ann, t0, { campaignId: 'summer', status: 'held-out' }),
        ]);
        await tx.handOver(visitor, ann, t0 + 10);
      });
      const rows = await store.listWork(ann, 10);
      expect(rows.map((w) => [w.key, w.status, w.note]).sort()).toEqual([
        ['ann|campaign|autumn', 'pending', null],
        [
          'ann|campaign|spring',
          'cancelled',
          'merged with visitor: campaign spring was theirs already',
        ],
        ['ann|campaign|summer', 'done', null],
        ['visitor|campaign|autumn', 'cancelled', 'moved to ann, merged into them'],
        ['visitor|campaign|spring', 'done', null],
        [
          'visitor|campaign|summer',
          'cancelled',
          'merged into ann, who has campaign summer already',
        ],
      ]);
    });

    it('counts the automated marketing made and sent in a window, not API sends, transactional or older messages', async () => {
      await store.transaction(async (tx) => {
        const messages = [
          aSentMessage('m-auto', 'u1', t0 + 10),
          aSentMessage('m-journey', 'u2', t0 + 20, { agent: 'journey', campaignId: null }),
          aSentMessage('m-api', 'u3', t0 + 10, { agent: 'api', campaignId: null }),
          aSentMessage('m-receipt', 'u4', t0 + 10, { class: 'transactional', campaignId: null }),
          // Made before the window (gated by an earlier cohort), sent in it.
          aSentMessage('m-older', 'u5', t0 + 10, { createdAtMs: t0 - 1 }),
          aSentMessage('m-later', 'u6', t0 + 100),
          aSentMessage('m-unsent', 'u7', t0 + 10, { status: 'queued', sentAtMs: null }),
        ];
        await tx.insertDecisions(
          messages.map((m) => aDecision({ id: m.id, customerId: m.customerId, agent: m.agent })),
        );
        await tx.insertMessages(messages);
      });
      expect(await store.automatedMarketingSent(t0, t0 + 100)).toBe(2);
      expect(await store.automatedMarketingSent(t0, t0 + 101)).toBe(3);
    });

    it('gives a batch its pseudonyms: the kept one for a known customer, one new each else', async () => {
      const [ann, bob, cy] = [u('ann'), u('bob'), u('cy')];
      const before = await store.transaction((tx) => tx.pseudonymsOf([ann], t0));
      const batch = await store.transaction((tx) => tx.pseudonymsOf([bob, ann, cy, bob], t0 + 1));
      expect([...batch.keys()].sort()).toEqual([ann, bob, cy]);
      expect(batch.get(ann)).toBe(before.get(ann));
      expect(new Set(batch.values()).size).toBe(3);
      for (const pseudonym of batch.values()) expect(pseudonym).toMatch(/^s_[0-9a-f]{32}$/);
      // Led by the moment each was made: the key grows at its end.
      expect(before.get(ann)?.slice(0, 14)).toBe(`s_${t0.toString(16).padStart(12, '0')}`);
      expect(batch.get(bob)?.slice(0, 14)).toBe(`s_${(t0 + 1).toString(16).padStart(12, '0')}`);
      expect(await store.pseudonymsOfCustomer(bob)).toEqual([batch.get(bob)]);
    });

    it('hands over nothing, and changes nothing, for a merged customer with nothing to hand', async () => {
      await store.transaction(async (tx) => {
        await tx.schedule(
          [{ key: 'ann|cart', customerId: u('ann'), dueAtMs: t0, trigger: { kind: 'signed-up' } }],
          t0,
        );
        await tx.handOver(u('anon:nobody'), u('ann'), t0 + 10);
      });
      expect((await store.listWork(u('ann'), 10)).map((w) => [w.key, w.status])).toEqual([
        ['ann|cart', 'pending'],
      ]);
    });

    /** Undoes the migrations after 0013, for a test that starts from a schema before it. */
    const UNDO_AFTER_0013 = `DROP TABLE erased_identities;
      DELETE FROM herald_migrations WHERE name > '0013-exposure-windows';`;

    it('keeps the pseudonyms a schema from before migration 0012 held', async () => {
      await raw(`DROP TABLE pseudonyms;
        CREATE TABLE subjects (customer_id text PRIMARY KEY, pseudonym text NOT NULL UNIQUE,
          created_at_ms bigint NOT NULL);
        INSERT INTO subjects VALUES ('ann', 's_ann', 1), ('bob', 's_bob', 2);
        DELETE FROM herald_migrations WHERE name IN ('0012-pseudonyms', '0013-exposure-windows');
        ${UNDO_AFTER_0013}`);
      store = await reopen();
      expect(await store.pseudonymsOfCustomer(u('ann'))).toEqual(['s_ann']);
      expect(
        (await store.transaction((tx) => tx.pseudonymsOf([u('bob'), u('cy')], t0))).get(u('bob')),
      ).toBe('s_bob');
      await expect(raw('SELECT * FROM subjects')).rejects.toThrow(/subjects/);
    });

    /**
     * The schema as a start of migration 0013 left it: `kept` of its two columns added, one
     * exposed unit with an order in its window, the migration not recorded as done.
     */
    const before0013 = (kept: 'none' | 'first') =>
      raw(`DROP INDEX experiment_units_totals;
        ${kept === 'none' ? 'ALTER TABLE experiment_units DROP COLUMN exposed_orders;' : ''}
        ALTER TABLE experiment_units DROP COLUMN exposed_revenue_cents;
        INSERT INTO experiment_units (experiment_id, customer_id, arm, message_id, segment,
          channel, assigned_at_ms, window_ends_ms, exposed_at_ms, orders, revenue_cents)
        VALUES ('x', 'ann', 'a', 'm-1', 'New', 'email', ${String(t0)}, ${String(t0 + 100)},
          ${String(t0 + 10)}, 1, 500);
        DELETE FROM herald_migrations WHERE name = '0013-exposure-windows';
        ${UNDO_AFTER_0013}`);

    it('credits a unit exposed before migration 0013 with the orders of its window', async () => {
      await before0013('none');
      store = await reopen();
      const [totals] = await store.unitTotals('x', 'segment', t0 + 1000);
      expect(totals).toMatchObject({ units: 1, converted: 1, exposedConverted: 1 });
      expect(totals?.exposedRevenueCents).toBe(500);
    });

    it('finishes migration 0013 that stopped after its first column', async () => {
      await before0013('first');
      store = await reopen();
      const [totals] = await store.unitTotals('x', 'segment', t0 + 1000);
      expect(totals).toMatchObject({ exposedConverted: 1, exposedRevenueCents: 500 });
    });

    it('keeps nothing of a transaction that throws', async () => {
      const event = draft();
      await expect(
        store.transaction(async (tx) => {
          expect(await tx.insertEvents([event])).toEqual([true]);
          await tx.addLinks([{ key: 'a:x', customerId: u('u1'), linkedAtMs: t0 }]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await store.counts()).events).toBe(0);
      expect(await store.transaction((tx) => tx.findLinks(['a:x']))).toEqual(new Map());
      // The retry of the rolled-back event is new, not a duplicate of what was never kept.
      expect(await store.transaction((tx) => tx.insertEvents([event]))).toEqual([true]);
      expect((await store.counts()).events).toBe(1);
    });

    it('adds up an email address’s hard bounces by its hash, on whatever record they came', async () => {
      const [a, b] = ['a'.repeat(64), 'b'.repeat(64)];
      expect(await store.transaction((tx) => tx.anyAddressBounce())).toBe(false);
      await store.transaction((tx) =>
        tx.addAddressBounces([
          { hash: a, count: 2, atMs: t0 + 10 },
          { hash: b, count: 1, atMs: t0 },
        ]),
      );
      // Another record of the same address bounces: its count adds up.
      await store.transaction((tx) => tx.addAddressBounces([{ hash: a, count: 1, atMs: t0 }]));
      expect(await store.transaction((tx) => tx.anyAddressBounce())).toBe(true);
      expect(await store.transaction((tx) => tx.addressBounces([a, 'c'.repeat(64), b, a]))).toEqual(
        new Map([
          [a, 3],
          [b, 1],
        ]),
      );
      // Kept apart from the erased identities and the opt-outs, whatever the hash.
      expect(await store.transaction((tx) => tx.erasedIdentities([a, b]))).toEqual(new Map());
      // The hash, the count and the latest time: no customer id, no address.
      await raw(`SELECT key_hash, hard_bounces, last_at_ms FROM address_bounces`);
      // A batch of a few thousand addresses is looked up at once.
      const many = Array.from({ length: 1200 }, (_, i) => i.toString(16).padStart(64, '0'));
      expect((await store.transaction((tx) => tx.addressBounces([...many, a]))).get(a)).toBe(3);
    });

    it('adds the address bounces and inbound webhooks tables to a schema from before 0018', async () => {
      await raw(`DROP TABLE address_bounces; DROP TABLE inbound_webhooks; DROP TABLE device_tokens;
        DELETE FROM herald_migrations WHERE name > '0017-orders-cancelled';`);
      store = await reopen();
      await store.transaction((tx) =>
        tx.addAddressBounces([{ hash: 'a'.repeat(64), count: 1, atMs: t0 }]),
      );
      expect(await store.transaction((tx) => tx.addressBounces(['a'.repeat(64)]))).toEqual(
        new Map([['a'.repeat(64), 1]]),
      );
      await store.transaction((tx) => tx.rememberInbound('twilio', 'SM1', t0));
      await store.transaction((tx) => tx.rememberInbound('twilio', 'SM1', t0 + 1));
      expect(await store.transaction((tx) => tx.inboundSeen('twilio', 'SM1'))).toBe(true);
      expect(await store.transaction((tx) => tx.inboundSeen('twilio', 'SM2'))).toBe(false);
    });

    it('gives a push token to the customer who claimed it most recently, whatever the order; a tie to the later claim', async () => {
      const owners = (tokens: string[]) => store.transaction((tx) => tx.deviceTokenOwners(tokens));
      await store.transaction((tx) =>
        tx.claimDeviceTokens([
          { token: 'tok-1', customerId: u('amy'), seenAtMs: t0 },
          { token: 'tok-2', customerId: u('amy'), seenAtMs: t0 },
          // The same token twice in one batch: the newer claim counts.
          { token: 'tok-3', customerId: u('amy'), seenAtMs: t0 + 5 },
          { token: 'tok-3', customerId: u('bob'), seenAtMs: t0 + 9 },
        ]),
      );
      await store.transaction((tx) =>
        tx.claimDeviceTokens([
          { token: 'tok-1', customerId: u('bob'), seenAtMs: t0 + 10 },
          // As old as the claim kept: the later claim takes it (a sign-in within the second).
          { token: 'tok-2', customerId: u('bob'), seenAtMs: t0 },
          // Older: nothing changes.
          { token: 'tok-3', customerId: u('amy'), seenAtMs: t0 + 1 },
        ]),
      );
      expect(await owners(['tok-1', 'tok-2', 'tok-3', 'tok-none'])).toEqual(
        new Map([
          ['tok-1', 'bob'],
          ['tok-2', 'bob'],
          ['tok-3', 'bob'],
        ]),
      );
      // A batch of a few thousand tokens is claimed and looked up at once.
      const many = Array.from({ length: 1200 }, (_, i) => `tok-many-${String(i)}`);
      await store.transaction((tx) =>
        tx.claimDeviceTokens(many.map((token) => ({ token, customerId: u('cy'), seenAtMs: t0 }))),
      );
      expect((await owners([...many, 'tok-1'])).size).toBe(1201);
    });

    it('hands a merged customer’s push tokens over, and erases them with the customer', async () => {
      await store.transaction((tx) =>
        tx.claimDeviceTokens([
          { token: 'tok-v', customerId: u('anon:v'), seenAtMs: t0 },
          { token: 'tok-b', customerId: u('bob'), seenAtMs: t0 },
        ]),
      );
      await store.transaction((tx) => tx.handOver(u('anon:v'), u('ann'), t0 + 10));
      expect(await store.transaction((tx) => tx.deviceTokenOwners(['tok-v', 'tok-b']))).toEqual(
        new Map([
          ['tok-v', 'ann'],
          ['tok-b', 'bob'],
        ]),
      );
      await store.transaction((tx) => tx.eraseCustomer(u('ann')));
      expect(await store.transaction((tx) => tx.deviceTokenOwners(['tok-v', 'tok-b']))).toEqual(
        new Map([['tok-b', 'bob']]),
      );
    });

    it('fills the push tokens table from the profiles’ devices on a schema from before 0020', async () => {
      const withDevices = (id: string, devices: { token: string; seenAtMs: number }[]) => {
        const state = {
          ...emptyProfile(u(id), t0),
          devices: devices.map((d) => ({ ...d, platform: 'android' as const })),
        };
        return { customerId: u(id), state, computed: deriveComputed(state, t0, policy) };
      };
      await store.transaction((tx) =>
        tx.saveProfiles([
          withDevices('amy', [
            { token: 'tok-amy', seenAtMs: t0 },
            { token: 'tok-shared', seenAtMs: t0 + 1 },
          ]),
          withDevices('bob', [{ token: 'tok-shared', seenAtMs: t0 + 2 }]),
        ]),
      );
      store = await reopen();
      await raw(`DROP TABLE device_tokens;
        DELETE FROM herald_migrations WHERE name >= '0020-device-tokens';`);
      store = await reopen();
      expect(
        await store.transaction((tx) => tx.deviceTokenOwners(['tok-amy', 'tok-shared'])),
      ).toEqual(
        new Map([
          ['tok-amy', 'amy'],
          ['tok-shared', 'bob'],
        ]),
      );
    });

    it('fills the address bounces from the profiles’ counts on a schema from before 0024', async () => {
      const bounced = (
        id: string,
        address: string,
        hardBounces: number,
        lastBounceAtMs: number,
      ) => {
        const empty = emptyProfile(u(id), t0);
        const state = {
          ...empty,
          traits: { email: address },
          email: { ...empty.email, hardBounces, lastBounceAtMs },
        };
        return { customerId: u(id), state, computed: deriveComputed(state, t0, policy) };
      };
      await store.transaction(async (tx) => {
        await tx.setSetting(ERASURE_KEY, 'the-key');
        await tx.saveProfiles([
          // An account and a guest checkout with one address, as written two ways.
          bounced('acct', ' Dead@Example.DE', 2, t0 + 5),
          bounced('guest', 'dead@example.de', 1, t0 + 9),
          bounced('fine', 'fine@example.de', 0, 0),
          // Counted live since 0018: left as the table has it.
          bounced('live', 'live@example.de', 5, t0),
        ]);
      });
      store = await reopen();
      await raw(`DELETE FROM address_bounces;
        DELETE FROM herald_migrations WHERE name >= '0024-address-bounces-backfill';`);
      const hashOf = (address: string) => keptIdentityHash('the-key', optOutIdentity(address));
      await store.transaction((tx) =>
        tx.addAddressBounces([{ hash: hashOf('live@example.de'), count: 2, atMs: t0 }]),
      );
      store = await reopen();
      const kept = await store.transaction((tx) =>
        tx.addressBounces(['dead@example.de', 'fine@example.de', 'live@example.de'].map(hashOf)),
      );
      expect(kept).toEqual(
        new Map([
          [hashOf('dead@example.de'), 3],
          [hashOf('live@example.de'), 2],
        ]),
      );
    });

    it('keeps when a dormant path started with the marks, on a schema from before 0021 too', async () => {
      const ann = u('ann');
      await raw(`ALTER TABLE customer_marks DROP COLUMN dormant_path_at_ms;
        DELETE FROM herald_migrations WHERE name >= '0021-dormant-paths';`);
      store = await reopen();
      await store.transaction((tx) =>
        tx.saveMarks([
          { customerId: ann, segment: 'Dormant', stage: 'churned', updatedAtMs: t0 },
          { customerId: u('bob'), segment: 'New', stage: 'new', updatedAtMs: t0 },
        ]),
      );
      expect((await store.transaction((tx) => tx.loadMarks([ann]))).get(ann)).toEqual({
        customerId: ann,
        segment: 'Dormant',
        stage: 'churned',
        updatedAtMs: t0,
        dormantPathAtMs: null,
      });
      await store.transaction((tx) =>
        tx.saveMarks([
          {
            customerId: ann,
            segment: 'Dormant',
            stage: 'churned',
            updatedAtMs: t0 + 1,
            dormantPathAtMs: t0 + 1,
          },
        ]),
      );
      // Written without it (a stage change): what was kept stays.
      await store.transaction((tx) =>
        tx.saveMarks([
          { customerId: ann, segment: 'At-Risk', stage: 'at-risk', updatedAtMs: t0 + 2 },
        ]),
      );
      expect((await store.transaction((tx) => tx.loadMarks([ann]))).get(ann)).toMatchObject({
        stage: 'at-risk',
        updatedAtMs: t0 + 2,
        dormantPathAtMs: t0 + 1,
      });
      // A merge hands it over with the rest of the marks.
      await store.transaction((tx) => tx.handOver(ann, u('cid'), t0 + 3));
      expect(
        (await store.transaction((tx) => tx.loadMarks([u('cid')]))).get(u('cid')),
      ).toMatchObject({
        dormantPathAtMs: t0 + 1,
      });
    });

    it('never overwrites an identity link', async () => {
      await store.transaction((tx) =>
        tx.addLinks([{ key: 'a:x', customerId: u('first'), linkedAtMs: t0 }]),
      );
      await store.transaction((tx) =>
        tx.addLinks([{ key: 'a:x', customerId: u('second'), linkedAtMs: t0 }]),
      );
      const links = await store.transaction((tx) => tx.findLinks(['a:x', 'a:missing']));
      expect(links).toEqual(new Map([['a:x', 'first']]));
    });

    it('records each order id once', async () => {
      const order = { orderId: 'o1', customerId: u('u1'), placedAtMs: t0, totalCents: 1000 };
      expect(
        await store.transaction((tx) =>
          tx.insertOrders([order, { ...order, orderId: 'o2' }, order]),
        ),
      ).toEqual([true, true, false]);
      expect(await store.transaction((tx) => tx.insertOrders([order]))).toEqual([false]);
    });

    it('round-trips profiles and replaces them on save', async () => {
      const traits = { name: 'Ada 👩‍💻', note: `"quoted" 'single' back\\slash\ttab\nline é` };
      const state = { ...emptyProfile(u('u1'), t0), userId: 'u1', traits };
      const row = { customerId: u('u1'), state, computed: deriveComputed(state, t0, policy) };
      const other = { ...emptyProfile(u('u2'), t0), userId: 'u2', traits: { name: '[]{}' } };
      await store.transaction((tx) =>
        tx.saveProfiles([
          row,
          { customerId: u('u2'), state: other, computed: deriveComputed(other, t0, policy) },
        ]),
      );
      expect((await store.getProfile(u('u2')))?.state).toEqual(other);
      const updated = { ...state, eventCount: 7 };
      await store.transaction((tx) => tx.saveProfiles([{ ...row, state: updated }]));
      const loaded = await store.transaction((tx) => tx.loadProfiles([u('u1'), u('nobody')]));
      expect(loaded.get(u('u1'))).toEqual(updated);
      expect(loaded.has(u('nobody'))).toBe(false);
      expect(await store.getProfile(u('u1'))).toEqual({ customerId: 'u1', state: updated });
    });

    it('merges one customer into another: events and links move, the old profile goes', async () => {
      const anon = 'anon:x' as CustomerId;
      await store.transaction(async (tx) => {
        await tx.insertEvents([
          draft({ customerId: anon, timestampMs: t0 + 2 }),
          draft({ timestampMs: t0 + 1 }),
        ]);
        await tx.insertOrders([{ orderId: 'o1', customerId: anon, placedAtMs: t0, totalCents: 5 }]);
        await tx.addLinks([{ key: 'a:y', customerId: anon, linkedAtMs: t0 }]);
        const state = emptyProfile(anon, t0);
        await tx.saveProfiles([
          { customerId: anon, state, computed: deriveComputed(state, t0, policy) },
        ]);
      });
      expect(await store.transaction((tx) => tx.mergeCustomer(anon, u('u1')))).toBe(true);
      expect(
        await store.transaction((tx) => tx.mergeCustomer('anon:none' as CustomerId, u('u1'))),
      ).toBe(false);
      const events = await store.transaction((tx) => tx.loadEventsOf([u('u1'), anon]));
      expect(events.get(u('u1'))?.map((e) => e.timestampMs)).toEqual([t0 + 1, t0 + 2]);
      expect(events.has(anon)).toBe(false);
      expect(await store.getProfile(anon)).toBeUndefined();
      expect(await store.transaction((tx) => tx.findLinks(['a:y']))).toEqual(
        new Map([['a:y', 'u1']]),
      );
    });

    it('reads many customers’ events at once, each in time order, whatever the list', async () => {
      // 600 customers: more than one statement's list, and a short list at the end.
      const ids = Array.from({ length: 600 }, (_, i) => u(`c${String(i).padStart(3, '0')}`));
      await store.transaction((tx) =>
        tx.insertEvents(
          ids.flatMap((customerId, i) => [
            // Stored newest first, so time order is not storage order.
            draft({ customerId, messageId: toMessageId(`${i}-b`), timestampMs: t0 + 2 }),
            draft({ customerId, messageId: toMessageId(`${i}-a`), timestampMs: t0 + 1 }),
            draft({ customerId, messageId: toMessageId(`${i}-c`), timestampMs: t0 + 2 }),
          ]),
        ),
      );
      const wanted = [...ids.slice(0, 520).reverse(), ids[3] ?? u('x'), u('nobody')];
      const found = await store.transaction((tx) => tx.loadEventsOf(wanted));
      expect([...found.keys()].sort()).toEqual(ids.slice(0, 520));
      for (const [customerId, events] of found) {
        const i = ids.indexOf(customerId);
        expect(events.map((e) => e.messageId)).toEqual([`${i}-a`, `${i}-b`, `${i}-c`]);
        expect(events.every((e) => e.customerId === customerId)).toBe(true);
      }
      const few = await store.transaction((tx) => tx.loadEventsOf([ids[599] ?? u('x')]));
      expect(few.get(ids[599] ?? u('x'))).toHaveLength(3);
      expect(await store.transaction((tx) => tx.loadEventsOf([]))).toEqual(new Map());
    });

    it('lists a customer’s events newest first, limited, with their bodies intact', async () => {
      const props = { nested: { list: [1, 'two', null] }, emoji: '🛒', quote: `"'\\` };
      await store.transaction((tx) =>
        tx.insertEvents(
          [1, 3, 2].map((i) => draft({ timestampMs: t0 + i, name: `E${i}`, properties: props })),
        ),
      );
      const events = await store.listEvents(u('u1'), 2);
      expect(events.map((e) => e.name)).toEqual(['E3', 'E2']);
      expect(events[0]?.properties).toEqual(props);
      expect(events[0]?.customerId).toBe('u1');
    });

    it('resolves user ids directly and through alias links, and pages customer ids', async () => {
      await recordEvents(
        store,
        [aTrack({ userId: 'b' }), aTrack({ userId: 'a' }), aTrack({ userId: 'c' })],
        policy,
        t0,
      );
      await recordEvents(
        store,
        [aTrack({ type: 'alias', userId: 'a', previousId: 'old-a', name: null })],
        policy,
        t0,
      );
      expect(await store.resolveUserId('a')).toBe('a');
      expect(await store.resolveUserId('old-a')).toBe('a');
      expect(await store.resolveUserId('zzz')).toBeUndefined();
      expect(await store.listCustomerIds(null, 2)).toEqual(['a', 'b']);
      expect(await store.listCustomerIds(u('b'), 2)).toEqual(['c']);
    });

    it('stitches an anonymous history into the user who identifies, counting everything once', async () => {
      await recordEvents(
        store,
        [
          aTrack({
            userId: null,
            anonymousId: 'dev1',
            name: 'Product Added',
            properties: { product_id: 'p1', price: 10 },
            timestampMs: t0,
          }),
          aTrack({
            userId: null,
            anonymousId: 'dev1',
            name: 'Order Completed',
            properties: { order_id: 'o1', total: 10 },
            timestampMs: t0 + 1,
          }),
        ],
        policy,
        t0,
      );
      expect((await store.getProfile('anon:dev1' as CustomerId))?.state.orders.count).toBe(1);
      const identify = aTrack({
        type: 'identify',
        userId: 'ada',
        anonymousId: 'dev1',
        name: null,
        traits: { email: 'ada@example.com' },
        timestampMs: t0 + 2,
      });
      const outcome = await recordEvents(store, [identify], policy, t0);
      expect(outcome.stored).toBe(1);
      expect(await store.getProfile('anon:dev1' as CustomerId)).toBeUndefined();
      const ada = await store.getProfile(u('ada'));
      expect(ada?.state.orders).toMatchObject({ count: 1, revenueCents: 1000 });
      expect(ada?.state.anonymousIds).toEqual(['dev1']);
      expect(ada?.state.eventCount).toBe(3);
      const later = aTrack({
        userId: null,
        anonymousId: 'dev1',
        name: 'Order Completed',
        properties: { order_id: 'o2', total: 5 },
        timestampMs: t0 + 3,
      });
      await recordEvents(store, [later], policy, t0);
      expect((await store.getProfile(u('ada')))?.state.orders.count).toBe(2);
    });

    it('merges a user id into another with alias, keeping the new id and listing the old one', async () => {
      await recordEvents(
        store,
        [
          aTrack({
            userId: 'old-id',
            name: 'Order Completed',
            properties: { order_id: 'a1', total: 7 },
          }),
        ],
        policy,
        t0,
      );
      await recordEvents(
        store,
        [aTrack({ userId: 'new-id', name: 'Email Opened', timestampMs: t0 + 5 })],
        policy,
        t0,
      );
      await recordEvents(
        store,
        [
          aTrack({
            type: 'alias',
            userId: 'new-id',
            previousId: 'old-id',
            name: null,
            timestampMs: t0 + 9,
          }),
        ],
        policy,
        t0,
      );
      const merged = await store.getProfile(u('new-id'));
      expect(merged?.state).toMatchObject({
        userId: 'new-id',
        aliases: ['old-id'],
        eventCount: 3,
        orders: { count: 1 },
      });
      expect(await store.getProfile(u('old-id'))).toBeUndefined();
      expect(await store.resolveUserId('old-id')).toBe('new-id');
    });

    it('does not count a retried batch or a re-sent order twice', async () => {
      const batch = [
        aTrack({ name: 'Order Completed', properties: { order_id: 'o1', total: 100 } }),
        aTrack({ name: 'Email Opened' }),
      ];
      expect(await recordEvents(store, batch, policy, t0)).toEqual({
        stored: 2,
        duplicates: 0,
        profiles: 1,
        isNew: [true, true],
      });
      expect(await recordEvents(store, batch, policy, t0)).toEqual({
        stored: 0,
        duplicates: 2,
        profiles: 0,
        isNew: [false, false],
      });
      await recordEvents(
        store,
        [aTrack({ name: 'Order Completed', properties: { order_id: 'o1', total: 100 } })],
        policy,
        t0,
      );
      const row = await store.getProfile(u('u1'));
      expect(row?.state.orders).toMatchObject({ count: 1, revenueCents: 10000 });
      expect(row?.state.eventCount).toBe(3);
    });

    it('counts an order id two customers send once, live and after a rebuild', async () => {
      const order = (userId: string) =>
        aTrack({ userId, name: 'Order Completed', properties: { order_id: 'o1', total: 80 } });
      await recordEvents(store, [order('u1')], policy, t0);
      await recordEvents(store, [order('u2')], policy, t0 + 1000);
      const ordersOf = async () =>
        Promise.all(['u1', 'u2'].map(async (id) => (await store.getProfile(u(id)))?.state.orders));
      const live = await ordersOf();
      expect(live).toMatchObject([
        { count: 1, revenueCents: 8000 },
        { count: 0, revenueCents: 0 },
      ]);
      // `herald profiles recompute`: the replay follows the orders table, as the live path does.
      expect(await sweepProfiles(store, policy, t0 + 2000, { mode: 'rebuild' })).toBe(2);
      expect(await ordersOf()).toEqual(live);
    });

    it('loses no update when many writers record orders for one customer at once', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          recordEvents(
            store,
            [aTrack({ name: 'Order Completed', properties: { order_id: `c${i}`, total: 1 } })],
            policy,
            t0,
          ),
        ),
      );
      const row = await store.getProfile(u('u1'));
      expect(row?.state.orders.count).toBe(20);
      expect(row?.state.eventCount).toBe(20);
    });
  });
};
