import { describe, expect, it } from 'vitest';
import { signMessageToken, signToken, verifyMessageToken, verifyToken } from './signed-token.js';

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

describe('message tokens', () => {
  it('read only for the purpose they were signed for, or as a bare id signed before purposes', () => {
    const open = signMessageToken('s', 'o', 'm-1');
    const unsubscribe = signMessageToken('s', 'u', 'm-1');
    expect(verifyMessageToken('s', 'o', open)).toBe('m-1');
    expect(verifyMessageToken('s', 'u', unsubscribe)).toBe('m-1');
    expect(verifyMessageToken('s', 'u', open)).toBeNull();
    expect(verifyMessageToken('s', 'o', unsubscribe)).toBeNull();
    const bare = signToken('s', 'm-1');
    expect(verifyMessageToken('s', 'u', bare)).toBe('m-1');
    expect(verifyMessageToken('s', 'o', bare)).toBe('m-1');
    // A click's token (JSON) is no message token, nor is one under another secret.
    expect(verifyMessageToken('s', 'u', signToken('s', '{"m":"m-1","u":"https://x"}'))).toBeNull();
    expect(verifyMessageToken('t', 'u', unsubscribe)).toBeNull();
  });
});
