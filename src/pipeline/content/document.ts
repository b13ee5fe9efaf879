import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import type { FieldProblem } from '../../core/errors.js';
import { err, ok, type Result } from '../../core/result.js';
import { isoTimeMs } from '../../core/time.js';

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

// What a field limiting when a document may be used could be called.
const LIMITING = /expir|approv|valid|until/i;

const unknownFields = (
  raw: Record<string, unknown>,
  known: ReadonlySet<string>,
  spellings: Readonly<Record<string, string>>,
  prefix = '',
): FieldProblem[] =>
  Object.keys(raw)
    .filter((key) => !known.has(key) && (spellings[key] !== undefined || LIMITING.test(key)))
    .map((key) => ({
      path: `${prefix}${key}`,
      message:
        spellings[key] === undefined
          ? 'is not a field of a document, and one that limits when it may be used is not ignored'
          : `is not a field of a document: did you mean ${spellings[key]}?`,
    }));

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
    expiresAt: nullable(raw['expiry_date'] ?? raw['expires_at']),
    sourceUrl: nullable(raw['source_url']),
    version: typeof version === 'number' && Number.isInteger(version) ? String(version) : version,
  };
};

// Problems of the JSON export's own making: unknown fields, an expiry hidden in the free-form
// metadata, a version written as a number (1.10 reads as 1.1, and would be refused as a
// changed 1.1).
const jsonProblems = (raw: Record<string, unknown>): FieldProblem[] => {
  const problems = unknownFields(raw, JSON_FIELDS, SPELLINGS);
  const metadata = raw['metadata'];
  if (metadata !== undefined && !isRecord(metadata))
    problems.push({ path: 'metadata', message: 'must be an object' });
  if (isRecord(metadata)) {
    for (const key of Object.keys(metadata))
      if (/expir/i.test(key))
        problems.push({
          path: `metadata.${key}`,
          message: 'is not read: an expiry goes at the top level, as expiry_date',
        });
    const version = metadata['version'];
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

const fromMarkdown = (text: string): Result<Record<string, unknown>, FieldProblem[]> => {
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
  const unknown = unknownFields(meta, MARKDOWN_FIELDS, MARKDOWN_SPELLINGS);
  if (unknown.length > 0) return err(unknown);
  return ok({
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
  });
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
    problems.push({ path: fieldName(field), message: error.message });
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
    isoTimeMs(expiresAt) <= isoTimeMs(approvedAt)
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
 */
export const asReadNow = (document: ContentDocument): ContentDocument => ({
  ...document,
  body: toLf(document.body),
  audience: asAudiences(document.audience) as string[],
});

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
  let fieldName = (field: string): string => field;
  if (lower.endsWith('.json')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      return invalid([{ path: '/', message: `is not JSON: ${String(error)}` }]);
    }
    if (!isRecord(raw)) return invalid([{ path: '/', message: 'must be a JSON object' }]);
    const own = jsonProblems(raw);
    if (own.length > 0) return invalid(own);
    candidate = fromJson(raw);
    if (typeof candidate['body'] === 'string') candidate['body'] = toLf(candidate['body']);
    fieldName = (field) => jsonFieldOf[field] ?? field;
  } else if (lower.endsWith('.md') || lower.endsWith('.markdown')) {
    const parsed = fromMarkdown(text);
    if (!parsed.ok) return invalid(parsed.error);
    candidate = parsed.value;
  } else {
    return invalid([{ path: '/', message: 'unsupported file type: use .json or .md' }]);
  }
  const problems = validate(candidate, fieldName);
  if (problems.length > 0 || !Value.Check(contentDocumentSchema, candidate))
    return invalid(problems);
  return ok(candidate);
};

/**
 * Whether `doc` may be used at `nowMs`: approved at or before it and not yet expired (a date
 * without a zone is UTC, `isoTimeMs`).
 */
export const usableAt = (doc: ContentDocument, nowMs: number): boolean =>
  isoTimeMs(doc.approvedAt) <= nowMs &&
  (doc.expiresAt === null || nowMs < isoTimeMs(doc.expiresAt));

/**
 * Which of two versions of a document is the newer: the later approval, then the higher
 * version (`v10` after `v9`), then the later import — never import order alone, since one
 * `content import` stores all its files at the same moment — then the version's spelling.
 */
const newer = (a: StoredVersion, b: StoredVersion): boolean => {
  const approved = isoTimeMs(a.document.approvedAt) - isoTimeMs(b.document.approvedAt);
  if (approved !== 0) return approved > 0;
  const version = a.document.version.localeCompare(b.document.version, 'en', { numeric: true });
  if (version !== 0) return version > 0;
  if (a.importedAtMs !== b.importedAtMs) return a.importedAtMs > b.importedAtMs;
  // "1.0" and "1.00" read as one number: the spelling decides, so every reader agrees
  // whatever order the rows come in.
  return a.document.version > b.document.version;
};

/** A stored version of a document, with when it was imported. */
export interface StoredVersion {
  document: ContentDocument;
  importedAtMs: number;
}

/**
 * The latest version of each document approved by `atMs`, when it is usable then: a version
 * approved for later does not hide the current one, an expired one does hide older ones.
 */
export const documentsInForce = (
  versions: readonly StoredVersion[],
  atMs: number,
): ContentDocument[] => {
  const latest = new Map<string, StoredVersion>();
  for (const candidate of versions) {
    if (isoTimeMs(candidate.document.approvedAt) > atMs) continue;
    const known = latest.get(candidate.document.id);
    if (known === undefined || newer(candidate, known))
      latest.set(candidate.document.id, candidate);
  }
  return [...latest.values()].map((v) => v.document).filter((d) => usableAt(d, atMs));
};

/** A one-line account of an invalid document, for logs and CLI output. */
export const describeInvalidDocument = (invalid: InvalidDocument): string =>
  `${invalid.fileName}: ${invalid.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`;
