import { describe, expect, it } from 'vitest';
import { parseVariants } from './parse-variants.js';

const variant = { subject: 'S', preheader: 'P', body: 'B', cta: 'C', citations: ['kb-1'] };

describe('parseVariants', () => {
  it('keeps the five fields and the strategy, and drops any others', () => {
    const parsed = parseVariants(JSON.stringify({ variants: [{ ...variant, mood: 'sunny' }] }), 1);
    expect(parsed).toEqual({ ok: true, value: [variant] });
    const labelled = { ...variant, strategy: 'benefit' };
    expect(parseVariants(JSON.stringify({ variants: [labelled] }), 1)).toEqual({
      ok: true,
      value: [labelled],
    });
  });

  it('takes a strategy written as null or left blank as not said', () => {
    // JSON-mode models often write null for a field they leave out.
    for (const strategy of [null, '', '  '])
      expect(
        parseVariants(JSON.stringify({ variants: [{ ...variant, strategy }] }), 1),
        String(strategy),
      ).toEqual({ ok: true, value: [variant] });
  });

  it('rejects a reply without variants', () => {
    expect(parseVariants(JSON.stringify({ variants: [] }), 1)).toMatchObject({ ok: false });
    expect(parseVariants(JSON.stringify([variant]), 1)).toMatchObject({ ok: false });
  });

  it('rejects more or fewer variants than asked for, rather than trimming them', () => {
    const seven = JSON.stringify({ variants: Array.from({ length: 7 }, () => variant) });
    expect(parseVariants(seven, 3)).toEqual({ ok: false, error: '7 variants, asked for 3' });
    const one = JSON.stringify({ variants: [variant] });
    expect(parseVariants(one, 3)).toEqual({ ok: false, error: '1 variant, asked for 3' });
  });

  it('names the first missing field', () => {
    const withoutBody: Partial<typeof variant> = { ...variant };
    delete withoutBody.body;
    const parsed = parseVariants(JSON.stringify({ variants: [withoutBody] }), 1);
    expect(parsed.ok ? '' : parsed.error).toMatch(/^\/variants\/0\/body /);
  });
});
