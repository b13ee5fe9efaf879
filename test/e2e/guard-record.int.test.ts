import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import type { HeraldEvent } from '../../src/core/event.js';
import { toCustomerId } from '../../src/core/ids.js';
import { heraldEvent } from '../../src/pipeline/deliver-messages.js';
import { exportCustomer, setDoNotSell } from '../../src/pipeline/privacy.js';
import { sendNow } from '../../src/pipeline/act-on-messages.js';
import { recordMessageResult } from '../../src/pipeline/track-messages.js';
import { isInCampaignHoldout, isInRollout } from '../../src/pipeline/experiment/index.js';
import type { StoreTx } from '../../src/ports/store.js';
import { defaultGuardrails, type Guardrail } from '../../src/pipeline/guard/index.js';
import {
  adminToken,
  basicAuth,
  startHerald,
  type TestHerald,
  ingestCall,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { aDecision, aSentMessage, receiptTemplate } from '../support/builders.js';

// Wednesday 2026-06-03 12:00 UTC: outside the default quiet hours (21:00–08:00).
const T0 = Date.UTC(2026, 5, 3, 12);
const json = { 'content-type': 'application/json' };
const viewerToken = 'viewer-token-0000000001';
const reviewerToken = 'reviewer-token-00000001';
const marketerToken = 'marketer-token-00000001';

interface Verdict {
  guardrail: string;
  outcome: string;
  code: string;
  reason: string;
}
interface SendAnswer {
  decisionId: string;
  status: string;
  reasonCode: string | null;
  sendAt: string;
  verdicts: Verdict[];
}
interface MessageView {
  id: string;
  status: string;
  reasonCode: string | null;
  channel: string;
  sendAt: string;
  content: { subject: string; body: string; html?: string | null; unsubscribeUrl: string } | null;
  verdicts: Verdict[];
  reviews: { action: string; reviewer: string; reason: string }[];
}

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`guard and record over HTTP (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, {
        clock,
        env: {
          HERALD_API_TOKENS: [
            `viewer:vera:${viewerToken}`,
            `reviewer:rita:${reviewerToken}`,
            `marketer:mark:${marketerToken}`,
          ].join(','),
        },
      });
    });
    afterEach(async () => {
      await herald.close();
    });

    const ingest = (route: string, body: object) => ingestCall(herald, clock, route, body);
    const identify = (userId: string, traits: object, context: object = {}) =>
      ingest('identify', { userId, traits, context });
    const call = (
      method: 'GET' | 'POST',
      url: string,
      body?: object,
      token = adminToken,
      headers: Record<string, string> = {},
    ) =>
      herald.app.inject({
        method,
        url,
        headers: { ...json, authorization: `Bearer ${token}`, ...headers },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    const send = async (userId: string, template: string, headers: Record<string, string> = {}) => {
      const response = await call(
        'POST',
        '/v1/sends',
        { userId, channel: 'email', template },
        marketerToken,
        headers,
      );
      expect(response.statusCode).toBeLessThan(300);
      return response.json<SendAnswer>();
    };
    const messageOf = async (id: string) => {
      const response = await call('GET', `/v1/messages/${id}`, undefined, viewerToken);
      expect(response.statusCode).toBe(200);
      return response.json<MessageView>();
    };
    /** Boots worth $250 left in a cart, and the worker's round 2 h later: a 20 % offer for review. */
    const offerInReview = async (who: { userId: string } | { anonymousId: string }) => {
      await ingest('track', {
        ...who,
        event: 'Product Added',
        properties: { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 },
      });
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
    };
    /** The first item of the review queue, as a reviewer sees it. */
    const firstInReview = async () =>
      (await call('GET', '/v1/reviews', undefined, reviewerToken)).json<{
        reviews: MessageView[];
      }>().reviews[0];
    /** A reviewer's approval of item `id` with `edits`. */
    const approveEdited = (id: string | undefined, edits: object) =>
      call('POST', `/v1/reviews/${id ?? ''}/approve`, { reason: 'r', edits }, reviewerToken);
    /** The field a refused edit names (answered 400). */
    const refusedPath = async (id: string | undefined, edits: object) => {
      const refused = await approveEdited(id, edits);
      expect(refused.statusCode).toBe(400);
      return refused.json<{ error: { problems: { path: string }[] } }>().error.problems[0]?.path;
    };
    const verify = async () =>
      (await call('GET', '/v1/audit/verify')).json<{ ok: boolean; entries: number }>();
    /** Launches a campaign (upsell by email) to these new customers and lists the messages. */
    /** A reviewer's approval of a review item. */
    const approve = (id: string, reason: string) =>
      call('POST', `/v1/reviews/${id}/approve`, { reason }, reviewerToken);
    /** A new customer's $250 cart, abandoned: its 20 % offer waits in the review queue. */
    const cartOfferInReview = async (userId: string, firstName: string) => {
      await identify(userId, { email: `${userId}@example.com`, firstName });
      await ingest('track', {
        userId,
        event: 'Product Added',
        properties: { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 },
      });
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const [item] = (await call('GET', '/v1/reviews')).json<{ reviews: MessageView[] }>().reviews;
      if (item === undefined) throw new Error(`no review item for ${userId}`);
      return item;
    };
    const campaignTo = async (ids: readonly string[], campaign: object) => {
      for (const id of ids) await identify(id, { email: `${id}@example.com` });
      const created = await call('POST', '/v1/campaigns', {
        template: 'upsell',
        channels: ['email'],
        ...campaign,
      });
      expect(created.statusCode).toBe(202);
      await herald.services.worker.runDue();
      return (await call('GET', '/v1/messages?limit=500', undefined, viewerToken)).json<{
        messages: {
          customerId: string;
          campaignId: string | null;
          status: string;
          reasonCode: string | null;
        }[];
      }>().messages;
    };

    it('shows a sent message without the links that act for its customer', async () => {
      await identify('cat', { email: 'cat@example.com', consent: { email: { marketing: true } } });
      const answer = await send('cat', 'upsell');
      // Before it leaves, a reviewer reads the copy as it will go, to edit it; a viewer never
      // reads a token, which would work once the message left.
      const asReviewer = (
        await call('GET', `/v1/messages/${answer.decisionId}`, undefined, reviewerToken)
      ).json<MessageView>();
      expect(asReviewer.content?.unsubscribeUrl).toMatch(/\/u\/[\w-]+\.[\w-]+$/);
      expect((await messageOf(answer.decisionId)).content?.unsubscribeUrl).toBe(
        'https://herald.example.com/u/withheld',
      );
      await herald.services.dispatcher.runDue();
      const sent = await messageOf(answer.decisionId);
      expect(sent.status).toBe('sent');
      expect(sent.content?.unsubscribeUrl).toBe('https://herald.example.com/u/withheld');
      expect(JSON.stringify(sent.content)).not.toMatch(/\/(?:u|t\/[co])\/(?!withheld)/);
      const listed = (await call('GET', '/v1/messages?limit=500', undefined, viewerToken)).json<{
        messages: MessageView[];
      }>().messages;
      expect(JSON.stringify(listed)).not.toMatch(/\/(?:u|t\/[co])\/(?!withheld)/);
      // The consent stands: nothing a reader of the API holds can withdraw it.
      const profile = (await call('GET', '/v1/profiles/cat')).json<{
        consent: { email?: { marketing?: { granted: boolean } } };
      }>();
      expect(profile.consent.email?.marketing?.granted).toBe(true);
    });

    it('queues a send that passes every guardrail, with each verdict and an audit entry', async () => {
      await identify('ana', { email: 'ana@example.com', firstName: 'Ana' });
      const answer = await send('ana', 'welcome-1');
      expect(answer.status).toBe('queued');
      const names = new Set(answer.verdicts.map((v) => v.guardrail));
      for (const g of defaultGuardrails) expect(names.has(g.name)).toBe(true);
      expect(answer.verdicts.every((v) => v.outcome === 'pass')).toBe(true);
      const message = await messageOf(answer.decisionId);
      expect(message.content?.subject).toBe('Welcome to Herald Store, Ana');
      expect(message.content?.body).toMatch(
        /Unsubscribe: https:\/\/herald\.example\.com\/u\/withheld/,
      );
      const trail = (await call('GET', '/v1/customers/ana/audit')).json<{
        audit: {
          kind: string;
          data: { decisionId: string; status: string; guardrails: Verdict[] };
        }[];
      }>();
      expect(trail.audit).toHaveLength(1);
      expect(trail.audit[0]?.data).toMatchObject({
        decisionId: answer.decisionId,
        status: 'queued',
      });
      expect(trail.audit[0]?.data.guardrails.length).toBe(answer.verdicts.length);
      expect(await verify()).toMatchObject({ ok: true, entries: 1 });
    });

    it("never makes a customer's own data a signed redirect to another site", async () => {
      await identify('eve', { email: 'eve@example.com', firstName: 'https://evil.example/login' });
      const answer = await send('eve', 'welcome-1');
      const message = await messageOf(answer.decisionId);
      // Left as the customer wrote it, while the template's own links are still tracked.
      expect(message.content?.body).toContain('Hi https://evil.example/login');
      expect(message.content?.body).toMatch(/\/t\/c\//);
    });

    it('lets the 3rd marketing email in 7 days go and caps the 4th', async () => {
      await identify('bo', { email: 'bo@example.com' });
      const statuses: string[] = [];
      for (let i = 0; i < 4; i += 1) {
        clock.set(T0 + i * HOUR_MS);
        statuses.push((await send('bo', 'upsell')).status);
      }
      expect(statuses).toEqual(['queued', 'queued', 'queued', 'blocked']);
      clock.set(T0 + 7 * DAY_MS);
      // Past the grace of 3 messages the engagement threshold applies too: bo engages.
      for (const event of ['Email Opened', 'Email Link Clicked', 'Email Opened'])
        await ingest('track', { userId: 'bo', event });
      // The first one left the 7-day window: one more may go.
      const next = await send('bo', 'upsell');
      expect(next.verdicts.filter((v) => v.outcome !== 'pass')).toEqual([]);
      expect(next.status).toBe('queued');
      const last = await send('bo', 'upsell');
      expect(last).toMatchObject({ status: 'blocked', reasonCode: 'frequency_capped' });
    });

    it('counts toward the cap from when an email left: a backlog sent late stays in the window as long', async () => {
      await identify('cy', { email: 'cy@example.com' });
      const due = [];
      for (let i = 0; i < 3; i += 1) {
        clock.set(T0 + i * HOUR_MS);
        due.push(await send('cy', 'upsell'));
      }
      expect(due.map((d) => d.status)).toEqual(['queued', 'queued', 'queued']);
      // The dispatcher was down: the three leave together at 20:00, 8 h after the first was due.
      clock.set(T0 + 8 * HOUR_MS);
      expect(await herald.services.dispatcher.runDue()).toBe(3);
      for (const event of ['Email Opened', 'Email Link Clicked', 'Email Opened'])
        await ingest('track', { userId: 'cy', event });
      // 7 days after the first two were due, but not after any of them left: no 4th yet.
      clock.set(T0 + 7 * DAY_MS + HOUR_MS + 60_000);
      expect(await send('cy', 'upsell')).toMatchObject({
        status: 'blocked',
        reasonCode: 'frequency_capped',
      });
      // 7 days after they left, one may go.
      clock.set(T0 + 7 * DAY_MS + 8 * HOUR_MS + 60_000);
      expect((await send('cy', 'upsell')).status).toBe('queued');
    });

    it('moves a campaign email past its cap to SMS, the next channel ranked, and says why', async () => {
      await identify('gus', {
        email: 'gus@example.com',
        timezone: 'America/New_York',
        phone: '+15555550123',
        consent: { sms: { marketing: true } },
      });
      for (let i = 0; i < 3; i += 1) {
        clock.set(T0 + i * HOUR_MS);
        expect((await send('gus', 'upsell')).status).toBe('queued');
      }
      // Engaged (past the grace of 3 messages, a low score would block every channel).
      for (const event of ['Email Opened', 'Email Link Clicked', 'Email Opened'])
        await ingest('track', { userId: 'gus', event });
      clock.set(T0 + 3 * HOUR_MS);
      const created = await call('POST', '/v1/campaigns', {
        id: 'fallback',
        template: 'upsell',
        channels: ['email', 'sms'],
      });
      expect(created.statusCode).toBe(202);
      await herald.services.worker.runDue();
      const { messages } = (
        await call('GET', '/v1/messages?limit=50', undefined, viewerToken)
      ).json<{
        messages: { id: string; campaignId: string | null; channel: string; status: string }[];
      }>();
      const sent = messages.find((m) => m.campaignId === 'fallback');
      expect(sent).toMatchObject({ channel: 'sms', status: 'queued' });
      const trail = (await call('GET', '/v1/customers/gus/audit')).json<{
        audit: { data: { decisionId: string; guardrails: Verdict[] } }[];
      }>();
      const entry = trail.audit.find((a) => a.data.decisionId === sent?.id);
      expect(entry?.data.guardrails).toContainEqual(
        expect.objectContaining({
          guardrail: 'channel-fallback',
          outcome: 'pass',
          reason: 'on sms: blocked on email (frequency_capped)',
        }),
      );
      expect(await verify()).toMatchObject({ ok: true });
    });

    it('holds a message at 02:00 local time until 08:00, instead of dropping it', async () => {
      await identify('cai', { email: 'cai@example.com' }, { timezone: 'America/New_York' });
      clock.set(Date.UTC(2026, 5, 4, 6)); // 02:00 in New York (EDT, UTC−4)
      const answer = await send('cai', 'upsell');
      expect(answer.status).toBe('queued');
      expect(answer.sendAt).toBe(new Date(Date.UTC(2026, 5, 4, 12)).toISOString());
      expect(answer.verdicts.find((v) => v.guardrail === 'quiet-hours')?.outcome).toBe('hold');
    });

    it('answers a send to a customer without an address for its channel as blocked', async () => {
      await identify('noe', { firstName: 'Noe', consent: { email: { marketing: true } } });
      const answer = await send('noe', 'upsell');
      expect(answer).toMatchObject({ status: 'blocked', reasonCode: 'no_recipient' });
      // Judged by every guardrail all the same: their verdicts are kept.
      expect(answer.verdicts.map((v) => v.guardrail)).toEqual(
        expect.arrayContaining(['consent', 'spam', 'brand', 'recipient']),
      );
      expect(answer.verdicts).toContainEqual(
        expect.objectContaining({
          guardrail: 'recipient',
          reason: 'no email address on the profile',
        }),
      );
    });

    it('blocks a message when a guardrail throws, naming it', async () => {
      await identify('dee', { email: 'dee@example.com' });
      const broken: Guardrail = {
        name: 'broken',
        check() {
          throw new Error('lookup timed out');
        },
      };
      herald.services.guard.guardrails = [...defaultGuardrails, broken];
      const answer = await send('dee', 'upsell');
      expect(answer.status).toBe('blocked');
      expect(answer.verdicts.find((v) => v.guardrail === 'broken')).toMatchObject({
        outcome: 'block',
        code: 'guardrail_failed',
      });
    });

    it('answers a retried send with its first answer and refuses a reused key', async () => {
      await identify('eve', { email: 'eve@example.com' });
      const first = await send('eve', 'upsell', { 'idempotency-key': 'k-1' });
      const again = await send('eve', 'upsell', { 'idempotency-key': 'k-1' });
      expect(again.decisionId).toBe(first.decisionId);
      const messages = await call('GET', '/v1/messages?userId=eve', undefined, viewerToken);
      expect(messages.json<{ messages: unknown[] }>().messages).toHaveLength(1);
      const reused = await call(
        'POST',
        '/v1/sends',
        { userId: 'eve', channel: 'email', template: 'welcome-1' },
        marketerToken,
        { 'idempotency-key': 'k-1' },
      );
      expect(reused.statusCode).toBe(409);
      // The same data with its keys in another order is the same request, retried.
      const ordered = async (data: object) =>
        call(
          'POST',
          '/v1/sends',
          { userId: 'eve', channel: 'email', template: 'upsell', data },
          marketerToken,
          { 'idempotency-key': 'k-2' },
        );
      const once = await ordered({ a: 1, b: { c: 2, d: 3 } });
      const retried = await ordered({ b: { d: 3, c: 2 }, a: 1 });
      expect([once.statusCode, retried.statusCode]).toEqual([201, 200]);
      expect(retried.json()).toEqual(once.json());
      expect((await ordered({ a: 1, b: { c: 2, d: 4 } })).statusCode).toBe(409);
      // Retried after the customer's identities merged (an alias into another): the same request,
      // answered as first (before, refused and told to use a new key: sent twice).
      await identify('eva', { email: 'eva@example.com' });
      const beforeMerge = await send('eva', 'upsell', { 'idempotency-key': 'k-3' });
      await ingest('alias', { previousId: 'eva', userId: 'eve' });
      const afterMerge = await send('eva', 'upsell', { 'idempotency-key': 'k-3' });
      expect(afterMerge.decisionId).toBe(beforeMerge.decisionId);
      // A numeric user id, as the tracking API takes one, names the same customer.
      await identify('12345', { email: 'n@example.com' });
      const numeric = await call(
        'POST',
        '/v1/sends',
        { userId: 12345, channel: 'email', template: 'welcome-1' },
        marketerToken,
      );
      expect(numeric.statusCode).toBe(201);
      expect(numeric.json<SendAnswer>().status).toBe('queued');
      const nothing = await call(
        'POST',
        '/v1/sends',
        { userId: null, channel: 'email', template: 'welcome-1' },
        marketerToken,
      );
      expect(nothing.statusCode).toBe(400);
      // Data nested too deeply is a 400 naming where, not a 500 (its serialising overflowed).
      const deep = `${'['.repeat(5_000)}1${']'.repeat(5_000)}`;
      const nested = await herald.app.inject({
        method: 'POST',
        url: '/v1/sends',
        headers: { ...json, authorization: `Bearer ${marketerToken}` },
        payload: `{"userId":"eve","channel":"email","template":"upsell","data":{"x":${deep}}}`,
      });
      expect(nested.statusCode).toBe(400);
      expect(nested.json()).toMatchObject({
        error: {
          problems: [
            { path: `/data/x${'/0'.repeat(63)}`, message: 'is nested deeper than 64 levels' },
          ],
        },
      });
    });

    it('sends a 20 % cart offer to review; a viewer may not approve, an edit that breaks a rule is re-blocked', async () => {
      await identify('fay', { email: 'fay@example.com', firstName: 'Fay' });
      await offerInReview({ userId: 'fay' });
      const queue = (await call('GET', '/v1/reviews', undefined, viewerToken)).json<{
        reviews: MessageView[];
      }>();
      const [item] = queue.reviews;
      expect(item?.reasonCode).toBe('discount_needs_review');
      const id = item?.id ?? '';
      const asViewer = await call(
        'POST',
        `/v1/reviews/${id}/approve`,
        { reason: 'looks fine' },
        viewerToken,
      );
      expect(asViewer.statusCode).toBe(403);
      const edited = await call(
        'POST',
        `/v1/reviews/${id}/approve`,
        { reason: 'punchier', edits: { subject: 'Cheap boots for you, Fay' } },
        reviewerToken,
      );
      expect(edited.statusCode).toBe(200);
      expect(edited.json<MessageView>()).toMatchObject({
        status: 'blocked',
        reasonCode: 'forbidden_words',
        reviews: [{ action: 'edit-approve', reviewer: 'rita', reason: 'punchier' }],
      });
      const again = await call('POST', `/v1/reviews/${id}/reject`, { reason: 'x' }, reviewerToken);
      expect(again.statusCode).toBe(409);
    });

    it('sends an edited approval back when a reason it was shown under now names something else', async () => {
      await herald.close();
      herald = await startHerald(factory, {
        clock,
        env: { HERALD_API_TOKENS: `reviewer:rita:${reviewerToken},marketer:mark:${marketerToken}` },
        templates: {
          shipnote: receiptTemplate.replace(
            'Your order has shipped.',
            'Your order has shipped. Free shipping on your next order.',
          ),
        },
      });
      await identify('val', { email: 'val@example.com', firstName: 'Val' });
      await ingest('track', { userId: 'val', event: 'Unsubscribed', properties: {} });
      // In review for promotion wording in a receipt…
      const sent = await send('val', 'shipnote');
      expect(sent).toMatchObject({ status: 'review', reasonCode: 'offer_in_transactional' });
      // …and edited to state a discount, under the same code: nobody has seen that.
      /** The reviewer approves the receipt with its body rewritten. */
      const approveAs = (id: string, body: string) =>
        call(
          'POST',
          `/v1/reviews/${id}/approve`,
          { reason: 'fine', edits: { body } },
          reviewerToken,
        );
      const edited = await approveAs(
        sent.decisionId,
        'Your order has shipped. Take 50% off everything this week.',
      );
      expect(edited.json<MessageView>()).toMatchObject({
        status: 'review',
        reasonCode: 'offer_in_transactional',
        reviews: [{ action: 'return', reviewer: 'rita', edited: true }],
      });
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      // Another promotion beside the one shown, its code and kind the same: unseen too.
      const second = await send('val', 'shipnote');
      const withSale = await approveAs(
        second.decisionId,
        'Your order has shipped. Free shipping on your next order. Free gifts too.',
      );
      expect(withSale.json<MessageView>()).toMatchObject({
        status: 'review',
        reviews: [{ action: 'return' }],
      });
      // An edit that leaves what it offers as it was is approved as shown.
      const third = await send('val', 'shipnote');
      const typo = await approveAs(
        third.decisionId,
        'Your order has shipped! Free shipping on your next order.',
      );
      expect(typo.json<MessageView>()).toMatchObject({ status: 'queued' });
      // Approved as it now stands, it goes.
      const approved = await call(
        'POST',
        `/v1/reviews/${sent.decisionId}/approve`,
        { reason: 'offer agreed with the customer' },
        reviewerToken,
      );
      expect(approved.json<MessageView>()).toMatchObject({ status: 'queued' });
    });

    it('sends an approval back to the queue when its edit raises a review reason nobody was shown', async () => {
      await herald.close();
      herald = await startHerald(factory, {
        clock,
        env: { HERALD_API_TOKENS: `reviewer:rita:${reviewerToken},marketer:mark:${marketerToken}` },
        templates: { receipt: receiptTemplate },
      });
      // A receipt to a customer worth $6,000 who unsubscribed from marketing: it waits for a
      // person only because of their lifetime value.
      await identify('val', { email: 'val@example.com', firstName: 'Val' });
      await ingest('track', {
        userId: 'val',
        event: 'Order Completed',
        properties: { order_id: 'o-val', total: 6000 },
      });
      await ingest('track', { userId: 'val', event: 'Unsubscribed', properties: {} });
      const sent = await send('val', 'receipt');
      expect(sent).toMatchObject({ status: 'review', reasonCode: 'vip_review' });
      const hashInQueue = async () =>
        (await call('GET', '/v1/reviews', undefined, reviewerToken)).json<{
          reviews: { contentHash: string | null }[];
        }>().reviews[0]?.contentHash;
      // A second reviewer reads the receipt as it is now…
      const readByRavi = await hashInQueue();
      expect(readByRavi).toMatch(/^[0-9a-f]{64}$/);
      // The reviewer's edit makes the receipt state an offer: the approval covered the lifetime
      // value, not that.
      const edited = await call(
        'POST',
        `/v1/reviews/${sent.decisionId}/approve`,
        {
          reason: 'vip ok',
          edits: { body: 'Your order has shipped. Take 50% off everything this week.' },
        },
        reviewerToken,
      );
      expect(edited.statusCode).toBe(200);
      expect(edited.json<MessageView>()).toMatchObject({
        status: 'review',
        reasonCode: 'offer_in_transactional',
        reviews: [{ action: 'return', reviewer: 'rita', edited: true }],
      });
      // The trail says a person rewrote the copy that went back, whoever approves it next.
      const returned = (await herald.services.store.scanAudit(0, 1000)).filter(
        (e) => e.kind === 'review',
      );
      expect(returned.map((e) => JSON.parse(e.data) as object)).toEqual([
        expect.objectContaining({ action: 'return', by: 'rita', edited: true }),
      ]);
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      const queue = (await call('GET', '/v1/reviews', undefined, reviewerToken)).json<{
        reviews: MessageView[];
        metrics: Record<string, number>;
      }>();
      expect(queue.reviews.map((m) => m.id)).toEqual([sent.decisionId]);
      expect(queue.metrics).toMatchObject({ return: 1, approve: 0, 'edit-approve': 0 });
      // …and approves the copy they read, which is no longer the message's: refused.
      const stale = await call(
        'POST',
        `/v1/reviews/${sent.decisionId}/approve`,
        { reason: 'vip ok', contentHash: readByRavi },
        reviewerToken,
      );
      expect(stale.statusCode).toBe(409);
      expect(stale.json<{ error: { message: string } }>().error.message).toContain(
        'has changed since the copy you read',
      );
      // Shown the offer now, a person may still let it go (a receipt reporting a discount).
      const approved = await call(
        'POST',
        `/v1/reviews/${sent.decisionId}/approve`,
        { reason: 'reports the discount applied', contentHash: await hashInQueue() },
        reviewerToken,
      );
      expect(approved.json<MessageView>()).toMatchObject({ status: 'queued' });
    });

    it('judges an approval for the customer a merge moved the message to while it waited', async () => {
      // A visitor's cart offer waits for review…
      await ingest('identify', {
        anonymousId: 'v-ada',
        traits: { email: 'ada@example.com', firstName: 'Ada' },
      });
      await offerInReview({ anonymousId: 'v-ada' });
      const [item] = (await call('GET', '/v1/reviews', undefined, viewerToken)).json<{
        reviews: (MessageView & { customerId: string })[];
      }>().reviews;
      expect(item?.customerId).toBe('anon:v-ada');
      const id = item?.id ?? '';
      const store = herald.services.store;
      const before = await store.getDecision(id);
      // …while the visitor turns out to be ada, sent three marketing emails this week.
      await identify('ada', { email: 'ada@example.com', firstName: 'Ada' });
      for (let i = 0; i < 3; i += 1) expect((await send('ada', 'upsell')).status).toBe('queued');
      await ingest('identify', { userId: 'ada', anonymousId: 'v-ada' });
      expect((await store.getMessage(id))?.customerId).toBe('ada');
      // The approval read the decision before the merge moved it (it then waited on the lock).
      const read = store.getDecision.bind(store);
      store.getDecision = (decisionId) =>
        decisionId === id ? Promise.resolve(before) : read(decisionId);
      const approved = await call(
        'POST',
        `/v1/reviews/${id}/approve`,
        { reason: 'ok' },
        reviewerToken,
      );
      expect(approved.statusCode).toBe(200);
      const view = approved.json<MessageView>();
      expect(view.status).toBe('blocked');
      expect(view.verdicts.map((v) => v.code)).toContain('frequency_capped');
    });

    it('edits the text and the HTML of an email together, never one alone nor blank', async () => {
      await herald.close();
      const dir = mkdtempSync(join(tmpdir(), 'herald-templates-'));
      writeFileSync(
        join(dir, 'cart-recovery.yaml'),
        [
          'subject: "{{ customer.firstName }}, your cart is waiting"',
          'text: "Hi {{ customer.firstName }}, your cart: {{ links.cart }} Code {{ incentive.code }}."',
          'html: "<html><body><p>Hi {{ customer.firstName | escape }}, your cart: <a href=\\"{{ links.cart }}\\">open it</a>. Code {{ incentive.code }}.</p></body></html>"',
        ].join('\n'),
      );
      herald = await startHerald(factory, {
        clock,
        env: { HERALD_TEMPLATES_DIR: dir, HERALD_API_TOKENS: `reviewer:rita:${reviewerToken}` },
      });
      await identify('ola', { email: 'ola@example.com', firstName: 'Ola' });
      await offerInReview({ userId: 'ola' });
      const item = await firstInReview();
      expect(item?.content?.html).toContain('open it');
      for (const [edits, path] of [
        [{ body: 'Hi Ola, your cart: https://shop.example.com/cart' }, '/edits/html'],
        [{ html: '<html><body><p>Hi Ola</p></body></html>' }, '/edits/body'],
        [{ body: ' \n ', html: '<html><body><p>Hi Ola</p></body></html>' }, '/edits/body'],
        [{ body: 'Hi Ola', html: '   ' }, '/edits/html'],
        [{ subject: ' ' }, '/edits/subject'],
      ] as const)
        expect(await refusedPath(item?.id, edits)).toBe(path);
      const both = await approveEdited(item?.id, {
        body: 'Hi Ola, your boots wait: https://shop.example.com/cart',
        html: '<html><body><p>Hi Ola, your boots wait: <a href="https://shop.example.com/cart">open it</a></p></body></html>',
      });
      expect(both.statusCode).toBe(200);
      const view = both.json<MessageView>();
      expect(view.content?.body).toMatch(/^Hi Ola, your boots wait/);
      expect(view.content?.html).toContain('your boots wait');
      rmSync(dir, { recursive: true, force: true });
    });

    it('refuses an edit of a subject or a preheader on a channel that sends neither', async () => {
      await identify('sam', {
        timezone: 'America/New_York',
        phone: '+15555550199',
        consent: { sms: { marketing: true } },
      });
      await offerInReview({ userId: 'sam' });
      const item = await firstInReview();
      expect(item).toMatchObject({ channel: 'sms', status: 'review' });
      for (const [edits, path] of [
        [{ subject: 'Your boots' }, '/edits/subject'],
        [{ preheader: 'Still there', body: 'Your boots wait' }, '/edits/preheader'],
      ] as const)
        expect(await refusedPath(item?.id, edits)).toBe(path);
      const edited = await approveEdited(item?.id, {
        body: 'Sam, your boots wait: https://shop.example.com/cart',
      });
      expect(edited.statusCode).toBe(200);
      expect(edited.json<MessageView>().content?.body).toMatch(/^Sam, your boots wait/);
    });

    it('keeps the footer and the unsubscribe link of an edited email, and tracks its new links', async () => {
      for (const id of ['gus', 'hal']) {
        await identify(id, { email: `${id}@example.com`, firstName: id });
        await ingest('track', {
          userId: id,
          event: 'Product Added',
          properties: { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 },
        });
      }
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const { reviews } = (await call('GET', '/v1/reviews', undefined, reviewerToken)).json<{
        reviews: (MessageView & { customerId: string })[];
      }>();
      const approve = async (item: MessageView | undefined, body: string) => {
        const answer = await call(
          'POST',
          `/v1/reviews/${item?.id ?? ''}/approve`,
          { reason: 'rewritten', edits: { body } },
          reviewerToken,
        );
        expect(answer.statusCode).toBe(200);
        return answer.json<MessageView>();
      };
      const footer = (view: MessageView) =>
        view.content?.body.split(`Unsubscribe: ${view.content.unsubscribeUrl}`).length ?? 0;
      // A body written anew, without the footer: it is put back, and the new link is tracked.
      const gus = reviews.find((r) => r.customerId === 'gus');
      const rewritten = await approve(gus, 'Boots for you, gus: https://shop.example.com/boots');
      expect(rewritten.status).toBe('queued');
      expect(rewritten.content?.unsubscribeUrl).toBe(gus?.content?.unsubscribeUrl);
      expect(footer(rewritten)).toBe(2);
      expect(rewritten.content?.body).toMatch(/^Boots for you, gus: https:\/\/\S+\/t\/c\/\S+\n/);
      expect(rewritten.content?.body).not.toContain('https://shop.example.com/boots');
      // The rendered body with one word mended keeps its one footer.
      const hal = reviews.find((r) => r.customerId === 'hal');
      // A text-only email given HTML alone would send the HTML beside the text it replaced.
      expect(hal?.content?.html).toBeNull();
      expect(await refusedPath(hal?.id, { html: '<p>Boots for you, Hal</p>' })).toBe('/edits/body');
      // Copy read by a viewer has its links' tokens withheld: sent so, they would lead nowhere.
      const asViewer = (
        await call('GET', `/v1/messages/${hal?.id ?? ''}`, undefined, viewerToken)
      ).json<MessageView>();
      expect(
        await refusedPath(hal?.id, { body: (asViewer.content?.body ?? '').replace('hal', 'Hal') }),
      ).toBe('/edits/body');
      const mended = await approve(hal, (hal?.content?.body ?? '').replace('hal', 'Hal'));
      expect(mended.status).toBe('queued');
      expect(mended.content?.body).toBe(hal?.content?.body.replace('hal', 'Hal'));
      expect(footer(mended)).toBe(2);
    });

    it("holds a campaign's holdout out of it, by hash, and records them as held out", async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `ho${i}`);
      const list = await campaignTo(ids, { id: 'baseline', holdoutPercent: 25 });
      const expected = new Set(
        ids.filter((id) =>
          isInCampaignHoldout(toCustomerId(id), {
            salt: 'campaign',
            campaignId: 'baseline',
            percent: 25,
          }),
        ),
      );
      const held = list.filter((m) => m.status === 'held-out');
      expect(held.length).toBeGreaterThan(0);
      expect(new Set(held.map((m) => m.customerId))).toEqual(expected);
      expect(held.every((m) => m.reasonCode === 'campaign_holdout')).toBe(true);
      expect(list.filter((m) => m.status === 'queued')).toHaveLength(40 - expected.size);
      // An access request shows each customer the arm they were drawn into.
      for (const [who, arm] of [
        [held[0]?.customerId, 'holdout'],
        [list.find((m) => m.status === 'queued')?.customerId, 'treatment'],
      ]) {
        const exported = (await call('GET', `/v1/customers/${who ?? ''}/export`)).json<{
          experiments: { experimentId: string; arm: string }[];
        }>();
        expect(exported.experiments).toMatchObject([{ experimentId: 'baseline', arm }]);
      }
    });

    it('pauses a campaign at its budget cap, and sends one without a cap to everyone', async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `bc${i}`);
      for (const id of ids) await identify(id, { email: `${id}@example.com` });
      // An email costs 0.001 by default: three fit exactly.
      const capped = await call('POST', '/v1/campaigns', {
        id: 'capped',
        template: 'upsell',
        channels: ['email'],
        budget: 0.003,
      });
      expect(capped.statusCode).toBe(202);
      await herald.services.worker.runDue();
      const free = await call('POST', '/v1/campaigns', {
        id: 'uncapped',
        template: 'upsell',
        channels: ['email'],
      });
      expect(free.statusCode).toBe(202);
      await herald.services.worker.runDue();
      const list = (await call('GET', '/v1/messages?limit=100', undefined, viewerToken)).json<{
        messages: { campaignId: string | null; status: string; reasonCode: string | null }[];
      }>().messages;
      const of = (campaign: string) => list.filter((m) => m.campaignId === campaign);
      expect(of('capped').filter((m) => m.status === 'queued')).toHaveLength(3);
      expect(of('capped').filter((m) => m.reasonCode === 'budget_exhausted')).toHaveLength(7);
      expect(of('uncapped').filter((m) => m.status === 'queued')).toHaveLength(10);
    });

    it('keeps one budget and one audit chain across a round larger than a write at a time', async () => {
      // 150 customers in one worker round: judged and written some dozens at a time, the
      // spend of those written first still counts against the cap for those after.
      const ids = Array.from({ length: 150 }, (_, i) => `big${String(i).padStart(3, '0')}`);
      const big = (await campaignTo(ids, { id: 'big', budget: 0.1 })).filter(
        (m) => m.campaignId === 'big',
      );
      expect(big).toHaveLength(150);
      expect(big.filter((m) => m.status === 'queued')).toHaveLength(100);
      expect(big.filter((m) => m.reasonCode === 'budget_exhausted')).toHaveLength(50);
      expect(await verify()).toMatchObject({ ok: true, entries: 150 });
    });

    it('expires a review item nobody acted on within 48 hours, and never sends it', async () => {
      const item = await cartOfferInReview('hu', 'Hu');
      clock.set(T0 + 2 * HOUR_MS + 48 * HOUR_MS - 1);
      expect(
        (await call('GET', '/v1/reviews')).json<{ reviews: MessageView[] }>().reviews,
      ).toHaveLength(1);
      clock.set(T0 + 2 * HOUR_MS + 48 * HOUR_MS);
      expect(
        (await call('GET', '/v1/reviews')).json<{ reviews: MessageView[] }>().reviews,
      ).toHaveLength(0);
      expect(await messageOf(item.id)).toMatchObject({
        status: 'expired',
        reasonCode: 'review_expired',
      });
      const late = await approve(item.id, 'late');
      expect(late.statusCode).toBe(409);
    });

    it('refuses an approval after the deadline, before any sweep has expired the item', async () => {
      const item = await cartOfferInReview('ivo', 'Ivo');
      // No listing, no housekeeping: the approval is the first thing to arrive after 48 hours.
      clock.set(T0 + 2 * HOUR_MS + 48 * HOUR_MS + 60_000);
      const late = await approve(item.id, 'late');
      expect(late.statusCode).toBe(409);
      expect(await messageOf(item.id)).toMatchObject({
        status: 'expired',
        reasonCode: 'review_expired',
      });
      expect(await herald.services.dispatcher.runDue()).toBe(0);
    });

    it('lets a reviewer approve a review item, which then goes', async () => {
      await identify('gus', { email: 'gus@example.com', firstName: 'Gus' });
      await ingest('track', {
        userId: 'gus',
        event: 'Product Added',
        properties: { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 },
      });
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const before = (await call('GET', '/v1/reviews')).json<{
        reviews: MessageView[];
        metrics: object;
      }>();
      expect(before.metrics).toEqual({
        approve: 0,
        'edit-approve': 0,
        return: 0,
        'approve-blocked': 0,
        reject: 0,
        expire: 0,
        humanOverrideRate: null,
      });
      const [item] = before.reviews;
      // The audit keeps why a person overrode the guardrails: a blank reason says nothing.
      const blank = await call(
        'POST',
        `/v1/reviews/${item?.id ?? ''}/approve`,
        { reason: '   ' },
        reviewerToken,
      );
      expect(blank.statusCode).toBe(400);
      expect(blank.json<{ error: { message: string } }>().error.message).toBe(
        '/reason must not be blank',
      );
      const approved = await call(
        'POST',
        `/v1/reviews/${item?.id ?? ''}/approve`,
        { reason: 'margin allows it' },
        reviewerToken,
      );
      expect(approved.json<MessageView>().status).toBe('queued');
      const metrics = (await call('GET', '/v1/reviews')).json<{ metrics: object }>().metrics;
      expect(metrics).toEqual({
        approve: 1,
        'edit-approve': 0,
        return: 0,
        'approve-blocked': 0,
        reject: 0,
        expire: 0,
        humanOverrideRate: 1,
      });
    });

    it('sends an item approved a day and more after it was recorded, within the review window', async () => {
      for (const who of ['hugo', 'ivy']) {
        await identify(who, { email: `${who}@example.com`, firstName: who });
        await ingest('track', {
          userId: who,
          event: 'Product Added',
          properties: { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 },
        });
      }
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const items = (await call('GET', '/v1/reviews')).json<{
        reviews: (MessageView & { customerId: string })[];
      }>().reviews;
      const itemOf = (who: string) => items.find((m) => m.customerId === who)?.id ?? '';
      // 30 hours in the queue: past the 24 h a queued message may be late, inside the 48 h a
      // reviewer has. The approval says when it is due.
      clock.set(T0 + 32 * HOUR_MS);
      await ingest('track', { userId: 'ivy', event: 'Unsubscribed', properties: {} });
      const approve = (who: string) =>
        call('POST', `/v1/reviews/${itemOf(who)}/approve`, { reason: 'margin' }, reviewerToken);
      expect((await approve('hugo')).json<MessageView>().status).toBe('queued');
      expect((await approve('ivy')).json<MessageView>().status).toBe('blocked');
      await herald.services.dispatcher.runDue();
      expect((await messageOf(itemOf('hugo'))).status).toBe('sent');
      // Two decided, one let through.
      expect((await call('GET', '/v1/reviews')).json<{ metrics: object }>().metrics).toMatchObject({
        approve: 1,
        'approve-blocked': 1,
        humanOverrideRate: 0.5,
      });
      // Only the approval that took effect overrode the guardrails' call for review.
      for (const [who, override] of [
        ['hugo', true],
        ['ivy', false],
      ] as const) {
        const trail = (await call('GET', `/v1/customers/${who}/audit`)).json<{
          audit: { kind: string; data: { override?: boolean } }[];
        }>().audit;
        expect(trail.find((e) => e.kind === 'review')?.data.override).toBe(override);
      }
    });

    it('holds out an approved offer whose customer a rollout started meanwhile leaves out', async () => {
      const item = await cartOfferInReview('ray', 'Ray');
      // The first stage reaches 5 % of customers (drawn with a salt of the start's time); ray is
      // not among them.
      expect((await call('POST', '/v1/rollout/start', {})).json()).toMatchObject({ percent: 5 });
      const approved = await approve(item.id, 'margin allows it');
      expect(approved.json<MessageView>()).toMatchObject({
        status: 'held-out',
        reasonCode: 'outside_rollout',
      });
      expect((await call('GET', '/v1/reviews')).json<{ metrics: object }>().metrics).toMatchObject({
        approve: 0,
        'approve-blocked': 1,
        humanOverrideRate: 0,
      });
      expect(await herald.services.dispatcher.runDue()).toBe(0);
    });

    it('lets a roll-back take back an offer a reviewer approved while the rollout ran', async () => {
      const item = await cartOfferInReview('rae', 'Rae');
      // A rollout at its first stage whose cohort holds rae (a salt drawn to put her in it).
      const salt =
        Array.from({ length: 2000 }, (_, i) => `salt-${String(i)}`).find((s) =>
          isInRollout(toCustomerId('rae'), 5, s),
        ) ?? '';
      await herald.services.store.transaction((tx) =>
        tx.setSetting(
          'rollout',
          JSON.stringify({ percent: 5, salt, stageStartedAtMs: clock.nowMs(), history: [] }),
        ),
      );
      expect((await approve(item.id, 'margin allows it')).json<MessageView>().status).toBe(
        'queued',
      );
      // The stage proves unhealthy before the offer leaves: rolled back to none.
      const check = await call('POST', '/v1/rollout/check', { uptime: 0.5, p95LatencyMs: 40 });
      expect(check.json<{ rollout: { percent: number } }>().rollout.percent).toBe(0);
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      expect(await messageOf(item.id)).toMatchObject({
        status: 'blocked',
        reasonCode: 'outside_rollout',
      });
    });

    it('erases a customer: no personal data left, the audit chain still verifies', async () => {
      // A German number: GDPR asks consent of one who states no country.
      await identify('hal-9000@example.com', {
        email: 'hal-9000@example.com',
        firstName: 'Halvard',
        phone: '+4915112345678',
        consent: { email: { marketing: true } },
      });
      // The caller's idempotency key names the person: the stored answer goes with them.
      const hal = await send('hal-9000@example.com', 'welcome-1', {
        'idempotency-key': 'hal-9000@example.com/welcome',
      });
      const storedAnswer = () =>
        herald.services.store.transaction((tx) =>
          tx.findIdempotent('mark:hal-9000@example.com/welcome'),
        );
      expect(await storedAnswer()).not.toBeNull();
      // Delivered through the capture channel, which keeps the message and its address.
      await herald.services.dispatcher.runDue();
      expect(await herald.services.store.capturedMessage(hal.decisionId)).toBeDefined();
      await identify('ida', { email: 'ida@example.com' });
      await send('ida', 'welcome-1');
      const erased = await call('POST', '/v1/customers/hal-9000%40example.com/erase', {
        reason: 'customer request by email',
      });
      expect(erased.statusCode).toBe(200);
      // The profile is counted whether or not it had been written to its table yet; every
      // kind of row deleted is counted, for the audit entry to prove it.
      const counts = erased.json<{ erased: Record<string, number> }>().erased;
      expect(counts).toMatchObject({
        events: 1,
        profiles: 1,
        messages: 1,
        decisions: 1,
        captured: 1,
        apiSends: 1,
        pseudonyms: 1,
      });
      const entry = (await herald.services.store.scanAudit(0, 1000)).find(
        (e) => e.kind === 'erasure',
      );
      expect(JSON.parse(entry?.data ?? '{}')).toMatchObject({ erased: counts });
      expect((await call('GET', '/v1/profiles/hal-9000%40example.com')).statusCode).toBe(404);
      const dump = JSON.stringify(await herald.services.store.scanAudit(0, 1000));
      for (const pii of ['hal-9000', 'Halvard', '4915112345678']) expect(dump).not.toContain(pii);
      expect(dump).toContain('"kind"');
      expect(await herald.services.store.capturedMessage(hal.decisionId)).toBeUndefined();
      expect(await storedAnswer()).toBeNull();
      const check = await verify();
      // Two decisions, one delivery, one erasure.
      expect(check).toMatchObject({ ok: true, entries: 4 });
      // What remains about others is untouched.
      expect((await call('GET', '/v1/profiles/ida')).statusCode).toBe(200);
    });

    it('exports every order, the work scheduled, the answers kept and the copies captured', async () => {
      await identify('exa', { email: 'exa@example.com' });
      const order = (id: string, event = 'Order Completed') =>
        ingest('track', { userId: 'exa', event, properties: { order_id: id, total: 30 } });
      await order('o-1');
      await order('o-2');
      await order('o-1', 'Order Cancelled');
      await ingest('track', {
        userId: 'exa',
        event: 'Product Added',
        properties: { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 },
      });
      const sent = await send('exa', 'welcome-1', { 'idempotency-key': 'exa-welcome' });
      await herald.services.dispatcher.runDue();
      const exported = (await call('GET', '/v1/customers/exa/export')).json<{
        orders: { orderId: string; cancelled: boolean }[];
        work: { key: string; status: string }[];
        apiSends: { key: string; answer: { decisionId: string } }[];
        captured: { messageId: string; recipient: string }[];
        predicted: unknown;
      }>();
      // What the models say of them, as staff see it on the profile.
      const shown = (await call('GET', '/v1/profiles/exa')).json<{ predicted: unknown }>();
      expect(exported.predicted).toEqual(shown.predicted);
      expect(exported.predicted).toMatchObject({ churnRiskSource: 'rules', conversion: {} });
      expect(exported.orders.map((o) => [o.orderId, o.cancelled])).toEqual([
        ['o-1', true],
        ['o-2', false],
      ]);
      expect(exported.work.some((w) => w.status === 'pending')).toBe(true);
      expect(exported.apiSends).toMatchObject([
        {
          key: expect.stringMatching(/:exa-welcome$/) as unknown,
          answer: { decisionId: sent.decisionId },
        },
      ]);
      expect(exported.captured).toMatchObject([
        { messageId: sent.decisionId, recipient: 'exa@example.com' },
      ]);
    });

    it('records no API send for a customer erased after the request found them', async () => {
      await identify('rob', { email: 'rob@example.com', firstName: 'Rob' });
      // The send resolved rob; then the erasure commits before its transaction.
      expect(
        (await call('POST', '/v1/customers/rob/erase', { reason: 'request' })).statusCode,
      ).toBe(200);
      const { store, guard, ids } = herald.services;
      await expect(
        sendNow(
          store,
          guard,
          {
            customerId: toCustomerId('rob'),
            channel: 'email',
            template: 'welcome-1',
            data: { note: 'Rob, 12 Elm St' },
            by: 'mark',
            idempotencyKey: 'rob-welcome',
          },
          () => ids.next(),
          clock.nowMs(),
        ),
      ).rejects.toMatchObject({ code: 'not-found' });
      // Nothing names him again: no decision, message, stored answer or audit entry.
      expect(await store.listMessages({ limit: 10 })).toEqual([]);
      expect(await store.transaction((tx) => tx.findIdempotent('mark:rob-welcome'))).toBeNull();
      expect(await verify()).toMatchObject({ ok: true, entries: 1 });
    });

    it('keeps no work for a customer a campaign listed before the erasure', async () => {
      await identify('jane@example.com', { email: 'jane@example.com' });
      await identify('kim', { email: 'kim@example.com' });
      const erased = await call('POST', '/v1/customers/jane%40example.com/erase', { reason: 'r' });
      expect(erased.statusCode).toBe(200);
      // The campaign to everyone listed jane before the erasure and writes her work after it.
      const { store, worker } = herald.services;
      const jane = toCustomerId('jane@example.com');
      await store.transaction((tx) =>
        tx.schedule(
          ['jane@example.com', 'kim'].map((id) => ({
            key: `${id}|campaign|summer`,
            customerId: toCustomerId(id),
            dueAtMs: clock.nowMs(),
            trigger: {
              kind: 'campaign' as const,
              campaign: {
                id: 'summer',
                template: 'upsell',
                channels: ['email' as const],
                segment: null,
                incentive: null,
                sendAtMs: clock.nowMs(),
              },
            },
            mode: 'once' as const,
          })),
          clock.nowMs(),
        ),
      );
      expect(await store.listWork(jane, 10)).toHaveLength(1);
      await worker.runDue();
      expect(await store.listWork(jane, 10)).toEqual([]);
      expect(await store.listWork(toCustomerId('kim'), 10)).toMatchObject([{ status: 'done' }]);
    });

    it('records no report about a message erased after it was read: nobody comes back', async () => {
      await identify('ola', { email: 'ola@example.com', firstName: 'Ola' });
      await identify('ida', { email: 'ida@example.com' });
      const sent = await send('ola', 'welcome-1');
      await herald.services.dispatcher.runDue();
      // A click and a bounce read the message, then the erasure commits before they record.
      const message = await herald.services.store.getMessage(sent.decisionId);
      if (message === undefined) throw new Error('the message was not recorded');
      const erased = await call('POST', '/v1/customers/ola/erase', { reason: 'request' });
      expect(erased.statusCode).toBe(200);
      const deps = herald.services.track;
      const nowMs = clock.nowMs();
      await recordMessageResult(
        deps,
        message,
        { kind: 'clicked', url: 'https://x.test' },
        nowMs,
        nowMs,
      );
      await recordMessageResult(
        deps,
        message,
        { kind: 'bounced', hard: true, reason: '550' },
        nowMs,
        nowMs,
      );
      expect((await call('GET', '/v1/profiles/ola')).statusCode).toBe(404);
      expect(await herald.services.store.listEvents(toCustomerId('ola'), 10)).toEqual([]);
      expect(await herald.services.store.pseudonymsOfCustomer(toCustomerId('ola'))).toEqual([]);
      expect(JSON.stringify(await herald.services.store.scanAudit(0, 1000))).not.toContain('ola');
      // In a batch beside it, anyone else's event is stored, counted and applied to them.
      const eventsOfIda = async () =>
        (await call('GET', '/v1/profiles/ida')).json<{ eventCount: number }>().eventCount;
      const before = await eventsOfIda();
      const opened = heraldEvent(
        toCustomerId('ola'),
        'Email Opened',
        'late-open',
        { messageId: message.id },
        nowMs,
      );
      const other = heraldEvent(toCustomerId('ida'), 'Email Opened', 'other-open', {}, nowMs);
      expect((await herald.services.recorder.record([opened, other], nowMs)).stored).toBe(1);
      expect(
        (await herald.services.store.listEvents(toCustomerId('ida'), 10)).map((e) => e.name),
      ).toContain('Email Opened');
      expect(await eventsOfIda()).toBe(before + 1);
      expect((await call('GET', '/v1/profiles/ola')).statusCode).toBe(404);
    });

    it('marks a bounce on a message whose status moved on after the report read it', async () => {
      await identify('ugo', { email: 'ugo@example.com', firstName: 'Ugo' });
      const sent = await send('ugo', 'welcome-1');
      // The report reads the message, then the dispatcher marks it sent before it records.
      const read = await herald.services.store.getMessage(sent.decisionId);
      if (read === undefined) throw new Error('the message was not recorded');
      await herald.services.dispatcher.runDue();
      expect(await herald.services.store.getMessage(sent.decisionId)).toMatchObject({
        status: 'sent',
      });
      const deps = herald.services.track;
      const nowMs = clock.nowMs();
      const bounce = { kind: 'bounced', hard: true, reason: '550 no such user' } as const;
      await recordMessageResult(deps, read, bounce, nowMs, nowMs);
      expect(await herald.services.store.getMessage(sent.decisionId)).toMatchObject({
        status: 'bounced',
        reasonCode: 'bounced',
      });
      const results = (await herald.services.store.scanAudit(0, 1000)).filter(
        (e) => e.kind === 'result',
      );
      expect(results.map((e) => JSON.parse(e.data) as unknown)).toEqual([
        expect.objectContaining({
          decisionId: sent.decisionId,
          result: 'bounced',
          status: 'bounced',
        }),
      ]);
    });

    it('exports every event, decision and message of a long history, oldest event first', async () => {
      await identify('lin', { email: 'lin@example.com', consent: { email: true } });
      // Three pages of events and more than a page of decisions and messages.
      for (let batch = 0; batch < 5; batch += 1) {
        const response = await herald.app.inject({
          method: 'POST',
          url: '/v1/batch',
          headers: { ...json, authorization: basicAuth() },
          payload: JSON.stringify({
            batch: Array.from({ length: 500 }, (_, i) => ({
              type: 'page',
              userId: 'lin',
              name: 'Home',
              messageId: `lin-${String(batch)}-${String(i)}`,
              timestamp: new Date(clock.nowMs() + (batch * 500 + i + 1) * 1000).toISOString(),
            })),
          }),
        });
        expect(response.statusCode).toBe(200);
      }
      const { store } = herald.services;
      await store.transaction(async (tx) => {
        await tx.insertDecisions(
          Array.from({ length: 1_100 }, (_, i) =>
            aDecision({
              id: `d-lin-${String(i)}`,
              customerId: toCustomerId('lin'),
              createdAtMs: T0 + i,
            }),
          ),
        );
        await tx.insertMessages(
          Array.from({ length: 1_200 }, (_, i) =>
            aSentMessage(`m-lin-${String(i).padStart(4, '0')}`, 'lin', T0 + i),
          ),
        );
      });
      const answer = await call('GET', '/v1/customers/lin/export');
      expect(answer.statusCode).toBe(200);
      const exported = answer.json<{
        events: { type: string; timestampMs: number; seq: number }[];
        decisions: { id: string }[];
        messages: { id: string }[];
        audit: { kind: string }[];
      }>();
      expect(exported.events).toHaveLength(2_501);
      expect(exported.events[0]?.type).toBe('identify');
      const times = exported.events.map((e) => e.timestampMs);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(new Set(exported.events.map((e) => e.seq)).size).toBe(2_501);
      expect(new Set(exported.decisions.map((d) => d.id)).size).toBe(1_100);
      expect(new Set(exported.messages.map((m) => m.id)).size).toBe(1_200);
      expect(exported.audit.map((e) => e.kind)).toContain('access-export');
    });

    it('answers an error status, not a cut answer, when a read of the export fails', async () => {
      await identify('fay', { email: 'fay@example.com' });
      const { store } = herald.services;
      const memberships = store.listMemberships.bind(store);
      store.listMemberships = () => Promise.reject(new Error('connection reset'));
      try {
        const answer = await call('GET', '/v1/customers/fay/export');
        expect(answer.statusCode).toBe(500);
      } finally {
        store.listMemberships = memberships;
      }
    });

    it('exports nothing for a customer erased after the export found them', async () => {
      await identify('hal', { email: 'hal@example.com' });
      const { store } = herald.services;
      // The export reads the profile, then an erasure commits before its audit entry.
      const racing: typeof store = {
        ...store,
        getProfile: async (id) => {
          const found = await store.getProfile(id);
          expect((await call('POST', '/v1/customers/hal/erase', { reason: 'r' })).statusCode).toBe(
            200,
          );
          return found;
        },
      };
      await expect(
        exportCustomer(
          racing,
          toCustomerId('hal'),
          'ops',
          clock.nowMs(),
          herald.services.guard.figures,
          () => Promise.resolve(null),
        ),
      ).rejects.toMatchObject({ code: 'not-found' });
      expect(await store.pseudonymsOfCustomer(toCustomerId('hal'))).toEqual([]);
      const kinds = (await store.scanAudit(0, 1000)).map((e) => e.kind);
      expect(kinds).not.toContain('access-export');
    });

    it('records no do-not-sell request for a customer erased after it was read', async () => {
      await identify('noa', { email: 'noa@example.com' });
      await ingest('page', { anonymousId: 'dev-9', name: 'Home' });
      for (const id of ['noa', 'anon:dev-9'].map(toCustomerId)) {
        // The request finds the customer, then an erasure commits before it is recorded.
        const emit = async (
          events: readonly HeraldEvent[],
          nowMs: number,
          within: (tx: StoreTx) => Promise<void>,
        ) => {
          const path = `/v1/customers/${encodeURIComponent(id)}/erase`;
          expect((await call('POST', path, { reason: 'request' })).statusCode).toBe(200);
          await herald.services.recorder.record(events, nowMs, within);
        };
        await expect(
          setDoNotSell(herald.services.store, emit, id, true, 'ops', clock.nowMs()),
        ).rejects.toMatchObject({ code: 'not-found' });
        expect(await herald.services.store.getProfile(id)).toBeUndefined();
        expect(await herald.services.store.listEvents(id, 10)).toEqual([]);
        expect(await herald.services.store.pseudonymsOfCustomer(id)).toEqual([]);
      }
      const audit = JSON.stringify(await herald.services.store.scanAudit(0, 1000));
      expect(audit).not.toContain('noa');
      expect(audit).not.toContain('do-not-sell');
      // A customer still there has the request recorded.
      await identify('ida', { email: 'ida@example.com' });
      const record = herald.services.recorder.record.bind(herald.services.recorder);
      await setDoNotSell(
        herald.services.store,
        record,
        toCustomerId('ida'),
        true,
        'ops',
        clock.nowMs(),
      );
      const events = await herald.services.store.listEvents(toCustomerId('ida'), 10);
      expect(events.some((e) => e.name === 'Consent Updated')).toBe(true);
      expect(JSON.stringify(await herald.services.store.scanAudit(0, 1000))).toContain(
        'do-not-sell',
      );
    });

    it('keeps no do-not-sell flag whose audit entry could not be written', async () => {
      await identify('dee', { email: 'dee@example.com' });
      const store = herald.services.store;
      const before = (await store.scanAudit(0, 1000)).length;
      // The database refuses the request's audit entry (as a full disk or a broken connection
      // would fail it): the request fails, and its events and flag go with it.
      await herald.raw(
        factory.name === 'sqlite'
          ? `CREATE TRIGGER refuse_do_not_sell BEFORE INSERT ON audit_log
               WHEN NEW.kind = 'do-not-sell' BEGIN SELECT RAISE(ABORT, 'audit refused'); END`
          : `CREATE FUNCTION refuse_do_not_sell() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN IF NEW.kind = 'do-not-sell' THEN RAISE EXCEPTION 'audit refused'; END IF;
               RETURN NEW; END $$;
             CREATE TRIGGER refuse_do_not_sell BEFORE INSERT ON audit_log
               FOR EACH ROW EXECUTE FUNCTION refuse_do_not_sell()`,
      );
      const answer = await call('POST', '/v1/customers/dee/do-not-sell', { doNotSell: true });
      expect(answer.statusCode).toBe(500);
      const events = await store.listEvents(toCustomerId('dee'), 10);
      expect(events.map((e) => e.name)).not.toContain('Consent Updated');
      expect((await store.getProfile(toCustomerId('dee')))?.state.preferences).not.toMatchObject({
        doNotSell: true,
      });
      expect(await store.scanAudit(0, 1000)).toHaveLength(before);
    });

    it('knows an erased person named again: no marketing until they opt in after the erasure', async () => {
      // Where GDPR consent is not asked for (here Switzerland), marketing email needs none:
      // only the unsubscribe stops it, and the erasure deletes the unsubscribe with the rest.
      const ch = { location: { country: 'CH' } };
      await identify(
        'lea',
        { email: 'Lea@Example.com', timezone: 'America/New_York', phone: '+1 415 555 0100' },
        ch,
      );
      await ingest('track', {
        userId: 'lea',
        event: 'Unsubscribed',
        properties: { channel: 'email' },
      });
      expect((await send('lea', 'upsell')).reasonCode).toBe('unsubscribed');
      const erased = await call('POST', '/v1/customers/lea/erase', { reason: 'deletion request' });
      expect(erased.statusCode).toBe(200);

      // The shop's tag sends the same user id again; a CRM sync brings the email under another.
      clock.set(T0 + DAY_MS);
      await identify('lea', { firstName: 'Lea' }, ch);
      await identify('crm-77', { email: 'lea@example.com', firstName: 'Lea' }, ch);
      await identify('ned', { email: 'ned@example.com', firstName: 'Ned' }, ch);
      for (const who of ['lea', 'crm-77']) {
        const blocked = await send(who, 'upsell');
        expect(blocked.reasonCode).toBe('erased');
        const reason = blocked.verdicts.find((v) => v.code === 'erased')?.reason;
        expect(reason).toContain(new Date(T0).toISOString().slice(0, 10));
        // It says what opts them in again: traits will not.
        expect(reason).toMatch(/Consent Updated .*identify traits does not count/);
      }
      expect((await send('ned', 'upsell')).status).toBe('queued');
      // Traits saying yes could be replayed from before the erasure: not enough.
      await identify('crm-77', { consent: { email: { marketing: true } } }, ch);
      expect((await send('crm-77', 'upsell')).reasonCode).toBe('erased');
      // An explicit opt-in given after the erasure is.
      clock.set(T0 + 2 * DAY_MS);
      await ingest('track', {
        userId: 'crm-77',
        event: 'Consent Updated',
        properties: { channel: 'email', purpose: 'marketing', granted: true },
      });
      expect((await send('crm-77', 'upsell')).status).toBe('queued');
      expect((await send('lea', 'upsell')).reasonCode).toBe('erased');
    });

    it('knows an erased person by an address they had before, or left as a visitor', async () => {
      const gb = { location: { country: 'GB' } };
      // A newsletter box took one address from a visitor, who then signed up with another.
      await ingest('identify', {
        anonymousId: 'v-9',
        traits: { email: 'newsletter.mia@example.com' },
        context: gb,
      });
      await ingest('identify', {
        userId: 'mia',
        anonymousId: 'v-9',
        traits: { email: 'mia@work.example.com' },
        context: gb,
      });
      // Another changed address.
      await identify(
        'tom',
        { email: 'tom.old@example.com', timezone: 'America/New_York', phone: '+1 415 555 0101' },
        gb,
      );
      await identify(
        'tom',
        { email: 'tom.new@example.com', timezone: 'America/New_York', phone: '+1 415 555 0102' },
        gb,
      );
      for (const who of ['mia', 'tom']) {
        await ingest('track', {
          userId: who,
          event: 'Unsubscribed',
          properties: { channel: 'email' },
        });
        expect((await call('POST', `/v1/customers/${who}/erase`, { reason: 'r' })).statusCode).toBe(
          200,
        );
      }
      clock.set(T0 + DAY_MS);
      // A CRM sync brings each address back under an id of its own.
      const comeBack = [
        { email: 'newsletter.mia@example.com' },
        { email: 'tom.old@example.com' },
        { email: 'tom.new@example.com' },
        { timezone: 'America/New_York', phone: '+1 415 555 0101' },
      ];
      for (const [i, traits] of comeBack.entries()) {
        await identify(`crm-${String(i)}`, { ...traits, firstName: 'X' }, gb);
        expect((await send(`crm-${String(i)}`, 'upsell')).reasonCode).toBe('erased');
      }
    });

    it('refuses to change an audit entry, and names one changed behind its back', async () => {
      await identify('jo', { email: 'jo@example.com' });
      for (let i = 0; i < 3; i += 1) await send('jo', 'welcome-1');
      expect(await verify()).toMatchObject({ ok: true, entries: 3 });
      await expect(herald.raw("UPDATE audit_log SET kind = 'x' WHERE seq = 2")).rejects.toThrow(
        /append-only/,
      );
      await expect(herald.raw('DELETE FROM audit_log WHERE seq = 3')).rejects.toThrow(
        /append-only/,
      );
      // Nor through the back door of an insert that replaces (SQLite) or upserts (PostgreSQL).
      const copy = `SELECT seq, at_ms, kind, subject, 'rewritten', prev_hash, hash FROM audit_log WHERE seq = 2`;
      await expect(
        herald.raw(
          factory.name === 'sqlite'
            ? `INSERT OR REPLACE INTO audit_log ${copy}`
            : `INSERT INTO audit_log ${copy} ON CONFLICT (seq) DO UPDATE SET data = excluded.data`,
        ),
      ).rejects.toThrow(/append-only/);
      expect(await verify()).toMatchObject({ ok: true, entries: 3 });
      // Someone with the database owner's rights turns the guard off and edits an entry.
      await herald.raw(
        factory.name === 'sqlite'
          ? 'DROP TRIGGER audit_log_no_update'
          : 'ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change',
      );
      await herald.raw(
        `UPDATE audit_log SET data = replace(data, '"status":"queued"', '"status":"blocked"') WHERE seq = 2`,
      );
      expect(await verify()).toEqual({
        ok: false,
        brokenAtSeq: 2,
        reason: 'its content does not match its hash',
      });
    });

    it('records the CCPA do-not-sell flag as an event, so it survives a rebuild, and honours it', async () => {
      await identify(
        'kai',
        { email: 'kai@example.com' },
        { location: { country: 'US', region: 'CA' } },
      );
      const set = await call('POST', '/v1/customers/kai/do-not-sell', { doNotSell: true });
      expect(set.json()).toEqual({ doNotSell: true });
      // A body's values are taken as typed: a null, 0 or "false" is refused, not read as false.
      for (const doNotSell of [null, 0, 'false']) {
        const wrong = await call('POST', '/v1/customers/kai/do-not-sell', { doNotSell });
        expect(wrong.statusCode, String(doNotSell)).toBe(400);
        expect(JSON.stringify(wrong.json()), String(doNotSell)).toMatch(/doNotSell/);
      }
      const events = (await call('GET', '/v1/profiles/kai/events?limit=10')).json<{
        events: { type: string; traits?: { preferences?: { doNotSell?: boolean } } }[];
      }>().events;
      expect(
        events.some((e) => e.type === 'identify' && e.traits?.preferences?.doNotSell === true),
      ).toBe(true);
      const web = await call(
        'POST',
        '/v1/sends',
        { userId: 'kai', channel: 'web', template: 'welcome-banner' },
        marketerToken,
      );
      expect(web.json<SendAnswer>().reasonCode).toBe('ccpa_opt_out');
      // A preference centre resending a stale `doNotSell: false` through the write key does
      // not undo the request; only another request does.
      clock.set(clock.nowMs() + 60_000);
      await identify('kai', { preferences: { doNotSell: false } });
      const resent = await call(
        'POST',
        '/v1/sends',
        { userId: 'kai', channel: 'web', template: 'welcome-banner' },
        marketerToken,
      );
      expect(resent.json<SendAnswer>().reasonCode).toBe('ccpa_opt_out');
      // Honoured outside California too: the request is what counts.
      await identify('kai', {}, { location: { country: 'US', region: 'NY' } });
      expect(
        (
          await call(
            'POST',
            '/v1/sends',
            { userId: 'kai', channel: 'web', template: 'welcome-banner' },
            marketerToken,
          )
        ).json<SendAnswer>().reasonCode,
      ).toBe('ccpa_opt_out');
      expect(
        (await call('POST', '/v1/customers/kai/do-not-sell', { doNotSell: false })).json(),
      ).toEqual({ doNotSell: false });
      const trail = (await call('GET', '/v1/customers/kai/audit')).json<{
        audit: { kind: string }[];
      }>();
      expect(trail.audit.map((e) => e.kind)).toContain('do-not-sell');
      expect(
        (await call('POST', '/v1/customers/kai/do-not-sell', { doNotSell: true }, viewerToken))
          .statusCode,
      ).toBe(403);
    });

    it('honours a do-not-sell trait sent as text or a number, as consent is', async () => {
      const webSend = async (userId: string) =>
        (
          await call(
            'POST',
            '/v1/sends',
            { userId, channel: 'web', template: 'welcome-banner' },
            marketerToken,
          )
        ).json<SendAnswer>();
      const us = { location: { country: 'US', region: 'CA' } };
      for (const [userId, doNotSell] of [
        ['lea', 'true'],
        ['lou', 'yes'],
        ['lyn', 1],
      ] as const) {
        await identify(userId, { email: `${userId}@example.com`, preferences: { doNotSell } }, us);
        expect((await webSend(userId)).reasonCode).toBe('ccpa_opt_out');
      }
      await identify('lee', { email: 'lee@example.com', preferences: { doNotSell: 'no' } }, us);
      expect((await webSend('lee')).reasonCode).not.toBe('ccpa_opt_out');
    });

    it('limits requests per token with 429 and Retry-After', async () => {
      await herald.close();
      herald = await startHerald(factory, { clock, env: { HERALD_RATE_LIMIT_PER_MINUTE: '3' } });
      const codes: number[] = [];
      for (let i = 0; i < 4; i += 1) codes.push((await call('GET', '/v1/reviews')).statusCode);
      expect(codes).toEqual([200, 200, 200, 429]);
      const limited = await call('GET', '/v1/reviews');
      // Three in the minute already: the first of them leaves it 60 s from now.
      expect(limited.headers['retry-after']).toBe('60');
      clock.set(T0 + 59_000);
      expect((await call('GET', '/v1/reviews')).statusCode).toBe(429);
      clock.set(T0 + 60_000);
      expect((await call('GET', '/v1/reviews')).statusCode).toBe(200);
    });
  });
}
