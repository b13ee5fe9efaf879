import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { postAsTwilio } from '../support/twilio.js';

// 18:00 UTC: out of quiet hours in every US zone (14:00 in New York, 08:00 in Honolulu), where
// a +1 number with no state may be.
const T0 = Date.UTC(2026, 5, 3, 18);
const PUBLIC = 'https://herald.example.com';
const twilioToken = 'twilio-auth-token-0001';
const PHONE = '+14155550142';

// A first attempt that gave up waiting, which Twilio took after all, and its retry: the reports
// of each are told apart by the attempt the callback URL names.
for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(
    `reports about an attempt a retry superseded (${factory.name})`,
    () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      /** The `StatusCallback` of each Create Message request, in order. */
      let callbacks: string[] = [];
      /** What the local Twilio does with the n-th request (1-based): answer, or keep silent. */
      let onRequest: (n: number, res: ServerResponse) => Promise<void> | void = () => undefined;
      const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
          callbacks.push(new URLSearchParams(body).get('StatusCallback') ?? '');
          void onRequest(callbacks.length, res);
        });
      });
      const answer = (res: ServerResponse, sid: string) => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sid, to: PHONE, status: 'queued' }));
      };
      beforeEach(async () => {
        callbacks = [];
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, {
          clock,
          configYaml: 'deliver:\n  timeoutSeconds: 0.5\n',
          env: {
            HERALD_PUBLIC_URL: PUBLIC,
            HERALD_TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
            HERALD_TWILIO_AUTH_TOKEN: twilioToken,
            HERALD_TWILIO_FROM: '+15005550006',
            HERALD_TWILIO_BASE_URL: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
          },
        });
      });
      afterEach(async () => {
        await herald.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        );
      });
      const message = async (id: string) =>
        (await adminCall(herald, 'GET', `/v1/messages/${id}`)).json<{
          status: string;
          attempts: number;
          sendAt: string;
          providerId: string | null;
        }>();
      /** Twilio calling the status callback the n-th request named. */
      const statusOf = (n: number, fields: Record<string, string>) =>
        postAsTwilio(
          herald,
          { publicUrl: PUBLIC, token: twilioToken },
          (callbacks[n - 1] ?? '').slice(PUBLIC.length),
          new URLSearchParams({ To: PHONE, ...fields }),
        );
      const eventNames = async (userId: string) =>
        (await herald.services.store.listEvents(toCustomerId(userId), 100)).map(
          (e) => e.name ?? e.type,
        );
      /** An SMS whose first attempt gives up waiting while Twilio takes it (`SM-first`), and
       * whose retry's request hears Twilio's failure of the first before its own answer
       * (`SM-second`). */
      const retriedWhileTheFirstFails = async (userId: string): Promise<string> => {
        await ingestCall(herald, clock, 'identify', {
          userId,
          traits: { phone: PHONE, consent: { sms: { marketing: true } } },
        });
        const { decisionId } = (
          await adminCall(herald, 'POST', '/v1/sends', {
            userId,
            channel: 'sms',
            template: 'upsell',
            data: {},
          })
        ).json<{ decisionId: string }>();
        onRequest = async (n, res) => {
          if (n === 1) return;
          const late = await statusOf(1, {
            MessageSid: 'SM-first',
            MessageStatus: 'failed',
            ErrorCode: '30008',
          });
          expect(late.statusCode).toBe(204);
          answer(res, 'SM-second');
        };
        await herald.services.dispatcher.runDue();
        const waiting = await message(decisionId);
        expect(waiting).toMatchObject({ status: 'queued', attempts: 1, providerId: null });
        clock.set(Date.parse(waiting.sendAt));
        await herald.services.dispatcher.runDue();
        expect(callbacks).toHaveLength(2);
        expect(callbacks.map((url) => new URL(url).searchParams.get('attempt'))).toEqual([
          '1',
          '2',
        ]);
        return decisionId;
      };

      it('leaves the retry sent when the first attempt’s failure comes while the retry is on its way', async () => {
        const id = await retriedWhileTheFirstFails('ann');
        await statusOf(2, { MessageSid: 'SM-second', MessageStatus: 'delivered' });
        expect(await message(id)).toMatchObject({ providerId: 'SM-second', status: 'sent' });
        const names = await eventNames('ann');
        expect(names).toContain('SMS Delivered');
        expect(names).not.toContain('SMS Undelivered');
      });

      it('takes the retry’s own failure: its landline code marks the number', async () => {
        const id = await retriedWhileTheFirstFails('ben');
        await statusOf(2, {
          MessageSid: 'SM-second',
          MessageStatus: 'undelivered',
          ErrorCode: '30006',
        });
        expect(await message(id)).toMatchObject({ status: 'failed' });
        clock.set(clock.nowMs() + 60_000);
        const next = await adminCall(herald, 'POST', '/v1/sends', {
          userId: 'ben',
          channel: 'sms',
          template: 'upsell',
          data: {},
        });
        expect(next.json()).toMatchObject({ status: 'blocked', reasonCode: 'no_recipient' });
      });

      it('adds one audit entry for a status Twilio posts twice', async () => {
        await ingestCall(herald, clock, 'identify', {
          userId: 'bo',
          traits: { phone: PHONE, consent: { sms: { marketing: true } } },
        });
        const { decisionId } = (
          await adminCall(herald, 'POST', '/v1/sends', {
            userId: 'bo',
            channel: 'sms',
            template: 'upsell',
            data: {},
          })
        ).json<{ decisionId: string }>();
        onRequest = (_n, res) => {
          answer(res, 'SM-one');
        };
        await herald.services.dispatcher.runDue();
        const report = { MessageSid: 'SM-one', MessageStatus: 'undelivered', ErrorCode: '30003' };
        await statusOf(1, report);
        await statusOf(1, report);
        const results = (await herald.services.store.scanAudit(0, 1000))
          .filter((e) => e.kind === 'result')
          .map((e) => JSON.parse(e.data) as { decisionId?: string })
          .filter((d) => d.decisionId === decisionId);
        expect(results).toHaveLength(1);
      });
    },
  );
}
