import { Type, type Static } from '@sinclair/typebox';

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
  /** The text body; SMS, WhatsApp, push and web slots use it alone. */
  text: Type.String({ minLength: 1 }),
  /** The HTML body of an email; without it the text is wrapped in a minimal page. */
  html: Type.Union([Type.String(), Type.Null()], { default: null }),
  /**
   * MJML markup (Liquid allowed) that the loader compiles into `html` once, at load time; a
   * template gives `html` or `mjml`, never both, and a loaded template no longer carries it.
   */
  mjml: Type.Optional(Type.String({ minLength: 1 })),
});

export type Template = Static<typeof templateSchema>;
