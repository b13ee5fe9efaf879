import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { AppError, type FieldProblem } from '../core/errors.js';

/** A string schema's pattern for text that must say something: not empty, not only spaces. */
export const NOT_BLANK = '\\S';

/** What is wrong with one field, from the validator's errors about it. */
const problemOf = (errors: readonly FastifySchemaValidationError[]): string => {
  // A choice among constants fails every branch, then the anyOf: say which values are allowed.
  const allowed = errors.flatMap((e) => (e.keyword === 'const' ? [e.params['allowedValue']] : []));
  if (allowed.length > 0 && errors.every((e) => e.keyword === 'const' || e.keyword === 'anyOf'))
    return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  const messages = errors.map((e) =>
    e.keyword === 'additionalProperties'
      ? `must not have the property "${String(e.params['additionalProperty'])}"`
      : e.keyword === 'pattern' && e.params['pattern'] === NOT_BLANK
        ? 'must not be blank'
        : (e.message ?? 'is not valid'),
  );
  return [...new Set(messages)].join('; ');
};

/**
 * The request validator's errors as one `invalid-input` error with a problem per field
 * (`body/channel: must be one of "email", "sms", …`) instead of one line per failed branch of a
 * choice (`must be equal to constant` five times, then `must match a schema in anyOf`).
 */
export const schemaErrorOf = (
  errors: readonly FastifySchemaValidationError[],
  dataVar: string,
): AppError => {
  const byPath = new Map<string, FastifySchemaValidationError[]>();
  for (const error of errors) {
    const path = `${dataVar}${error.instancePath}`;
    byPath.set(path, [...(byPath.get(path) ?? []), error]);
  }
  const problems: FieldProblem[] = [...byPath].map(([path, list]) => ({
    path,
    message: problemOf(list),
  }));
  return new AppError('invalid-input', problems.map((p) => `${p.path} ${p.message}`).join(', '), {
    problems,
  });
};
