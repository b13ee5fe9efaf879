import { Liquid } from 'liquidjs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../ports/random.js';
import { defaultTemplates } from './default-templates.js';
import {
  compileSubset,
  escapeHtmlOnce,
  HTML_LIQUID_OPTIONS,
  LIQUID_OPTIONS,
  renderSubset,
  type OutputMode,
} from './liquid-subset.js';

const engines = {
  text: new Liquid(LIQUID_OPTIONS),
  html: new Liquid(HTML_LIQUID_OPTIONS),
} satisfies Record<OutputMode, Liquid>;
const byLiquid = (text: string, scope: object, mode: OutputMode = 'text') =>
  String(engines[mode].parseAndRenderSync(text, scope));

describe('escapeHtmlOnce', () => {
  it('escapes markup, and an & that starts no character reference', () => {
    expect(escapeHtmlOnce(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&#34;x&#34; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    for (const [text, once] of [
      ['a & b', 'a &amp; b'],
      ['&amp', '&amp;amp'],
      ['& ;', '&amp; ;'],
      ['&#;', '&amp;#;'],
      ['&#x;', '&amp;#x;'],
      ['&1;', '&amp;1;'],
    ])
      expect(escapeHtmlOnce(text ?? ''), text).toBe(once);
  });

  it('leaves a character reference alone, so escaping twice is escaping once', () => {
    const text = '&amp; &lt;&gt; &#34;&#39; &quot; &nbsp; &frac12; &#x27; &#X1F600; &#128512;';
    expect(escapeHtmlOnce(text)).toBe(text);
    for (const value of ['Bo & <Co> "1" \'2\'', 'Tom &amp; Jerry & co', '<&lt;>']) {
      const once = escapeHtmlOnce(value);
      expect(escapeHtmlOnce(once)).toBe(once);
      // What liquidjs's `escape` printed stays as it printed it.
      const escaped = byLiquid('{{ v | escape }}', { v: value });
      expect(escapeHtmlOnce(escaped)).toBe(escaped);
    }
  });

  it('returns text with nothing to escape as it is', () => {
    const text = 'Ann Zoë — 20% off; see https://shop.example.com/cart?x=1';
    expect(escapeHtmlOnce(text)).toBe(text);
  });
});

describe('HTML_LIQUID_OPTIONS', () => {
  it('escapes every output once unless its last filter is raw', () => {
    const scope = { a: '<b>Bo & Co</b>', e: 'Tom &amp; Jerry', n: 5, list: ['<i>', '&'] };
    expect(
      byLiquid('<p>{{ a }}|{{ a | upcase }}|{{ e }}|{{ n }}|{{ list }}</p>', scope, 'html'),
    ).toBe(
      '<p>&lt;b&gt;Bo &amp; Co&lt;/b&gt;|&lt;B&gt;BO &amp; CO&lt;/B&gt;|Tom &amp; Jerry|5|&lt;i&gt;&amp;</p>',
    );
    expect(byLiquid('{{ a | escape }}', scope, 'html')).toBe(byLiquid('{{ a | escape }}', scope));
    expect(byLiquid('{{ a | raw }}', scope, 'html')).toBe('<b>Bo & Co</b>');
    expect(byLiquid('{{ a | raw }}', scope)).toBe('<b>Bo & Co</b>');
    expect(byLiquid('{% echo a %}', scope, 'html')).toBe('&lt;b&gt;Bo &amp; Co&lt;/b&gt;');
    expect(byLiquid('{% capture c %}{{ a }}{% endcapture %}{{ c }}', scope, 'html')).toBe(
      '&lt;b&gt;Bo &amp; Co&lt;/b&gt;',
    );
  });
});

describe('compileSubset', () => {
  it('takes text, variables, default with a quoted text, and if / else / endif', () => {
    for (const text of [
      'plain text, } and %} and { alone',
      '{{ customer.firstName }}',
      '{{customer.firstName|default:"there"}}',
      "{{ a | default: 'x' }}",
      '{% if a %}yes{% endif %}',
      '{%if a.b%}{% if c %}1{% else %}2{% endif %}{%else%}3{% endif %}',
    ])
      expect(compileSubset(text), text).not.toBeNull();
  });

  it('leaves to liquidjs whatever it does not render itself', () => {
    for (const text of [
      '{{ a | upcase }}',
      '{{ a | raw }}',
      '{{ a | escape }}',
      '{{ a | default: "x" | raw }}',
      '{{ a | default: b }}',
      '{{ a | default: 5 }}',
      '{{ a | default: "x" | default: "y" }}',
      '{{ a | default: "x", allow_false: true }}',
      '{{ a["b"] }}',
      '{{ items.size }}',
      '{{ items.first }}',
      '{{ items.last }}',
      '{{ true }}',
      '{{ nil }}',
      '{{ 5 }}',
      '{{ "text" }}',
      '{{- a }}',
      '{{ a -}}',
      '{%- if a %}x{% endif %}',
      '{% if a and b %}x{% endif %}',
      '{% if a == 1 %}x{% endif %}',
      '{% if a %}x{% elsif b %}y{% endif %}',
      '{% unless a %}x{% endunless %}',
      '{% for i in items %}{{ i }}{% endfor %}',
      '{% raw %}{{ a }}{% endraw %}',
      '{% # a comment %}',
      '{% assign a = 1 %}',
      '{% if a %}unclosed',
      '{% else %}',
      '{{ a }',
      '{{ a.1 }}',
      '{{ a..b }}',
      '{{ not }}',
      '{{ or.x }}',
      '{{ a.and }}',
      '{% if not %}y{% else %}n{% endif %}',
      '{{ contains | default: "d" }}',
      '{{\uFEFFa}}',
      '{{ a\uFEFF}}',
      '{% if a\uFEFF%}y{% endif %}',
      '{{ a\u00a0}}',
    ])
      expect(compileSubset(text), text).toBeNull();
  });

  it('compiles every built-in template, so they never wait for liquidjs', () => {
    for (const t of defaultTemplates)
      for (const text of [t.subject, t.preheader, t.text, t.html ?? ''])
        expect(compileSubset(text), `${t.name}: ${text}`).not.toBeNull();
  });
});

describe('renderSubset', () => {
  const values: unknown[] = [
    'Ann',
    '',
    ' spaced ',
    'é → ✓',
    0,
    20,
    1.5,
    -3,
    Number.NaN,
    true,
    false,
    null,
    [],
    ['a', 1, null, ['b']],
    [{}],
    {},
    { firstName: 'Bo', n: 0 },
    // What the HTML part escapes, and what it leaves alone.
    '<img src=x onerror=alert(1)>',
    'Bo & Co',
    '"q" \'s\'',
    '&amp; &lt;b&gt; &#39; &#x27; &nbsp;',
    '&amp',
    ['<b>', '&', ['"']],
    { a: '<a href="https://evil.example/">', n: '&#34;' },
  ];
  const keys = ['a', 'b', 'firstName', 'length', 'n', 'constructor', 'toString', '__proto__'];
  // Blanks between the braces and the name: ASCII ones are the subset's, others liquidjs's.
  const blanks = ['', ' ', '  ', '\n', '\t', '\uFEFF', '\u00a0'];
  const texts = [
    '',
    'Hi ',
    ', ',
    '\n',
    ' } ',
    '%} ',
    '{ ',
    '50% off ',
    'é→ ',
    '<p class="a">',
    ' & ',
  ];

  const randomScope = (pick: <T>(list: readonly T[]) => T, depth: number): object => {
    const scope: Record<string, unknown> = {};
    for (const key of keys) {
      const roll = pick([0, 1, 2, 3]);
      // An own `toString` that is not a function makes liquidjs throw: now and then only.
      if (roll === 0 || (key === 'toString' && pick([true, true, true, true, false]))) continue;
      // Defined, not assigned: an own `__proto__` key, as JSON.parse makes one.
      Object.defineProperty(scope, key, {
        value: roll === 1 && depth > 0 ? randomScope(pick, depth - 1) : pick(values),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return scope;
  };

  const randomPath = (pick: <T>(list: readonly T[]) => T): string =>
    Array.from({ length: pick([1, 1, 2, 3]) }, () => pick(keys)).join('.');

  const randomTemplate = (pick: <T>(list: readonly T[]) => T, depth: number): string => {
    let text = '';
    for (let i = pick([0, 1, 2, 3, 4]); i > 0; i -= 1) {
      const kind = pick(depth > 0 ? [0, 1, 2, 3] : [0, 1, 2]);
      if (kind === 0) text += pick(texts);
      else if (kind === 1) text += `{{${pick(blanks)}${randomPath(pick)}${pick(blanks)}}}`;
      else if (kind === 2)
        text += `{{${pick(['', ' '])}${randomPath(pick)} | default: ${pick(['"there"', "'x'", '""', '"<b>Bo & Co</b>"', "'&amp; <i>'"])} }}`;
      else {
        const otherwise = pick([true, false]) ? `{% else %}${randomTemplate(pick, depth - 1)}` : '';
        text += `{% if ${randomPath(pick)} %}${randomTemplate(pick, depth - 1)}${otherwise}{%endif%}`;
      }
    }
    return text;
  };

  it('prints what liquidjs prints, on random templates and scopes, in both modes', () => {
    const random = seededRandom(20261202);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random.next() * list.length)] as T;
    let compared = 0;
    let failed = 0;
    let escaped = 0;
    for (let i = 0; i < 6000; i += 1) {
      const text = randomTemplate(pick, 2);
      const compiled = compileSubset(text);
      if (compiled === null) continue;
      for (let j = 0; j < 4; j += 1) {
        const scope = randomScope(pick, 2);
        const mode = pick(['text', 'html'] as const);
        let expected: string | undefined;
        try {
          expected = byLiquid(text, scope, mode);
        } catch {
          // liquidjs cannot print it (an object whose toString is a text): it must be asked.
          expected = undefined;
          failed += 1;
        }
        expect(
          renderSubset(compiled, scope, mode),
          `${mode}: ${text} with ${JSON.stringify(scope)}`,
        ).toBe(expected);
        if (mode === 'html' && expected !== undefined && expected !== byLiquid(text, scope))
          escaped += 1;
        compared += 1;
      }
    }
    // The HTML mode is put to the test: many of its renders escape something.
    expect(escaped).toBeGreaterThan(1000);
    // Most generated templates are in the subset (not those with a stray "{ " before "{{", or a
    // blank beyond ASCII).
    expect(compared).toBeGreaterThan(14_000);
    expect(failed).toBeLessThan(compared / 10);
  });

  it('renders the built-in templates as liquidjs does', () => {
    const scope = {
      customer: { id: 'c1', firstName: 'Ann', lastName: null, traits: { plan: 'pro' } },
      incentive: { code: 'SAVE20', percent: 20, expiresOn: 'June 5' },
      cart: { value: '12.50', itemCount: 2, items: [] },
      brand: { name: 'Shop' },
      links: { shop: 'https://shop.example.com', cart: 'https://shop.example.com/cart' },
      details: {},
    };
    for (const s of [scope, { ...scope, customer: { id: 'c2' }, incentive: null, cart: null }])
      for (const t of defaultTemplates)
        for (const text of [t.subject, t.text]) {
          const compiled = compileSubset(text);
          expect(compiled).not.toBeNull();
          if (compiled === null) continue;
          expect(renderSubset(compiled, s)).toBe(byLiquid(text, s));
          // Ordinary data prints the same escaped: nothing in it is markup.
          expect(renderSubset(compiled, s, 'html')).toBe(byLiquid(text, s));
          expect(byLiquid(text, s, 'html')).toBe(byLiquid(text, s));
        }
  });

  it('gives up to liquidjs when a value along a path is a function or has toLiquid', () => {
    const compiled = compileSubset('{{ a.b }}');
    expect(compiled).not.toBeNull();
    if (compiled === null) return;
    expect(renderSubset(compiled, { a: { b: () => 'called' } })).toBeUndefined();
    expect(renderSubset(compiled, { a: { toLiquid: () => ({ b: 'x' }) } })).toBeUndefined();
    expect(renderSubset(compiled, { a: { b: 'plain' } })).toBe('plain');
  });
});
