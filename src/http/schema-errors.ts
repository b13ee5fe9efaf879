import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { AppError, pointerStep, type FieldProblem } from '../core/errors.js';

/** A string schema's pattern for text that must say something: not empty, not only spaces. */
export const NOT_BLANK = '\\S';

/** What is wrong with one field, from the validator's errors about it. */
const problemOf = (errors: readonly FastifySchemaValidationError[]): string => {
  // A choice among constants fails every branch, then the anyOf: say which values are allowed.
  const allowed = errors.flatMap((e) => (e.keyword === 'const' ? [e.params['allowedValue']] : []));
  if (allowed.length > 0 && errors.every((e) => e.keyword === 'const' || e.keyword === 'anyOf'))
    return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  // A value that may also be null (`budget: -1`) fails its own branch, the null branch and the
  // anyOf: the first in words, then "or null".
  const orNull = errors.some((e) => e.keyword === 'type' && e.params['type'] === 'null');
  const messages = errors
    .filter((e) => !(orNull && (e.keyword === 'anyOf' || e.params['type'] === 'null')))
    .map(wordsOf);
  return `${[...new Set(messages)].join('; ')}${orNull ? ', or null' : ''}`;
};

// A JSON type as a reader names it.
const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  integer: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

/** One validator error in words: `must be above 0`, not `must be > 0`. */
const wordsOf = (e: FastifySchemaValidationError): string => {
  const limit = String(e.params['limit']);
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a field this request takes';
    case 'pattern':
      return e.params['pattern'] === NOT_BLANK
        ? 'must not be blank'
        : (e.message ?? 'is not valid');
    case 'exclusiveMinimum':
      return `must be above ${limit}`;
    case 'minimum':
      return `must be at least ${limit}`;
    case 'exclusiveMaximum':
      return `must be below ${limit}`;
    case 'maximum':
      return `must be at most ${limit}`;
    case 'uniqueItems':
      return `must not name an item twice (items ${String(e.params['j'])} and ${String(e.params['i'])} are the same)`;
    case 'type': {
      const type = String(e.params['type']);
      return `must be ${type
        .split(',')
        .map((t) => TYPE_WORDS[t] ?? t)
        .join(' or ')}`;
    }
    default:
      return e.message ?? 'is not valid';
  }
};

/**
 * Where an error sits, as a JSON pointer: into the body for a body's fields (`/channel`), and
 * under the part's name for the others (`/querystring/status`, `/params/userId`). A missing or
 * an unknown property is named itself, not the object that lacks or holds it.
 */
const problemPath = (part: string, error: FastifySchemaValidationError): string => {
  const field =
    error.keyword === 'required'
      ? pointerStep(error.params['missingProperty'])
      : error.keyword === 'additionalProperties'
        ? pointerStep(error.params['additionalProperty'])
        : '';
  return `${part === 'body' ? '' : `/${part}`}${error.instancePath}${field}`;
};

/**
 * The request validator's errors as one `invalid-input` error with a problem per field
 * (`/channel must be one of "email", "sms", …`) instead of one line per failed branch of a
 * choice (`must be equal to constant` five times, then `must match a schema in anyOf`). A
 * problem with the whole body (`must be an object`) has the empty pointer, and says "the body".
 */
export const schemaErrorOf = (
  errors: readonly FastifySchemaValidationError[],
  dataVar: string,
): AppError => {
  const byPath = new Map<string, FastifySchemaValidationError[]>();
  for (const error of errors) {
    const path = problemPath(dataVar, error);
    byPath.set(path, [...(byPath.get(path) ?? []), error]);
  }
  const problems: FieldProblem[] = [...byPath].map(([path, list]) => ({
    path,
    message: problemOf(list),
  }));
  return new AppError(
    'invalid-input',
    problems.map((p) => `${p.path === '' ? 'the body' : p.path} ${p.message}`).join(', '),
    { problems },
  );
};
