import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { analyzeExperiment } from '../../pipeline/measure/index.js';
import { formatExperimentAnalysis } from './format-experiment-analysis.js';
import { readExperimentCsv } from './read-experiment-csv.js';

interface AnalyzeFlags {
  arm: string;
  control: string;
  metric: string[];
  weights?: string;
  alpha?: string;
  json?: boolean;
}

/** Parses `a=0.5,b=0.5` (the last `=` splits, so arm names may contain one; not a comma). */
export const parseWeights = (text: string): Record<string, number> => {
  const weights: Record<string, number> = {};
  for (const entry of text.split(',')) {
    const eq = entry.lastIndexOf('=');
    const name = entry.slice(0, eq).trim();
    const weight = Number(entry.slice(eq + 1));
    if (eq <= 0 || name === '' || !(Number.isFinite(weight) && weight >= 0)) {
      throw new AppError('invalid-input', `--weights: "${entry}" is not ARM=WEIGHT`);
    }
    weights[name] = weight;
  }
  return weights;
};

/** The statistics refuse data they cannot analyse with a RangeError naming the problem. */
const analyzeOrExplain = <T>(file: string, run: () => T): T => {
  try {
    return run();
  } catch (error) {
    if (error instanceof RangeError) {
      throw new AppError('invalid-input', `${file}: ${error.message}`, { cause: error });
    }
    throw error;
  }
};

const analyze = async (file: string, flags: AnalyzeFlags): Promise<void> => {
  const alpha = flags.alpha === undefined ? 0.05 : Number(flags.alpha);
  if (!(alpha > 0 && alpha < 1)) {
    throw new AppError('invalid-input', `--alpha must be in (0, 1), got ${flags.alpha ?? ''}`);
  }
  const weights = flags.weights === undefined ? undefined : parseWeights(flags.weights);
  const metrics = [...new Set(flags.metric)];
  const csv = await readExperimentCsv(file, flags.arm, metrics);
  if (!csv.arms.some((arm) => arm.name === flags.control)) {
    throw new AppError(
      'invalid-input',
      `--control "${flags.control}" is not a value of "${flags.arm}" (found ${csv.arms.map((a) => `"${a.name}"`).join(', ')})`,
    );
  }
  const analysis = analyzeOrExplain(file, () =>
    analyzeExperiment(
      { control: flags.control, arms: csv.arms, metrics: csv.metrics },
      { alpha, ...(weights === undefined ? {} : { designedWeights: weights }) },
    ),
  );
  if (flags.json === true) {
    // Non-finite figures (an unbounded interval) become null, as JSON has no Infinity.
    const document = {
      file,
      arm: flags.arm,
      rows: csv.rows,
      problemCount: csv.problemCount,
      problems: csv.problems,
      ...analysis,
    };
    console.log(JSON.stringify(document, null, 2));
  } else {
    console.log(formatExperimentAnalysis(file, flags.arm, csv, analysis));
  }
};

/** `herald experiment …`: experiment commands that need no database. */
export function registerExperimentCommands(program: Command): void {
  const experiment = program.command('experiment').description('analyse experiments');
  experiment
    .command('analyze')
    .description(
      'analyse a CSV of per-customer outcomes: per-arm rates or means, lifts with intervals, fixed-horizon and always-valid p-values, chance to beat control, sample-ratio check',
    )
    .argument('<file>', 'a .csv file with a header row, one row per customer')
    .requiredOption('--arm <column>', 'the column naming each row’s arm')
    .requiredOption('--control <value>', 'the arm value of the control group')
    .requiredOption(
      '--metric <column>',
      'an outcome column (0/1 → binary, else numeric); repeat for several',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--weights <arm=w,…>', 'designed allocation for the sample-ratio check (default equal)')
    .option('--alpha <alpha>', '1 − confidence of intervals and tests', '0.05')
    .option('--json', 'print one JSON document (see docs/experiments.md)')
    .action(async (file: string, flags: AnalyzeFlags) => analyze(file, flags));
}
