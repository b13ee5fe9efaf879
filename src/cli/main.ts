import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { AppError, exitCodeOf, isAppError } from '../core/errors.js';
import { sweepProfiles } from '../pipeline/profile/index.js';
import { loadServices } from './load-services.js';
import { guardStream } from './terminal-safe.js';
import { serve, work } from './commands/serve.js';
import { registerDecisionCommands } from './commands/decisions.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerCampaignCommands } from './commands/campaigns.js';
import { registerSegmentCommands } from './commands/segments.js';
import { importFile, importKinds } from './commands/import-file.js';
import { registerExperimentCommands } from './commands/experiment.js';
import { registerModelCommands } from './commands/models.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerTemplateCommands } from './commands/templates.js';
import { registerContentCommands } from './commands/content.js';
import { registerReportCommand } from './commands/report.js';

const program = new Command('herald')
  .description('Herald — self-hosted marketing automation engine')
  // A usage error (a missing option, an unknown command) is bad input like any other: it throws
  // here and exits with invalid-input's code below. Set before the commands are added, as they
  // copy these settings when they are created.
  .exitOverride()
  .configureOutput({
    outputError: (text, write) => {
      write(text.replace(/^error: /, 'herald: '));
    },
  });

/** The most field-level problems an error lists; a count stands for the rest. */
const MAX_PROBLEMS_SHOWN = 20;

/** The error's message, then its problems (those the message does not list already), one a line. */
const describeError = (error: AppError): string => {
  const unsaid = error.problems
    .map((p) => `${p.path}: ${p.message}`)
    .filter((line) => !error.message.includes(line));
  const lines = [
    `herald: ${error.message}`,
    ...unsaid.slice(0, MAX_PROBLEMS_SHOWN).map((l) => `  ${l}`),
  ];
  if (unsaid.length > MAX_PROBLEMS_SHOWN)
    lines.push(`  … and ${String(unsaid.length - MAX_PROBLEMS_SHOWN)} more`);
  return lines.join('\n');
};

program
  .command('serve')
  .description('start the HTTP API (applies migrations first)')
  .action(async () => serve(await loadServices(process.env, 1)));

program
  .command('worker')
  .description(
    'run the scheduler worker and the dispatcher alone: due journey steps, timers, the daily sweep and the outbox',
  )
  .action(async () => work(await loadServices(process.env, 1)));

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const services = await loadServices(process.env);
    await services.close();
    console.log(`database is up to date (${services.store.driver})`);
  });

/**
 * The file to import and the mapping: `--map` is variadic, so in `--map userId=id data.csv` the
 * file is its last word — a word without `=`, which no mapping is.
 */
export const fileAfterMap = (
  file: string | undefined,
  map: readonly string[] | undefined,
): { file: string; map: string[] | undefined } => {
  const last = map?.[map.length - 1];
  if (file === undefined && last !== undefined && !last.includes('='))
    return { file: last, map: map?.slice(0, -1) };
  if (file === undefined)
    throw new AppError(
      'invalid-input',
      'missing FILE: herald import KIND FILE [--map field=column ...]',
    );
  return { file, map: map === undefined ? undefined : [...map] };
};

program
  .command('import')
  .description('bulk-import customers, orders or events from CSV or NDJSON')
  .argument('<kind>', importKinds.join('|'))
  // Optional to commander only: `--map` takes every word after it, FILE too when it comes last.
  .argument('[file]', 'a .csv, .ndjson or .jsonl file')
  .usage('<kind> <file> [options]')
  .option('--format <format>', 'csv or ndjson (default: from the file extension)')
  .option('--map <mapping...>', 'CSV column mapping, field=column (e.g. userId=customer_id)')
  .option('--batch-size <n>', 'lines per transaction (their valid events)', '1000')
  .action(
    async (
      kind: string,
      given: string | undefined,
      options: { format?: string; map?: string[]; batchSize: string },
    ) => {
      const { file, map } = fileAfterMap(given, options.map);
      // An import allocates fast and keeps little (about 80 MB live at 1,000,000 events): with
      // V8's default heap growth the old generation grows to several times that before it is
      // collected. Growing it by a fifth at a time trades collections for memory (with the bulk
      // writer's smaller caches, the bench's import measured about 430 MB peak RSS instead of
      // about 690 MB, and about 12 % longer; docs/architecture.md, "Profiles written behind").
      // A soft bound: unlike --max-old-space-size, a larger live heap still grows rather than
      // failing. Node calls flags set after start-up unsupported; this one takes effect (the
      // figures above were taken with it set here, not on the command line).
      setFlagsFromString('--heap-growing-percent=20');
      // One writer loading history: profiles are written once per pending limit, not per flush
      // interval (SqliteOptions.bulk).
      const services = await loadServices(process.env, 2, { bulk: true });
      try {
        const summary = await importFile(
          services,
          kind,
          file,
          { ...options, ...(map === undefined ? {} : { map }) },
          process.stderr,
        );
        console.log(JSON.stringify(summary, null, 2));
        // Stopped part-way (an unreadable rest of the file) is not a success, whatever was read.
        if (summary.stopped !== null || (summary.accepted === 0 && summary.rejected > 0))
          process.exitCode = 65;
      } finally {
        await services.close();
      }
    },
  );

const profiles = program.command('profiles').description('profile maintenance');
profiles
  .command('recompute')
  .description(
    'rebuild every profile from its events (after a policy change), or --refresh to re-derive figures only',
  )
  .option('--refresh', 're-derive time-based figures without replaying events')
  .action(async (options: { refresh?: boolean }) => {
    const services = await loadServices(process.env);
    try {
      const n = await sweepProfiles(
        services.store,
        services.config.profilePolicy,
        services.clock.nowMs(),
        {
          mode: options.refresh === true ? 'refresh' : 'rebuild',
          churnModel: services.churnModel,
          onProgress: (done) => process.stderr.write(`\r${done} profiles`),
        },
      );
      process.stderr.write('\n');
      console.log(`${n} profiles ${options.refresh === true ? 'refreshed' : 'rebuilt'}`);
    } finally {
      await services.close();
    }
  });

registerDecisionCommands(program);
registerSimulateCommand(program);
registerCampaignCommands(program);
registerSegmentCommands(program);
registerExperimentCommands(program);
registerModelCommands(program);
registerAuditCommands(program);
registerTemplateCommands(program);
registerContentCommands(program);
registerReportCommand(program);

// Customer data reaches the terminal in previews, lists and errors: none of it may drive it.
guardStream(process.stdout);
guardStream(process.stderr, true);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed the problem (or the help or version asked for).
    process.exitCode = error.exitCode === 0 ? 0 : exitCodeOf['invalid-input'];
  } else if (isAppError(error)) {
    console.error(describeError(error));
    process.exitCode = exitCodeOf[error.code];
  } else {
    console.error(error);
    process.exitCode = 70;
  }
}
