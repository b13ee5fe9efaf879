import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import {
  jsonBodyOf,
  startFakeHttpProvider,
  type CapturedRequest,
  type FakeAnswer,
  type FakeHttpProvider,
} from '../support/fake-http-provider.js';
import { ingestCall, startHerald, type TestHerald, adminCall } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);

/**
 * The templates this WhatsApp Business account has at Meta: name → language → the number of
 * body variables. Meta answers 132001 for a name or language it does not have and 132000 when
 * the variables do not match (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
 */
const atMeta: Record<string, Record<string, number>> = {
  order_shipped: { de: 2, en_US: 2 },
};

const graphError = (status: number, code: number, message: string): FakeAnswer => ({
  status,
  body: { error: { message, type: 'OAuthException', code, fbtrace_id: 'AbC' } },
});

/** Answers a send as the Cloud API does, checking the template against `atMeta`. */
const meta = (_: unknown, request: CapturedRequest): FakeAnswer => {
  const body = jsonBodyOf(request) as {
    to: string;
    template: {
      name: string;
      language: { code: string };
      components?: { type: string; parameters: { type: string; text: string }[] }[];
    };
  };
  const expected = atMeta[body.template.name]?.[body.template.language.code];
  if (expected === undefined)
    return graphError(404, 132001, '(#132001) Template name does not exist in the translation');
  const given = body.template.components?.find((c) => c.type === 'body')?.parameters ?? [];
  if (given.length !== expected || given.some((p) => p.text.trim() === ''))
    return graphError(
      400,
      132000,
      '(#132000) Number of parameters does not match the expected number of params',
    );
  return {
    status: 200,
    body: {
      messaging_product: 'whatsapp',
      contacts: [{ input: body.to, wa_id: body.to.slice(1) }],
      messages: [{ id: `wamid.${String(Date.now())}` }],
    },
  };
};

const shippedYaml = `class: transactional
topic: null
text: "Hallo {{ customer.firstName }}, Ihre Bestellung {{ details.orderId }} ist unterwegs."
whatsapp:
  name: order_shipped
  language: "{{ customer.traits.whatsappLanguage | default: 'en_US' }}"
  parameters:
    - "{{ customer.firstName }}"
    - "{{ details.orderId }}"
`;

// WhatsApp Business policy: an opt-in before any message, an order update too.
const optedIn = { consent: { whatsapp: { transactional: true } } };

interface MessageView {
  id: string;
  status: string;
  reasonCode: string | null;
  provider: string | null;
  content: { body: string; whatsapp?: unknown } | null;
}

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`WhatsApp templates end to end (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    let provider: FakeHttpProvider;
    let dir: string;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      provider = await startFakeHttpProvider(meta);
      dir = mkdtempSync(join(tmpdir(), 'herald-wa-'));
      writeFileSync(join(dir, 'order-shipped.yaml'), shippedYaml);
      herald = await startHerald(factory, {
        clock,
        env: {
          HERALD_TEMPLATES_DIR: dir,
          HERALD_WHATSAPP_ACCESS_TOKEN: 'EAAG-test-token',
          HERALD_WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
          HERALD_WHATSAPP_BASE_URL: provider.baseUrl,
        },
        configYaml: 'guard:\n  whatsappApprovedTemplates: [order_shipped]\n',
      });
    });
    afterEach(async () => {
      await herald.close();
      await provider.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
      adminCall(herald, method, url, body);
    const send = async (userId: string, data: object) =>
      (
        await admin('POST', '/v1/sends', {
          userId,
          channel: 'whatsapp',
          template: 'order-shipped',
          data,
        })
      ).json<{ decisionId: string; status: string; reasonCode: string | null }>();
    const message = async (id: string) =>
      (await admin('GET', `/v1/messages/${id}`)).json<MessageView>();

    it('sends the approved template by its name at Meta, in the customer’s language, with its variables', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'ada',
        traits: { phone: '+4915112345678', firstName: 'Ada', whatsappLanguage: 'de', ...optedIn },
      });
      const sent = await send('ada', { orderId: 'A-1001' });
      expect(sent.status).toBe('queued');
      expect(await herald.services.dispatcher.runDue()).toBe(1);
      expect(jsonBodyOf(provider.lastRequest())).toEqual({
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
      });
      expect(await message(sent.decisionId)).toMatchObject({
        status: 'sent',
        provider: 'whatsapp',
      });
    });

    it('blocks, naming the variable, a message Meta would refuse for an empty one', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'bo',
        traits: { phone: '+4915112345679', ...optedIn },
      });
      const sent = await send('bo', { orderId: 'A-1002' });
      expect(sent).toMatchObject({ status: 'blocked', reasonCode: 'whatsapp_parameter_missing' });
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      expect(provider.requests()).toHaveLength(0);
    });

    it('refuses a reviewer’s edit of a WhatsApp message, whose copy is Meta’s, and sends it approved as is', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'cy',
        traits: { phone: '+4915112345670', firstName: 'Cy', ...optedIn },
      });
      // A customer worth more than $5,000: every message to them waits for a person.
      await ingestCall(herald, clock, 'track', {
        userId: 'cy',
        event: 'Order Completed',
        properties: { order_id: 'o-1', revenue: 6000, currency: 'USD' },
      });
      const sent = await send('cy', { orderId: 'A-1003' });
      expect(sent.status).toBe('review');
      const edit = await admin('POST', `/v1/reviews/${sent.decisionId}/approve`, {
        reason: 'friendlier',
        edits: { body: 'Hi Cy! Your order is coming.' },
      });
      expect(edit.statusCode).toBe(400);
      expect(edit.body).toContain('WhatsApp');
      expect((await message(sent.decisionId)).status).toBe('review');
      const approved = await admin('POST', `/v1/reviews/${sent.decisionId}/approve`, {
        reason: 'fine',
      });
      expect(approved.statusCode).toBe(200);
      expect(await herald.services.dispatcher.runDue()).toBe(1);
      expect(jsonBodyOf(provider.lastRequest())).toMatchObject({
        template: { name: 'order_shipped', language: { code: 'en_US' } },
      });
    });
  });
}
