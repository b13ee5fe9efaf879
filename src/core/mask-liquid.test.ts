import { describe, expect, it } from 'vitest';
import { maskLiquid } from './mask-liquid.js';

describe('maskLiquid', () => {
  it('masks what /\\{\\{[\\s\\S]*?\\}\\}|\\{%[\\s\\S]*?%\\}/g does, over text put together from its pieces', () => {
    const pattern = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;
    const pieces = ['{{', '}}', '{%', '%}', '{', '}', '%', 'x', ' ', '\n', 'name'];
    let seed = 11;
    const next = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let n = 0; n < 20_000; n += 1) {
      const text = Array.from(
        { length: 1 + Math.floor(next() * 12) },
        () => pieces[Math.floor(next() * pieces.length)] ?? '',
      ).join('');
      expect(maskLiquid(text), JSON.stringify(text)).toBe(
        text.replace(pattern, (tag) => ' '.repeat(tag.length)),
      );
    }
  });

  it('reads text of many openers and no closer', () => {
    // The pattern looked for a closer from every opener: 80 KB took 1.4 s (not timed here).
    const text = `{{ name }} ${'{{'.repeat(40_000)}`;
    expect(maskLiquid(text)).toBe(`${' '.repeat(10)} ${'{{'.repeat(40_000)}`);
  });
});
