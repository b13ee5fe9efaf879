import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { receiptTemplate } from '../support/builders.js';
import {
  adminCall,
  adminToken,
  ingestCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { sqliteFactory } from '../support/stores.js';

interface Problems {
  error: { message: string; problems: { path: string; message: string }[] };
}
interface MessagePage {
  messages: { id: string }[];
  next: string | null;
}

// The admin API's answers to input it must not guess at: each names the field, as a JSON
// pointer (into the body, or under `/querystring`), and nothing is sent or listed by a guess.
describe('admin API input', () => {
  let herald: TestHerald;
  let clock: VirtualClock;
  beforeEach(async () => {
    clock = createVirtualClock(Date.UTC(2026, 5, 3, 12));
    herald = await startHerald(sqliteFactory, { clock, templates: { receipt: receiptTemplate } });
    for (const userId of ['u1', 'u2', 'u3']) {
      await ingestCall(herald, clock, 'identify', {
        userId,
        traits: { email: `${userId}@example.com` },
      });
    }
  });
  afterEach(async () => herald.close());

  const send = (payload: string) =>
    herald.app.inject({
      method: 'POST',
      url: '/v1/sends',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      payload,
    });

  it('refuses a numeric userId JSON cannot carry exactly, as the tracking API does', async () => {
    // 2^53 + 1 arrives as 2^53: another shop customer, who exists.
    await ingestCall(herald, clock, 'identify', {
      userId: '9007199254740992',
      traits: { email: 'someone-else@example.com' },
    });
    for (const userId of ['9007199254740993', '1.5']) {
      const res = await send(`{"userId":${userId},"channel":"email","template":"receipt"}`);
      expect(res.statusCode).toBe(400);
      expect(res.json<Problems>().error.problems).toEqual([
        { path: '/userId', message: expect.stringContaining('send it as a string') as string },
      ]);
    }
    const listed = await adminCall(herald, 'GET', '/v1/messages?userId=9007199254740992');
    expect(listed.json<MessagePage>().messages).toEqual([]);
    // A whole number JSON carries is still its text.
    await ingestCall(herald, clock, 'identify', {
      userId: '42',
      traits: { email: 'n@example.com' },
    });
    expect((await send('{"userId":42,"channel":"email","template":"receipt"}')).statusCode).toBe(
      201,
    );
  });

  it('takes only the agents that decide as a filter of decisions', async () => {
    expect(
      (
        await adminCall(herald, 'POST', '/v1/sends', {
          userId: 'u1',
          channel: 'email',
          template: 'receipt',
        })
      ).statusCode,
    ).toBe(201);
    const api = await adminCall(herald, 'GET', '/v1/decisions?agent=api');
    expect(api.json<{ decisions: { agent: string }[] }>().decisions.map((d) => d.agent)).toEqual([
      'api',
    ]);
    const misspelt = await adminCall(herald, 'GET', '/v1/decisions?agent=Api');
    expect(misspelt.statusCode).toBe(400);
    expect(misspelt.json<Problems>().error.problems).toEqual([
      {
        path: '/querystring/agent',
        message:
          'must be one of "api", "campaign", "cart", "custom", "journey", "lifecycle", "milestone", "win-back"',
      },
    ]);
  });

  it('pages messages by a message id, and refuses a cursor that is not one', async () => {
    for (const userId of ['u1', 'u2', 'u3']) {
      await adminCall(herald, 'POST', '/v1/sends', {
        userId,
        channel: 'email',
        template: 'receipt',
      });
      clock.advance(1000);
    }
    const first = (await adminCall(herald, 'GET', '/v1/messages?limit=2')).json<MessagePage>();
    const second = (
      await adminCall(herald, 'GET', `/v1/messages?limit=2&before=${first.next ?? ''}`)
    ).json<MessagePage>();
    expect([...first.messages, ...second.messages]).toHaveLength(3);
    expect(new Set([...first.messages, ...second.messages].map((m) => m.id)).size).toBe(3);
    // The decisions' cursor for the same rows, a cut-off id, and a bare number.
    const decisions = (await adminCall(herald, 'GET', '/v1/decisions?limit=2')).json<{
      next: string;
    }>();
    for (const url of [
      `/v1/messages?limit=2&before=${decisions.next}`,
      `/v1/messages?before=${(first.next ?? '').slice(0, 20)}`,
      '/v1/reviews?before=0',
    ]) {
      const res = await adminCall(herald, 'GET', url);
      expect(res.statusCode).toBe(400);
      expect(res.json<Problems>().error.problems.map((p) => p.path)).toEqual([
        '/querystring/before',
      ]);
    }
  });

  it('shows every time of a message as ISO-8601, none as epoch milliseconds', async () => {
    const sent = await adminCall(herald, 'POST', '/v1/sends', {
      userId: 'u1',
      channel: 'email',
      template: 'receipt',
    });
    const { decisionId } = sent.json<{ decisionId: string }>();
    const view = (await adminCall(herald, 'GET', `/v1/messages/${decisionId}`)).json<object>();
    expect(view).toMatchObject({ sentAt: null, web: null, sendAt: '2026-06-03T12:00:00.000Z' });
    expect(JSON.stringify([view, sent.json()])).not.toMatch(/Ms"/);
  });

  it('names every body field by the same JSON pointer, a missing or unknown one too', async () => {
    const problemsOf = async (body: object) =>
      (await adminCall(herald, 'POST', '/v1/sends', body)).json<Problems>().error;
    expect((await problemsOf({ channel: 'email', template: 'receipt' })).problems).toEqual([
      { path: '/userId', message: 'is required' },
    ]);
    expect(
      (await problemsOf({ userId: 'u1', channel: 'fax', template: 'receipt' })).problems.map(
        (p) => p.path,
      ),
    ).toEqual(['/channel']);
    const unknown = await problemsOf({
      userId: 'u1',
      channel: 'email',
      template: 'receipt',
      segmnet: 'x',
    });
    expect(unknown.problems).toEqual([
      { path: '/segmnet', message: 'is not a field this request takes' },
    ]);
    expect(unknown.message).toBe('/segmnet is not a field this request takes');
    const nul = await problemsOf({
      userId: 'u1',
      channel: 'email',
      template: 'receipt',
      data: { a: 'x\u0000' },
    });
    expect(nul.problems.map((p) => p.path)).toEqual(['/data/a']);
    const notObject = await send('[1]');
    expect(notObject.json<Problems>().error.message).toBe('the body must be an object');
  });

  it('says in words what a campaign field must be, and refuses a channel named twice', async () => {
    const launch = async (body: object) =>
      (
        await adminCall(herald, 'POST', '/v1/campaigns', {
          id: 'spring',
          template: 'upsell',
          channels: ['email'],
          ...body,
        })
      ).json<Problems>().error;
    for (const budget of [-1, 0])
      expect((await launch({ budget })).problems).toEqual([
        { path: '/budget', message: 'must be above 0, or null' },
      ]);
    expect((await launch({ budget: 'ten' })).problems).toEqual([
      { path: '/budget', message: 'must be a number, or null' },
    ]);
    expect((await launch({ holdoutPercent: 60 })).problems).toEqual([
      { path: '/holdoutPercent', message: 'must be at most 50' },
    ]);
    expect((await launch({ channels: ['email', 'email'] })).problems).toEqual([
      { path: '/channels', message: 'must not name an item twice (items 0 and 1 are the same)' },
    ]);
  });

  it('refuses a query parameter an admin route does not read, naming it', async () => {
    await adminCall(herald, 'POST', '/v1/sends', {
      userId: 'u1',
      channel: 'email',
      template: 'receipt',
    });
    // A misspelt filter would otherwise list every agent's decisions, or every message.
    for (const url of [
      '/v1/decisions?agnet=cart',
      '/v1/messages?userid=u2',
      '/v1/profiles/u1?fields=email',
      '/v1/kpis?form=2026-06-01',
    ]) {
      const res = await adminCall(herald, 'GET', url);
      const name = url.slice(url.indexOf('?') + 1).split('=')[0] ?? '';
      expect(res.statusCode, url).toBe(400);
      expect(res.json<Problems>().error.problems, url).toEqual([
        { path: `/querystring/${name}`, message: 'is not a field this request takes' },
      ]);
    }
    // What a route reads is still read; the tracking routes take what mail clients append.
    expect((await adminCall(herald, 'GET', '/v1/decisions?agent=api&limit=5')).statusCode).toBe(
      200,
    );
    expect(
      (await herald.app.inject({ method: 'GET', url: '/v1/personalize.js?v=3' })).statusCode,
    ).toBe(200);
  });

  it('takes a number in a query written in digits only, and filters learnings by known names', async () => {
    // Converted as JavaScript reads text, these were pages of 16, 100, 10 and 3.
    for (const url of [
      '/v1/decisions?limit=0x10',
      '/v1/decisions?limit=1e2',
      '/v1/decisions?limit=%2010',
      '/v1/messages?limit=0b11',
    ]) {
      const res = await adminCall(herald, 'GET', url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json<Problems>().error.problems[0]?.path, url).toBe('/querystring/limit');
    }
    expect((await adminCall(herald, 'GET', '/v1/decisions?limit=10')).statusCode).toBe(200);
    // A misspelt filter read as nothing learned.
    for (const [url, path] of [
      ['/v1/learnings?channel=emial', '/querystring/channel'],
      ['/v1/learnings?segment=Nope', '/querystring/segment'],
    ] as const) {
      const res = await adminCall(herald, 'GET', url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json<Problems>().error.problems[0]?.path, url).toBe(path);
    }
    expect(
      (await adminCall(herald, 'GET', '/v1/learnings?segment=At-Risk&channel=email')).statusCode,
    ).toBe(200);
  });

  it('lists one campaign’s messages', async () => {
    const launched = await adminCall(herald, 'POST', '/v1/campaigns', {
      id: 'spring',
      template: 'receipt',
      channels: ['email'],
    });
    expect(launched.statusCode).toBe(202);
    await herald.services.worker.runDue();
    await adminCall(herald, 'POST', '/v1/sends', {
      userId: 'u1',
      channel: 'email',
      template: 'receipt',
    });
    const page = await adminCall(herald, 'GET', '/v1/messages?campaignId=spring&limit=500');
    expect(page.statusCode).toBe(200);
    const listed = page.json<{ messages: { customerId: string; campaignId: string | null }[] }>();
    expect(listed.messages.map((m) => m.customerId).sort()).toEqual(['u1', 'u2', 'u3']);
    expect(
      (await adminCall(herald, 'GET', '/v1/messages?limit=500')).json<MessagePage>().messages,
    ).toHaveLength(4);
  });
});
