import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Decision } from '../core/decision.js';
import { isAppError, type AppError } from '../core/errors.js';
import { toCustomerId } from '../core/ids.js';
import { aDecision as aDecisionFor } from '../../test/support/builders.js';
import { emptyProfile } from '../pipeline/profile/index.js';
import { createRenderer, defaultTemplates, type Template } from '../pipeline/render/index.js';
import { loadTemplates } from './load-templates.js';
import { acmeSettings } from '../pipeline/render/test-builders.js';

const examples = resolve(import.meta.dirname, '../../examples/templates');

const dirs: string[] = [];
const aTemplateDir = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-templates-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const loadError = async (dir: string): Promise<AppError> => {
  try {
    await loadTemplates(dir);
  } catch (error) {
    if (isAppError(error)) return error;
    throw error;
  }
  throw new Error('the templates loaded');
};

/** A YAML template whose MJML body is `body`, indented as a block scalar. */
const mjmlTemplate = (body: string, extra = ''): string =>
  `text: Hello\n${extra}mjml: |\n${body
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')}\n`;

const column = (inner: string): string =>
  `<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n${inner}\n</mj-column>\n</mj-section>\n</mj-body>\n</mjml>`;

const byName = (templates: Template[], name: string): Template => {
  const found = templates.find((t) => t.name === name);
  if (found === undefined) throw new Error(`no template ${name}`);
  return found;
};

/** The targets of the HTML's links, read through click-tracking redirects. */
const linkTargetsOf = (html: string): string[] =>
  [...html.matchAll(/href="([^"]+)"/g)].map(([, href = '']) => {
    const token = /\/t\/c\/([^.]+)\./.exec(href)?.[1];
    if (token === undefined) return href;
    const payload = JSON.parse(Buffer.from(token, 'base64url').toString()) as { u: string };
    return new URL(payload.u).origin + new URL(payload.u).pathname;
  });

const aDecision = (overrides: Partial<Decision> = {}): Decision =>
  aDecisionFor({
    id: 'dec-1',
    customerId: toCustomerId('ann'),
    agent: 'cart-recovery',
    trigger: { kind: 'cart-abandoned', cartUpdatedAtMs: 0 },
    action: 'send',
    template: 'cart-recovery',
    scheduledForMs: 0,
    createdAtMs: 0,
    ...overrides,
  });

describe('loadTemplates', () => {
  it('keeps the built-in templates text-only', async () => {
    const templates = await loadTemplates('');
    expect(templates.map((t) => t.name)).toEqual(defaultTemplates.map((t) => t.name));
    expect(templates.every((t) => t.html === null && t.mjml === undefined)).toBe(true);
  });

  it('compiles the MJML example into HTML with its Liquid intact and no footer', async () => {
    const template = byName(await loadTemplates(examples), 'cart-recovery');
    expect(template.mjml).toBeUndefined();
    const html = template.html ?? '';
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('href="{{ links.cart }}"');
    expect(html).toContain('<strong>{{ incentive.code }}</strong>');
    expect(html).toContain('{{ customer.firstName | default: "there" | escape }}');
    expect(html).toContain('{% for item in cart.items %}');
    expect(html.indexOf('{% if incentive %}')).toBeLessThan(html.indexOf('{{ incentive.code }}'));
    expect(html.indexOf('{% endif %}')).toBeGreaterThan(html.indexOf('{{ incentive.code }}'));
    expect(html).not.toMatch(/unsubscribe/i);
    expect(html).not.toMatch(/LIQUID\d+HERALD/);
  });

  it('renders the compiled example with the offer, the cart link and one footer', async () => {
    const templates = await loadTemplates(examples);
    const renderer = createRenderer(templates, acmeSettings);
    const profile = {
      ...emptyProfile(toCustomerId('ann'), 0),
      traits: { firstName: 'Ann <3' },
      cart: {
        items: [
          {
            productId: 'p1',
            sku: null,
            name: 'Wool socks',
            priceCents: 1200,
            quantity: 2,
            marginCents: null,
          },
        ],
        valueCents: 2400,
        updatedAtMs: 0,
      },
    };
    const render = (decision: Decision) =>
      renderer.render({
        messageClass: 'marketing',
        messageId: 'msg-1',
        channel: 'email',
        template: byName(templates, 'cart-recovery'),
        profile,
        decision,
      });
    const withOffer = render(
      aDecision({
        incentive: {
          kind: 'percent-off',
          percent: 10,
          amount: null,
          code: 'SAVE-10',
          expiresAtMs: Date.UTC(2026, 5, 5),
        },
      }),
    );
    const html = withOffer.html ?? '';
    expect(html).not.toMatch(/\{\{|\{%/);
    expect(linkTargetsOf(html)).toContain('https://acme.test/cart');
    expect(html).toContain('<strong>SAVE-10</strong>');
    // It ends as June 5 begins (UTC): valid all of June 4.
    expect(html).toMatch(/valid until\s+June 4\./);
    expect(html).toContain('Hi Ann &lt;3, you left');
    expect(html).toContain('Wool socks');
    expect(html.match(/Unsubscribe/g)).toHaveLength(1);
    expect(html.indexOf('1 Main St, Springfield')).toBeGreaterThan(
      html.indexOf('Complete your order'),
    );
    expect(withOffer.subject).toBe('Ann <3, your cart is waiting');
    const noOffer = render(aDecision());
    expect(noOffer.html).not.toContain('SAVE-10');
    expect(noOffer.html).not.toMatch(/% off if you finish today/);
  });

  it('brings Liquid through MJML untouched in attributes, conditions and multi-line tags', async () => {
    const dir = aTemplateDir({
      'liquid.yaml': mjmlTemplate(
        column(
          [
            '<mj-text>{% if cart.itemCount > 1 %}Items & more{% endif %}</mj-text>',
            '<mj-button href="{{ links.cart | append: "?utm_source=email" }}">Go</mj-button>',
            '<mj-text>{%- if customer.firstName',
            '   and cart -%}Hi {{ customer.firstName }}{%- endif -%}</mj-text>',
          ].join('\n'),
        ),
      ),
    });
    const html = byName(await loadTemplates(dir), 'liquid').html ?? '';
    expect(html).toContain('{% if cart.itemCount > 1 %}Items & more{% endif %}');
    expect(html).toContain('href="{{ links.cart | append: "?utm_source=email" }}"');
    expect(html).toContain(
      '{%- if customer.firstName\n   and cart -%}Hi {{ customer.firstName }}{%- endif -%}',
    );
  });

  it('rejects a template that gives both html and mjml', async () => {
    const dir = aTemplateDir({
      'both.yaml': mjmlTemplate(column('<mj-text>Hi</mj-text>'), 'html: <p>Hi</p>\n'),
    });
    expect((await loadError(dir)).problems).toEqual([
      { path: 'both.yaml/html', message: 'give html or mjml, not both' },
    ]);
  });

  it('rejects a preview line given both as preheader and as <mj-preview>', async () => {
    const head = '<mjml>\n<mj-head><mj-preview>Your cart misses you</mj-preview></mj-head>\n';
    const dir = aTemplateDir({
      'twice.yaml': mjmlTemplate(
        column('<mj-text>Hi</mj-text>').replace('<mjml>\n', head),
        'preheader: Your cart is waiting\n',
      ),
    });
    expect((await loadError(dir)).problems).toEqual([
      {
        path: 'twice.yaml/preheader',
        message:
          'give the preview line once: in preheader (which the guardrails read), or in <mj-preview>, not both',
      },
    ]);
    // Either alone is fine.
    const once = aTemplateDir({
      'once.yaml': mjmlTemplate(column('<mj-text>Hi</mj-text>').replace('<mjml>\n', head)),
    });
    expect(byName(await loadTemplates(once), 'once').html).toContain('Your cart misses you');
  });

  it('reports MJML validation errors with the file and the line of the markup', async () => {
    // The two-line Liquid tag on line 5 must not shift the reported line.
    const dir = aTemplateDir({
      'invalid.yaml': mjmlTemplate(
        column(
          '<mj-text>{% if customer.firstName\n and cart %}Hi{% endif %}</mj-text>\n<mj-button colour="red" href="{{ links.cart }}">Go</mj-button>',
        ),
      ),
    });
    const error = await loadError(dir);
    expect(error.code).toBe('invalid-config');
    expect(error.problems).toEqual([
      { path: 'invalid.yaml/mjml', message: 'line 7: <mj-button> Attribute colour is illegal' },
    ]);
    expect(error.message).toContain('invalid.yaml/mjml: line 7: <mj-button> Attribute colour');
  });

  it('names a Liquid tag the compiler would drop between MJML elements', async () => {
    const dir = aTemplateDir({
      'bare.yaml': mjmlTemplate(
        '<mjml>\n<mj-body>\n{% if incentive %}\n<mj-section><mj-column><mj-text>{{ incentive.code }}</mj-text></mj-column></mj-section>\n<mj-raw>{% endif %}</mj-raw>\n</mj-body>\n</mjml>',
      ),
    });
    expect((await loadError(dir)).problems).toEqual([
      {
        path: 'bare.yaml/mjml',
        message:
          'the compiler dropped the Liquid {% if incentive %}: Liquid between MJML elements must stand in <mj-raw>',
      },
    ]);
  });

  it('refuses Liquid printed where escaping cannot keep it, in HTML and in compiled MJML', async () => {
    const dir = aTemplateDir({
      'avatar.yaml': mjmlTemplate(
        '<mjml>\n<mj-body>\n<mj-section background-url="{{ customer.traits.avatar }}">\n<mj-column><mj-text>Hi</mj-text></mj-column>\n</mj-section>\n</mj-body>\n</mjml>',
      ),
      'logo.yaml':
        'text: Hi\nhtml: "<p>Hi</p>\\n<img alt={{ customer.firstName }} src=logo.png>"\n',
      'raw.yaml': 'text: Hi\nhtml: \'<td style="{{ details.css | raw }}">Hi</td>\'\n',
    });
    const problems = (await loadError(dir)).problems.map((p) => `${p.path}: ${p.message}`);
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^avatar\.yaml\/mjml: the compiled HTML, line \d+: \{\{ customer\.traits\.avatar \}\} is printed in the style attribute of <div>/,
      ),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^logo\.yaml\/html: line 2: \{\{ customer\.firstName \}\} is printed in the unquoted value of attribute alt of <img>, where escaping cannot keep a value in place/,
      ),
    );
    expect(problems.some((p) => p.startsWith('raw.yaml'))).toBe(false);
  });

  it('reports every problem of every file at once', async () => {
    const dir = aTemplateDir({
      'a-fragment.yaml': mjmlTemplate('<mj-text>Hi</mj-text>'),
      'b-schema.yaml': 'subject: 3\n',
      'c-fine.yaml': mjmlTemplate(column('<mj-text>Fine</mj-text>')),
      'd-unknown.yaml': mjmlTemplate(column('<mj-txt>Hi</mj-txt>')),
    });
    const paths = (await loadError(dir)).problems.map((p) => `${p.path}: ${p.message}`);
    expect(paths).toContainEqual(expect.stringMatching(/^a-fragment\.yaml\/mjml: Malformed MJML/));
    expect(paths).toContainEqual(expect.stringMatching(/^b-schema\.yaml\/subject: /));
    expect(paths).toContainEqual(expect.stringMatching(/^b-schema\.yaml\/text: /));
    expect(paths).toContainEqual(
      "d-unknown.yaml/mjml: line 5: <mj-txt> Element mj-txt doesn't exist or is not registered",
    );
    expect(paths.some((p) => p.startsWith('c-fine'))).toBe(false);
  });
});
