// Configuration problems a person can act on: TypeBox's schema errors explained (a union by
// the branch its value names, the value given, the setting a misspelt key is closest to).
import { Kind, type TObject, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { FieldProblem } from '../core/errors.js';
import { quotedValue } from '../core/quoted-value.js';
import { configFields, patternWords } from './config-schema.js';

/** Edit distance with adjacent transpositions (`sned` is one slip from `send`). */
const editDistance = (a: string, b: string): number => {
  const width = b.length + 1;
  const d = Array.from({ length: (a.length + 1) * width }, (_, k) =>
    k < width ? k : k % width === 0 ? k / width : 0,
  );
  const at = (i: number, j: number): number => d[i * width + j] ?? 0;
  for (let i = 1; i <= a.length; i += 1)
    for (let j = 1; j <= b.length; j += 1) {
      let best = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * width + j] = best;
    }
  return at(a.length, b.length);
};

/**
 * The candidate `word` is most likely a slip for, ignoring case: at most one edit in three
 * characters away (`hour` for `hours`, `atrisk` for `at-risk`, `signup` for `signed-up`).
 */
const closestSpelling = (word: string, candidates: readonly string[]): string | undefined => {
  let closest: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    const allowed = Math.max(1, Math.floor(Math.max(word.length, candidate.length) / 3));
    if (distance <= allowed && (closest === undefined || distance < closest.distance))
      closest = { candidate, distance };
  }
  return closest?.candidate;
};

export const didYouMean = (word: unknown, candidates: readonly string[]): string => {
  const near = typeof word === 'string' ? closestSpelling(word, candidates) : undefined;
  return near === undefined ? '' : ` (did you mean ${near}?)`;
};

export const notASetting = (key: string, settings: readonly string[]): string =>
  `is not a setting${didYouMean(key, settings)}`;

/** Settings whose values an error never repeats. */
const secretPaths = configFields()
  .filter((f) => f.schema.secret === true)
  .map((f) => `/${f.path.join('/')}`);

/**
 * `, not <the value given>`, except for a secret — or for a value given in place of a section
 * holding one (`database: postgres://user:password@host/db` is refused as no mapping, and the
 * value is the secret's).
 */
const notGiven = (path: string, value: unknown): string => {
  if (secretPaths.some((p) => path === p || path.startsWith(`${p}/`) || p.startsWith(`${path}/`)))
    return '';
  if (typeof value === 'number' && Number.isNaN(value)) return '';
  return `, not ${quotedValue(value)}`;
};

const isObjectSchema = (schema: TSchema): schema is TObject => schema[Kind] === 'Object';

export const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The values a schema allows when it is a fixed value or a choice among fixed values. */
const fixedValues = (schema: TSchema | undefined): string[] | null => {
  if (schema === undefined) return null;
  if (schema.const !== undefined) return [String(schema.const)];
  const choices = schema.anyOf as TSchema[] | undefined;
  return choices !== undefined && choices.every((c) => c.const !== undefined)
    ? choices.map((c) => String(c.const))
    : null;
};

const items = (n: unknown): string => `${String(n)} item${n === 1 ? '' : 's'}`;

const orList = (names: readonly string[]): string =>
  names.length <= 1
    ? (names[0] ?? '')
    : `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`;

const oneOf = (names: readonly string[]): string =>
  names.length === 1 ? (names[0] ?? '') : `one of ${names.join(', ')}`;

/** Schema kinds (and the errors that name them) in words. */
const kinds: Partial<Record<string, string>> = {
  String: 'a string',
  Number: 'a number',
  Integer: 'a whole number',
  Boolean: 'true or false',
  Array: 'a list',
  Object: 'a mapping',
};

/** Keys of an object schema that pick its branch of a union: required, with fixed values. */
const tagsOf = (schema: TObject): string[] =>
  (schema.required ?? []).filter((key) => fixedValues(schema.properties[key]) !== null);

/**
 * What a mapping needs to be one of `branches`: the tag they all share (a step's `type`), else
 * each branch's required keys (`trigger or event`; `field, op and value, or event`).
 */
const needsOf = (branches: readonly TObject[]): string => {
  const shared = branches
    .flatMap(tagsOf)
    .find((key) => branches.every((b) => tagsOf(b).includes(key)));
  if (shared !== undefined) return shared;
  const needs = [
    ...new Set(
      branches.map((b) => {
        const keys = b.required ?? [];
        return keys.length <= 1
          ? keys.join('')
          : `${keys.slice(0, -1).join(', ')} and ${keys.at(-1) ?? ''}`;
      }),
    ),
  ];
  return needs.join(needs.some((n) => n.includes(' and ')) ? ', or ' : ' or ');
};

/** What a choice allows, in words: its fixed values, a mapping and what it needs, else kinds. */
const choiceMessage = (choices: readonly TSchema[], value: unknown, path: string): string => {
  const mappings = choices.filter(isObjectSchema);
  const allowed =
    mappings.length === choices.length
      ? `a mapping with ${needsOf(mappings)}`
      : oneOf([
          ...new Set(
            choices.flatMap(
              (c) =>
                fixedValues(c) ??
                (isObjectSchema(c)
                  ? [`{ ${(c.required ?? []).join(', ')} }`]
                  : [
                      typeof c.description === 'string'
                        ? c.description
                        : (kinds[c[Kind]] ?? 'another value'),
                    ]),
            ),
          ),
        ]);
  const fixed = choices.flatMap((c) => fixedValues(c) ?? []);
  return `must be ${allowed}${notGiven(path, value)}${didYouMean(value, fixed)}`;
};

/** The bounds a number or a text length may break, in words, by the schema keyword that sets each. */
const BOUNDS: readonly [ValueErrorType[], string, string, string][] = [
  [[ValueErrorType.NumberMaximum, ValueErrorType.IntegerMaximum], 'maximum', 'at most', ''],
  [[ValueErrorType.NumberMinimum, ValueErrorType.IntegerMinimum], 'minimum', 'at least', ''],
  [
    [ValueErrorType.NumberExclusiveMaximum, ValueErrorType.IntegerExclusiveMaximum],
    'exclusiveMaximum',
    'less than',
    '',
  ],
  [
    [ValueErrorType.NumberExclusiveMinimum, ValueErrorType.IntegerExclusiveMinimum],
    'exclusiveMinimum',
    'more than',
    '',
  ],
  [[ValueErrorType.StringMinLength], 'minLength', 'at least', ' characters long'],
  [[ValueErrorType.StringMaxLength], 'maxLength', 'at most', ' characters long'],
];

/** `must be at most 35791` for a bound the value breaks; null for any other error. */
const boundOf = (e: ValueError): string | null => {
  const bound = BOUNDS.find(([types]) => types.includes(e.type));
  if (bound === undefined) return null;
  const [, keyword, words, unit] = bound;
  return `must be ${words} ${String(e.schema[keyword])}${unit}`;
};

/**
 * A schema error as the problems a person can act on, each at its own path: a missing key once
 * (not again as a value of the wrong type), an unknown key with the setting its spelling is
 * closest to, a value of the wrong kind or not among the fixed ones with the value given, and a
 * union (a step, a journey's entry, a condition) explained by its branch of the value.
 */
export const describeSchemaError = (e: ValueError): FieldProblem[] => {
  if (e.value === undefined && e.type !== ValueErrorType.ObjectRequiredProperty) return [];
  const here = (message: string): FieldProblem[] => [{ path: e.path, message }];
  const length = Array.isArray(e.value) ? e.value.length : 0;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty: {
      const fixed = fixedValues(e.schema);
      return here(`is required${fixed === null ? '' : `: ${oneOf(fixed)}`}`);
    }
    case ValueErrorType.ObjectAdditionalProperties: {
      const key = (e.path.split('/').at(-1) ?? '').replaceAll('~1', '/').replaceAll('~0', '~');
      return here(
        notASetting(key, isObjectSchema(e.schema) ? Object.keys(e.schema.properties) : []),
      );
    }
    case ValueErrorType.ArrayMinItems:
      return here(`must have at least ${items(e.schema.minItems)}, not ${String(length)}`);
    case ValueErrorType.ArrayMaxItems:
      return here(`must have at most ${items(e.schema.maxItems)}, not ${String(length)}`);
    case ValueErrorType.Literal:
      return here(choiceMessage([e.schema], e.value, e.path));
    case ValueErrorType.Union:
      return describeUnionError(e);
    case ValueErrorType.StringMinLength:
      if (e.schema.minLength === 1) return here('must not be empty');
      return here(`${boundOf(e)}${notGiven(e.path, e.value)}`);
    case ValueErrorType.StringPattern: {
      const pattern = String(e.schema.pattern);
      const words = patternWords.get(pattern) ?? `text matching ${pattern}`;
      return here(`must be ${words}${notGiven(e.path, e.value)}`);
    }
    default: {
      const bound = boundOf(e);
      if (bound !== null) return here(`${bound}${notGiven(e.path, e.value)}`);
      const kind = kinds[ValueErrorType[e.type]];
      return here(kind === undefined ? e.message : `must be ${kind}${notGiven(e.path, e.value)}`);
    }
  }
};

/**
 * A value no branch of a union takes. A mapping is held to the branch its tags name (a step's
 * `type`, an entry's `trigger`, a condition's `op`), else the branch whose keys are all there
 * (`{ event }`), else the branch it shares most keys with, and that branch's own problems are
 * reported; a tag no branch takes is reported with every value the branches take.
 */
const describeUnionError = (e: ValueError): FieldProblem[] => {
  const choices = e.schema.anyOf as TSchema[];
  const given = e.value;
  const branches = choices.flatMap((c, i) => (isObjectSchema(c) ? [{ schema: c, i }] : []));
  if (!isMapping(given) || branches.length === 0)
    return [{ path: e.path, message: choiceMessage(choices, given, e.path) }];
  const problemsOf = (i: number): FieldProblem[] =>
    [...(e.errors[i] ?? [])].flatMap(describeSchemaError);
  const has = (schema: TObject) => (schema.required ?? []).every((key) => key in given);
  // A value with every key of an untagged branch (`{ event }`) is that branch's, with a stray
  // key or two, unless it also has every key of the branch its tags name.
  const complete = branches.find(({ schema }) => tagsOf(schema).length === 0 && has(schema));
  const taggedAs = branches.find(
    ({ schema }) =>
      tagsOf(schema).length > 0 &&
      tagsOf(schema).every(
        (key) => key in given && Value.Check(schema.properties[key] as TSchema, given[key]),
      ),
  );
  const tagged =
    complete !== undefined && taggedAs !== undefined && !has(taggedAs.schema)
      ? undefined
      : taggedAs;
  if (tagged !== undefined) {
    // A key whose rule differs from branch to branch (a condition's `value`, an entry's `to`)
    // is told under which tag its rule holds.
    const tags = tagsOf(tagged.schema);
    const varies = (key: string) =>
      !tags.includes(key) &&
      branches.some(
        ({ schema }) =>
          key in schema.properties && schema.properties[key] !== tagged.schema.properties[key],
      );
    const under = `with ${tags.map((key) => `${key} ${String(given[key])}`).join(', ')}, `;
    // A key this branch lacks and others take (`to` under `trigger: signed-up`): which take it.
    const takenUnder = (key: string): string => {
      if (key in tagged.schema.properties || tags.length !== 1) return '';
      const tag = tags[0] ?? '';
      const values = branches.flatMap(({ schema }) =>
        key in schema.properties ? (fixedValues(schema.properties[tag]) ?? []) : [],
      );
      return values.length === 0 ? '' : ` (only with ${tag} ${orList(values)})`;
    };
    return problemsOf(tagged.i).map((p) => {
      const key = p.path.slice(e.path.length + 1).split('/')[0] ?? '';
      return varies(key) ? { path: p.path, message: `${under}${p.message}${takenUnder(key)}` } : p;
    });
  }
  const allowedFor = (key: string): string[] => [
    ...new Set(branches.flatMap(({ schema }) => fixedValues(schema.properties[key]) ?? [])),
  ];
  const tags = [...new Set(branches.flatMap(({ schema }) => tagsOf(schema)))];
  if (complete !== undefined) return problemsOf(complete.i);
  const wrongTag = tags.find((key) => key in given);
  if (wrongTag !== undefined) {
    const path = `${e.path}/${wrongTag}`;
    const allowed = allowedFor(wrongTag);
    return [
      {
        path,
        message: `must be ${oneOf(allowed)}${notGiven(path, given[wrongTag])}${didYouMean(given[wrongTag], allowed)}`,
      },
    ];
  }
  const shared = (schema: TObject) =>
    Object.keys(given).filter((key) => key in schema.properties).length;
  const closest = branches.reduce((best, b) => (shared(b.schema) > shared(best.schema) ? b : best));
  const missingTag = tagsOf(closest.schema).find((key) => !(key in given));
  const everyBranchTagged =
    missingTag !== undefined && branches.every(({ schema }) => tagsOf(schema).includes(missingTag));
  if (missingTag !== undefined && (shared(closest.schema) > 0 || everyBranchTagged))
    return [
      { path: `${e.path}/${missingTag}`, message: `is required: ${oneOf(allowedFor(missingTag))}` },
    ];
  if (shared(closest.schema) > 0) return problemsOf(closest.i);
  // Nothing in common with any branch: what they need, and the keys none of them has.
  const known = [...new Set(branches.flatMap(({ schema }) => Object.keys(schema.properties)))];
  return [
    { path: e.path, message: `needs ${needsOf(branches.map((b) => b.schema))}` },
    ...Object.keys(given).map((key) => ({
      path: `${e.path}/${key}`,
      message: notASetting(key, known),
    })),
  ];
};
