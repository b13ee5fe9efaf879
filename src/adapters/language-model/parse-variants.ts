import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Result } from '../../core/result.js';
import { err, ok } from '../../core/result.js';
import type { GeneratedVariant } from '../../ports/language-model.js';

const variantSchema = Type.Object({
  subject: Type.String(),
  preheader: Type.String(),
  body: Type.String(),
  cta: Type.String(),
  citations: Type.Array(Type.String()),
});

const replySchema = Type.Object({ variants: Type.Array(variantSchema, { minItems: 1 }) });

type Reply = Static<typeof replySchema>;

/**
 * The variants in a model's JSON reply, or what is wrong with it: not JSON, or not
 * `{ variants: [{ subject, preheader, body, cta, citations }] }` with at least one variant.
 * Extra properties are dropped; nothing is checked against the request here.
 */
export const parseVariants = (content: string): Result<GeneratedVariant[], string> => {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    return err(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const first = Value.Errors(replySchema, value).First();
  if (first !== undefined) return err(`${first.path || '/'} ${first.message}`);
  return ok(
    (value as Reply).variants.map(({ subject, preheader, body, cta, citations }) => ({
      subject,
      preheader,
      body,
      cta,
      citations,
    })),
  );
};
