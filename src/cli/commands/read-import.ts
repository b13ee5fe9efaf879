import { isAscii, isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv, type CsvError, type InfoRecord, type Options } from 'csv-parse';
import { TOLERANT_CSV } from './csv-options.js';
import type { FieldProblem } from '../../core/errors.js';
import {
  eventBodyJson,
  withBodyParsedOnRead,
  type EventType,
  type HeraldEvent,
  type JsonObject,
} from '../../core/event.js';
import { toSourceId, type MessageId, type SourceId } from '../../core/ids.js';
import { IMPORT_SOURCE_PREFIX } from '../../core/event-names.js';
import { err, ok, type Result } from '../../core/result.js';
import { feedFlags } from '../../core/worker-feed.js';
import { parseEvent } from '../../pipeline/ingest/index.js';
import type { IngestLimits } from '../../pipeline/ingest/ingest-limits.js';
import { toRawEvent, type FieldMapping, type ImportKind } from './to-raw-event.js';

/** What reading a file gives, in line order; `stopped` comes last, when the rest is unreadable. */
type FileItem =
  | { kind: 'row'; line: number; row: JsonObject }
  | { kind: 'unreadable'; line: number; reason: string }
  | { kind: 'stopped'; line: number; reason: string };

/** Where csv-parse was, its lines counted as an editor counts them (`readCsv`). */
interface CsvPosition {
  lines: number;
  empty_lines: number;
}

/** A row csv-parse could not read, where it was. */
interface CsvSkip extends CsvPosition {
  code: string;
  message: string;
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
const toCsvItems = (error: CsvSkip, after: CsvPosition): FileItem[] => {
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

/** A record as `readCsv` reads it: its cells, and where it ends. */
interface CsvRecord {
  cells: string[];
  at: CsvPosition;
}

/** How many CRLFs `text` holds. */
const crlfsIn = (text: string): number => {
  let n = 0;
  for (let at = text.indexOf('\r\n'); at !== -1; at = text.indexOf('\r\n', at + 2)) n += 1;
  return n;
};

// What a byte sequence that is not UTF-8 is read as — and a character a UTF-8 file may hold
// (EF BF BD), which only the file's bytes tell apart (`isUtf8File`).
const REPLACEMENT = '\uFFFD';

/** How many bytes at the end of `bytes` begin a UTF-8 sequence that goes on after them. */
const unfinishedTail = (bytes: Buffer): number => {
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const byte = bytes[bytes.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue;
    if (byte < 0xc0) return 0;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    return length > back ? back : 0;
  }
  return 0;
};

/**
 * Whether a file's bytes are UTF-8 throughout: then every U+FFFD in its text was written there,
 * not made by the decoder from bytes that are not UTF-8. Read (again) only once a U+FFFD is met,
 * so a file without one costs nothing more; a file that cannot be read again counts as not.
 */
export const isUtf8File = async (file: string): Promise<boolean> => {
  let carry: Buffer | null = null;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      const read = chunk as Buffer;
      const bytes: Buffer = carry === null ? read : Buffer.concat([carry, read]);
      const tail = unfinishedTail(bytes);
      const whole = bytes.subarray(0, bytes.length - tail);
      if (!isAscii(whole) && !isUtf8(whole)) return false;
      carry = tail === 0 ? null : Buffer.from(bytes.subarray(bytes.length - tail));
    }
  } catch {
    return false;
  }
  return carry === null;
};
const NOT_UTF8 =
  'holds bytes that are not UTF-8 (a file saved as Latin-1 or Windows-1252, as spreadsheets often do): save the file as UTF-8 and import it again (rows already imported are not stored twice)';

/**
 * The rows of a CSV file (first line: column names), each by the line it starts on: a row whose
 * quoted cell runs over several lines is where it begins, where its bad cell is most likely.
 *
 * Lines are csv-parse's count less what it counts twice. It counts a line at each CR and each LF
 * but reads a CRLF that ends a row (or a blank line) as one: a CRLF inside a quoted cell — a
 * note written on Windows — counts two. The raw text of each record (`raw`: its blank lines
 * before it, its cells, and of its line break the first character only) holds those CRLFs
 * whole and no other, so the CRLFs of the raw text read so far are the lines counted twice:
 * one `indexOf` a record, nothing for the records without one. Counted as csv-parse reads, in
 * `on_record` and `on_skip`, so that a skipped row ahead of the rows handed on is placed by
 * what preceded it. (A row skipped for a stray quote loses the rest of its raw text: a quoted
 * CRLF later in that same row would still count two.) The first record is the header, read
 * as csv-parse's `columns` reads it, so that its CRLFs count too.
 */
async function* readCsv(file: string): AsyncGenerator<Iterable<FileItem>> {
  /** Whether the file is UTF-8 throughout, once a U+FFFD asked (`isUtf8File`). */
  let utf8Throughout: boolean | null = null;
  const skipped: CsvSkip[] = [];
  let lastSkippedLine: number | null = null;
  let doubled = 0;
  /** The column names, once read: a skipped row's cell is named by them. */
  let names: string[] | null = null;
  const onRecord = (read: { record: string[]; raw: string }, info: InfoRecord): CsvRecord => {
    names ??= read.record;
    doubled += crlfsIn(read.raw);
    return {
      cells: read.record,
      at: { lines: info.lines - doubled, empty_lines: info.empty_lines },
    };
  };
  const parser = parseCsv({
    ...TOLERANT_CSV,
    info: false,
    raw: true,
    // Typed by csv-parse as giving the record it is given.
    on_record: onRecord as unknown as NonNullable<Options['on_record']>,
    // A row csv-parse cannot read comes here instead of failing the whole stream.
    on_skip: (error, raw) => {
      if (error !== undefined) {
        const { code, message, lines, empty_lines, column } = error as CsvError & CsvSkip;
        const at = lines - doubled - crlfsIn(raw ?? '');
        const name = typeof column === 'number' ? names?.[column] : undefined;
        // csv-parse's message gives its own line and, without `columns`, the cell's index.
        const said = message
          .replace(/\bat line \d+/, `at line ${String(at)}`)
          .replace(/\bon field \d+/, (text) =>
            name === undefined ? text : `on field ${JSON.stringify(name)}`,
          );
        // Without its column names no row can be read: a header csv-parse skips stops reading
        // rather than leave the first row to be taken for it.
        const stray = code === 'INVALID_OPENING_QUOTE' && names === null;
        // csv-parse reports each stray quote of a row: one row, one rejection.
        if (at === lastSkippedLine) return undefined;
        lastSkippedLine = at;
        skipped.push({
          code: stray ? 'HEADER' : code,
          message: stray ? `the header (the column names) cannot be read: ${said}` : said,
          lines: at,
          empty_lines,
          column: name ?? column,
        });
      }
      return undefined;
    },
  });
  // A read error destroys the parser with it, which ends the loop below.
  pipeline(createReadStream(file), parser, () => undefined);
  let header: string[] | null = null;
  let after: CsvPosition = { lines: 0, empty_lines: 0 };
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
    for await (const { cells, at } of parser as AsyncIterable<CsvRecord>) {
      const items = takeSkipped(at.lines);
      yield items;
      if (items.some((item) => item.kind === 'stopped')) return;
      if (header === null) {
        header = cells;
        after = at;
        continue;
      }
      // Blank lines before it are skipped: the first after them is where it starts.
      const line = after.lines + 1 + at.empty_lines - after.empty_lines;
      // More cells than the header names, some not empty: an unquoted comma in a value
      // (`1,234.50`, `Smith, John`) moved the cells after it, and would store each under the
      // next column's name. Empty ones (a spreadsheet's trailing commas) are nothing.
      const extra = cells.slice(header.length);
      if (extra.some((cell) => cell.trim() !== '')) {
        yield [
          {
            kind: 'unreadable',
            line,
            reason: `has ${String(cells.length)} cells, the header names ${String(header.length)}: the cells would not stand under their columns' names (a comma in a value must be inside quotes: "1,234.50")`,
          },
        ];
        after = at;
        continue;
      }
      // A value under a column the header gives no name (a spreadsheet's blank heading) would
      // be stored as a trait named "": its row is refused, naming the column.
      const width = Math.min(cells.length, header.length);
      const unnamed = header.findIndex((name, i) => name === '' && (cells[i] ?? '').trim() !== '');
      if (unnamed !== -1) {
        yield [
          {
            kind: 'unreadable',
            line,
            reason: `has a value in column ${String(unnamed + 1)}, which the header gives no name`,
          },
        ];
        after = at;
        continue;
      }
      // As csv-parse's `columns` makes it. A row short of trailing cells has them empty: "the
      // date cell is empty", not "no date column" for a column the header has.
      const record: JsonObject = {};
      for (let i = 0; i < width; i += 1)
        if (header[i] !== '')
          Object.defineProperty(record, header[i] as string, {
            value: cells[i],
            enumerable: true,
            writable: true,
            configurable: true,
          });
      for (const name of header) if (name !== '' && !(name in record)) record[name] = '';
      let garbled = cells.some((v, i) => i < width && v.includes(REPLACEMENT));
      if (garbled) {
        utf8Throughout ??= await isUtf8File(file);
        garbled = !utf8Throughout;
      }
      yield [
        garbled
          ? { kind: 'unreadable', line, reason: NOT_UTF8 }
          : { kind: 'row', line, row: record },
      ];
      after = at;
    }
  } catch (error) {
    yield [
      {
        kind: 'stopped',
        line: after.lines + 1,
        reason: `reading failed: ${(error as Error).message}`,
      },
    ];
    return;
  }
  yield takeSkipped(Infinity);
}

/**
 * The text of a file's bytes as UTF-8, a chunk at a time, as a stream with `encoding: 'utf8'`
 * gives it (a character split between chunks joined, a malformed sequence U+FFFD), except that a
 * chunk of ASCII alone is copied as it is: 42–50 ms for 200 MB of the bench's events against
 * 930–1,080 ms through the decoder, most event files being ASCII throughout. An ASCII byte
 * cannot go on with a sequence, so what the decoder holds from the chunk before is malformed by
 * then, and `end()` gives its U+FFFD as `write` would have.
 */
export async function* utf8Text(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of chunks)
    yield isAscii(chunk) ? decoder.end() + chunk.toString('latin1') : decoder.write(chunk);
  const rest = decoder.end();
  if (rest !== '') yield rest;
}

/** Line breaks as readline reads them: LF, CRLF, and a CR alone. */
const LINE_BREAK = /\r?\n|\r(?!\n)/;

/**
 * The rows of an NDJSON file, one JSON object a line, a chunk of the file's lines at a time
 * (one step of an asynchronous loop per line, as readline gives them, cost about a microsecond a
 * line), each line parsed as it is used: parsed a chunk at a time, rows lived long enough to be
 * promoted by the collector.
 */
async function* readNdjson(file: string): AsyncGenerator<Iterable<FileItem>> {
  const stream = utf8Text(createReadStream(file, { highWaterMark: 1 << 20 }));
  let n = 0;
  /** Whether the file is UTF-8 throughout, once a chunk with a U+FFFD asked (`isUtf8File`). */
  let utf8Throughout: boolean | null = null;
  const itemOf = (text: string): FileItem | null => {
    n += 1;
    // A file saved as "UTF-8 with BOM" (Notepad, PowerShell) starts with one: not JSON.
    const line = n === 1 ? text.replace(/^\uFEFF/, '') : text;
    if (line.trim() === '') return null;
    if (utf8Throughout !== true && line.includes(REPLACEMENT))
      return { kind: 'unreadable', line: n, reason: NOT_UTF8 };
    try {
      const value: unknown = JSON.parse(line);
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? { kind: 'row', line: n, row: value as JsonObject }
        : { kind: 'unreadable', line: n, reason: 'must be a JSON object' };
    } catch (error) {
      return { kind: 'unreadable', line: n, reason: `not valid JSON: ${(error as Error).message}` };
    }
  };
  function* itemsOf(lines: readonly string[]): Generator<FileItem> {
    for (const line of lines) {
      const item = itemOf(line);
      if (item !== null) yield item;
    }
  }
  /** The line read so far, in pieces (a line can be longer than a chunk: never split again). */
  let pieces: string[] = [];
  /** Whether the last chunk ended with a CR: a line break, of which this chunk's LF is part. */
  let heldCr = false;
  try {
    for await (const chunk of stream) {
      // Before any of its lines is read: a line holding one may have begun in an earlier chunk,
      // which asked already.
      if (utf8Throughout === null && chunk.includes(REPLACEMENT))
        utf8Throughout = await isUtf8File(file);
      const lines: string[] = [];
      let text = chunk;
      if (heldCr) {
        lines.push(pieces.join(''));
        pieces = [];
        if (text.startsWith('\n')) text = text.slice(1);
      }
      heldCr = text.endsWith('\r');
      const parts = (heldCr ? text.slice(0, -1) : text).split(LINE_BREAK);
      // The last part may go on in the next chunk.
      const last = parts.pop() ?? '';
      const first = parts.shift();
      if (first !== undefined) {
        lines.push(pieces.join('') + first);
        // One at a time: a chunk of empty lines holds a million of them.
        for (const part of parts) lines.push(part);
        pieces = [];
      }
      pieces.push(last);
      yield itemsOf(lines);
    }
  } catch (error) {
    yield [{ kind: 'stopped', line: n + 1, reason: `reading failed: ${(error as Error).message}` }];
    return;
  }
  const rest = pieces.join('');
  if (heldCr || rest !== '') yield itemsOf([rest]);
}

/** What an import reads, as `readImport` hands it on. */
export interface ImportRead {
  kind: ImportKind;
  file: string;
  format: 'csv' | 'ndjson';
  mapping: FieldMapping;
  limits: IngestLimits;
}

/** What reading part of a file gave, in line order. */
export interface ReadBatch<T = HeraldEvent> {
  /** Valid events, checked as the HTTP API checks them (as `readImport`'s `keep` keeps them). */
  events: T[];
  /** Lines that are not events, with why. */
  rejected: { line: number; problems: FieldProblem[] }[];
  /** The last line read so far. */
  lines: number;
  /** Where and why reading stopped before the end of the file (the last batch only). */
  stopped: { line: number; reason: string } | null;
}

/**
 * Reads and checks a CSV or NDJSON file of `kind` through the same validation as the HTTP API,
 * in batches of up to `batchSize` lines (valid events and rejections). Message ids derive from
 * the file's content (an order's customer and id, the call any other row makes, and for the
 * same call again among rows of one customer and time, which repeat it is), so reading the
 * same file twice gives the same events. `nowMs` is the receipt time of a batch's events, asked
 * as the batch begins.
 * `keep` is what a batch holds of each event (the event itself by default): kept whole, a
 * batch's events outlive the collector's scavenges and are promoted, where their values alone
 * are much smaller.
 */
export async function* readImport<T = HeraldEvent>(
  read: ImportRead,
  batchSize: number,
  nowMs: () => number,
  keep: (event: HeraldEvent) => T = (event) => event as T,
): AsyncGenerator<ReadBatch<T>> {
  const { kind, format, mapping, limits } = read;
  const sourceId = toSourceId(`${IMPORT_SOURCE_PREFIX}${kind}`);
  const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
  // Rows making the same call are counted while they come among rows of one customer and time
  // (an export sorted by customer, or by time): the n-th repeat is another event. Counting them
  // across the whole file would hold every row's id in memory.
  let group = '';
  let seen = new Map<string, number>();
  const repeatOf = (id: string, call: JsonObject): number => {
    const key = JSON.stringify([
      call['userId'],
      call['anonymousId'],
      call['timestamp'] ?? call['originalTimestamp'] ?? call['sentAt'] ?? call['receivedAt'],
    ]);
    if (key !== group) {
      group = key;
      seen = new Map();
    }
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    return n;
  };
  // One receipt time a batch, as an API batch has: the batch is recorded as one, and a replay
  // (`herald simulate`) takes events of one moment and one receipt time for one batch.
  let batchAtMs = nowMs();
  /** A row as the event it makes, or why it makes none. */
  const check = (row: JsonObject, line: number): Result<HeraldEvent, FieldProblem[]> => {
    const raw = toRawEvent(kind, row, mapping, sha1, format, repeatOf);
    if (!raw.ok) return err(raw.error.map((p) => ({ ...p, path: `line ${line}${p.path}` })));
    const parsed = parseEvent(
      raw.value,
      {
        sourceId,
        receivedAtMs: batchAtMs,
        type: null,
        sentAt: undefined,
        context: null,
        path: `line ${line}`,
        newMessageId: () => `import-${kind}-${line}`,
      },
      limits,
    );
    return parsed.ok ? ok(parsed.value.event) : parsed;
  };
  let batch: ReadBatch<T> = { events: [], rejected: [], lines: 0, stopped: null };
  const chunks = format === 'csv' ? readCsv(read.file) : readNdjson(read.file);
  reading: for await (const items of chunks)
    for (const item of items) {
      const { line } = item;
      batch.lines = line;
      if (item.kind === 'stopped') {
        batch.stopped = { line, reason: item.reason };
        break reading;
      }
      const checked: Result<HeraldEvent, FieldProblem[]> =
        item.kind === 'unreadable'
          ? err([{ path: `line ${line}`, message: item.reason }])
          : check(item.row, line);
      if (checked.ok) batch.events.push(keep(checked.value));
      else batch.rejected.push({ line, problems: checked.error });
      // Rejections count towards a batch too: a file of nothing else is not held whole.
      if (batch.events.length + batch.rejected.length >= batchSize) {
        yield batch;
        batch = { events: [], rejected: [], lines: line, stopped: null };
        batchAtMs = nowMs();
      }
    }
  yield batch;
}

/** An event's values as a thread hands them over: strings and numbers, cloned without objects. */
export type EventValues = (string | number | null)[];

/** How many values `eventValues` gives. */
const EVENT_WIDTH = 11;

/** An event as values to hand to another thread: its columns and its body's JSON. */
export const eventValues = (e: HeraldEvent): EventValues => [
  e.messageId,
  e.sourceId,
  e.type,
  e.userId,
  e.anonymousId,
  e.previousId,
  e.groupId,
  e.name,
  e.timestampMs,
  e.receivedAtMs,
  eventBodyJson(e),
];

/**
 * Events from their `eventValues` one after another, whole again: each body is parsed when
 * first read (`withBodyParsedOnRead`), which for most of a load's events is never.
 */
export const fromColumns = (values: Readonly<EventValues>): HeraldEvent[] => {
  const events: HeraldEvent[] = [];
  for (let i = 0; i + EVENT_WIDTH <= values.length; i += EVENT_WIDTH)
    events.push(
      withBodyParsedOnRead(
        {
          messageId: values[i] as MessageId,
          sourceId: values[i + 1] as SourceId,
          type: values[i + 2] as EventType,
          userId: values[i + 3] as string | null,
          anonymousId: values[i + 4] as string | null,
          previousId: values[i + 5] as string | null,
          groupId: values[i + 6] as string | null,
          name: values[i + 7] as string | null,
          timestampMs: values[i + 8] as number,
          receivedAtMs: values[i + 9] as number,
        },
        values[i + 10] as string,
      ),
    );
  return events;
};

/** What the import thread is started with (import-thread.ts). */
export interface ImportThreadData {
  read: ImportRead;
  batchSize: number;
  /** `threadFlags`' memory. */
  shared: SharedArrayBuffer;
}

/** The memory the import thread and the writer share: the flags, and the writer's clock. */
export const threadFlags = (shared: SharedArrayBuffer, ahead?: number) => {
  const clock = new BigInt64Array(shared, 8, 1);
  // A time crosses as its 64 bits, read and written whole (Atomics): a plain read of shared
  // memory may see half of a write.
  const bits = new BigInt64Array(1);
  const time = new Float64Array(bits.buffer);
  return {
    flags: feedFlags(shared, 0, ahead),
    /** Sets the writer's clock as it takes a batch: the receipt time of what is read next. */
    setNow: (ms: number): void => {
      time[0] = ms;
      Atomics.store(clock, 0, bits[0] ?? 0n);
    },
    now: (): number => {
      bits[0] = Atomics.load(clock, 0);
      return time[0] ?? 0;
    },
  };
};
