import { describe, expect, it } from 'vitest';
import { signToken, verifyToken } from './signed-token.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('signed tokens', () => {
  it('gives back the payload of a token it signed, and nothing for another secret', () => {
    const token = signToken('secret', '{"m":"d1","u":"https://shop.example.com/"}');
    expect(verifyToken('secret', token)).toBe('{"m":"d1","u":"https://shop.example.com/"}');
    expect(verifyToken('other', token)).toBeNull();
    expect(verifyToken('secret', 'no-dot')).toBeNull();
  });

  it('refuses a changed body, and a signature spelt otherwise for the same bytes', () => {
    const token = signToken('secret', 'payload');
    const [body = '', mac = ''] = token.split('.');
    expect(verifyToken('secret', `${body}A.${mac}`)).toBeNull();
    // 32 bytes are 43 characters, the last holding 4 bits and 2 spare: flipping a spare bit
    // decodes to the same bytes.
    const last = mac.slice(-1);
    const respelt = `${mac.slice(0, -1)}${ALPHABET[ALPHABET.indexOf(last) ^ 1] ?? ''}`;
    expect(Buffer.from(respelt, 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
    expect(verifyToken('secret', `${body}.${respelt}`)).toBeNull();
  });
});
