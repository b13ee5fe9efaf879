import { afterEach, describe, expect, it } from 'vitest';
import { describeChannelAdapter } from '../../../test/contract/describe-channel-adapter.js';
import {
  jsonBodyOf,
  startFakeHttpProvider,
  type FakeAnswer,
  type FakeHttpProvider,
  type RespondFn,
} from '../../../test/support/fake-http-provider.js';
import { toCustomerId } from '../../core/ids.js';
import type { Delivery } from '../../ports/channel-adapter.js';
import { createSendGridAdapter, toSendGridAddress } from './sendgrid.js';

// The fake states its own clock in `Date`, so the wait it asks for is exact.
const fakeNowMs = Date.UTC(2026, 0, 15, 9, 30, 0);
const resetInSeconds = 37;

const sendGridErrors = (...errors: { message: string; field: string | null }[]) => ({
  errors: errors.map((error) => ({ ...error, help: null })),
});

/** SendGrid's documented answers, one per scenario. */
const respond: RespondFn = (scenario) => {
  switch (scenario) {
    case 'accept':
      return { status: 202, headers: { 'x-message-id': 'sg-msg-14c5d75ce93' } };
    case 'rate-limited':
      return {
        status: 429,
        headers: {
          date: new Date(fakeNowMs).toUTCString(),
          'x-ratelimit-limit': '600',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(fakeNowMs / 1000 + resetInSeconds),
        },
        body: sendGridErrors({ message: 'too many requests', field: null }),
      };
    case 'server-error':
      return { status: 503, body: 'Service Unavailable' };
    case 'rejected':
      return {
        status: 400,
        body: sendGridErrors({
          message: 'The from email does not contain a valid address.',
          field: 'from.email',
        }),
      };
    case 'bad-recipient':
      return {
        status: 400,
        body: sendGridErrors({
          message: 'Does not contain a valid address.',
          field: 'personalizations.0.to.0.email',
        }),
      };
  }
};

const anEmail = (content: Partial<Delivery['content']> = {}): Delivery => ({
  messageId: 'msg-0001',
  customerId: toCustomerId('u-42'),
  channel: 'email',
  class: 'marketing',
  template: 'welcome',
  to: 'ada@example.org',
  content: {
    subject: 'Welcome aboard',
    preheader: null,
    body: 'Hello Ada',
    html: '<p>Hello Ada</p>',
    from: 'Herald Shop <news@shop.example>',
    replyTo: 'help@shop.example',
    footerAddress: '1 Main St',
    unsubscribeUrl: 'https://shop.example/u/abc',
    ...content,
  },
});

const start = async (answer: RespondFn = respond) => {
  const fake = await startFakeHttpProvider(answer);
  const adapter = createSendGridAdapter({
    apiKey: 'SG.test-key',
    baseUrl: fake.baseUrl,
    timeoutMs: 1000,
    messageIdDomain: 'shop.example',
  });
  return { fake, adapter };
};

describeChannelAdapter({
  name: 'sendgrid',
  channel: 'email',
  delivery: anEmail(),
  retryAfterMs: resetInSeconds * 1000,
  start: async () => {
    const { fake, adapter } = await start();
    return { ...fake, adapter };
  },
});

const signal = () => new AbortController().signal;

describe('createSendGridAdapter', () => {
  let fake: FakeHttpProvider | undefined;
  afterEach(async () => {
    await fake?.stop();
    fake = undefined;
  });

  const sendOnce = async (delivery: Delivery, answer?: RespondFn) => {
    const started = await start(answer);
    fake = started.fake;
    const outcome = await started.adapter.send(delivery, signal());
    return { outcome, request: started.fake.lastRequest() };
  };

  it('posts the documented Mail Send body with the key as a bearer token', async () => {
    const { outcome, request } = await sendOnce(anEmail());
    expect(outcome).toEqual({ kind: 'sent', providerId: 'sg-msg-14c5d75ce93' });
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v3/mail/send');
    expect(request?.headers.authorization).toBe('Bearer SG.test-key');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(jsonBodyOf(request)).toEqual({
      personalizations: [{ to: [{ email: 'ada@example.org' }] }],
      from: { email: 'news@shop.example', name: 'Herald Shop' },
      reply_to: { email: 'help@shop.example' },
      subject: 'Welcome aboard',
      content: [
        { type: 'text/plain', value: 'Hello Ada' },
        { type: 'text/html', value: '<p>Hello Ada</p>' },
      ],
      headers: {
        'Message-ID': '<msg-0001@shop.example>',
        'List-Unsubscribe': '<https://shop.example/u/abc>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      custom_args: { herald_message_id: 'msg-0001' },
      tracking_settings: {
        click_tracking: { enable: false, enable_text: false },
        open_tracking: { enable: false },
      },
    });
  });

  it('sends text alone, and no unsubscribe headers but its Message-ID, when the message has neither', async () => {
    const { request } = await sendOnce(
      anEmail({ html: null, unsubscribeUrl: null, replyTo: null }),
    );
    const body = jsonBodyOf(request);
    expect(body).toMatchObject({ content: [{ type: 'text/plain', value: 'Hello Ada' }] });
    expect(body).toHaveProperty('headers', { 'Message-ID': '<msg-0001@shop.example>' });
    expect(body).not.toHaveProperty('reply_to');
  });

  it('puts the preheader first in the HTML part, hidden, for the inbox preview', async () => {
    const { request } = await sendOnce(anEmail({ preheader: 'New in: boots' }));
    expect(jsonBodyOf(request)).toMatchObject({
      content: [
        { type: 'text/plain', value: 'Hello Ada' },
        {
          type: 'text/html',
          value:
            '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">New in: boots</div><p>Hello Ada</p>',
        },
      ],
    });
  });

  it('fails without calling SendGrid when the message has no from address', async () => {
    const { outcome } = await sendOnce(anEmail({ from: null }));
    expect(outcome.kind).toBe('failed');
    expect(fake?.requests()).toHaveLength(0);
  });

  it('reports a 202 without X-Message-Id as sent with no provider id', async () => {
    const { outcome } = await sendOnce(anEmail(), () => ({ status: 202 }));
    expect(outcome).toEqual({ kind: 'sent', providerId: null });
  });

  it('reports a 202 whose body was cut off as sent, named by its X-Message-Id', async () => {
    const { outcome } = await sendOnce(anEmail(), () => ({
      status: 202,
      headers: { 'x-message-id': 'W4ZVsEcKRkWHm4bXnO1cAg' },
      body: 'accepted, and more words than the connection carried',
      cutBody: true,
    }));
    expect(outcome).toEqual({ kind: 'sent', providerId: 'W4ZVsEcKRkWHm4bXnO1cAg' });
  });

  it.each<[string, FakeAnswer, string, 'failed' | 'suspended']>([
    [
      '401',
      {
        status: 401,
        body: sendGridErrors({
          message: 'The provided authorization grant is invalid, expired, or revoked',
          field: null,
        }),
      },
      'SendGrid answered 401: The provided authorization grant is invalid, expired, or revoked',
      'suspended',
    ],
    [
      '403',
      {
        status: 403,
        body: sendGridErrors({
          message: 'The from address does not match a verified Sender Identity.',
          field: 'from',
        }),
      },
      'SendGrid answered 403: from: The from address does not match a verified Sender Identity.',
      'suspended',
    ],
    [
      '413',
      {
        status: 413,
        body: sendGridErrors({ message: 'The JSON payload is too large.', field: null }),
      },
      'SendGrid answered 413: The JSON payload is too large.',
      'failed',
    ],
    [
      'a 400 naming the recipient and another field',
      {
        status: 400,
        body: sendGridErrors(
          { message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' },
          { message: 'The subject is required.', field: 'subject' },
        ),
      },
      'SendGrid answered 400: personalizations.0.to.0.email: Does not contain a valid address.; subject: The subject is required.',
      'failed',
    ],
  ])(
    'answers %s as %4$s (the account, or the message), quoting SendGrid',
    async (_label, answer, reason, kind) => {
      const { outcome } = await sendOnce(anEmail(), () => answer);
      expect(outcome).toEqual({ kind, reason });
    },
  );

  it('prefers Retry-After to X-RateLimit-Reset when SendGrid sends both', async () => {
    const { outcome } = await sendOnce(anEmail(), () => ({
      status: 429,
      headers: {
        date: new Date(fakeNowMs).toUTCString(),
        'retry-after': '5',
        'x-ratelimit-reset': String(fakeNowMs / 1000 + 60),
      },
    }));
    expect(outcome).toMatchObject({ kind: 'retry', afterMs: 5000 });
  });

  it('asks to retry with no wait when a 429 says nothing of one', async () => {
    const { outcome } = await sendOnce(anEmail(), () => ({ status: 429 }));
    expect(outcome).toMatchObject({ kind: 'retry', afterMs: null });
  });
});

describe('toSendGridAddress', () => {
  it.each([
    ['Herald Shop <news@shop.example>', { email: 'news@shop.example', name: 'Herald Shop' }],
    ['"Shop, Inc." <news@shop.example>', { email: 'news@shop.example', name: 'Shop, Inc.' }],
    ['<news@shop.example>', { email: 'news@shop.example' }],
    [' news@shop.example ', { email: 'news@shop.example' }],
  ])('reads %j', (value, address) => {
    expect(toSendGridAddress(value)).toEqual(address);
  });
});
