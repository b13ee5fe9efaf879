import { describe, expect, it } from 'vitest';
import { parseVariants } from './parse-variants.js';

const variant = { subject: 'S', preheader: 'P', body: 'B', cta: 'C', citations: ['kb-1'] };

describe('parseVariants', () => {
  it('keeps the five fields and drops any others', () => {
    const parsed = parseVariants(JSON.stringify({ variants: [{ ...variant, mood: 'sunny' }] }));
    expect(parsed).toEqual({ ok: true, value: [variant] });
  });

  it('rejects a reply without variants', () => {
    expect(parseVariants(JSON.stringify({ variants: [] }))).toMatchObject({ ok: false });
    expect(parseVariants(JSON.stringify([variant]))).toMatchObject({ ok: false });
  });

  it('names the first missing field', () => {
    const withoutBody: Partial<typeof variant> = { ...variant };
    delete withoutBody.body;
    const parsed = parseVariants(JSON.stringify({ variants: [withoutBody] }));
    expect(parsed.ok ? '' : parsed.error).toMatch(/^\/variants\/0\/body /);
  });
});
