import { afterEach, describe, expect, it } from 'vitest';
import { describeChannelAdapter } from '../../../test/contract/describe-channel-adapter.js';
import {
  formBodyOf,
  startFakeHttpProvider,
  type FakeAnswer,
  type FakeHttpProvider,
  type RespondFn,
} from '../../../test/support/fake-http-provider.js';
import { toCustomerId } from '../../core/ids.js';
import type { Delivery } from '../../ports/channel-adapter.js';
import { createTwilioSmsAdapter, type TwilioSmsAdapterOptions } from './twilio-sms.js';

const accountSid = 'AC0123456789abcdef0123456789abcdef';
const authToken = 'twilio-auth-token';

const twilioError = (status: number, code: number, message: string): FakeAnswer => ({
  status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

/** Twilio's documented answers, one per scenario. */
const respond: RespondFn = (scenario, request) => {
  switch (scenario) {
    case 'accept': {
      const form = formBodyOf(request);
      return {
        status: 201,
        body: {
          sid: 'SM0123456789abcdef0123456789abcdef',
          account_sid: accountSid,
          to: form.get('To'),
          body: form.get('Body'),
          status: 'queued',
          error_code: null,
          error_message: null,
        },
      };
    }
    case 'rate-limited':
      return { ...twilioError(429, 20429, 'Too Many Requests'), headers: { 'retry-after': '3' } };
    case 'server-error':
      return twilioError(500, 20500, 'Internal Server Error');
    case 'rejected':
      return twilioError(400, 21602, 'Message body is required.');
    case 'bad-recipient':
      return twilioError(400, 21211, "The 'To' number +1555 is not a valid phone number.");
  }
};

const anSms = (): Delivery => ({
  messageId: 'msg-0002',
  customerId: toCustomerId('u-7'),
  channel: 'sms',
  class: 'transactional',
  template: 'order-shipped',
  to: '+14155550123',
  content: {
    subject: null,
    preheader: null,
    body: 'Your order has shipped & is on its way',
    html: null,
    from: null,
    replyTo: null,
    footerAddress: null,
    unsubscribeUrl: null,
  },
});

const start = async (
  answer: RespondFn = respond,
  options: Partial<TwilioSmsAdapterOptions> = { from: '+14155550100' },
) => {
  const fake = await startFakeHttpProvider(answer);
  const adapter = createTwilioSmsAdapter({
    accountSid,
    authToken,
    baseUrl: fake.baseUrl,
    timeoutMs: 1000,
    ...options,
  });
  return { fake, adapter };
};

describeChannelAdapter({
  name: 'twilio',
  channel: 'sms',
  delivery: anSms(),
  retryAfterMs: 3000,
  start: async () => {
    const { fake, adapter } = await start();
    return { ...fake, adapter };
  },
});

const signal = () => new AbortController().signal;

describe('createTwilioSmsAdapter', () => {
  let fake: FakeHttpProvider | undefined;
  afterEach(async () => {
    await fake?.stop();
    fake = undefined;
  });

  const sendOnce = async (answer?: RespondFn, options?: Partial<TwilioSmsAdapterOptions>) => {
    const started = await start(answer, options);
    fake = started.fake;
    const outcome = await started.adapter.send(anSms(), signal());
    return { outcome, request: started.fake.lastRequest() };
  };

  it('posts the form to the account Messages resource with Basic auth', async () => {
    const { outcome, request } = await sendOnce(respond, {
      from: '+14155550100',
      statusCallbackUrl: 'https://herald.example/hooks/twilio',
    });
    expect(outcome).toEqual({ kind: 'sent', providerId: 'SM0123456789abcdef0123456789abcdef' });
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
    const [scheme, credentials] = (request?.headers.authorization ?? '').split(' ');
    expect(scheme).toBe('Basic');
    expect(Buffer.from(credentials ?? '', 'base64').toString()).toBe(`${accountSid}:${authToken}`);
    expect(request?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(formBodyOf(request))).toEqual({
      To: '+14155550123',
      From: '+14155550100',
      Body: 'Your order has shipped & is on its way',
      StatusCallback: `https://herald.example/hooks/twilio?message=${anSms().messageId}`,
    });
  });

  it('reports a 201 whose body was cut off as sent: Twilio created the message', async () => {
    const { outcome } = await sendOnce((scenario, request) => ({
      ...respond('accept', request),
      cutBody: true,
    }));
    expect(outcome).toEqual({ kind: 'sent', providerId: null });
    expect(fake?.requests()).toHaveLength(1);
  });

  it('asks to retry a 400 whose body was cut off: what it refuses is not known', async () => {
    const { outcome } = await sendOnce(() => ({
      ...twilioError(400, 21211, 'invalid number'),
      cutBody: true,
    }));
    expect(outcome).toMatchObject({
      kind: 'retry',
      reason: expect.stringMatching(/^provider answered 400/),
    });
  });

  it('names the Messaging Service instead of a number when one is configured', async () => {
    const { request } = await sendOnce(respond, {
      from: '+14155550100',
      messagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
    });
    const form = formBodyOf(request);
    expect(form.get('MessagingServiceSid')).toBe('MG0123456789abcdef0123456789abcdef');
    expect(form.has('From')).toBe(false);
    expect(form.has('StatusCallback')).toBe(false);
  });

  it('refuses to be built without a sender', () => {
    expect(() => createTwilioSmsAdapter({ accountSid, authToken })).toThrow(
      'either from or messagingServiceSid',
    );
  });

  it.each([
    [21211, "The 'To' number +1555 is not a valid phone number."],
    [21614, "'To' number is not a valid mobile number"],
    [21610, 'Attempt to send to unsubscribed recipient'],
  ])('reports error %i as unreachable, with the code in the reason', async (code, message) => {
    const { outcome } = await sendOnce(() => twilioError(400, code, message));
    expect(outcome).toEqual({
      kind: 'unreachable',
      reason: `Twilio error ${code}: ${message}`,
    });
  });

  it.each([
    [400, 21602, 'Message body is required.', 'failed'],
    [401, 20003, 'Authenticate', 'suspended'],
    [401, 20005, 'Account not active', 'suspended'],
    [400, 21408, 'Permission to send an SMS has not been enabled for the region', 'failed'],
    [400, 21660, "Mismatch between the 'From' number and the account", 'suspended'],
    [400, 21601, 'Phone number is not a valid SMS-capable inbound phone number', 'suspended'],
    [400, 21212, "Invalid 'From' Number", 'suspended'],
    [400, 63038, 'Account exceeded the daily messages limit', 'suspended'],
  ] as const)(
    'answers %i with error %i as %4$s, naming code and message',
    async (status, code, message, kind) => {
      const { outcome } = await sendOnce(() => twilioError(status, code, message));
      expect(outcome).toEqual({
        kind,
        reason: `Twilio answered ${status}: Twilio error ${code}: ${message}`,
      });
    },
  );

  it('asks to retry in ten minutes when the From number’s queue is full (21611, a 400)', async () => {
    const { outcome } = await sendOnce(() =>
      twilioError(
        400,
        21611,
        "This 'From' number has exceeded the maximum number of queued messages",
      ),
    );
    expect(outcome).toEqual({
      kind: 'retry',
      reason:
        "provider answered 400: Twilio error 21611: This 'From' number has exceeded the maximum number of queued messages",
      afterMs: 600_000,
    });
  });

  it('asks to retry with no wait when a 429 carries no Retry-After', async () => {
    const { outcome } = await sendOnce(() => twilioError(429, 20429, 'Too Many Requests'));
    expect(outcome).toMatchObject({ kind: 'retry', afterMs: null });
  });

  it('reads a Retry-After given as an HTTP-date against the answer’s Date', async () => {
    const nowMs = Date.UTC(2026, 2, 1, 12, 0, 0);
    const { outcome } = await sendOnce(() => ({
      ...twilioError(429, 20429, 'Too Many Requests'),
      headers: {
        date: new Date(nowMs).toUTCString(),
        'retry-after': new Date(nowMs + 90_000).toUTCString(),
      },
    }));
    expect(outcome).toMatchObject({ kind: 'retry', afterMs: 90_000 });
  });
});
