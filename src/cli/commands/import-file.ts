import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse';
import { AppError, type FieldProblem } from '../../core/errors.js';
import type { HeraldEvent, JsonObject } from '../../core/event.js';
import { toSourceId } from '../../core/ids.js';
import { parseEvent } from '../../pipeline/ingest/index.js';
import { ingestEvents } from '../../pipeline/stages.js';
import type { Services } from '../../app/create-services.js';
import { toRawEvent, type ImportKind, type FieldMapping } from './to-raw-event.js';

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

/** Yields `[lineNumber, record]` for each data row; a row that cannot be read yields an Error. */
async function* readRows(
  file: string,
  format: 'csv' | 'ndjson',
): AsyncGenerator<[number, JsonObject | Error]> {
  if (format === 'csv') {
    const parser = createReadStream(file).pipe(
      parseCsv({
        columns: true,
        bom: true,
        skip_empty_lines: true,
        trim: true,
        info: true,
        relax_column_count: true,
      }),
    );
    for await (const { record, info } of parser as AsyncIterable<{
      record: JsonObject;
      info: { lines: number };
    }>) {
      yield [info.lines, record];
    }
    return;
  }
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      yield [
        n,
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? (value as JsonObject)
          : new Error('must be a JSON object'),
      ];
    } catch (error) {
      yield [n, new Error(`not valid JSON: ${(error as Error).message}`)];
    }
  }
}

/**
 * Imports a CSV or NDJSON file through the same validation and profile updates as the HTTP API,
 * in transactions of `batchSize` events. Message ids derive from the file's content (order id,
 * row content), so importing the same file twice stores nothing twice.
 */
export const importFile = async (
  services: Services,
  kind: ImportKind,
  file: string,
  options: ImportOptions,
  progress: NodeJS.WritableStream,
): Promise<ImportSummary> => {
  const { config, clock } = services;
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
  for await (const [line, row] of readRows(file, format)) {
    summary.lines = line;
    if (row instanceof Error) {
      reject(line, [{ path: `line ${line}`, message: row.message }]);
      continue;
    }
    const raw = toRawEvent(
      kind,
      row,
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
  summary.seconds = (clock.nowMs() - started) / 1000;
  return summary;
};
