import { describe, expect, it } from 'vitest';
import { composeVariants } from './compose.js';
import { checkLiquid } from './liquid-allowed.js';
import { aDocument } from './test-builders.js';

const copy = (
  body: string,
  fields: Partial<Record<'subject' | 'preheader' | 'cta', string>> = {},
) => ({
  subject: 'Your Premium Widget',
  preheader: 'Gold members get priority support',
  body,
  cta: 'Have a look',
  ...fields,
});

describe('checkLiquid', () => {
  it('allows the Liquid the composer writes', () => {
    const composed = composeVariants({
      segment: 'High-Value',
      strategies: ['control', 'benefit', 'social-proof'],
      tone: 'friendly',
      retrieved: [{ doc: aDocument({ id: 'DOC1' }), score: 1, snippet: 'It syncs.' }],
      incentive: null,
      brand: { name: 'Herald Store' },
      count: 3,
    });
    if (!composed.ok) throw new Error('the composer refused');
    for (const v of composed.value) expect(checkLiquid(v)).toEqual({ ok: true });
    expect(
      checkLiquid(
        copy(
          "Hi {{customer.firstName}}, {{- customer.firstName | default: 'you' -}} {{ links.shop }}",
        ),
      ),
    ).toEqual({ ok: true });
  });

  it('names every other variable, filter and tag, in any field', () => {
    const check = checkLiquid(
      copy(
        'Hi {{ customer.firstName | default: "there" }}. Your account: {{ customer.email }} {{ customer.phone }}. {% if customer.vip %}VIP{% endif %}',
        { subject: 'For {{ customer.firstName | upcase }}', cta: 'Go {{ links.shop' },
      ),
    );
    expect(check.ok).toBe(false);
    const problems = check.ok ? [] : check.problems;
    expect(problems.map((p) => p.claim)).toEqual([
      '{{ customer.firstName | upcase }}',
      '{{ customer.email }}',
      '{{ customer.phone }}',
      '{% if customer.vip %}',
      '{% endif %}',
      '{{ links.shop',
    ]);
    expect(new Set(problems.map((p) => p.kind))).toEqual(new Set(['liquid']));
    expect(problems[0]?.reason).toMatch(/filter upcase/);
    expect(problems[1]?.reason).toMatch(
      /^prints customer\.email, which generated copy may not use/,
    );
    expect(problems[3]?.reason).toMatch(/tag if/);
    expect(problems[5]?.reason).toMatch(/never closes/);
  });

  it('does not let a default literal open another tag', () => {
    const check = checkLiquid(
      copy('Hi {{ customer.firstName | default: "{{ customer.email }}" }}'),
    );
    expect(check.ok).toBe(false);
  });
});
