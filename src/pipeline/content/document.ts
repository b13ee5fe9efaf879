import { Type, type Static } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import type { FieldProblem } from '../../core/errors.js';
import { err, ok, type Result } from '../../core/result.js';
import { DAY_MS, isoTimeMs } from '../../core/time.js';
import { limitingPaths, limitMessage } from './limiting-fields.js';

const isoPattern =
  '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})?)?$';
const isoInstant = Type.String({ pattern: isoPattern, description: 'ISO 8601 date or date-time.' });
const text = Type.String({ minLength: 1 });

/** An approved piece of marketing content: the only source of facts the composer may use. */
export const contentDocumentSchema = Type.Object(
  {
    id: text,
    title: text,
    category: text,
    audience: Type.Array(text, { minItems: 1 }),
    keywords: Type.Array(text),
    body: text,
    approvedAt: isoInstant,
    expiresAt: Type.Union([isoInstant, Type.Null()]),
    sourceUrl: Type.Union([text, Type.Null()]),
    version: text,
  },
  { additionalProperties: false },
);
export type ContentDocument = Static<typeof contentDocumentSchema>;

/** Why a file is not a usable document: the file, and each field at fault. */
export interface InvalidDocument {
  kind: 'invalid-document';
  fileName: string;
  problems: FieldProblem[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asList = (value: unknown): unknown =>
  typeof value === 'string' ? [value] : value === undefined ? [] : value;

// `audience: High-Value, Standard` names two audiences: read as one, it would match no segment.
const asAudiences = (value: unknown): unknown => {
  const list = asList(value);
  return Array.isArray(list) && list.every((a): a is string => typeof a === 'string')
    ? list.flatMap((a) => a.split(',').map((name) => name.trim())).filter((name) => name !== '')
    : list;
};

// YAML's failsafe schema reads every scalar as a string, so `~`, `null` and '' mean "none".
const nullable = (value: unknown): unknown =>
  value === undefined || value === null || value === '' || value === '~' || value === 'null'
    ? null
    : value;

// The fields each format knows. Another field is kept out of the document, but one that looks
// like a known field misspelt, or like a date that limits where the document may be used, is
// refused: read as absent, `expires_at` in front matter (or `expiresAt` in JSON) would keep an
// expired document in use.
const JSON_FIELDS = new Set([
  'document_id',
  'title',
  'category',
  'content',
  'audience',
  'keywords',
  'approval_date',
  'expiry_date',
  'expires_at',
  'source_url',
  'metadata',
]);
const MARKDOWN_FIELDS = new Set([
  'id',
  'title',
  'category',
  'audience',
  'keywords',
  'approvedAt',
  'expiresAt',
  'sourceUrl',
  'version',
]);
// The other format's spelling of a field, and names people reach for.
const SPELLINGS: Readonly<Record<string, string>> = {
  documentId: 'document_id',
  id: 'document_id',
  body: 'content',
  approvedAt: 'approval_date',
  approved_at: 'approval_date',
  expiresAt: 'expiry_date',
  expiryDate: 'expiry_date',
  expires: 'expiry_date',
  expiry: 'expiry_date',
  sourceUrl: 'source_url',
  version: 'metadata.version',
};
const MARKDOWN_SPELLINGS: Readonly<Record<string, string>> = {
  document_id: 'id',
  approval_date: 'approvedAt',
  approved_at: 'approvedAt',
  expiry_date: 'expiresAt',
  expires_at: 'expiresAt',
  expiryDate: 'expiresAt',
  expires: 'expiresAt',
  expiry: 'expiresAt',
  source_url: 'sourceUrl',
};

const unknownFields = (
  raw: Record<string, unknown>,
  known: ReadonlySet<string>,
  spellings: Readonly<Record<string, string>>,
  names: { approval: string; expiry: string },
): FieldProblem[] =>
  Object.keys(raw)
    .filter((key) => !known.has(key))
    .flatMap((key): FieldProblem[] => {
      const spelling = spellings[key];
      if (spelling !== undefined)
        return [{ path: key, message: `is not a field of a document: did you mean ${spelling}?` }];
      // A field the format does not know is kept out of the document; a limit is not, nor one
      // nested in it (`promotion: { end_date }`).
      return limitingPaths({ [key]: raw[key] }, '').map((path) => ({
        path,
        message: `is not a field of a document, and ${limitMessage(names.approval, names.expiry)}`,
      }));
    });

// A date-only expiry (`2026-03-31`) means "through that day": it ends at the next midnight UTC.
// A date-only approval is the start of its day, as `isoTimeMs` reads it.
const DATE_ONLY = /^\s*\d{4}-\d{2}-\d{2}\s*$/;

/** When an expiry written as `text` ends: a date alone at the end of that day (UTC). */
const expiryMs = (text: string): number => isoTimeMs(text) + (DATE_ONLY.test(text) ? DAY_MS : 0);

/**
 * When `doc` stops being usable, in ms (null: never). A date-only expiry covers its whole day
 * and ends at the next midnight UTC; a date and time without a zone is UTC (`isoTimeMs`).
 */
export const expiresAtMs = (doc: Pick<ContentDocument, 'expiresAt'>): number | null =>
  doc.expiresAt === null ? null : expiryMs(doc.expiresAt);

// The JSON export may give the expiry as `expiry_date` or as `expires_at`, each of which may be
// "none" (`null`, '', "null"). Taken one over the other, an empty `expiry_date` beside a real
// `expires_at` read as "never expires", and of two different dates one was silently dropped.
const JSON_EXPIRIES = ['expiry_date', 'expires_at'] as const;

const jsonExpiry = (
  raw: Record<string, unknown>,
): { field: (typeof JSON_EXPIRIES)[number]; value: unknown } =>
  JSON_EXPIRIES.map((field) => ({ field, value: nullable(raw[field]) })).find(
    (e) => e.value !== null,
  ) ?? { field: 'expiry_date', value: null };

const expiryConflict = (raw: Record<string, unknown>): FieldProblem[] => {
  const given = JSON_EXPIRIES.map((field) => ({ field, value: nullable(raw[field]) })).filter(
    (e) => e.value !== null,
  );
  const [first, second] = given;
  if (first === undefined || second === undefined) return [];
  const instants = given.map((e) => (typeof e.value === 'string' ? expiryMs(e.value) : Number.NaN));
  if (!Number.isNaN(instants[0] ?? Number.NaN) && instants[0] === instants[1]) return [];
  return [
    {
      path: second.field,
      message: `and ${first.field} are both given and do not name the same moment (${JSON.stringify(second.value)}, ${JSON.stringify(first.value)}): give the expiry once`,
    },
  ];
};

const fromJson = (raw: Record<string, unknown>): Record<string, unknown> => {
  const metadata = isRecord(raw['metadata']) ? raw['metadata'] : {};
  const version = metadata['version'];
  return {
    id: raw['document_id'],
    title: raw['title'],
    category: raw['category'],
    audience: asAudiences(raw['audience']),
    keywords: asList(raw['keywords']),
    body: raw['content'],
    approvedAt: raw['approval_date'],
    expiresAt: jsonExpiry(raw).value,
    sourceUrl: nullable(raw['source_url']),
    version: typeof version === 'number' && Number.isInteger(version) ? String(version) : version,
  };
};

// Problems of the JSON export's own making: unknown fields, two expiries that disagree, a limit
// hidden in the free-form metadata, a version written as a number (1.10 reads as 1.1, and
// would be refused as a changed 1.1).
const jsonProblems = (raw: Record<string, unknown>): FieldProblem[] => {
  const problems = unknownFields(raw, JSON_FIELDS, SPELLINGS, {
    approval: 'approval_date',
    expiry: 'expiry_date',
  });
  problems.push(...expiryConflict(raw));
  const metadata = raw['metadata'];
  if (metadata !== undefined && !isRecord(metadata))
    problems.push({ path: 'metadata', message: 'must be an object' });
  if (isRecord(metadata)) {
    const { version, ...rest } = metadata;
    for (const path of limitingPaths(rest, 'metadata.'))
      problems.push({
        path,
        message: /expir/i.test(path)
          ? 'is not read: an expiry goes at the top level, as expiry_date'
          : `is not read, and ${limitMessage('approval_date', 'expiry_date')} (at the top level)`,
      });
    // A whole number loses nothing; 1.10 reads as 1.1 and would collide with it.
    if (typeof version === 'number' && !Number.isInteger(version))
      problems.push({
        path: 'metadata.version',
        message: `must be a string: a number loses its trailing zeros (write "${String(version)}" as it was meant)`,
      });
  }
  return problems;
};

// The JSON source names fields in snake_case; problems are reported under those names.
const jsonFieldOf: Record<string, string> = {
  id: 'document_id',
  body: 'content',
  approvedAt: 'approval_date',
  expiresAt: 'expiry_date',
  sourceUrl: 'source_url',
  version: 'metadata.version',
};

const frontMatter = /^---[ \t]*\n([\s\S]*?)\n---[ \t]*(?:\n([\s\S]*))?$/;

/** The document's fields from Markdown, with the problems of fields it does not read. */
const fromMarkdown = (
  text: string,
): Result<{ fields: Record<string, unknown>; unknown: FieldProblem[] }, FieldProblem[]> => {
  const match = frontMatter.exec(text);
  if (match === null) {
    return err([{ path: 'front matter', message: 'must start with a --- fenced YAML block' }]);
  }
  let meta: unknown;
  try {
    meta = parseYaml(match[1] ?? '', { schema: 'failsafe' });
  } catch (error) {
    return err([{ path: 'front matter', message: `is not YAML: ${String(error)}` }]);
  }
  if (!isRecord(meta)) return err([{ path: 'front matter', message: 'must be a YAML mapping' }]);
  const unknown = unknownFields(meta, MARKDOWN_FIELDS, MARKDOWN_SPELLINGS, {
    approval: 'approvedAt',
    expiry: 'expiresAt',
  });
  // Reported with the other fields' problems: every problem of a file at once.
  const fields = {
    id: meta['id'],
    title: meta['title'],
    category: meta['category'],
    audience: asAudiences(meta['audience']),
    keywords: asList(meta['keywords']),
    body: (match[2] ?? '').trim(),
    approvedAt: meta['approvedAt'],
    expiresAt: nullable(meta['expiresAt']),
    sourceUrl: nullable(meta['sourceUrl']),
    version: meta['version'],
  };
  return ok({ fields, unknown });
};

const DATE_FORMS =
  'write an ISO 8601 date or date and time: 2026-03-31, 2026-03-31T23:59 (UTC), 2026-03-31T23:59:00Z or 2026-03-31T23:59:00+01:00';

/**
 * A schema error about a field, in words: missing, of the wrong kind, empty — and for a list's
 * item, which one (`audience item 2 must be text`).
 */
const documentProblem = (error: ValueError, value: unknown): string => {
  if (value === undefined) return 'is required';
  const item = error.path.split('/')[2];
  const what = item === undefined ? '' : `item ${String(Number(item) + 1)} `;
  switch (error.type) {
    case ValueErrorType.String:
      return `${what}must be text`;
    case ValueErrorType.StringMinLength:
      return `${what}must not be empty`;
    case ValueErrorType.Array:
      return 'must be a list';
    case ValueErrorType.ArrayMinItems:
      return 'must name at least one';
    case ValueErrorType.Union:
      return 'must be text, or null for none';
    default:
      return `${what}${error.message}`;
  }
};

const validate = (
  candidate: Record<string, unknown>,
  fieldName: (field: string) => string,
): FieldProblem[] => {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(contentDocumentSchema, candidate)) {
    const field = error.path.split('/')[1] ?? '';
    // One problem per field: the first TypeBox reports is the most specific.
    if (seen.has(field)) continue;
    seen.add(field);
    const value = candidate[field];
    // TypeBox names a date it cannot read by its pattern, or as "Expected union value".
    const isDate =
      (field === 'approvedAt' || field === 'expiresAt') && value !== undefined && value !== null;
    problems.push({
      path: fieldName(field),
      message: isDate
        ? `is not a date Herald reads (${JSON.stringify(value)}): ${DATE_FORMS}`
        : documentProblem(error, value),
    });
  }
  // "D1 " and "D1" would be two documents, and only one of them the one the team means.
  for (const field of ['id', 'version'] as const) {
    const value = candidate[field];
    if (!seen.has(field) && typeof value === 'string' && value.trim() !== value) {
      seen.add(field);
      problems.push({
        path: fieldName(field),
        message: `must not begin or end with spaces (${JSON.stringify(value)})`,
      });
    }
  }
  // Every document date is read by the project's one rule (`isoTimeMs`, as `--at` is): without
  // a zone it is UTC, never the server's local time, which would move a promotion's end with
  // where Herald runs. A day the calendar does not have reads as NaN.
  for (const field of ['approvedAt', 'expiresAt'] as const) {
    const value = candidate[field];
    if (!seen.has(field) && typeof value === 'string' && Number.isNaN(isoTimeMs(value))) {
      seen.add(field);
      problems.push({ path: fieldName(field), message: 'is not a real date' });
    }
  }
  const { approvedAt, expiresAt } = candidate;
  if (
    !seen.has('approvedAt') &&
    !seen.has('expiresAt') &&
    typeof approvedAt === 'string' &&
    typeof expiresAt === 'string' &&
    expiryMs(expiresAt) <= isoTimeMs(approvedAt)
  )
    problems.push({
      path: fieldName('expiresAt'),
      message: `is not after ${fieldName('approvedAt')} (${approvedAt})`,
    });
  return problems;
};

// Windows (CRLF) and old Mac (CR) line endings read as LF, so the same text is the same
// document, with the same hash, whichever editor saved it.
const toLf = (text: string): string => text.replace(/\r\n?/g, '\n');

/**
 * A document stored by an earlier import as `parseDocument` reads its file now: the body's line
 * endings as LF and an audience written `A, B` as two. Stored versions keep their text; read
 * through this they hash as the same file imported again does, and match the segments it names.
 * A date-only expiry is also given as the moment it ends (`2026-03-31` as
 * `2026-04-01T00:00:00.000Z`), so a reader of `expiresAt` alone ends it where `usableAt` does.
 */
export const asReadNow = (document: ContentDocument): ContentDocument => {
  const endMs = expiresAtMs(document);
  return {
    ...document,
    body: toLf(document.body),
    audience: asAudiences(document.audience) as string[],
    expiresAt:
      endMs !== null && Number.isFinite(endMs) && DATE_ONLY.test(document.expiresAt ?? '')
        ? new Date(endMs).toISOString()
        : document.expiresAt,
  };
};

/**
 * Reads one approved document from a `.json` file (the content team's export: `document_id`,
 * `content`, `approval_date`, `metadata.version`, an audience string or list) or a `.md` file with
 * YAML front matter named as in the schema. Every problem names the file and the field. A leading
 * byte-order mark is dropped and line endings are read as LF (in a JSON `content` too).
 */
export const parseDocument = (
  source: string,
  fileName: string,
): Result<ContentDocument, InvalidDocument> => {
  const text = toLf(source.startsWith('\uFEFF') ? source.slice(1) : source);
  const invalid = (problems: FieldProblem[]) =>
    err<InvalidDocument>({ kind: 'invalid-document', fileName, problems });
  const lower = fileName.toLowerCase();
  let candidate: Record<string, unknown>;
  // Problems of fields the format does not read, reported with the others.
  let own: FieldProblem[] = [];
  let fieldName = (field: string): string => field;
  if (lower.endsWith('.json')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      return invalid([{ path: '/', message: `is not JSON: ${String(error)}` }]);
    }
    if (!isRecord(raw)) return invalid([{ path: '/', message: 'must be a JSON object' }]);
    own = jsonProblems(raw);
    candidate = fromJson(raw);
    if (typeof candidate['body'] === 'string') candidate['body'] = toLf(candidate['body']);
    // An expiry is named as the file gives it, `expiry_date` or `expires_at`.
    const expiryField = jsonExpiry(raw).field;
    fieldName = (field) => (field === 'expiresAt' ? expiryField : (jsonFieldOf[field] ?? field));
  } else if (lower.endsWith('.md') || lower.endsWith('.markdown')) {
    const parsed = fromMarkdown(text);
    if (!parsed.ok) return invalid(parsed.error);
    candidate = parsed.value.fields;
    own = parsed.value.unknown;
  } else {
    return invalid([{ path: '/', message: 'unsupported file type: use .json or .md' }]);
  }
  // A field reported already (a version written as a number) is not reported twice.
  const reported = new Set(own.map((p) => p.path));
  const problems = [...own, ...validate(candidate, fieldName).filter((p) => !reported.has(p.path))];
  if (problems.length > 0 || !Value.Check(contentDocumentSchema, candidate))
    return invalid(problems);
  return ok(candidate);
};

/**
 * Whether `doc` may be used at `nowMs`: approved at or before it and not yet expired (a date
 * without a zone is UTC, `isoTimeMs`; a date-only expiry covers its day, `expiresAtMs`).
 */
export const usableAt = (doc: ContentDocument, nowMs: number): boolean => {
  const endMs = expiresAtMs(doc);
  return isoTimeMs(doc.approvedAt) <= nowMs && (endMs === null || nowMs < endMs);
};

/** A one-line account of an invalid document, for logs and CLI output. */
export const describeInvalidDocument = (invalid: InvalidDocument): string =>
  `${invalid.fileName}: ${invalid.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`;
