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
import { createWhatsAppAdapter } from './whatsapp.js';

const graphError = (
  status: number,
  code: number,
  message: string,
  details?: string,
): FakeAnswer => ({
  status,
  body: {
    error: {
      message,
      type: 'OAuthException',
      code,
      ...(details === undefined ? {} : { error_data: { messaging_product: 'whatsapp', details } }),
      fbtrace_id: 'Az8or2yhqkZfEZ-_4Qn_Bam',
    },
  },
});

/** The Cloud API's documented answers, one per scenario. */
const respond: RespondFn = (scenario) => {
  switch (scenario) {
    case 'accept':
      return {
        status: 200,
        body: {
          messaging_product: 'whatsapp',
          contacts: [{ input: '+4915112345678', wa_id: '4915112345678' }],
          messages: [{ id: 'wamid.HBgLNDkxNTExMjM0NTY3OBUCABEYEjQ1' }],
        },
      };
    case 'rate-limited':
      return graphError(400, 130429, '(#130429) Rate limit hit');
    case 'server-error':
      return graphError(500, 2, 'Service temporarily unavailable');
    case 'rejected':
      return graphError(
        404,
        132001,
        '(#132001) Template name does not exist in the translation',
        'template name (order_shipped) does not exist in en_US',
      );
    case 'bad-recipient':
      return graphError(400, 131026, '(#131026) Message undeliverable');
  }
};

const aWhatsApp = (overrides: Partial<Delivery> = {}): Delivery => ({
  messageId: 'msg-0003',
  customerId: toCustomerId('u-9'),
  channel: 'whatsapp',
  class: 'transactional',
  template: 'order-shipped',
  to: '+4915112345678',
  content: {
    subject: null,
    preheader: null,
    body: 'Hallo Ada, Bestellung A-1001 ist unterwegs',
    html: null,
    from: null,
    replyTo: null,
    footerAddress: null,
    unsubscribeUrl: null,
    whatsapp: { name: 'order_shipped', language: 'de', parameters: ['Ada', 'A-1001'] },
  },
  ...overrides,
});

const start = async (answer: RespondFn = respond) => {
  const fake = await startFakeHttpProvider(answer);
  const adapter = createWhatsAppAdapter({
    accessToken: 'EAAG-test-token',
    phoneNumberId: '106540352242922',
    baseUrl: fake.baseUrl,
    timeoutMs: 1000,
  });
  return { fake, adapter };
};

describeChannelAdapter({
  name: 'whatsapp',
  channel: 'whatsapp',
  delivery: aWhatsApp(),
  // Graph API rate-limit errors carry no Retry-After.
  retryAfterMs: null,
  start: async () => {
    const { fake, adapter } = await start();
    return { ...fake, adapter };
  },
});

const signal = () => new AbortController().signal;

describe('createWhatsAppAdapter', () => {
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

  it('posts the template with its body parameters to the phone number’s messages', async () => {
    const { outcome, request } = await sendOnce(aWhatsApp());
    expect(outcome).toEqual({ kind: 'sent', providerId: 'wamid.HBgLNDkxNTExMjM0NTY3OBUCABEYEjQ1' });
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v21.0/106540352242922/messages');
    expect(request?.headers.authorization).toBe('Bearer EAAG-test-token');
    expect(jsonBodyOf(request)).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+4915112345678',
      type: 'template',
      template: {
        name: 'order_shipped',
        language: { code: 'de' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Ada' },
              { type: 'text', text: 'A-1001' },
            ],
          },
        ],
      },
      // Echoed in the message's status webhooks.
      biz_opaque_callback_data: 'msg-0003',
    });
  });

  it('sends no components for a template without variables', async () => {
    const delivery = aWhatsApp();
    const { request } = await sendOnce({
      ...delivery,
      content: {
        ...delivery.content,
        whatsapp: { name: 'hello_world', language: 'en_US', parameters: [] },
      },
    });
    expect(jsonBodyOf(request)).toMatchObject({
      template: { name: 'hello_world', language: { code: 'en_US' } },
    });
    expect(jsonBodyOf(request)).not.toHaveProperty('template.components');
  });

  it('sends a message rendered without a WhatsApp call under its template name, in en_US', async () => {
    const delivery = aWhatsApp({ template: 'order_shipped' });
    const content = { ...delivery.content };
    delete content.whatsapp;
    const { request } = await sendOnce({ ...delivery, content });
    expect(jsonBodyOf(request)).toMatchObject({
      template: { name: 'order_shipped', language: { code: 'en_US' } },
    });
    expect(jsonBodyOf(request)).not.toHaveProperty('template.components');
  });

  it('reports a 200 whose body was cut off as sent: Meta has it, and a retry would send it twice', async () => {
    const { outcome } = await sendOnce(aWhatsApp(), () => ({
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: '+4915112345678', wa_id: '4915112345678' }],
        messages: [{ id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA' }],
      },
      cutBody: true,
    }));
    expect(outcome).toEqual({ kind: 'sent', providerId: null });
    expect(fake?.requests()).toHaveLength(1);
  });

  it('fails without calling the API when the delivery names no template', async () => {
    const { outcome } = await sendOnce(aWhatsApp({ template: null }));
    expect(outcome.kind).toBe('failed');
    expect(fake?.requests()).toHaveLength(0);
  });

  it.each([
    [400, 4, 'Application request limit reached', true],
    [400, 80007, 'Rate limit issues', true],
    [429, 130429, 'Rate limit hit', true],
    [400, 131048, 'Spam rate limit hit', true],
    // The account in maintenance mode (Meta answers it with 500): every message waits.
    [500, 131057, 'Account in maintenance mode', true],
    // One recipient's limit: the provider takes other messages meanwhile.
    [400, 131056, '(Business Account, Consumer Account) pair rate limit hit', false],
  ])(
    'asks to retry on %i with rate-limit code %i (throttled: %s)',
    async (status, code, message, throttled) => {
      const { outcome } = await sendOnce(aWhatsApp(), () => graphError(status, code, message));
      expect(outcome).toEqual({
        kind: 'retry',
        reason: `provider answered ${status}: WhatsApp error ${code}: ${message}`,
        afterMs: null,
        ...(throttled ? { throttled: true } : {}),
      });
    },
  );

  it('reports code 131026 as unreachable', async () => {
    const { outcome } = await sendOnce(aWhatsApp(), () =>
      graphError(400, 131026, 'Message undeliverable'),
    );
    expect(outcome).toEqual({
      kind: 'unreachable',
      reason: 'WhatsApp error 131026: Message undeliverable',
    });
  });

  it('reports code 131050 as the recipient opting out of marketing, not as unreachable', async () => {
    const { outcome } = await sendOnce(aWhatsApp(), () =>
      graphError(
        400,
        131050,
        'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
      ),
    );
    expect(outcome).toEqual({
      kind: 'opted-out',
      reason:
        'WhatsApp error 131050: Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
    });
  });

  it.each([
    [404, 132001, 'Template name does not exist in the translation', 'failed'],
    [400, 132000, 'Number of parameters does not match the expected number of params', 'failed'],
    [400, 132015, 'Template is paused', 'failed'],
    [401, 190, 'Error validating access token: Session has expired', 'suspended'],
    [403, 200, 'Permissions error', 'suspended'],
    [400, 131042, 'Business eligibility payment issue', 'suspended'],
    [400, 368, 'Temporarily blocked for policies violations', 'suspended'],
    [400, 133010, 'Phone number not registered', 'suspended'],
    [400, 100, 'Invalid parameter', 'failed'],
    // A test number's allowed list: the account's set-up, the recipient's number is not at fault.
    [400, 131030, 'Recipient phone number not in allowed list', 'failed'],
  ] as const)(
    'answers %i with code %i as %4$s, quoting the API',
    async (status, code, message, kind) => {
      const { outcome } = await sendOnce(aWhatsApp(), () =>
        graphError(status, code, message, 'more on the cause'),
      );
      expect(outcome).toEqual({
        kind,
        reason: `WhatsApp answered ${status}: WhatsApp error ${code}: ${message}: more on the cause`,
      });
    },
  );

  it('honours a Retry-After sent with a rate-limit error', async () => {
    const { outcome } = await sendOnce(aWhatsApp(), () => ({
      ...graphError(429, 130429, 'Rate limit hit'),
      headers: { 'retry-after': '12' },
    }));
    expect(outcome).toMatchObject({ kind: 'retry', afterMs: 12_000 });
  });

  it('asks to retry on a 5xx whose body is not a Graph error', async () => {
    const { outcome } = await sendOnce(aWhatsApp(), () => ({ status: 502, body: 'Bad Gateway' }));
    expect(outcome).toEqual({
      kind: 'retry',
      reason: 'provider answered 502: Bad Gateway',
      afterMs: null,
    });
  });
});
