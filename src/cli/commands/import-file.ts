import { constants, createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { extname } from 'node:path';
import { pipeline } from 'node:stream';
import { parse as parseCsv, type CsvError } from 'csv-parse';
import { AppError, type FieldProblem } from '../../core/errors.js';
import type { HeraldEvent, JsonObject } from '../../core/event.js';
import { toSourceId } from '../../core/ids.js';
import { parseEvent } from '../../pipeline/ingest/index.js';
import { ingestEvents, settleImportedProfiles } from '../../pipeline/stages.js';
import type { Services } from '../../app/create-services.js';
import {
  importKinds,
  isImportKind,
  toRawEvent,
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
  seconds: number;
}

interface ImportOptions {
  format?: string;
  map?: string[];
  batchSize: string;
}

const parseMapping = (entries: readonly string[]): FieldMapping => {
  const mapping: FieldMapping = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new AppError('invalid-input', `--map ${entry}: expected field=column`);
    mapping[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return mapping;
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

/** What reading a file gives, in line order; `stopped` comes last, when the rest is unreadable. */
type FileItem =
  | { kind: 'row'; line: number; row: JsonObject }
  | { kind: 'unreadable'; line: number; reason: string }
  | { kind: 'stopped'; line: number; reason: string };

/** Where csv-parse was (CsvError carries it untyped). */
interface CsvPosition {
  lines: number;
  empty_lines: number;
  column: string | number | null;
}

const resumeAdvice =
  'import the file again once it is fixed (rows already imported are not stored twice)';

/**
 * What a row csv-parse skipped becomes. Only a stray quote inside an unquoted cell leaves
 * csv-parse sure where the next row starts; after any other error (a quote never closed, text
 * after a closing quote) it would read on from the middle of a cell, so reading stops there.
 * `after` is the position of the last row or error read, to find where a never-closed quote
 * opened: csv-parse reports the end of the file.
 */
const toCsvItems = (error: CsvError & CsvPosition, after: CsvPosition): FileItem[] => {
  if (error.code === 'INVALID_OPENING_QUOTE')
    return [{ kind: 'unreadable', line: error.lines, reason: error.message }];
  const [line, reason] =
    error.code === 'CSV_QUOTE_NOT_CLOSED'
      ? [
          after.lines + 1 + error.empty_lines - after.empty_lines,
          `the ${String(error.column)} cell opens a quote that is never closed (the rest of the file, to line ${error.lines}, would be that one cell)`,
        ]
      : [error.lines, error.message];
  return [
    { kind: 'unreadable', line, reason },
    { kind: 'stopped', line, reason: `${reason}; ${resumeAdvice}` },
  ];
};

/** The rows of a CSV file (first line: column names), by the line each ends on. */
async function* readCsv(file: string): AsyncGenerator<FileItem> {
  const skipped: (CsvError & CsvPosition)[] = [];
  const parser = parseCsv({
    columns: true,
    bom: true,
    skip_empty_lines: true,
    trim: true,
    info: true,
    relax_column_count: true,
    // A row csv-parse cannot read comes here instead of failing the whole stream.
    skip_records_with_error: true,
    on_skip: (error) => {
      if (error !== undefined) skipped.push(error as CsvError & CsvPosition);
      return undefined;
    },
  });
  // A read error destroys the parser with it, which ends the loop below.
  pipeline(createReadStream(file), parser, () => undefined);
  let after: CsvPosition = { lines: 1, empty_lines: 0, column: null };
  /** The skipped rows up to `line`, in order. */
  const takeSkipped = (line: number): FileItem[] => {
    const due = skipped.filter((error) => error.lines <= line);
    skipped.splice(0, due.length);
    return due.flatMap((error) => {
      const items = toCsvItems(error, after);
      after = error;
      return items;
    });
  };
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: JsonObject;
      info: CsvPosition;
    }>) {
      for (const item of takeSkipped(info.lines)) {
        yield item;
        if (item.kind === 'stopped') return;
      }
      yield { kind: 'row', line: info.lines, row: record };
      after = info;
    }
  } catch (error) {
    yield {
      kind: 'stopped',
      line: after.lines + 1,
      reason: `reading failed: ${(error as Error).message}`,
    };
    return;
  }
  for (const item of takeSkipped(Infinity)) {
    yield item;
    if (item.kind === 'stopped') return;
  }
}

/** The rows of an NDJSON file, one JSON object a line. */
async function* readNdjson(file: string): AsyncGenerator<FileItem> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const read of lines) {
      n += 1;
      // A file saved as "UTF-8 with BOM" (Notepad, PowerShell) starts with one: not JSON.
      const line = n === 1 ? read.replace(/^\uFEFF/, '') : read;
      if (line.trim() === '') continue;
      try {
        const value: unknown = JSON.parse(line);
        yield typeof value === 'object' && value !== null && !Array.isArray(value)
          ? { kind: 'row', line: n, row: value as JsonObject }
          : { kind: 'unreadable', line: n, reason: 'must be a JSON object' };
      } catch (error) {
        yield {
          kind: 'unreadable',
          line: n,
          reason: `not valid JSON: ${(error as Error).message}`,
        };
      }
    }
  } catch (error) {
    yield { kind: 'stopped', line: n + 1, reason: `reading failed: ${(error as Error).message}` };
  }
}

/**
 * Imports a CSV or NDJSON file through the same validation and profile updates as the HTTP API,
 * in transactions of `batchSize` events. Message ids derive from the file's content (order id,
 * row content), so importing the same file twice stores nothing twice. A row that cannot be read
 * is a rejection; when the rest of the file cannot be read, what was accepted is still written
 * and the summary says where reading stopped.
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
  const ext = extname(file).toLowerCase();
  const format =
    options.format ??
    (ext === '.csv' ? 'csv' : ext === '.ndjson' || ext === '.jsonl' ? 'ndjson' : undefined);
  if (format !== 'csv' && format !== 'ndjson')
    throw new AppError(
      'invalid-input',
      `cannot tell the format of ${file}: pass --format csv|ndjson`,
    );
  const batchSize = Number(options.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new AppError('invalid-input', '--batch-size must be a positive integer');
  const mapping = parseMapping(options.map ?? []);
  await checkReadable(file);
  const deps = { recorder: services.recorder, limits: config.ingestLimits };
  const sourceId = toSourceId(`import-${kind}`);
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
    seconds: 0,
  };
  const reject = (line: number, problems: FieldProblem[]) => {
    summary.rejected += 1;
    if (summary.errors.length < 100) summary.errors.push({ line, problems });
  };
  let batch: HeraldEvent[] = [];
  let lastReport = started;
  const flush = async () => {
    if (batch.length === 0) return;
    const outcome = await ingestEvents(deps, batch, clock.nowMs());
    summary.accepted += batch.length;
    summary.stored += outcome.stored;
    summary.duplicates += outcome.duplicates;
    batch = [];
    const now = clock.nowMs();
    if (now - lastReport >= 1000) {
      lastReport = now;
      progress.write(
        `line ${summary.lines}: ${summary.accepted} accepted, ${summary.rejected} rejected\n`,
      );
    }
  };
  for await (const item of format === 'csv' ? readCsv(file) : readNdjson(file)) {
    const { line } = item;
    summary.lines = line;
    if (item.kind === 'stopped') {
      summary.stopped = { line, reason: item.reason };
      break;
    }
    if (item.kind === 'unreadable') {
      reject(line, [{ path: `line ${line}`, message: item.reason }]);
      continue;
    }
    const raw = toRawEvent(
      kind,
      item.row,
      mapping,
      (text) => createHash('sha1').update(text).digest('hex'),
      format,
    );
    if (!raw.ok) {
      reject(
        line,
        raw.error.map((p) => ({ ...p, path: `line ${line}${p.path}` })),
      );
      continue;
    }
    const parsed = parseEvent(
      raw.value,
      {
        sourceId,
        receivedAtMs: clock.nowMs(),
        type: null,
        sentAt: undefined,
        context: null,
        path: `line ${line}`,
        newMessageId: () => `import-${kind}-${line}`,
      },
      config.ingestLimits,
    );
    if (!parsed.ok) reject(line, parsed.error);
    else batch.push(parsed.value.event);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  // What was stored is kept even when the rest of the file could not be read: its profiles too.
  summary.profiles = await settleImportedProfiles(deps, clock.nowMs(), (done, total) => {
    const now = clock.nowMs();
    if (now - lastReport < 1000 && done < total) return;
    lastReport = now;
    progress.write(`profiles: ${done} of ${total} brought up to date\n`);
  });
  summary.seconds = (clock.nowMs() - started) / 1000;
  return summary;
};
