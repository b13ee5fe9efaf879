import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifySendGridSignature } from './verify-sendgrid.js';

const aKeyPair = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const toBase64Der = (key: KeyObject): string =>
  key.export({ format: 'der', type: 'spki' }).toString('base64');
const signWith = (privateKey: KeyObject, timestamp: string, payload: string): string =>
  sign('sha256', Buffer.from(timestamp + payload, 'utf8'), privateKey).toString('base64');

const ours = aKeyPair();
const publicKey = toBase64Der(ours.publicKey);
const timestamp = '1764590000';
const payload =
  '[{"email":"ada@example.com","timestamp":1764590000,"event":"delivered","sg_event_id":"e1","sg_message_id":"m1.filter0001","herald_message_id":"msg-1"}]\r\n';
const signature = signWith(ours.privateKey, timestamp, payload);

describe('verifySendGridSignature', () => {
  it('accepts a body signed at that timestamp by the key pair', () => {
    expect(verifySendGridSignature({ publicKey, payload, signature, timestamp })).toBe(true);
  });

  it('accepts the body given as raw bytes', () => {
    const bytes = new TextEncoder().encode(payload);
    expect(verifySendGridSignature({ publicKey, payload: bytes, signature, timestamp })).toBe(true);
  });

  it('accepts the key in PEM form too', () => {
    const pem = ours.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(verifySendGridSignature({ publicKey: pem, payload, signature, timestamp })).toBe(true);
  });

  it("verifies SendGrid's own published example", () => {
    // The vector from SendGrid's Node verifier tests (sendgrid-nodejs, packages/eventwebhook).
    expect(
      verifySendGridSignature({
        publicKey:
          'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==',
        payload: '{"category":"example_payload","event":"test_event","message_id":"message_id"}',
        signature:
          'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=',
        timestamp: '1588788367',
      }),
    ).toBe(true);
  });

  it('rejects an altered body', () => {
    const altered = payload.replace('delivered', 'bounce');
    expect(verifySendGridSignature({ publicKey, payload: altered, signature, timestamp })).toBe(
      false,
    );
  });

  it('rejects a body whose line ending was stripped', () => {
    expect(
      verifySendGridSignature({ publicKey, payload: payload.trimEnd(), signature, timestamp }),
    ).toBe(false);
  });

  it('rejects an altered timestamp', () => {
    expect(
      verifySendGridSignature({ publicKey, payload, signature, timestamp: '1764590001' }),
    ).toBe(false);
  });

  it('rejects a signature made with another key', () => {
    const other = aKeyPair();
    const forged = signWith(other.privateKey, timestamp, payload);
    expect(verifySendGridSignature({ publicKey, payload, signature: forged, timestamp })).toBe(
      false,
    );
  });

  it('rejects the right signature checked against another key', () => {
    const otherKey = toBase64Der(aKeyPair().publicKey);
    expect(verifySendGridSignature({ publicKey: otherKey, payload, signature, timestamp })).toBe(
      false,
    );
  });

  it('rejects a key on another curve', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const sig = signWith(p384.privateKey, timestamp, payload);
    expect(
      verifySendGridSignature({
        publicKey: toBase64Der(p384.publicKey),
        payload,
        signature: sig,
        timestamp,
      }),
    ).toBe(false);
  });

  it.each([
    ['an empty signature', { signature: '' }],
    ['a signature that is not base64', { signature: '!!not a signature!!' }],
    ['base64 that is not DER', { signature: Buffer.from('garbage').toString('base64') }],
    ['a truncated signature', { signature: signature.slice(0, 20) }],
    ['an empty timestamp', { timestamp: '' }],
    ['a public key that is not a key', { publicKey: 'bm90IGEga2V5' }],
    ['an empty public key', { publicKey: '' }],
  ])('returns false, without throwing, for %s', (_label, change) => {
    const input = { publicKey, payload, signature, timestamp, ...change };
    expect(verifySendGridSignature(input)).toBe(false);
  });
});
