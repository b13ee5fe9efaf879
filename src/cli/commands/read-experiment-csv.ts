import { createReadStream } from 'node:fs';
import { parse as parseCsv, type CsvError } from 'csv-parse';
import { TOLERANT_CSV } from './csv-options.js';
import { utf8Text } from './read-input-file.js';
import { AppError } from '../../core/errors.js';
import type { MetricInput } from '../../pipeline/measure/index.js';

/** A row, or one cell of it, that could not be used. `line` is the file's line (header = 1). */
export interface RowProblem {
  line: number;
  column?: string;
  message: string;
}

export interface ExperimentCsv {
  /** Data records read, including those with problems (CSV syntax errors aside). */
  rows: number;
  /** Arms in order of first appearance, with the rows that named them. */
  arms: { name: string; n: number }[];
  metrics: MetricInput[];
  /** Every problem counted; the first `MAX_LISTED` listed. */
  problemCount: number;
  problems: RowProblem[];
}

const MAX_LISTED = 100;

/** Running count, mean and sum of squared deviations (Welford 1962), and the values not 0. */
interface Accumulator {
  n: number;
  mean: number;
  m2: number;
  sum: number;
  nonZero: number;
}

const emptyAccumulator = (): Accumulator => ({ n: 0, mean: 0, m2: 0, sum: 0, nonZero: 0 });

const add = (acc: Accumulator, x: number): void => {
  acc.n += 1;
  acc.sum += x;
  if (x !== 0) acc.nonZero += 1;
  const delta = x - acc.mean;
  acc.mean += delta / acc.n;
  acc.m2 += delta * (x - acc.mean);
};

/**
 * Streams a CSV of per-customer outcomes (one row per customer: an arm column and metric
 * columns) into per-arm summaries. A metric is binary when every value read is 0 or 1, numeric
 * otherwise. Rows without an arm, cells that are not numbers and CSV syntax errors are reported
 * with their line and column and left out; the rest is kept. Throws an `invalid-input` AppError
 * when a column is missing or nothing usable remains.
 */
export const readExperimentCsv = async (
  file: string,
  armColumn: string,
  metricColumns: readonly string[],
): Promise<ExperimentCsv> => {
  const problems: RowProblem[] = [];
  let problemCount = 0;
  const report = (problem: RowProblem) => {
    problemCount += 1;
    if (problems.length < MAX_LISTED) problems.push(problem);
  };
  let header: string[] | undefined;
  const input = createReadStream(file);
  const text = utf8Text(file);
  const parser = input.pipe(text).pipe(
    parseCsv({
      columns: (names: string[]) => {
        header = names.map((name) => name.trim());
        const missing = [armColumn, ...metricColumns].filter((c) => !header?.includes(c));
        if (missing.length > 0) {
          throw new AppError(
            'invalid-input',
            `${file}: no column ${missing.map((c) => `"${c}"`).join(', ')} (the header has ${header.join(', ')})`,
          );
        }
        return header;
      },
      ...TOLERANT_CSV,
      on_skip: (error: CsvError | undefined) => {
        const line = typeof error?.['lines'] === 'number' ? error['lines'] : 0;
        report({ line, message: error?.message ?? 'unreadable record' });
        return undefined;
      },
    }),
  );
  // `pipe` does not pass on the file's errors (a file that does not exist): the loop below
  // reports them once the parser is destroyed with them.
  input.once('error', (error) => parser.destroy(error));
  text.once('error', (error) => parser.destroy(error));
  const arms = new Map<string, { n: number; metrics: Accumulator[] }>();
  const allBinary = metricColumns.map(() => true);
  let rows = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string | undefined>;
      info: { lines: number };
    }>) {
      rows += 1;
      const line = info.lines;
      const armName = record[armColumn] ?? '';
      if (armName === '') {
        report({ line, column: armColumn, message: 'no arm: the row is left out' });
        continue;
      }
      let arm = arms.get(armName);
      if (arm === undefined) {
        arm = { n: 0, metrics: metricColumns.map(emptyAccumulator) };
        arms.set(armName, arm);
      }
      arm.n += 1;
      metricColumns.forEach((column, i) => {
        const raw = record[column];
        const value = raw === undefined || raw === '' ? Number.NaN : Number(raw);
        if (!Number.isFinite(value)) {
          const message =
            raw === undefined
              ? 'missing (the row has too few columns)'
              : raw === ''
                ? 'empty'
                : `"${raw}" is not a number`;
          report({ line, column, message: `${message}: value left out` });
          return;
        }
        if (value !== 0 && value !== 1) allBinary[i] = false;
        const acc = arm.metrics[i];
        if (acc !== undefined) add(acc, value);
      });
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('invalid-input', `${file}: ${(error as Error).message}`, { cause: error });
  }
  if (header === undefined) throw new AppError('invalid-input', `${file}: the file is empty`);
  if (arms.size === 0) throw new AppError('invalid-input', `${file}: no row names an arm`);

  const metrics: MetricInput[] = metricColumns.map((name, i) => {
    const perArm = [...arms].map(([arm, { metrics: accs }]) => {
      const acc = accs[i] ?? emptyAccumulator();
      return [arm, acc] as const;
    });
    // A mostly-zero metric (revenue per customer: most bought nothing) says how many values
    // each arm has, so that its test waits for enough buyers (`enoughNonZero`), as live
    // results do; a metric with a few zeros among its values is a plain numeric one.
    const values = perArm.reduce((sum, [, acc]) => sum + acc.n, 0);
    const nonZero = perArm.reduce((sum, [, acc]) => sum + acc.nonZero, 0);
    const mostlyZero = values > 0 && 2 * nonZero <= values;
    if (allBinary[i] === true) {
      return {
        name,
        kind: 'binary',
        arms: Object.fromEntries(
          perArm.map(([arm, acc]) => [arm, { successes: acc.sum, trials: acc.n }]),
        ),
      };
    }
    return {
      name,
      kind: 'numeric',
      arms: Object.fromEntries(
        perArm.map(([arm, acc]) => [
          arm,
          {
            n: acc.n,
            mean: acc.mean,
            variance: acc.n > 1 ? acc.m2 / (acc.n - 1) : 0,
            ...(mostlyZero ? { nonZero: acc.nonZero } : {}),
          },
        ]),
      ),
    };
  });
  return {
    rows,
    arms: [...arms].map(([name, { n }]) => ({ name, n })),
    metrics,
    problemCount,
    problems,
  };
};
