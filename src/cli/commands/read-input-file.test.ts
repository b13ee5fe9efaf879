import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { readInputFile } from './read-input-file.js';

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
