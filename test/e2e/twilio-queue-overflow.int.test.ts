// A Messaging Service's queue overflowing: Twilio takes the request (201), then fails the
// message in its status callback with 30001. Nothing left Twilio; the number is not at fault.
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { HOUR_MS, MINUTE_MS } from '../../src/core/time.js';
import { receiptTemplate } from '../support/builders.js';
import {
  formBodyOf,
  startFakeHttpProvider,
  type FakeHttpProvider,
} from '../support/fake-http-provider.js';
import {
  adminCall,
  adminGet,
  ingestCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { postAsTwilio } from '../support/twilio.js';

const T0 = Date.UTC(2026, 5, 3, 18);
const PUBLIC = 'https://herald.example.com';
const accountSid = 'AC00000000000000000000000000000000';
const token = 'twilio-auth-token-0001';

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(
    `a Twilio queue overflow after the send (${factory.name})`,
    () => {
      let herald: TestHerald;
      let twilio: FakeHttpProvider;
      let clock: VirtualClock;
      afterEach(async () => {
        await herald.close();
        await twilio.stop();
      });

      const start = async (maxAttempts = 5) => {
        twilio = await startFakeHttpProvider((_scenario, request) => ({
          status: 201,
          body: {
            sid: `SM${String(twilio.requests().length).padStart(32, '0')}`,
            account_sid: accountSid,
            to: formBodyOf(request).get('To'),
            status: 'accepted',
            error_code: null,
          },
        }));
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, {
          clock,
          templates: { receipt: receiptTemplate },
          configYaml: `deliver:\n  maxAttempts: ${String(maxAttempts)}\n`,
          env: {
            HERALD_PUBLIC_URL: PUBLIC,
            HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
            HERALD_TWILIO_ACCOUNT_SID: accountSid,
            HERALD_TWILIO_AUTH_TOKEN: token,
            HERALD_TWILIO_BASE_URL: twilio.baseUrl,
            HERALD_TWILIO_MESSAGING_SERVICE_SID: 'MG00000000000000000000000000000000',
          },
        });
        await ingestCall(herald, clock, 'identify', {
          userId: 'al',
          traits: { phone: '+14155550123', consent: { sms: { marketing: true } } },
        });
        const { decisionId } = (
          await adminCall(herald, 'POST', '/v1/sends', {
            userId: 'al',
            channel: 'sms',
            template: 'receipt',
            data: {},
          })
        ).json<{ decisionId: string }>();
        return decisionId;
      };
      const overflow = async (decisionId: string, attempt: number, code = '30001') => {
        const sid = (await herald.services.store.getMessage(decisionId))?.providerId ?? '';
        const reported = await postAsTwilio(
          herald,
          { publicUrl: PUBLIC, token },
          `/webhooks/twilio/status?message=${decisionId}&attempt=${String(attempt)}`,
          new URLSearchParams({
            MessageSid: sid,
            MessageStatus: 'failed',
            ErrorCode: code,
            To: '+14155550123',
          }),
        );
        expect(reported.statusCode).toBe(204);
      };
      const undelivered = async () =>
        (
          await adminGet<{ events: { event: string | null }[] }>(
            herald,
            '/v1/profiles/al/events?limit=50',
          )
        ).events.filter((e) => e.event === 'SMS Undelivered').length;

      it('puts the text back in the outbox, tries it again after the wait, and blames no number', async () => {
        const decisionId = await start();
        await herald.services.dispatcher.runDue();
        expect(twilio.requests()).toHaveLength(1);
        clock.set(T0 + MINUTE_MS);
        await overflow(decisionId, 1);
        const waiting = await herald.services.store.getMessage(decisionId);
        expect(waiting).toMatchObject({ status: 'queued', sentAtMs: null, attempts: 1 });
        expect(waiting?.sendAtMs).toBe(T0 + 11 * MINUTE_MS);
        // Not before the wait; after it, the second attempt goes and is the one recorded.
        await herald.services.dispatcher.runDue();
        expect(twilio.requests()).toHaveLength(1);
        clock.set(T0 + 11 * MINUTE_MS);
        await herald.services.dispatcher.runDue();
        expect(twilio.requests()).toHaveLength(2);
        expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
          status: 'sent',
          attempts: 2,
        });
        // Twilio posting the first attempt's callback again changes nothing now.
        await overflow(decisionId, 1);
        expect((await herald.services.store.getMessage(decisionId))?.status).toBe('sent');
        expect(await undelivered()).toBe(0);
        const { store } = herald.services;
        const trail = await store.auditOf(await store.pseudonymsOfCustomer(toCustomerId('al')));
        expect(
          trail
            .filter((e) => e.kind === 'result')
            .map((e) => (JSON.parse(e.data) as { status?: string }).status),
        ).toContain('queued');
        // Another failure in the callback still fails it, as the number's.
        clock.set(T0 + HOUR_MS);
        await overflow(decisionId, 2, '30005');
        expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
          status: 'failed',
          reasonCode: 'undelivered',
        });
        expect(await undelivered()).toBe(1);
      });

      it('keeps the text queued when Twilio posts the same callback again before the retry', async () => {
        const decisionId = await start();
        await herald.services.dispatcher.runDue();
        clock.set(T0 + MINUTE_MS);
        await overflow(decisionId, 1);
        clock.set(T0 + 2 * MINUTE_MS);
        await overflow(decisionId, 1);
        expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
          status: 'queued',
        });
        clock.set(T0 + 11 * MINUTE_MS);
        await herald.services.dispatcher.runDue();
        expect(twilio.requests()).toHaveLength(2);
        expect((await herald.services.store.getMessage(decisionId))?.status).toBe('sent');
      });

      it('fails it once its attempts are spent', async () => {
        const decisionId = await start(1);
        await herald.services.dispatcher.runDue();
        clock.set(T0 + MINUTE_MS);
        await overflow(decisionId, 1);
        expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
          status: 'failed',
          reasonCode: 'undelivered',
        });
        expect(twilio.requests()).toHaveLength(1);
      });
    },
  );
