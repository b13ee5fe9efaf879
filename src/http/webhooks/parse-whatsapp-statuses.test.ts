import { describe, expect, it } from 'vitest';
import { parseWhatsAppStatuses } from './parse-whatsapp-statuses.js';

// The shape of Meta's status webhook reference, with the values of its examples.
const change = (value: object) => ({ field: 'messages', value });
const body = (...values: object[]) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: '102290129340398', changes: values.map(change) }],
});
const metadata = { display_phone_number: '15550783881', phone_number_id: '106540352242922' };

describe('parseWhatsAppStatuses', () => {
  it('reads sent, delivered, read and failed statuses, a failure with its first error', () => {
    const parsed = parseWhatsAppStatuses(
      body({
        messaging_product: 'whatsapp',
        metadata,
        statuses: [
          {
            id: 'wamid.A',
            status: 'delivered',
            timestamp: '1750263773',
            recipient_id: '16505551234',
            biz_opaque_callback_data: 'msg-1#2',
            pricing: { billable: true, pricing_model: 'PMP', category: 'utility' },
          },
          {
            id: 'wamid.B',
            status: 'failed',
            timestamp: '1750263774',
            recipient_id: '16505551235',
            errors: [
              {
                code: 131050,
                title: 'Unable to deliver the message.',
                message: 'Unable to deliver the message.',
                error_data: {
                  details:
                    'This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
                },
                href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
              },
            ],
          },
        ],
      }),
    );
    expect(parsed).toEqual({
      malformed: 0,
      statuses: [
        {
          providerId: 'wamid.A',
          messageId: 'msg-1',
          attempt: 2,
          status: 'delivered',
          atMs: 1_750_263_773_000,
          recipientId: '16505551234',
          error: null,
        },
        {
          providerId: 'wamid.B',
          messageId: null,
          status: 'failed',
          atMs: 1_750_263_774_000,
          recipientId: '16505551235',
          error: {
            code: 131050,
            detail:
              'WhatsApp error 131050: Unable to deliver the message.: This recipient has chosen to stop receiving marketing messages on WhatsApp from your business',
          },
        },
      ],
    });
  });

  it('leaves inbound messages and statuses it does not read alone, and counts malformed ones', () => {
    const parsed = parseWhatsAppStatuses(
      body(
        {
          messaging_product: 'whatsapp',
          metadata,
          messages: [{ from: '16505551234', id: 'wamid.IN', timestamp: '1', type: 'text' }],
        },
        {
          messaging_product: 'whatsapp',
          metadata,
          statuses: [
            { id: 'wamid.C', status: 'deleted', timestamp: '1750263775' },
            { id: '', status: 'sent', timestamp: '1750263775' },
            { id: 'wamid.D', status: 'sent', timestamp: 'soon' },
            'not a status',
          ],
        },
      ),
    );
    expect(parsed).toEqual({ statuses: [], malformed: 3 });
  });

  it('is not a Cloud API webhook without its object', () => {
    expect(parseWhatsAppStatuses({ object: 'page', entry: [] })).toBeNull();
    expect(parseWhatsAppStatuses([])).toBeNull();
  });
});
