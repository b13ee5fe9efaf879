import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { firstNonUtf8Byte } from './read-body.js';

describe('firstNonUtf8Byte', () => {
  it('finds the first byte UTF-8 does not allow, and none in UTF-8', () => {
    const at = (hex: string) => firstNonUtf8Byte(Buffer.from(hex, 'hex'));
    expect(at('4dfc6c6c6572')).toBe(1); // "Müller" in Latin-1
    expect(at(Buffer.from('Müller ✓ 😀').toString('hex'))).toBe(16);
    expect(at('61c0af')).toBe(1); // an overlong "/"
    expect(at('61eda080')).toBe(1); // a surrogate
    expect(at('61f4908080')).toBe(1); // past U+10FFFF
    expect(at('61e282')).toBe(1); // cut short
    expect(at('')).toBe(0);
  });

  it('agrees with Node on which byte strings are UTF-8', () => {
    // Short random strings over the bytes that matter: ASCII, continuations, every lead.
    const pool = [0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef];
    pool.push(0xf0, 0xf4, 0xf5, 0xff);
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 20_000; n += 1) {
      const bytes = Buffer.from(
        Array.from({ length: next() % 7 }, () => pool[next() % pool.length] ?? 0),
      );
      expect(firstNonUtf8Byte(bytes) === bytes.length, bytes.toString('hex')).toBe(isUtf8(bytes));
    }
  });
});
