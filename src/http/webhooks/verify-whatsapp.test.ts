import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  toWhatsAppSignature,
  verifyWhatsAppSignature,
  whatsAppChallenge,
} from './verify-whatsapp.js';

const appSecret = '6f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e';
const payload = '{"object":"whatsapp_business_account","entry":[]}';
// Computed apart from the code under test: HMAC-SHA256 of the body under the App Secret, hex.
const metaSignature = `sha256=${createHmac('sha256', appSecret).update(payload).digest('hex')}`;

describe('verifyWhatsAppSignature', () => {
  it('accepts the signature Meta computes over the body under the App Secret', () => {
    expect(toWhatsAppSignature(appSecret, payload)).toBe(metaSignature);
    expect(verifyWhatsAppSignature({ appSecret, payload, signature: metaSignature })).toBe(true);
    // The same digest written in upper case.
    expect(
      verifyWhatsAppSignature({ appSecret, payload, signature: metaSignature.toUpperCase() }),
    ).toBe(true);
  });

  it('refuses another secret, an altered body, a bare digest and garbage', () => {
    expect(verifyWhatsAppSignature({ appSecret: 'other', payload, signature: metaSignature })).toBe(
      false,
    );
    expect(
      verifyWhatsAppSignature({ appSecret, payload: `${payload} `, signature: metaSignature }),
    ).toBe(false);
    expect(
      verifyWhatsAppSignature({
        appSecret,
        payload,
        signature: metaSignature.slice('sha256='.length),
      }),
    ).toBe(false);
    expect(verifyWhatsAppSignature({ appSecret, payload, signature: '' })).toBe(false);
  });
});

describe('whatsAppChallenge', () => {
  const query = {
    'hub.mode': 'subscribe',
    'hub.verify_token': 'tok-123',
    'hub.challenge': '1158201444',
  };

  it('echoes the challenge for the configured token', () => {
    expect(whatsAppChallenge(query, 'tok-123')).toBe('1158201444');
  });

  it('refuses another token, another mode, no challenge, and any token when none is configured', () => {
    expect(whatsAppChallenge(query, 'tok-124')).toBeNull();
    expect(whatsAppChallenge({ ...query, 'hub.mode': 'unsubscribe' }, 'tok-123')).toBeNull();
    expect(whatsAppChallenge({ ...query, 'hub.challenge': undefined }, 'tok-123')).toBeNull();
    expect(whatsAppChallenge({ ...query, 'hub.verify_token': '' }, '')).toBeNull();
  });
});
