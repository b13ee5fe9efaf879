import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { ingestCall, startHerald, type TestHerald, adminCall } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);

const receiptYaml = `class: transactional
topic: null
subject: 'Your order'
text: 'Your order has shipped.'
whatsapp:
  name: order_shipped
  language: en_US
  parameters: []
`;

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(
    `consent, when judged and as it leaves (${factory.name})`,
    () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      beforeEach(async () => {
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, {
          clock,
          templates: { receipt: receiptYaml },
          configYaml: 'guard:\n  whatsappApprovedTemplates: [order_shipped]\n',
        });
      });
      afterEach(async () => {
        await herald.close();
      });

      const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
        adminCall(herald, method, url, body);
      const send = async (userId: string, template: string, channel: string) =>
        (await admin('POST', '/v1/sends', { userId, channel, template })).json<{
          decisionId: string;
          status: string;
          reasonCode: string | null;
        }>();
      const track = (userId: string, event: string, properties: object) =>
        ingestCall(herald, clock, 'track', { userId, event, properties });
      const messageOf = async (id: string) =>
        (await admin('GET', `/v1/messages/${id}`)).json<{
          status: string;
          reasonCode: string | null;
        }>();

      it('sends a receipt by SMS without a consent record, never by WhatsApp without an opt-in, and neither after an opt-out', async () => {
        await ingestCall(herald, clock, 'identify', {
          userId: 'wen',
          traits: { email: 'wen@example.com', phone: '+14155550100', firstName: 'Wen' },
        });
        expect(await send('wen', 'receipt', 'whatsapp')).toMatchObject({
          status: 'blocked',
          reasonCode: 'no_consent',
        });
        expect(await send('wen', 'receipt', 'sms')).toMatchObject({ status: 'queued' });
        for (const channel of ['sms', 'whatsapp', 'email'])
          await track('wen', 'Consent Updated', { channel, purpose: 'marketing', granted: false });
        for (const channel of ['sms', 'whatsapp'])
          expect(await send('wen', 'receipt', channel)).toMatchObject({
            status: 'blocked',
            reasonCode: 'unsubscribed',
          });
        // Unsubscribing from email marketing is not refusing a receipt.
        expect(await send('wen', 'receipt', 'email')).toMatchObject({ status: 'queued' });
      });

      it('refuses at hand-off a receipt queued before the customer texted STOP', async () => {
        await ingestCall(herald, clock, 'identify', {
          userId: 'sam',
          traits: { phone: '+14155550101', firstName: 'Sam' },
        });
        const queued = await send('sam', 'receipt', 'sms');
        expect(queued.status).toBe('queued');
        await track('sam', 'Unsubscribed', { channel: 'sms' });
        expect(await herald.services.dispatcher.runDue()).toBe(0);
        expect(await messageOf(queued.decisionId)).toMatchObject({
          status: 'blocked',
          reasonCode: 'unsubscribed',
        });
      });

      it('refuses at hand-off a message held for quiet hours once the customer asked for none', async () => {
        clock.set(Date.UTC(2026, 5, 4, 2)); // 22:00 in New York
        await ingestCall(herald, clock, 'identify', {
          userId: 'noa',
          traits: { email: 'noa@example.com', firstName: 'Noa' },
          context: { timezone: 'America/New_York', location: { country: 'US' } },
        });
        const held = await send('noa', 'upsell', 'email');
        expect(held.status).toBe('queued');
        clock.set(Date.UTC(2026, 5, 4, 3));
        await ingestCall(herald, clock, 'identify', {
          userId: 'noa',
          traits: { preferences: { cadence: 'never' } },
        });
        clock.set(Date.UTC(2026, 5, 4, 12, 5)); // 08:05 in New York, past quiet hours
        expect(await herald.services.dispatcher.runDue()).toBe(0);
        expect(await messageOf(held.decisionId)).toMatchObject({
          status: 'blocked',
          reasonCode: 'cadence',
        });
      });
    },
  );
}
