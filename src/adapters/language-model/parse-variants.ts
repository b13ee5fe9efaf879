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
  // Optional: JSON-mode models often write null for a field they leave out.
  strategy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

const replySchema = Type.Object({ variants: Type.Array(variantSchema, { minItems: 1 }) });

type Reply = Static<typeof replySchema>;

/**
 * The variants in a model's JSON reply, or what is wrong with it: not JSON, not
 * `{ variants: [{ strategy?, subject, preheader, body, cta, citations }] }`, or another number
 * of variants than the `count` asked for (a reply of 7 is not trimmed to 3: the model did not
 * follow the brief). Extra properties are dropped; the copy itself is checked by the pipeline.
 */
export const parseVariants = (
  content: string,
  count: number,
): Result<GeneratedVariant[], string> => {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    return err(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const first = Value.Errors(replySchema, value).First();
  if (first !== undefined) return err(`${first.path || '/'} ${first.message}`);
  const { variants } = value as Reply;
  if (variants.length !== count)
    return err(
      `${String(variants.length)} variant${variants.length === 1 ? '' : 's'}, asked for ${String(count)}`,
    );
  return ok(
    variants.map(({ subject, preheader, body, cta, citations, strategy }) => ({
      subject,
      preheader,
      body,
      cta,
      citations,
      // Left out, null or blank: not said (the variant is taken for its planned strategy).
      ...(typeof strategy === 'string' && strategy.trim() !== '' ? { strategy } : {}),
    })),
  );
};
