import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  adminToken,
  basicAuth,
  startHerald,
  writeKey,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { REQUEST_TIMEOUT_MS } from '../../src/http/create-server.js';

const now = Date.UTC(2026, 5, 1, 12);
const clock = { nowMs: () => now };
const json = { 'content-type': 'application/json' };

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`Segment tracking API over ${factory.name}`, () => {
    let herald: TestHerald;
    beforeEach(async () => {
      herald = await startHerald(factory, { clock });
    });
    afterEach(async () => {
      await herald.close();
    });
    const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      herald.app.inject({
        method: 'POST',
        url,
        headers: { ...json, authorization: basicAuth(), ...headers },
        payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      });
    const profile = async (userId: string) =>
      herald.app.inject({
        url: `/v1/profiles/${encodeURIComponent(userId)}`,
        headers: { authorization: `Bearer ${adminToken}` },
      });

    it('accepts each call type and answers like Segment', async () => {
      for (const [route, body] of [
        ['identify', { userId: 'u1', traits: { email: 'a@b.c' } }],
        ['track', { userId: 'u1', event: 'Product Viewed' }],
        ['page', { userId: 'u1', name: 'Home' }],
        ['screen', { userId: 'u1', name: 'Cart' }],
        ['group', { userId: 'u1', groupId: 'acme' }],
        ['alias', { userId: 'u1', previousId: 'old-u1' }],
      ] as const) {
        const res = await post(`/v1/${route}`, body);
        expect(res.statusCode, route).toBe(200);
        expect(res.json()).toMatchObject({ success: true, stored: 1 });
      }
      const res = await profile('old-u1');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ userId: 'u1', traits: { email: 'a@b.c' } });
    });

    it('takes the write key from the body when there is no Basic auth', async () => {
      const res = await herald.app.inject({
        method: 'POST',
        url: '/v1/track',
        headers: json,
        payload: { writeKey, userId: 'u1', event: 'X' },
      });
      expect(res.statusCode).toBe(200);
    });

    it('refuses unknown and missing write keys with 401', async () => {
      const unknown = await post(
        '/v1/track',
        { userId: 'u1', event: 'X' },
        { authorization: basicAuth('wrong-key-123') },
      );
      expect(unknown.statusCode).toBe(401);
      expect(unknown.json().error.message).toBe('unknown write key');
      const missing = await herald.app.inject({
        method: 'POST',
        url: '/v1/track',
        headers: json,
        payload: { userId: 'u1', event: 'X' },
      });
      expect(missing.statusCode).toBe(401);
      expect(missing.json().error.message).toMatch(/no write key/);
    });

    it('accepts the valid events of a mixed batch and names what is wrong with the others', async () => {
      const res = await post('/v1/batch', {
        batch: [
          { type: 'track', userId: 'u1', event: 'A', messageId: 'ok-1' },
          { type: 'track', userId: 'u1', messageId: 'bad-1' },
          { type: 'identify', userId: 42, traits: { plan: 'pro' } },
          { type: 'launch', userId: 'u1' },
          { type: 'track', event: 'No id' },
        ],
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ success: true, stored: 2, duplicates: 0 });
      expect(body.rejected.map((r: { index: number }) => r.index)).toEqual([1, 3, 4]);
      expect(body.rejected[0]).toMatchObject({
        messageId: 'bad-1',
        errors: [{ path: '/batch/1/event' }],
      });
      expect(body.rejected[1].errors[0]).toMatchObject({ path: '/batch/3/type' });
      expect(body.rejected[2].errors[0].message).toMatch(/userId or anonymousId/);
      expect((await profile('42')).json().traits).toEqual({ plan: 'pro' });
    });

    it('refuses an event nested too deeply, naming where, and keeps the rest of its batch', async () => {
      // 5,000 arrays deep fits in 32 KB; serialised, it once overflowed the stack: a 500 the
      // SDKs retry for ever, failing the batch's valid events with it.
      const deep = `${'['.repeat(5_000)}1${']'.repeat(5_000)}`;
      const res = await post(
        '/v1/batch',
        `{"batch":[{"type":"track","userId":"u1","event":"Deep","messageId":"deep-1","properties":{"a":${deep}}},` +
          `{"type":"track","userId":"u1","event":"Fine","messageId":"fine-1"}]}`,
      );
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ stored: 1 });
      const [rejected] = res.json<{
        rejected: { index: number; errors: { path: string; message: string }[] }[];
      }>().rejected;
      expect(rejected?.index).toBe(0);
      expect(rejected?.errors[0]?.message).toBe('is nested deeper than 64 levels');
      expect(rejected?.errors[0]?.path).toBe(`/batch/0/properties/a${'/0'.repeat(63)}`);
    });

    it('refuses a deeply nested amount, time, birthday or consent answer, and keeps the rest', async () => {
      // These are checked, and quoted in their problem, before the depth of properties and
      // traits: quoting one 5,000 lists deep overflowed the stack, and the whole batch got a 500.
      const deep = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
      const bad = [
        `{"type":"track","userId":"u2","event":"Order Completed","messageId":"d-1","properties":{"total":${deep}}}`,
        `{"type":"track","userId":"u2","event":"X","messageId":"d-2","timestamp":${deep}}`,
        `{"type":"identify","userId":"u2","messageId":"d-3","traits":{"birthday":${deep}}}`,
        `{"type":"identify","userId":"u2","messageId":"d-4","traits":{"consent":{"email":${deep}}}}`,
      ];
      const res = await post(
        '/v1/batch',
        `{"batch":[${bad.join(',')},{"type":"track","userId":"u1","event":"Fine","messageId":"fine-2"}]}`,
      );
      expect(res.statusCode).toBe(200);
      const body = res.json<{
        stored: number;
        rejected: { index: number; errors: { path: string; message: string }[] }[];
      }>();
      expect(body.stored).toBe(1);
      expect(body.rejected.map((r) => r.errors[0]?.path)).toEqual([
        '/batch/0/properties/total',
        '/batch/1/timestamp',
        '/batch/2/traits/birthday',
        '/batch/3/traits/consent/email',
      ]);
      expect(body.rejected[0]?.errors[0]?.message).toMatch(
        /, not a list nested deeper than 64 levels$/,
      );
    });

    it('answers 400 when no event of a batch is valid, and for a batch that is not one', async () => {
      const none = await post('/v1/batch', { batch: [{ type: 'track' }] });
      expect(none.statusCode).toBe(400);
      expect(none.json()).toMatchObject({
        success: false,
        error: { code: 'invalid-input' },
        rejected: [{ index: 0 }],
      });
      const notBatch = await post('/v1/batch', { events: [] });
      expect(notBatch.statusCode).toBe(400);
      expect(notBatch.json().error.problems).toEqual([
        { path: '/batch', message: 'must be an array of events' },
      ]);
    });

    it('lists the first 100 invalid events of a batch and counts them all', async () => {
      // 255,000 bare zeros fit in 500 KB (548 bytes gzipped): each is an invalid event.
      const zeros = `{"batch":[${Array<string>(255_000).fill('0').join(',')}]}`;
      const none = await post('/v1/batch', gzipSync(zeros), { 'content-encoding': 'gzip' });
      expect(none.statusCode).toBe(400);
      expect(none.payload.length).toBeLessThan(64_000);
      const body = none.json<{
        error: { message: string; problems: unknown[] };
        rejected: { index: number }[];
        rejectedCount: number;
      }>();
      expect(body.error.message).toBe(
        'no event in the batch is valid (255000 events; the first 100 are listed)',
      );
      expect(body.rejected.map((r) => r.index)).toEqual([...Array(100).keys()]);
      expect(body.rejectedCount).toBe(255_000);
      expect(body.error.problems).toHaveLength(100);
      // A valid event among many invalid ones is stored, and the answer stays small.
      const mixed = await post('/v1/batch', {
        batch: [...Array<number>(300).fill(0), { type: 'track', userId: 'z', event: 'Seen' }],
      });
      expect(mixed.statusCode).toBe(200);
      expect(mixed.json()).toMatchObject({ stored: 1, rejectedCount: 300 });
      expect(mixed.json<{ rejected: unknown[] }>().rejected).toHaveLength(100);
    });

    it('takes a batch at /v1/import, where Segment’s Ruby library sends every batch', async () => {
      const answer = await post('/v1/import', {
        batch: [{ type: 'track', userId: 'rb', event: 'Signed Up', messageId: 'rb-1' }],
      });
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ stored: 1, rejected: [], rejectedCount: 0 });
      expect((await profile('rb')).statusCode).toBe(200);
    });

    it('de-duplicates a retried batch by messageId', async () => {
      const batch = {
        batch: [
          {
            type: 'track',
            userId: 'u1',
            event: 'Order Completed',
            messageId: 'm1',
            properties: { order_id: 'o1', total: 50 },
          },
        ],
      };
      expect((await post('/v1/batch', batch)).json()).toMatchObject({ stored: 1, duplicates: 0 });
      expect((await post('/v1/batch', batch)).json()).toMatchObject({
        stored: 0,
        duplicates: 1,
        accepted: 1,
      });
      expect((await profile('u1')).json().computed).toMatchObject({ frequency: 1, monetary: 50 });
    });

    it('de-duplicates a retry when another message shares its key in the recent window', async () => {
      // Two message ids whose keys in SQLite's recent-messages window are the same for "web".
      const track = async (messageId: string) =>
        (await post('/v1/track', { userId: 'u2', event: 'Clicked', messageId })).json<{
          stored: number;
          duplicates: number;
        }>();
      expect(await track('msg-164885-A')).toMatchObject({ stored: 1, duplicates: 0 });
      expect(await track('msg-367492-\u06d2')).toMatchObject({ stored: 1, duplicates: 0 });
      expect(await track('msg-164885-A')).toMatchObject({ stored: 0, duplicates: 1 });
      expect((await profile('u2')).json()).toMatchObject({ eventCount: 2 });
    });

    it('names an out-of-range time with the event’s other problems, at once', async () => {
      const answer = await post('/v1/batch', {
        batch: [
          { type: 'track', userId: 'u-1', event: 'Ok', messageId: 'ok-1' },
          { type: 'track', userId: 'u-1', messageId: 'bad-1', timestamp: '2034-06-01T12:00:00Z' },
        ],
      });
      expect(answer.statusCode).toBe(200);
      const [rejected] = answer.json<{ rejected: { errors: { path: string }[] }[] }>().rejected;
      expect(rejected?.errors.map((e) => e.path)).toEqual(['/batch/1/event', '/batch/1/timestamp']);
    });

    it('corrects the sender’s clock skew with sentAt', async () => {
      // The client clock runs one hour fast: it says it sent at 13:00 what happened at 12:59.
      await post('/v1/batch', {
        sentAt: new Date(now + 3600_000).toISOString(),
        batch: [
          {
            type: 'track',
            userId: 'u1',
            event: 'A',
            timestamp: new Date(now + 3600_000 - 60_000).toISOString(),
          },
        ],
      });
      const events = await herald.app.inject({
        url: '/v1/profiles/u1/events?limit=5',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(events.json().events[0].timestamp).toBe(new Date(now - 60_000).toISOString());
    });

    it('reads gzip bodies and rejects broken gzip with a clear 400', async () => {
      const body = gzipSync(
        JSON.stringify({ batch: [{ type: 'track', userId: 'u1', event: 'Zipped' }] }),
      );
      const ok = await post('/v1/batch', body, { 'content-encoding': 'gzip' });
      expect(ok.statusCode).toBe(200);
      // gzip's old name, as some clients and proxies still send it (RFC 9110 §8.4.1.3).
      const old = await post('/v1/batch', body, { 'content-encoding': 'x-gzip' });
      expect(old.statusCode).toBe(200);
      const bad = await post('/v1/batch', Buffer.from('not gzip at all'), {
        'content-encoding': 'gzip',
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toMatch(/not valid gzip/);
      const br = await post('/v1/batch', Buffer.from('x'), { 'content-encoding': 'br' });
      expect(br.statusCode).toBe(415);
    });

    it('answers 413 naming the limit for oversized batches, even when the gzip was small', async () => {
      const big = {
        batch: Array.from({ length: 40 }, (_, i) => ({
          type: 'track',
          userId: 'u1',
          event: 'Big',
          properties: { i, pad: 'x'.repeat(15_000) },
        })),
      };
      const res = await post('/v1/batch', gzipSync(JSON.stringify(big)), {
        'content-encoding': 'gzip',
      });
      expect(res.statusCode).toBe(413);
      expect(res.json().error.message).toMatch(/500 KB batch limit/);
      // Segment's path for historical batches has the batch limit, and says so.
      const imported = await post('/v1/import', gzipSync(JSON.stringify(big)), {
        'content-encoding': 'gzip',
      });
      expect(imported.statusCode).toBe(413);
      expect(imported.json().error.message).toMatch(/500 KB batch limit/);
      const single = await post('/v1/track', {
        userId: 'u1',
        event: 'Big',
        properties: { pad: 'x'.repeat(40_000) },
      });
      expect(single.statusCode).toBe(413);
      expect(single.json().error.message).toMatch(
        /32 KB single-event limit \(32768 bytes after decompression\)$/,
      );
      // Stored rather than compressed (gzip level 0), a body near the limit is over it as sent:
      // the answer says the limit holds there too.
      const stored = await post(
        '/v1/track',
        gzipSync(
          JSON.stringify({ userId: 'u1', event: 'Big', properties: { pad: 'x'.repeat(32_700) } }),
          {
            level: 0,
          },
        ),
        { 'content-encoding': 'gzip' },
      );
      expect(stored.statusCode).toBe(413);
      expect(stored.json().error.message).toMatch(/32768 bytes as sent and after decompression/);
    });

    it('answers 413 for a batch whose context, stored with each event, would be too large', async () => {
      const res = await post('/v1/batch', {
        context: { blob: 'x'.repeat(31_000) },
        batch: Array.from({ length: 5_000 }, () => ({ type: 'track', userId: 'u1', event: 'e' })),
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({
        error: {
          message: 'the batch is too large to store',
          problems: [{ path: '/context', message: expect.stringMatching(/4 × the batch limit/) }],
        },
      });
    });

    it('rejects an order id or device token too long to keep, and stores the rest', async () => {
      // On PostgreSQL each was past the index's limit and failed the whole batch with a 500.
      const res = await post('/v1/batch', {
        batch: [
          { type: 'track', userId: 'u1', event: 'Signed Up' },
          {
            type: 'track',
            userId: 'u2',
            event: 'Order Completed',
            properties: { order_id: 'o'.repeat(3_000), total: 10 },
          },
          {
            type: 'track',
            userId: 'u3',
            event: 'App Opened',
            context: { device: { token: 't'.repeat(3_000), type: 'ios' } },
          },
        ],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        stored: 1,
        rejected: [
          { index: 1, errors: [{ path: '/batch/1/properties/order_id' }] },
          { index: 2, errors: [{ path: '/batch/2/context/device/token' }] },
        ],
      });
    });

    it('rejects an event over 32 KB inside a batch and keeps the rest', async () => {
      const res = await post('/v1/batch', {
        batch: [
          { type: 'track', userId: 'u1', event: 'Big', properties: { pad: 'x'.repeat(33_000) } },
          { type: 'track', userId: 'u1', event: 'Small' },
        ],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().rejected[0].errors[0].message).toMatch(/limit is 32768 bytes/);
      expect(res.json().stored).toBe(1);
    });

    it('explains malformed JSON, wrong types, absurd timestamps and unstorable text', async () => {
      const malformed = await post('/v1/track', '{"userId": "u1", ');
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().error.message).toMatch(/not valid JSON/);
      // A body in Latin-1, not UTF-8: refused with where, not stored as "M\uFFFDller".
      const latin1 = Buffer.from('{"userId":"u-latin","traits":{"name":"Müller"}}', 'latin1');
      const notUtf8 = await post('/v1/identify', latin1);
      expect(notUtf8.statusCode).toBe(400);
      expect(notUtf8.json().error.message).toMatch(/not UTF-8 .*at offset 39/);
      expect((await profile('u-latin')).statusCode).toBe(404);
      const utf8 = await post('/v1/identify', Buffer.from(latin1.toString('latin1'), 'utf8'));
      expect(utf8.statusCode).toBe(200);
      const wrongType = await post('/v1/track', { userId: 'u1', event: 'X', properties: 'nope' });
      expect(wrongType.json().error.problems[0].path).toBe('/properties');
      const future = await post('/v1/track', {
        userId: 'u1',
        event: 'X',
        timestamp: '2999-01-01T00:00:00Z',
      });
      expect(future.json().error.problems[0]).toMatchObject({
        path: '/timestamp',
        message: expect.stringMatching(/in the future/),
      });
      const notDate = await post('/v1/track', { userId: 'u1', event: 'X', timestamp: 'yesterday' });
      expect(notDate.json().error.problems[0]).toMatchObject({ path: '/timestamp' });
      // Days the calendar lacks are refused, not moved into the next month.
      for (const timestamp of ['2024-02-30T10:00:00Z', '2023-02-29', '2024-04-31T23:00:00Z']) {
        const noDay = await post('/v1/track', { userId: 'u1', event: 'X', timestamp });
        expect(noDay.statusCode).toBe(400);
        expect(noDay.json().error.problems[0]).toMatchObject({
          path: '/timestamp',
          message: expect.stringMatching(/^names a day the calendar does not have/),
        });
      }
      const leapDay = await post('/v1/track', {
        userId: 'u1',
        event: 'X',
        timestamp: '2024-02-29T10:00:00Z',
      });
      expect(leapDay.statusCode).toBe(200);
      const nul = await post(
        '/v1/track',
        '{"userId":"u1","event":"X","properties":{"note":"a\\u0000b"}}',
      );
      expect(nul.json().error.problems[0]).toMatchObject({
        path: '/properties/note',
        message: expect.stringMatching(/NUL/),
      });
      const surrogate = await post(
        '/v1/track',
        '{"userId":"u1","event":"X","properties":{"s":"\\ud800"}}',
      );
      expect(surrogate.json().error.problems[0].message).toMatch(/surrogate/);
      const emoji = await post('/v1/track', {
        userId: 'ü-😀',
        event: 'Ünïcödé ✓',
        properties: { name: '名前' },
      });
      expect(emoji.statusCode).toBe(200);
      expect((await profile('ü-😀')).statusCode).toBe(200);
      const healthy = await herald.app.inject({ url: '/healthz' });
      expect(healthy.statusCode).toBe(200);
    });

    it('answers the health check 503 when the database does not answer within its deadline', async () => {
      const { store } = herald.services;
      const ping = store.ping.bind(store);
      // A database that stops answering (a partition): its ping never settles.
      store.ping = () => new Promise(() => undefined);
      try {
        const health = await herald.app.inject({ url: '/healthz' });
        expect(health.statusCode).toBe(503);
        expect(health.json()).toMatchObject({ status: 'unavailable' });
      } finally {
        store.ping = ping;
      }
      expect((await herald.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    });

    it('keeps the profile API behind the admin token however the path is encoded', async () => {
      await post('/v1/identify', { userId: 'u1' });
      for (const url of [
        '/v1/%70rofiles/u1',
        '/v1/%70rofiles/u1/events',
        '/v1/profiles/u1/%65vents',
      ]) {
        expect((await herald.app.inject({ url })).statusCode, url).toBe(401);
      }
    });

    it('keeps serving after compressed bodies that break past the limit or after valid data', async () => {
      await herald.listen();
      const bomb = Buffer.concat([gzipSync(Buffer.alloc(5_000_000)), Buffer.from('xyz')]);
      const junkAfter = Buffer.concat([gzipSync('{"batch":[]}'), Buffer.alloc(2_000_000, 7)]);
      for (const body of [bomb, junkAfter]) {
        const res = await fetch(`${herald.url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body,
        }).catch(() => undefined);
        expect([400, 413, undefined]).toContain(res?.status);
        const health = await fetch(`${herald.url}/healthz`);
        expect(health.status).toBe(200);
      }
    });

    it('lets a page read the tracking API’s answers, errors included', async () => {
      const ok = await post('/v1/track', { userId: 'u1', event: 'Viewed' });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['access-control-allow-origin']).toBe('*');
      // Before, neither had it: a browser could read no answer of the tracking API.
      const refused = await herald.app.inject({
        method: 'POST',
        url: '/v1/track',
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({ writeKey: 'not-a-key', userId: 'u1', event: 'X' }),
      });
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['access-control-allow-origin']).toBe('*');
      const personalize = await herald.app.inject({ url: '/v1/personalize?slot=hero' });
      expect(personalize.statusCode).toBe(401);
      expect(personalize.headers['access-control-allow-origin']).toBe('*');
      // No credentials: a page cannot send the customer's cookies along.
      expect(ok.headers['access-control-allow-credentials']).toBeUndefined();
    });

    it('closes a connection whose request never finishes arriving, not one whose answer takes long', async () => {
      await herald.listen();
      // Node's own default deadline (300 s) is lifted by Fastify unless it is given one; the
      // check itself runs every 30 s, past what a test waits.
      expect(herald.app.server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
      expect(herald.app.server.headersTimeout).toBe(60_000);
      expect(herald.app.server.timeout).toBe(0);
    });

    it('answers the preflight a page sends before a call with HTTP Basic or a JSON body', async () => {
      for (const [url, method] of [
        ['/v1/personalize?slot=hero&anonymousId=x', 'GET'],
        ['/v1/track', 'POST'],
        ['/v1/batch', 'POST'],
      ] as const) {
        const preflight = await herald.app.inject({
          method: 'OPTIONS',
          url,
          headers: {
            origin: 'https://shop.example',
            'access-control-request-method': method,
            'access-control-request-headers': 'authorization, content-type',
          },
        });
        expect(preflight.statusCode, url).toBe(204);
        expect(preflight.headers).toMatchObject({
          'access-control-allow-origin': '*',
          'access-control-allow-methods': method,
        });
        expect(String(preflight.headers['access-control-allow-headers'])).toMatch(
          /authorization.*content-type/,
        );
        expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
      }
      // The admin API is not for pages.
      const admin = await herald.app.inject({ method: 'OPTIONS', url: '/v1/profiles/u1' });
      expect(admin.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('keeps the profile API behind the admin token', async () => {
      await post('/v1/identify', { userId: 'u1' });
      const missing = await herald.app.inject({ url: '/v1/profiles/u1' });
      expect(missing.statusCode).toBe(401);
      expect(missing.body).toContain('the admin API needs \\"Authorization: Bearer <token>\\"');
      // A wrong token is told apart from none, without repeating it.
      const wrong = await herald.app.inject({
        url: '/v1/profiles/u1',
        headers: { authorization: 'Bearer nope' },
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.body).toContain('unknown admin token');
      expect(wrong.body).not.toContain('nope');
      expect((await profile('nobody')).statusCode).toBe(404);
      // The scheme is read in any case (RFC 9110); a token's prefix is no token.
      const asked = (authorization: string) =>
        herald.app.inject({ url: '/v1/profiles/u1', headers: { authorization } });
      expect((await asked(`bearer ${adminToken}`)).statusCode).toBe(200);
      expect((await asked(`BEARER ${adminToken}`)).statusCode).toBe(200);
      expect((await asked(`Bearer ${adminToken.slice(0, -1)}`)).statusCode).toBe(401);
      const lowerBasic = await post(
        '/v1/track',
        { userId: 'u1', event: 'X' },
        { authorization: basicAuth(writeKey).replace('Basic', 'basic') },
      );
      expect(lowerBasic.statusCode).toBe(200);
      const bad = await herald.app.inject({
        url: '/v1/profiles/u1/events?limit=0',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(bad.statusCode).toBe(400);
    });

    it('refuses a "__proto__" key where it sits: a merge would make it a hidden prototype', async () => {
      // As JSON sends it: an own key, which a key-by-key merge of traits would take for the
      // object's prototype, hiding an address from the profile's JSON while mail went to it.
      const identify = await post(
        '/v1/identify',
        '{"userId":"p1","traits":{"name":"Ada","__proto__":{"email":"hidden@example.com"}}}',
      );
      expect(identify.statusCode).toBe(400);
      expect(
        identify.json<{ rejected: { errors: { path: string; message: string }[] }[] }>().rejected[0]
          ?.errors,
      ).toEqual([
        {
          path: '/traits/__proto__',
          message: 'is the key "__proto__", which no object can hold as data',
        },
      ]);
      expect((await profile('p1')).statusCode).toBe(404);
      // A value that merely says it is kept.
      expect(
        (await post('/v1/identify', { userId: 'p2', traits: { note: '__proto__' } })).statusCode,
      ).toBe(200);
    });

    it('refuses a NUL character in an admin request where it sits, on every store', async () => {
      const asAdmin = (url: string, method: 'GET' | 'POST' = 'GET', payload?: object) =>
        herald.app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${adminToken}` },
          ...(payload === undefined ? {} : { payload }),
        });
      for (const [url, path] of [
        ['/v1/profiles/a%00b', '/params/userId'],
        ['/v1/decisions?agent=%00', '/querystring/agent'],
      ] as const) {
        const answer = await asAdmin(url);
        expect(answer.statusCode, url).toBe(400);
        expect(
          answer.json<{ error: { problems: { path: string }[] } }>().error.problems,
          url,
        ).toEqual([{ path, message: 'contains a NUL character (U+0000)' }]);
      }
      // A path parameter too long for any route is a 414, its message short.
      const long = await asAdmin(`/v1/profiles/${'a'.repeat(5_000)}`);
      expect(long.statusCode).toBe(414);
      expect(long.json<{ error: { code: string; message: string } }>().error).toMatchObject({
        code: 'uri-too-long',
      });
      expect(long.body.length).toBeLessThan(400);
      // A path that is no URL is answered in the same shape.
      const broken = await asAdmin('/v1/profiles/%ZZ');
      expect(broken.statusCode).toBe(400);
      expect(broken.json()).toMatchObject({ success: false, error: { code: 'invalid-input' } });
      const send = await asAdmin('/v1/sends', 'POST', {
        userId: 'a\u0000',
        channel: 'email',
        template: 'upsell',
      });
      expect(send.statusCode).toBe(400);
      expect(send.json<{ error: { message: string } }>().error.message).toBe(
        '/userId contains a NUL character (U+0000)',
      );
    });

    it('returns the computed profile the issue promises', async () => {
      const day = 86_400_000;
      await post('/v1/batch', {
        batch: [
          {
            type: 'identify',
            userId: 'ada',
            anonymousId: 'dev',
            traits: {
              createdAt: new Date(now - 200 * day).toISOString(),
              address: { country: 'DE' },
              consent: { email: { marketing: true } },
            },
            timestamp: new Date(now - 200 * day).toISOString(),
          },
          {
            type: 'track',
            userId: 'ada',
            event: 'Order Completed',
            properties: { order_id: 'o1', total: 1200 },
            timestamp: new Date(now - 10 * day).toISOString(),
          },
          {
            type: 'track',
            userId: 'ada',
            event: 'Product Added',
            properties: { product_id: 'p1', price: 30, quantity: 2 },
            timestamp: new Date(now - day).toISOString(),
          },
          {
            type: 'track',
            userId: 'ada',
            event: 'Email Opened',
            timestamp: new Date(now - day).toISOString(),
          },
        ],
      });
      const body = (await profile('ada')).json();
      expect(body).toMatchObject({
        userId: 'ada',
        anonymousIds: ['dev'],
        location: { country: 'DE' },
        consent: { email: { marketing: { granted: true, source: 'identify' } } },
        computed: {
          recencyDays: 10,
          frequency: 1,
          monetary: 1200,
          ltv: 1200,
          vip: true,
          lifecycleStage: 'active',
          cart: { value: 60 },
        },
      });
      expect(body.computed.engagementScore).toBeGreaterThan(0.9);
      expect(body.computed.churnRisk).toBeGreaterThan(0);
      expect(body.computed.churnRisk).toBeLessThan(0.5);
      const events = await herald.app.inject({
        url: '/v1/profiles/ada/events?limit=2',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(events.json().events.map((e: { event: string }) => e.event)).toEqual([
        'Email Opened',
        'Product Added',
      ]);
    });

    it('serves health and Prometheus metrics', async () => {
      await post('/v1/batch', {
        batch: [{ type: 'track', userId: 'u1', event: 'A' }, { type: 'track' }],
      });
      const metrics = await herald.app.inject({ url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toMatch(/herald_ingest_events_total\{outcome="stored"\} 1/);
      expect(metrics.body).toMatch(/herald_ingest_events_total\{outcome="rejected"\} 1/);
      expect(metrics.body).toMatch(
        /herald_http_request_duration_seconds_bucket\{le="0.001",route="\/v1\/batch"\}/,
      );
      expect((await herald.app.inject({ url: '/healthz' })).json()).toEqual({
        status: 'ok',
        database: factory.name,
      });
    });
  });
}
