import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import type { Delivery } from '../../ports/channel-adapter.js';
import { toSendGridMail } from './sendgrid.js';
import { toTwilioMessageForm } from './twilio-sms.js';
import { toWhatsAppTemplateMessage } from './whatsapp.js';

const aDelivery = (channel: Delivery['channel'], to: string, attempt?: number): Delivery => ({
  messageId: 'msg-7',
  customerId: toCustomerId('u-7'),
  channel,
  class: 'transactional',
  template: 'order-shipped',
  to,
  content: {
    subject: 'Shipped',
    preheader: null,
    body: 'On its way',
    html: null,
    from: null,
    replyTo: null,
    footerAddress: null,
    unsubscribeUrl: null,
  },
  ...(attempt === undefined ? {} : { attempt }),
});

// Each provider's report must say which attempt it is about: a retry after an attempt that gave
// up waiting is another request at the provider, with reports of its own.
describe('the attempt a send carries for its reports', () => {
  it('is in Twilio’s status callback URL, beside the message', () => {
    const form = toTwilioMessageForm(
      aDelivery('sms', '+14155550123', 3),
      { From: '+14155550100' },
      'https://herald.example/hooks/twilio',
    );
    expect(form.get('StatusCallback')).toBe(
      'https://herald.example/hooks/twilio?message=msg-7&attempt=3',
    );
  });

  it('is a SendGrid custom arg, beside the message', () => {
    const mail = toSendGridMail(
      aDelivery('email', 'ada@example.org', 2),
      'a@shop.example',
      'shop.example',
    );
    expect(mail['custom_args']).toEqual({ herald_message_id: 'msg-7', herald_attempt: '2' });
  });

  it('follows the message id in WhatsApp’s callback data', () => {
    const call = toWhatsAppTemplateMessage(
      aDelivery('whatsapp', '+4915112345678', 4),
      'order_shipped',
    );
    expect(call['biz_opaque_callback_data']).toBe('msg-7#4');
  });

  it('is left out where the delivery names none', () => {
    expect(
      toTwilioMessageForm(aDelivery('sms', '+14155550123'), { From: '+1' }, 'https://h/t').get(
        'StatusCallback',
      ),
    ).toBe('https://h/t?message=msg-7');
    expect(
      toWhatsAppTemplateMessage(aDelivery('whatsapp', '+4915112345678'), 'x')[
        'biz_opaque_callback_data'
      ],
    ).toBe('msg-7');
  });
});
