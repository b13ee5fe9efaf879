import { constants, createReadStream } from 'node:fs';
import { parseIntegerOption } from './parse-integer-option.js';
import { access, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { pipeline } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { TOLERANT_CSV } from './csv-options.js';
import { AppError, type FieldProblem } from '../../core/errors.js';
import type { HeraldEvent } from '../../core/event.js';
import { toCustomerId } from '../../core/ids.js';
import { ingestEvents, settleImportedProfiles } from '../../pipeline/stages.js';
import type { Services } from '../../app/create-services.js';
import type { Store } from '../../ports/store.js';
import { readInThread } from './read-in-thread.js';
import { isUtf8File } from './read-import.js';
import {
  importKinds,
  isImportKind,
  MAPPABLE_FIELDS,
  fieldsReadBy,
  type FieldMapping,
  type ImportKind,
} from './to-raw-event.js';

export { importKinds, type ImportKind } from './to-raw-event.js';

export interface ImportSummary {
  kind: ImportKind;
  file: string;
  lines: number;
  accepted: number;
  stored: number;
  duplicates: number;
  rejected: number;
  /** The first rejections (at most 100), with their line numbers. */
  errors: { line: number; problems: FieldProblem[] }[];
  /** Where and why reading stopped before the end of the file; null when it read it all. */
  stopped: { line: number; reason: string } | null;
  /** Customer profiles brought up to date (each once, after the events are stored). */
  profiles: number;
  /**
   * Customers only: rows whose traits the profile shows otherwise, because a call timed no
   * earlier than the row (its `created_at`, or `--map timestamp=`) set them since — a row
   * counts where at least one of its traits holds another value.
   */
  outranked: number;
  /** The first of those rows (at most 100): the user id, the row's time, the traits it lost. */
  outrankedRows: OutrankedRow[];
  seconds: number;
}

/** A customers row whose traits later-timed calls set otherwise. */
export interface OutrankedRow {
  userId: string;
  timestamp: string;
  traits: string[];
}

/** 32-bit FNV-1a of a value's JSON: a row's trait values are kept as this, not whole. */
const hashOf = (value: unknown): number => {
  const text = JSON.stringify(value ?? null);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
};

/** Rows checked against their profiles a transaction at a time. */
const CHECK_CHUNK = 500;

/**
 * What a customers import keeps of each identify it read, to tell afterwards which rows a
 * later-timed call outranks (a profile keeps a trait's newest value by the calls' times): the
 * user id, the time, the trait names (one list for the rows with the same ones) and a hash of
 * each value — about 60 bytes a row, not the row.
 */
class TraitLedger {
  private readonly userIds: string[] = [];
  private readonly times: number[] = [];
  private readonly keySets: (readonly string[])[] = [];
  private readonly hashes: number[] = [];
  private readonly shared = new Map<string, readonly string[]>();

  note(event: HeraldEvent): void {
    if (event.type !== 'identify' || event.userId === null) return;
    const { traits } = event;
    const names = Object.keys(traits);
    const joined = names.join('\u0000');
    let keys = this.shared.get(joined);
    if (keys === undefined) {
      keys = names;
      // Rows that leave different cells empty have different names; a thousand lists is plenty.
      if (this.shared.size < 1000) this.shared.set(joined, names);
    }
    this.userIds.push(event.userId);
    this.times.push(event.timestampMs);
    this.keySets.push(keys);
    for (const key of keys) this.hashes.push(hashOf(traits[key]));
  }

  get size(): number {
    return this.userIds.length;
  }

  /** The rows outranked, as the profiles stand now: how many, and the first 100. */
  async outranked(
    store: Store,
    onProgress: (done: number, total: number) => void,
  ): Promise<{ count: number; first: OutrankedRow[] }> {
    let count = 0;
    const first: OutrankedRow[] = [];
    let offset = 0;
    for (let start = 0; start < this.size; start += CHECK_CHUNK) {
      const end = Math.min(start + CHECK_CHUNK, this.size);
      const userIds = this.userIds.slice(start, end);
      const profiles = await store.transaction(async (tx) => {
        const links = await tx.findLinks([...new Set(userIds)].map((u) => `u:${u}` as const));
        const ids = userIds.map((u) => links.get(`u:${u}`) ?? toCustomerId(u));
        const states = await tx.loadProfiles([...new Set(ids)]);
        return ids.map((id) => states.get(id));
      });
      for (let i = start; i < end; i += 1) {
        const keys = this.keySets[i] ?? [];
        const state = profiles[i - start];
        const at = this.times[i] ?? 0;
        const lost =
          state === undefined
            ? []
            : keys.filter(
                (key, k) =>
                  (state.setAtMs?.[`traits.${key}`] ?? -Infinity) >= at &&
                  hashOf(state.traits[key]) !== this.hashes[offset + k],
              );
        offset += keys.length;
        if (lost.length === 0) continue;
        count += 1;
        if (first.length < 100)
          first.push({
            userId: this.userIds[i] ?? '',
            timestamp: new Date(at).toISOString(),
            traits: lost,
          });
      }
      onProgress(end, this.size);
    }
    return { count, first };
  }
}

interface ImportOptions {
  format?: string;
  map?: string[];
  batchSize: string;
}

const parseMapping = (
  entries: readonly string[],
  kind: ImportKind,
  format: 'csv' | 'ndjson',
): FieldMapping => {
  const mapping: FieldMapping = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new AppError('invalid-input', `--map ${entry}: expected field=column`);
    const field = entry.slice(0, eq);
    // A misspelt field (`emial=email`) would be ignored, its column read as a trait.
    if (!MAPPABLE_FIELDS.includes(field))
      throw new AppError(
        'invalid-input',
        `--map ${entry}: ${field} is not a field --map can name (${MAPPABLE_FIELDS.join(', ')}); other columns are read by their own names`,
      );
    const read = fieldsReadBy(kind, format);
    if (!read.includes(field))
      throw new AppError(
        'invalid-input',
        `--map ${entry}: import ${kind} (${format}) does not read ${field}; it reads ${read.join(', ')}${notReadAdvice(kind, format, field)}`,
      );
    const column = entry.slice(eq + 1);
    // Read as the last one given, `userId=customer_id` then `userId=tier` merged the file's
    // customers into one record per tier, for good (an import adds, it never takes back).
    const before = mapping[field];
    if (before !== undefined && before !== column)
      throw new AppError(
        'invalid-input',
        `--map ${field} is given twice (${before}, ${column}): each field reads one column`,
      );
    mapping[field] = column;
  }
  return mapping;
};

/** What to do instead of mapping `field`, which an import of `kind` does not read. */
const notReadAdvice = (kind: ImportKind, format: 'csv' | 'ndjson', field: string): string => {
  if (kind === 'events' && format === 'ndjson')
    return ' (each line is the Segment call as it is: its fields are read by their own names)';
  if (kind === 'events' && (field === 'total' || field === 'orderId'))
    return ` (an event's other columns are its properties by their own names: name the column ${field === 'total' ? '`total` or `revenue`' : '`order_id`'}, or import the rows with \`herald import orders\`)`;
  return '';
};

/** Fails with an error naming `file` when it is missing or not a readable file. */
const checkReadable = async (file: string): Promise<void> => {
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AppError('not-found', `no file ${file}`, { cause: error });
    throw new AppError('invalid-input', `cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!(await stat(file)).isFile()) throw new AppError('invalid-input', `${file} is not a file`);
};

/**
 * The column names of a CSV file, read as `readImport` reads them (its first record, a BOM and
 * blank lines skipped, names trimmed); null when there are none or they cannot be read, which
 * the import itself reports, with the line.
 */
const csvHeader = async (file: string): Promise<string[] | null> => {
  const read = { skipped: false };
  const parser = parseCsv({
    ...TOLERANT_CSV,
    info: false,
    // Only the header's own skip hides it: a stray quote in a row of the first chunk read
    // turned every check below off (a duplicate `email` column then blanked the addresses).
    on_skip: (error) => {
      if (error !== undefined && error.records === 0) read.skipped = true;
      return undefined;
    },
  });
  pipeline(createReadStream(file), parser, () => undefined);
  // Leaving the loop destroys the parser, and the pipeline the file's stream: one chunk read.
  for await (const record of parser as AsyncIterable<string[]>) return read.skipped ? null : record;
  return null;
};

/** A column name as one would misspell it: case, spaces and punctuation aside. */
const looseName = (name: string): string => name.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

/**
 * Fails, before any row is read, when the CSV header cannot name each row's cells for certain or
 * `--map` names a column it does not have. A name given twice (`email,…,email`) would let the
 * later column's cells stand for the earlier's, an empty one dropping an address; a name with
 * bytes that are not UTF-8 (`pr\xe9nom` from a Latin-1 export) would be stored garbled on every
 * row. Row by row, a missing required column would reject every row alike, and a missing
 * optional one (`--map timestamp=signupdate`) would be passed over: every customer timed at the
 * import, and the summary saying all were accepted.
 */
const checkHeader = async (file: string, mapping: FieldMapping): Promise<void> => {
  const header = await csvHeader(file);
  if (header === null) return;
  // Blank names (a spreadsheet's trailing empty columns) name no column: their cells are read
  // as nothing when empty (`readImport`).
  const twice = [...new Set(header.filter((name, i) => name !== '' && header.indexOf(name) !== i))];
  if (twice.length > 0)
    throw new AppError(
      'invalid-input',
      `${file}: the header names ${twice.map((n) => JSON.stringify(n)).join(', ')} more than once; each column needs a name of its own (rename one, or leave it out)`,
    );
  if (header.some((name) => name.includes('\uFFFD')) && !(await isUtf8File(file)))
    throw new AppError(
      'invalid-input',
      `${file}: the header holds bytes that are not UTF-8 (${header
        .filter((name) => name.includes('\uFFFD'))
        .map((n) => JSON.stringify(n))
        .join(', ')}); save the file as UTF-8`,
    );
  const absent = Object.entries(mapping).filter(([, column]) => !header.includes(column));
  if (absent.length === 0) return;
  const maps = absent.map(([field, column]) => `--map ${field}=${column}`).join(', ');
  const names = absent.map(([, column]) => JSON.stringify(column)).join(', ');
  const near = absent.flatMap(([, column]) => {
    const match = header.find((h) => looseName(h) === looseName(column));
    return match === undefined ? [] : [`${JSON.stringify(match)} for ${JSON.stringify(column)}`];
  });
  throw new AppError(
    'invalid-input',
    `${maps}: ${file} has no column ${names}; its columns are ${header
      .map((h) => JSON.stringify(h))
      .join(', ')}${near.length === 0 ? '' : ` (did you mean ${near.join(', ')}?)`}`,
  );
};

/**
 * Imports a CSV or NDJSON file through the same validation and profile updates as the HTTP API,
 * a transaction for the valid events of every `batchSize` lines, read and checked on a thread of
 * its own (`readInThread`). Message ids derive from the file's content (an order's id, the call
 * any other row makes), so importing the same file twice stores nothing twice. A `--map` naming
 * a column the CSV header lacks stops the import before it reads a row. A row that cannot be
 * read is a rejection; when the rest of the file cannot be read, what was accepted is still
 * written and the summary says where reading stopped.
 */
export const importFile = async (
  services: Services,
  kind: string,
  file: string,
  options: ImportOptions,
  progress: NodeJS.WritableStream,
): Promise<ImportSummary> => {
  const { config, clock } = services;
  if (!isImportKind(kind))
    throw new AppError(
      'invalid-input',
      `cannot import "${kind}": the kinds are ${importKinds.join(', ')}`,
    );
  if (options.format !== undefined && options.format !== 'csv' && options.format !== 'ndjson')
    throw new AppError(
      'invalid-input',
      `--format: "${options.format}" is not a format import reads; use csv or ndjson`,
    );
  const ext = extname(file).toLowerCase();
  const format =
    options.format ??
    (ext === '.csv' ? 'csv' : ext === '.ndjson' || ext === '.jsonl' ? 'ndjson' : undefined);
  if (format !== 'csv' && format !== 'ndjson')
    throw new AppError(
      'invalid-input',
      `cannot tell the format of ${file}: pass --format csv|ndjson`,
    );
  const batchSize = parseIntegerOption(options.batchSize, '--batch-size', { min: 1 });
  const mapping = parseMapping(options.map ?? [], kind, format);
  await checkReadable(file);
  if (format === 'csv') await checkHeader(file, mapping);
  const deps = { recorder: services.recorder, limits: config.ingestLimits };
  const started = clock.nowMs();
  const summary: ImportSummary = {
    kind,
    file,
    lines: 0,
    accepted: 0,
    stored: 0,
    duplicates: 0,
    rejected: 0,
    errors: [],
    stopped: null,
    profiles: 0,
    outranked: 0,
    outrankedRows: [],
    seconds: 0,
  };
  const ledger = kind === 'customers' ? new TraitLedger() : null;
  let lastReport = started;
  const read = { kind, file, format, mapping, limits: config.ingestLimits } as const;
  for await (const batch of readInThread(read, batchSize, () => clock.nowMs())) {
    summary.lines = batch.lines;
    for (const { line, problems } of batch.rejected) {
      summary.rejected += 1;
      if (summary.errors.length < 100) summary.errors.push({ line, problems });
    }
    if (batch.events.length > 0) {
      if (ledger !== null) for (const event of batch.events) ledger.note(event);
      const outcome = await ingestEvents(deps, batch.events, clock.nowMs());
      summary.accepted += batch.events.length;
      summary.stored += outcome.stored;
      summary.duplicates += outcome.duplicates;
    }
    summary.stopped = batch.stopped;
    const now = clock.nowMs();
    if (now - lastReport >= 1000) {
      lastReport = now;
      progress.write(
        `line ${summary.lines}: ${summary.accepted} accepted, ${summary.rejected} rejected\n`,
      );
    }
  }
  // What was stored is kept even when the rest of the file could not be read: its profiles too.
  summary.profiles = await settleImportedProfiles(deps, clock.nowMs(), (done, total) => {
    const now = clock.nowMs();
    if (now - lastReport < 1000 && done < total) return;
    lastReport = now;
    progress.write(`profiles: ${done} of ${total} brought up to date\n`);
  });
  // A customer row is timed by its created_at: a call timed after it keeps the traits it set.
  // Said, not silently left (docs: README, "import").
  if (ledger !== null) {
    const { count, first } = await ledger.outranked(services.store, (done, total) => {
      const now = clock.nowMs();
      if (now - lastReport < 1000 && done < total) return;
      lastReport = now;
      progress.write(`traits: ${done} of ${total} rows checked against their profiles\n`);
    });
    summary.outranked = count;
    summary.outrankedRows = first;
  }
  summary.seconds = (clock.nowMs() - started) / 1000;
  return summary;
};
