import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { summariseSegments } from '../../pipeline/decide/index.js';
import { loadServices } from '../load-services.js';
import { parseIntegerOption } from './parse-integer-option.js';

/** `herald segments [--k N]`: the rule segments now, and k-means over RFM when asked. */
export const registerSegmentCommands = (program: Command): void => {
  program
    .command('segments')
    .description('count customers per RFM segment; with --k, also cluster them by k-means over RFM')
    .option('--k <n>', 'number of k-means clusters')
    .option('--seed <n>', 'seed of the k-means++ start', '1')
    .option('--json', 'print one JSON document')
    .action(async (options: { k?: string; seed: string; json?: boolean }) => {
      const k =
        options.k === undefined ? undefined : parseIntegerOption(options.k, '--k', { min: 1 });
      const seed = parseIntegerOption(options.seed, '--seed', { min: 0, max: 2 ** 32 - 1 });
      const services = await loadServices(process.env);
      try {
        const summary = await summariseSegments(
          services.store,
          services.decide,
          services.clock.nowMs(),
          { ...(k === undefined ? {} : { k }), seed },
        ).catch((error: unknown) => {
          // k-means refuses a k larger than the customers with a RangeError saying so.
          if (error instanceof RangeError && error.message.startsWith('k-means'))
            throw new AppError('invalid-input', `--k: ${error.message}`, { cause: error });
          throw error;
        });
        if (options.json === true) {
          console.log(JSON.stringify(summary, null, 2));
          return;
        }
        console.log(
          `${summary.customers} customers (and ${summary.anonymousVisitors} anonymous visitors who never ordered, left out)`,
        );
        for (const [segment, n] of Object.entries(summary.bySegment))
          console.log(`  ${segment}: ${n}`);
        summary.clusters?.forEach((c, i) => {
          const r = c.centroid;
          const top = Object.entries(c.segments).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '—';
          console.log(
            `cluster ${i + 1}: ${c.size} customers, recency ${r.recencyDays.toFixed(0)} d, ${r.frequency.toFixed(1)} orders, $${r.monetary.toFixed(2)}; mostly ${top}`,
          );
        });
      } finally {
        await services.close();
      }
    });
};
