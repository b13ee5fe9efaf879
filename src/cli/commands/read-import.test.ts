import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEvent } from '../../pipeline/ingest/index.js';
import { toSourceId } from '../../core/ids.js';
import {
  fromColumns,
  isUtf8File,
  readImport,
  eventValues,
  utf8Text,
  type ImportRead,
  type ReadBatch,
} from './read-import.js';

const limits = {
  maxEventBytes: 32_000,
  maxBatchBytes: 500_000,
  maxFutureMs: 86_400_000,
  earliestTimestampMs: Date.UTC(2000, 0, 1),
};

describe('reading an import file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-read-import-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const at = () => Date.UTC(2025, 0, 1);
  const identify = (id: string, pad = '') =>
    JSON.stringify({
      type: 'identify',
      userId: id,
      traits: { pad },
      timestamp: '2024-06-01T00:00:00Z',
    });
  /** An NDJSON file of `content` (lines, or the file's text or bytes) to read. */
  const read = (content: string[] | string | Buffer): ImportRead => {
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, Array.isArray(content) ? content.join('\n') : content);
    return { kind: 'events', file, format: 'ndjson', mapping: {}, limits };
  };
  const all = async (batches: AsyncIterable<ReadBatch>) => {
    const list: ReadBatch[] = [];
    for await (const batch of batches) list.push(batch);
    return list;
  };

  it('hands on batches of at most batchSize lines, rejections included', async () => {
    const good = identify('u1');
    const lines = [...Array<string>(7).fill('not json'), good, good, '[1]'];
    const batches = await all(readImport(read(lines), 3, at));
    expect(batches.map((b) => b.events.length + b.rejected.length)).toEqual([3, 3, 3, 1]);
    expect(batches.map((b) => b.lines)).toEqual([3, 6, 9, 10]);
    expect(batches.flatMap((b) => b.rejected.map((r) => r.line))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 10,
    ]);
  });

  it('counts lines as readline does: LF, CRLF and a lone CR, across the chunks it reads', async () => {
    // A BOM (3 bytes), a filler line, then CRLF-ended lines placed so that a CR is the last byte
    // of the first 1 MiB chunk read and its LF the first of the next.
    const line = (i: number) => identify(`u${String(i).padStart(6, '0')}`);
    const record = line(0).length + 2;
    const k = Math.floor(((1 << 20) - 4 - 200) / record);
    const filler = identify(
      'filler',
      'x'.repeat((1 << 20) - 4 - k * record - identify('filler').length),
    );
    const count = k + 5;
    const lines = [filler, ...Array.from({ length: count }, (_, i) => line(i))];
    const text = `\uFEFF${lines.join('\r\n')}\r\n\r\n${line(count)}\r${line(count + 1)}`;
    const bytes = Buffer.from(text);
    expect([bytes[(1 << 20) - 1], bytes[1 << 20]]).toEqual([0x0d, 0x0a]);
    const batches = await all(readImport(read(bytes), 1_000_000, at));
    expect(batches.flatMap((b) => b.rejected)).toEqual([]);
    expect(batches.flatMap((b) => b.events.map((e) => e.userId))).toEqual([
      'filler',
      ...Array.from({ length: count + 2 }, (_, i) => `u${String(i).padStart(6, '0')}`),
    ]);
    // The filler, count lines, a blank one, then two split by a lone CR.
    expect(batches.at(-1)?.lines).toBe(count + 4);
  });

  it('reads lines longer than a chunk, and chunks of nothing but line breaks', async () => {
    // A line of 2.5 MiB (too large an event) spans three chunks; then 1.5 MiB of blank lines.
    const lines = [identify('a'), identify('big', 'x'.repeat(5 << 19)), identify('b')];
    const text = `${lines.join('\n')}${'\n'.repeat(3 << 19)}${identify('c')}\n`;
    const batches = await all(readImport(read(text), 10, at));
    expect(batches.flatMap((b) => b.events.map((e) => e.userId))).toEqual(['a', 'b', 'c']);
    expect(batches.flatMap((b) => b.rejected.map((r) => r.line))).toEqual([2]);
    expect(batches.at(-1)?.lines).toBe(3 + (3 << 19));
  });

  it('reads text whose characters straddle the chunks, between chunks of ASCII alone', async () => {
    // A name whose 4-byte character is cut by the first chunk's end (1 MiB); the chunks after
    // the next are ASCII throughout.
    const name = 'José 😀 Núñez';
    const head = identify('a');
    const prefix = '{"type":"identify","userId":"b","traits":{"name":"';
    const fixed =
      head.length + 1 + identify('pad').length + 1 + Buffer.byteLength(`${prefix}José `);
    const pad = identify('pad', 'x'.repeat((1 << 20) - 1 - fixed));
    const before = `${head}\n${pad}\n${prefix}José `;
    expect(Buffer.byteLength(before)).toBe((1 << 20) - 1);
    const text = `${before}${name.slice('José '.length)}"},"timestamp":"2024-06-01T00:00:00Z"}\n${identify('c', 'y'.repeat(3 << 20))}\n${identify('d')}\n`;
    const batches = await all(readImport(read(Buffer.from(text)), 10, at));
    const events = batches.flatMap((b) => b.events);
    // The filler lines are too large an event each (over 32 KB): rejected, as they should be.
    expect(batches.flatMap((b) => b.rejected.map((r) => r.line))).toEqual([2, 4]);
    expect(events.map((e) => e.userId)).toEqual(['a', 'b', 'd']);
    expect(events[1]?.traits['name']).toBe(name);
  });

  it('decodes as a stream decoder does, malformed bytes and split characters included', async () => {
    // Random runs of ASCII, whole and cut multi-byte characters and stray bytes, cut into
    // random chunks: ASCII chunks take the short way, the text must not change.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const pieces = [
      [0x61],
      [0x0a],
      [0xc3, 0xa9],
      [0xe2, 0x82, 0xac],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xe2],
      [0xe2, 0x82],
      [0x80],
      [0xff],
      [0xf0, 0x9f],
      [0xed, 0xa0, 0x80],
      [0x7a, 0x7a],
    ];
    const text = async (chunks: Buffer[]) => {
      let out = '';
      for await (const part of utf8Text(Readable.from(chunks))) out += part;
      return out;
    };
    for (let n = 0; n < 3000; n += 1) {
      const bytes = Array.from(
        { length: 1 + random(10) },
        () => pieces[random(pieces.length)] ?? [],
      ).flat();
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length;) {
        const k = 1 + random(4);
        chunks.push(Buffer.from(bytes.slice(i, i + k)));
        i += k;
      }
      const decoder = new StringDecoder('utf8');
      const expected = chunks.map((c) => decoder.write(c)).join('') + decoder.end();
      expect(await text(chunks)).toBe(expected);
    }
  });

  /** A customers CSV file of `text` to read. */
  const readCsv = (text: string): ImportRead => {
    const file = join(dir, 'customers.csv');
    writeFileSync(file, text);
    // Cells of up to 128 KiB, for rows that span a chunk of the file.
    return {
      kind: 'customers',
      file,
      format: 'csv',
      mapping: {},
      limits: { ...limits, maxEventBytes: 1 << 18 },
    };
  };
  const rejectedLines = async (text: string) => {
    const batches = await all(readImport(readCsv(text), 1000, at));
    return {
      rejected: batches.flatMap((b) => b.rejected.map((r) => r.line)),
      lines: batches.at(-1)?.lines,
      stopped: batches.at(-1)?.stopped,
    };
  };

  it('counts a CRLF inside a quoted CSV cell as one line break, as an editor does', async () => {
    const text = [
      'customer_id,email,note',
      'c1,a@x.io,"line one\r\nline two"',
      'c2,b@x.io,"first\r\nsecond\r\nthird"',
      ',nobody@x.io,x',
      'c4,d@x.io,y',
      '',
    ].join('\r\n');
    expect(await rejectedLines(text)).toEqual({ rejected: [7], lines: 8, stopped: null });
    // In the column names too, and in a file whose first line ends in LF alone.
    expect(await rejectedLines('"customer\r\nid",note\r\nc1,x\r\n,y\r\n')).toMatchObject({
      lines: 4,
    });
    expect(await rejectedLines('customer_id,note\nc1,x\r\n,y\n,z\r\n')).toMatchObject({
      rejected: [3, 4],
    });
  });

  it('places a skipped CSV row, and where reading stopped, past quoted CRLFs', async () => {
    const quoted = 'customer_id,note\r\nc1,"a\r\nb"\r\n';
    expect(await rejectedLines(`${quoted}c2,x"y\r\n,z\r\n`)).toEqual({
      rejected: [4, 5],
      lines: 5,
      stopped: null,
    });
    const unclosed = await rejectedLines(`${quoted}\r\nc2,"oops\r\nc3,x\r\nc4,y\r\n`);
    expect(unclosed).toMatchObject({ rejected: [5], stopped: { line: 5 } });
    expect(unclosed.stopped?.reason).toMatch(/note cell .* to line 7,/);
  });

  it('stops at column names it cannot read rather than take the first row for them', async () => {
    const { rejected, stopped } = await rejectedLines('customer_id,wid"th\nc1,2\n,3\n');
    expect(rejected).toEqual([1]);
    expect(stopped?.reason).toMatch(/^the header \(the column names\) cannot be read/);
  });

  it('counts CSV lines across the chunks it reads, CRLFs split between them included', async () => {
    // Read 64 KiB at a time: the CR of a quoted CRLF is the first chunk's last byte, the CR of
    // a row's CRLF the second's.
    const header = 'customer_id,email,note\r\n';
    const first = 'c1,x,"';
    const row1 = `${first}${'p'.repeat((1 << 16) - 1 - header.length - first.length)}\r\nm"\r\n`;
    const row2 = ',x,y\r\n';
    const third = 'c3,x,';
    const before = header.length + row1.length + row2.length + third.length;
    const row3 = `${third}${'q'.repeat((1 << 17) - 1 - before)}\r\n`;
    const bytes = Buffer.from(`${header}${row1}${row2}${row3},x,z\r\n`);
    expect([bytes[(1 << 16) - 1], bytes[1 << 16], bytes[(1 << 17) - 1]]).toEqual([
      0x0d, 0x0a, 0x0d,
    ]);
    expect(await rejectedLines(bytes.toString())).toEqual({
      rejected: [4, 6],
      lines: 6,
      stopped: null,
    });
    // Many rows of varied length, a quoted CRLF in each, every seventh without its id.
    const rows = Array.from({ length: 20_000 }, (_, i) =>
      i % 7 === 6
        ? `,x,"${'n'.repeat(i % 13)}\r\nm"`
        : `c${String(i)},x,"${'n'.repeat(i % 11)}\r\nm"`,
    );
    const text = `customer_id,email,note\r\n${rows.join('\r\n')}\r\n`;
    expect(await rejectedLines(text)).toEqual({
      rejected: rows.flatMap((_, i) => (i % 7 === 6 ? [2 + 2 * i] : [])),
      lines: 2 + 2 * (rows.length - 1),
      stopped: null,
    });
  });

  it('stamps a batch’s events with the time asked as the batch begins, as an API batch', async () => {
    const line = JSON.stringify({
      type: 'track',
      userId: 'u1',
      event: 'Signed Up',
      timestamp: '2023-06-01T00:00:00Z',
    });
    let now = 1_700_000_000_000;
    const batches = await all(readImport(read([line, line, line]), 2, () => (now += 1000)));
    expect(batches.map((b) => b.events.map((e) => e.receivedAtMs))).toEqual([
      [1_700_000_001_000, 1_700_000_001_000],
      [1_700_000_002_000],
    ]);
  });

  it('hands events to another thread as values and makes them whole again, unchanged', () => {
    const parsed = [
      {
        type: 'alias',
        userId: 'u2',
        previousId: 'anon-1',
        timestamp: '2025-01-01T00:00:00Z',
      },
      {
        type: 'track',
        anonymousId: 'a1',
        event: 'Order Completed',
        properties: { order_id: 'o1', total: 12.5, items: [{ sku: 'é', qty: 2 }] },
        context: { timezone: 'Europe/Paris', ip: '192.0.2.1' },
        timestamp: '2025-01-02T00:00:00Z',
      },
      { type: 'group', userId: 'u3', groupId: 'g1', traits: { name: 'Acme' } },
    ].map((raw, i) => {
      const result = parseEvent(
        raw,
        {
          sourceId: toSourceId('import-events'),
          receivedAtMs: Date.UTC(2025, 0, 3),
          type: null,
          sentAt: undefined,
          context: null,
          path: `line ${String(i + 1)}`,
          newMessageId: () => `m${String(i)}`,
        },
        limits,
      );
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      return result.value.event;
    });
    const again = fromColumns(structuredClone(parsed.flatMap(eventValues)));
    expect(again).toEqual(parsed);
  });
});

describe('isUtf8File', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-utf8-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const fileOf = (name: string, bytes: Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  // Characters of two, three and four bytes, and a U+FFFD, across the 1 MiB a read takes.
  const across = (tail: Buffer) =>
    Buffer.concat([Buffer.from('a'.repeat(2 ** 20 - 1)), Buffer.from('é€😀\uFFFD'), tail]);

  it('reads a file of UTF-8 as one, a character split between two reads included', async () => {
    expect(await isUtf8File(fileOf('ok.txt', across(Buffer.from('\n'))))).toBe(true);
    for (const cut of [1, 2, 3])
      expect(
        await isUtf8File(
          fileOf(`cut${String(cut)}.txt`, across(Buffer.alloc(0)).subarray(0, 2 ** 20 - 1 + cut)),
        ),
      ).toBe(cut === 2);
  });

  it('finds a byte that is not UTF-8, and a sequence the file ends in the middle of', async () => {
    expect(await isUtf8File(fileOf('latin1.txt', across(Buffer.from([0xe9, 0x0a]))))).toBe(false);
    expect(await isUtf8File(fileOf('ends.txt', Buffer.from([0x61, 0xe2, 0x82])))).toBe(false);
    expect(await isUtf8File(join(dir, 'missing.txt'))).toBe(false);
  });
});
