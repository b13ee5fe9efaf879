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

  it('refuses a file that is not UTF-8, naming where, rather than reading its arms garbled', async () => {
    const file = join(dir, 'latin1.csv');
    const rows = ['arm,conv', ...Array.from({ length: 50 }, (_, i) => `Kontrolle,${i % 2}`)];
    writeFileSync(file, Buffer.from([...rows, 'Männer,1', ''].join('\n'), 'latin1'));
    const error: unknown = await readExperimentCsv(file, 'arm', ['conv']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toBe(
      `${file} is not UTF-8 text (byte ${String(rows.join('\n').length + 2)}, line 52): save it as UTF-8`,
    );
    // The same rows in UTF-8 read as they are.
    writeFileSync(file, [...rows, 'Männer,1', ''].join('\n'));
    const csv = await readExperimentCsv(file, 'arm', ['conv']);
    expect(csv.arms.map((a) => a.name)).toEqual(['Kontrolle', 'Männer']);
  });

  it('counts the buyers of a mostly-zero metric, and not of one with a few zeros', async () => {
    const file = join(dir, 'spend.csv');
    writeFileSync(file, 'arm,spend,minutes\na,0,3\na,0,0\na,12,4\nb,0,5\nb,0,2.5\nb,7,1\n');
    const csv = await readExperimentCsv(file, 'arm', ['spend', 'minutes']);
    const [spend, minutes] = csv.metrics;
    expect(spend).toMatchObject({ kind: 'numeric', arms: { a: { n: 3, nonZero: 1 } } });
    expect(minutes?.kind).toBe('numeric');
    expect(minutes?.arms['a']).not.toHaveProperty('nonZero');
  });
});
