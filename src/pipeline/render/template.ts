import { Type, type Static } from '@sinclair/typebox';

/**
 * How a template goes out on WhatsApp: Meta sends only templates it approved, by their name
 * there, in one of their languages, with the body's variables (`{{1}}`, `{{2}}` …) filled from
 * parameters passed apart from the copy.
 */
export const whatsAppTemplateSchema = Type.Object({
  /**
   * The template's name at Meta (lower-case letters, digits and `_`). Default: this template's
   * name with `-` as `_` (Meta's names have no hyphens).
   */
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^[a-z0-9_]+$' })),
  /** Liquid for the language code the template is sent in (`en_US`, `de`, `pt_BR` …). */
  language: Type.String({ minLength: 1, default: 'en_US' }),
  /** Liquid for each of the body's variables, in order: `{{1}}` first. */
  parameters: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
});

export type WhatsAppTemplate = Static<typeof whatsAppTemplateSchema>;

/** A message template: Liquid text for each part; the class and topic go to the guardrails. */
export const templateSchema = Type.Object({
  name: Type.String({ minLength: 1, pattern: '^[a-z0-9][a-z0-9-]*$' }),
  class: Type.Union([Type.Literal('marketing'), Type.Literal('transactional')], {
    default: 'marketing',
  }),
  /** What the message is about, for topic preferences (`promotions`, `product-updates` …). */
  topic: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: 'promotions' }),
  subject: Type.String({ default: '' }),
  preheader: Type.String({ default: '' }),
  /**
   * The text body; SMS, WhatsApp, push and web slots use it alone. On WhatsApp it is what the
   * guardrails judge and a reviewer reads: the approved template's copy, with Liquid where its
   * variables stand.
   */
  text: Type.String({ minLength: 1 }),
  /** The HTML body of an email; without it the text is wrapped in a minimal page. */
  html: Type.Union([Type.String(), Type.Null()], { default: null }),
  /**
   * MJML markup (Liquid allowed) that the loader compiles into `html` once, at load time; a
   * template gives `html` or `mjml`, never both, and a loaded template no longer carries it.
   */
  mjml: Type.Optional(Type.String({ minLength: 1 })),
  /** The WhatsApp template this one stands for; without it, `name` as above and no variables. */
  whatsapp: Type.Optional(whatsAppTemplateSchema),
});

export type Template = Static<typeof templateSchema>;
