import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { Readable } from 'node:stream';
import { seededRandom } from '../../ports/random.js';
import { readInputFile, utf8Text } from './read-input-file.js';

describe('readInputFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-read-input-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, bytes: Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const failure = (path: string): AppError => {
    try {
      readInputFile(path);
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
    throw new Error(`${path} was read`);
  };

  it('reads UTF-8 text, dropping a leading byte-order mark', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(
      readInputFile(file('bom.csv', Buffer.concat([bom, Buffer.from('id,name\n1,Zoë\n')]))),
    ).toBe('id,name\n1,Zoë\n');
    // A U+FFFD written in the file is text like any other.
    expect(readInputFile(file('fffd.txt', Buffer.from('a\uFFFDb')))).toBe('a\uFFFDb');
  });

  it('refuses text that is not UTF-8, naming the file and where its first bad byte lies', () => {
    // "Café Crème" in Latin-1, on the second line, after a U+FFFD written as UTF-8.
    const latin1 = Buffer.concat([
      Buffer.from('{"a":"\uFFFD",\n"title":"Caf'),
      Buffer.from([0xe9]),
      Buffer.from(' Cr'),
      Buffer.from([0xe8]),
      Buffer.from('me"}'),
    ]);
    const path = file('latin1.json', latin1);
    const error = failure(path);
    expect(error.code).toBe('invalid-input');
    expect(error.message).toBe(`${path} is not UTF-8 text (byte 24, line 2): save it as UTF-8`);
    expect(latin1[24]).toBe(0xe9);
  });

  it('names a missing file not-found and a folder invalid-input', () => {
    expect(failure(join(dir, 'none.csv')).code).toBe('not-found');
    expect(failure(dir).message).toMatch(/is a folder, not a file/);
  });
});

describe('utf8Text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-utf8-stream-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  /** What streaming `bytes` in chunks of these sizes says, or the text when it is UTF-8. */
  const streamed = async (bytes: Buffer, sizes: readonly number[]): Promise<string> => {
    const chunks: Buffer[] = [];
    for (let at = 0, i = 0; at < bytes.length; i += 1) {
      const size = sizes[i % sizes.length] ?? 1;
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    let text = '';
    try {
      for await (const part of Readable.from(chunks).pipe(utf8Text('f.csv'))) text += String(part);
      return text;
    } catch (error) {
      return (error as Error).message;
    }
  };
  const whole = (bytes: Buffer): string => {
    const path = join(dir, 'f.csv');
    writeFileSync(path, bytes);
    try {
      return readInputFile(path);
    } catch (error) {
      return (error as Error).message.replace(path, 'f.csv');
    }
  };

  it('names the byte and line the whole file would, wherever the chunks end', async () => {
    const random = seededRandom(7);
    const pieces = ['a', 'é', '€', '𝄞', '\n', ',', '7', 'ü'];
    for (let n = 0; n < 300; n += 1) {
      let text = '';
      const length = 1 + Math.floor(random.next() * 40);
      for (let i = 0; i < length; i += 1)
        text += pieces[Math.floor(random.next() * pieces.length)] ?? '';
      const bytes = Buffer.from(text);
      // A Latin-1 byte, a stray continuation byte or a character cut short, somewhere.
      const at = Math.floor(random.next() * (bytes.length + 1));
      const bad = [[0xe4], [0x80], [0xe2, 0x82]][n % 3] ?? [];
      const corrupt =
        n % 7 === 0
          ? bytes
          : Buffer.concat([bytes.subarray(0, at), Buffer.from(bad), bytes.subarray(at)]);
      const sizes = [1 + Math.floor(random.next() * 5), 1 + Math.floor(random.next() * 3)];
      expect([corrupt.toString('hex'), sizes, await streamed(corrupt, sizes)]).toEqual([
        corrupt.toString('hex'),
        sizes,
        whole(corrupt),
      ]);
    }
  });
});
