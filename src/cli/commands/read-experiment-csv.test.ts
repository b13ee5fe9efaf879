import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { readExperimentCsv } from './read-experiment-csv.js';

describe('readExperimentCsv', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-experiment-csv-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('sums each arm of a file', async () => {
    const file = join(dir, 'outcomes.csv');
    writeFileSync(file, 'arm,converted\na,1\na,0\nb,1\n');
    const csv = await readExperimentCsv(file, 'arm', ['converted']);
    expect(csv.arms).toEqual([
      { name: 'a', n: 2 },
      { name: 'b', n: 1 },
    ]);
  });

  it('refuses a file that does not exist as invalid input naming it', async () => {
    const file = join(dir, 'missing.csv');
    const error: unknown = await readExperimentCsv(file, 'arm', ['converted']).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'invalid-input' });
    expect((error as AppError).message).toBe(
      `${file}: ENOENT: no such file or directory, open '${file}'`,
    );
  });
});
