import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { AppError, type FieldProblem } from '../../core/errors.js';
import { ingestEvents, settleImportedProfiles } from '../../pipeline/stages.js';
import type { Services } from '../../app/create-services.js';
import { readInThread } from './read-in-thread.js';
import {
  importKinds,
  isImportKind,
  MAPPABLE_FIELDS,
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
    const field = entry.slice(0, eq);
    // A misspelt field (`emial=email`) would be ignored, its column read as a trait.
    if (!MAPPABLE_FIELDS.includes(field))
      throw new AppError(
        'invalid-input',
        `--map ${entry}: ${field} is not a field --map can name (${MAPPABLE_FIELDS.join(', ')}); other columns are read by their own names`,
      );
    mapping[field] = entry.slice(eq + 1);
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

/**
 * Imports a CSV or NDJSON file through the same validation and profile updates as the HTTP API,
 * a transaction for the valid events of every `batchSize` lines, read and checked on a thread of
 * its own (`readInThread`). Message ids derive from the file's content (order id,
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
  let lastReport = started;
  const read = { kind, file, format, mapping, limits: config.ingestLimits } as const;
  for await (const batch of readInThread(read, batchSize, () => clock.nowMs())) {
    summary.lines = batch.lines;
    for (const { line, problems } of batch.rejected) {
      summary.rejected += 1;
      if (summary.errors.length < 100) summary.errors.push({ line, problems });
    }
    if (batch.events.length > 0) {
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
  summary.seconds = (clock.nowMs() - started) / 1000;
  return summary;
};
