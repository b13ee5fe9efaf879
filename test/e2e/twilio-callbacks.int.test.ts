import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { receiptTemplate } from '../support/builders.js';
import {
  formBodyOf,
  startFakeHttpProvider,
  type FakeHttpProvider,
} from '../support/fake-http-provider.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { postAsTwilio } from '../support/twilio.js';

// 18:00 UTC: out of quiet hours in every US zone (14:00 in New York, 08:00 in Honolulu), where
// a +1 number with no state may be.
const T0 = Date.UTC(2026, 5, 3, 18);
const PUBLIC = 'https://herald.example.com';
const accountSid = 'AC00000000000000000000000000000000';
const token = 'twilio-auth-token-0001';
const sqlite = storeFactories.find((f) => f.name === 'sqlite');

describe('Twilio status callbacks', () => {
  let herald: TestHerald;
  let clock: VirtualClock;
  const closing: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await herald.close();
    for (const close of closing.splice(0)) await close();
  });
  const start = async (baseUrl: string, env: Record<string, string>, configYaml = '') => {
    if (sqlite === undefined) throw new Error('no sqlite store factory');
    clock = createVirtualClock(T0);
    herald = await startHerald(sqlite, {
      clock,
      configYaml,
      templates: { receipt: receiptTemplate },
      env: {
        HERALD_PUBLIC_URL: PUBLIC,
        HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
        HERALD_TWILIO_ACCOUNT_SID: accountSid,
        HERALD_TWILIO_AUTH_TOKEN: token,
        HERALD_TWILIO_BASE_URL: baseUrl,
        ...env,
      },
    });
  };
  const send = async (userId: string, template: string) =>
    (
      await adminCall(herald, 'POST', '/v1/sends', { userId, channel: 'sms', template, data: {} })
    ).json<{ decisionId: string; status: string; reasonCode: string | null }>();
  const statusOf = (path: string, fields: Record<string, string>) =>
    postAsTwilio(herald, { publicUrl: PUBLIC, token }, path, new URLSearchParams(fields));
  const messageOf = async (id: string) =>
    (await adminCall(herald, 'GET', `/v1/messages/${id}`)).json<{
      status: string;
      reasonCode: string | null;
      providerId: string;
    }>();

  it("marks a text sent when an earlier attempt's 'sent' comes after the last attempt's failure", async () => {
    // Twilio takes each attempt but never answers in time: both attempts give up waiting.
    const callbacks: string[] = [];
    const server = createServer((request) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        callbacks.push(new URLSearchParams(body).get('StatusCallback') ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closing.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    });
    await start(
      `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
      { HERALD_TWILIO_FROM: '+15005550006' },
      'deliver:\n  timeoutSeconds: 0.5\n  maxAttempts: 2\n',
    );
    await ingestCall(herald, clock, 'identify', {
      userId: 'ann',
      traits: { phone: '+14155550142', consent: { sms: { marketing: true } } },
    });
    const { decisionId } = await send('ann', 'upsell');
    await herald.services.dispatcher.runDue();
    for (let i = 0; i < 5 && (await messageOf(decisionId)).status !== 'failed'; i += 1) {
      clock.set(clock.nowMs() + 3_600_000);
      await herald.services.dispatcher.runDue();
    }
    expect(await messageOf(decisionId)).toMatchObject({
      status: 'failed',
      reasonCode: 'retries_exhausted',
    });
    expect(callbacks).toHaveLength(2);
    const [first = '', second = ''] = callbacks.map((c) => c.slice(PUBLIC.length));
    const to = '+14155550142';
    // The second attempt (SM2) failed; the first (SM1) went through, reported after.
    await statusOf(second, {
      MessageSid: 'SM2',
      To: to,
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
    });
    await statusOf(first, { MessageSid: 'SM1', To: to, MessageStatus: 'sent' });
    const events = await herald.services.store.listEvents(toCustomerId('ann'), 100);
    expect(events.map((e) => e.name)).toContain('SMS Undelivered');
    expect((await messageOf(decisionId)).status).toBe('sent');
  });

  it('suppresses a number a Messaging Service reports refused (21610) in the callback', async () => {
    // A Messaging Service queues every request (201) and reports a refusal in the callback.
    const twilio: FakeHttpProvider = await startFakeHttpProvider((_scenario, request) => ({
      status: 201,
      body: {
        sid: `SM${String(twilio.requests().length).padStart(32, '0')}`,
        account_sid: accountSid,
        to: formBodyOf(request).get('To'),
        status: 'accepted',
        error_code: null,
      },
    }));
    closing.push(() => twilio.stop());
    await start(twilio.baseUrl, {
      HERALD_TWILIO_MESSAGING_SERVICE_SID: 'MG00000000000000000000000000000000',
    });
    await ingestCall(herald, clock, 'identify', {
      userId: 'al',
      traits: { phone: '+14155550123', consent: { sms: { marketing: true } } },
    });
    const { decisionId } = await send('al', 'receipt');
    await herald.services.dispatcher.runDue();
    const sent = await messageOf(decisionId);
    expect(sent.status).toBe('sent');
    clock.set(clock.nowMs() + 60_000);
    const reported = await statusOf(`/webhooks/twilio/status?message=${decisionId}&attempt=1`, {
      MessageSid: sent.providerId,
      MessageStatus: 'failed',
      ErrorCode: '21610',
      To: '+14155550123',
    });
    expect(reported.statusCode).toBe(204);
    clock.set(clock.nowMs() + 60_000);
    expect(await send('al', 'receipt')).toMatchObject({ reasonCode: 'no_recipient' });
  });
});
