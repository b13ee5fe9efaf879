import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyTwilioSignature } from './verify-twilio.js';

const authToken = 'test-auth-token-0001';
const accountSid = 'AC00000000000000000000000000000001';

describe('verifyTwilioSignature', () => {
  // Twilio's worked example (twilio-php request validation guide, Twilio security docs).
  const docsExample = {
    authToken: '12345',
    url: 'https://mycompany.com/myapp.php?foo=1&bar=2',
    params: {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+14158675309',
      Digits: '1234',
      From: '+14158675309',
      To: '+18005551212',
    },
  };

  it("accepts the signature from Twilio's documentation example", () => {
    expect(
      verifyTwilioSignature({ ...docsExample, signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' }),
    ).toBe(true);
  });

  it('accepts a signature computed here from the documented algorithm', () => {
    const url = 'https://herald.example/hooks/twilio?source=sms';
    // URL, then name+value for each parameter in name order, no delimiters.
    const signed =
      url +
      'AccountSid' +
      accountSid +
      'MessageSid' +
      'SM1' +
      'MessageStatus' +
      'delivered' +
      'To' +
      '+14155550123';
    const signature = createHmac('sha1', authToken).update(signed).digest('base64');
    const params = new URLSearchParams({
      To: '+14155550123',
      MessageStatus: 'delivered',
      AccountSid: accountSid,
      MessageSid: 'SM1',
    });
    expect(verifyTwilioSignature({ authToken, url, params, signature })).toBe(true);
    expect(
      verifyTwilioSignature({ authToken, url, params: Object.fromEntries(params), signature }),
    ).toBe(true);
  });

  it.each([
    ['a changed parameter', { params: { ...docsExample.params, Digits: '1235' } }],
    ['another URL', { url: 'https://mycompany.com/myapp.php?foo=1&bar=3' }],
    ['another auth token', { authToken: '54321' }],
    ['an added parameter', { params: { ...docsExample.params, Extra: 'x' } }],
  ])('rejects the example signature with %s', (_label, change) => {
    expect(
      verifyTwilioSignature({
        ...docsExample,
        ...change,
        signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
      }),
    ).toBe(false);
  });

  it.each(['', 'RSOYDt4T1cUTdK1PDd93/VVr8B8', 'rsoydt4t1cutdk1pdd93/vvr8b8='])(
    'rejects the malformed or altered signature %j',
    (signature) => {
      expect(verifyTwilioSignature({ ...docsExample, signature })).toBe(false);
    },
  );
});
