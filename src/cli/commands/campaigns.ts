import { parseDateInput } from '../../core/time.js';
import type { Command } from 'commander';
import { CAMPAIGN_ID_PATTERN, MAX_CODE_VALID_HOURS } from '../../core/decision.js';
import { AppError } from '../../core/errors.js';
import { channels as allChannels, type Channel } from '../../core/profile.js';
import { segmentNames } from '../../pipeline/decide/index.js';
import { experimentResults, promoteWinner } from '../../pipeline/experiment-results.js';
import { launchCampaign } from '../../pipeline/launch-campaign.js';
import { refuseUnprintedCode } from '../../pipeline/render/index.js';
import type { PreparedCreative } from '../../pipeline/creative.js';
import { formatResults } from './format-experiment-results.js';
import { loadServices } from '../load-services.js';
import { parseIntegerOption } from './parse-integer-option.js';

const toChannels = (text: string): Channel[] =>
  text.split(',').map((c) => {
    const channel = allChannels.find((known) => known === c.trim());
    if (channel === undefined)
      throw new AppError(
        'invalid-input',
        `--channels: "${c}" is not one of ${allChannels.join(', ')}`,
      );
    return channel;
  });

const CAMPAIGN_ID = new RegExp(CAMPAIGN_ID_PATTERN);

/** `herald campaigns send`: a one-off campaign to a segment, decided by the scheduler. */
export const registerCampaignCommands = (program: Command): void => {
  const campaigns = program.command('campaigns').description('one-off campaigns');
  campaigns
    .command('results')
    .description(
      "a campaign's experiment: variants against control, the campaign against its holdout",
    )
    .requiredOption('--id <id>', 'campaign id')
    .option('--json', 'print the results as one JSON document (as GET /v1/experiments/:id/results)')
    .option('--promote', 'promote the winner (and keep the learnings) if the statistics allow')
    .action(async (options: { id: string; json?: boolean; promote?: boolean }) => {
      const services = await loadServices(process.env);
      try {
        const results = await experimentResults(services.store, options.id, {
          nowMs: services.clock.nowMs(),
        });
        console.log(
          options.json === true ? JSON.stringify(results, null, 2) : formatResults(results),
        );
        if (options.promote === true) {
          const outcome = await promoteWinner(services.store, options.id, services.clock.nowMs());
          console.log(
            outcome.promoted
              ? `promoted ${outcome.winner} (${outcome.strategy ?? 'no strategy'}); ${String(outcome.learnings)} learnings kept`
              : `not promoted: ${outcome.reason}`,
          );
        }
      } finally {
        await services.close();
      }
    });
  campaigns
    .command('send')
    .description('schedule a one-off campaign for every customer in a segment (or everyone)')
    .requiredOption('--id <id>', 'campaign id (sending the same id again reaches nobody twice)')
    .requiredOption('--template <name>', 'template of the message')
    .option('--channels <list>', 'channels in order of preference', 'email')
    .option('--segment <name>', `one of: ${segmentNames.join(', ')}`)
    .option('--at <date>', 'send time (ISO-8601; default now)')
    .option('--percent <n>', 'discount percent')
    .option('--valid-hours <n>', 'hours the discount code stays valid', '72')
    .option('--holdout <percent>', 'percent of the audience held out as the baseline (0–50)')
    .option('--creative [query]', 'write variants from the content library (optionally on a topic)')
    .option('--stratify', 'split the variants within each RFM segment separately')
    .action(
      async (options: {
        id: string;
        template: string;
        channels: string;
        segment?: string;
        at?: string;
        percent?: string;
        validHours: string;
        holdout?: string;
        creative?: string | boolean;
        stratify?: boolean;
      }) => {
        if (!CAMPAIGN_ID.test(options.id))
          throw new AppError(
            'invalid-input',
            `--id: "${options.id}" is not a campaign id (1–64 lowercase letters, digits and hyphens, not starting with a hyphen)`,
          );
        const validHours = parseIntegerOption(options.validHours, '--valid-hours', {
          min: 1,
          max: MAX_CODE_VALID_HOURS,
        });
        if (options.segment !== undefined && !segmentNames.some((s) => s === options.segment))
          throw new AppError(
            'invalid-input',
            `--segment: "${options.segment}" is not one of ${segmentNames.join(', ')}`,
          );
        const services = await loadServices(process.env);
        try {
          const template = services.guard.renderer.templateOf(options.template);
          if (template === undefined)
            throw new AppError(
              'invalid-input',
              `--template: no template named "${options.template}" (herald templates list shows them)`,
            );
          const nowMs = services.clock.nowMs();
          const sendAtMs = options.at === undefined ? nowMs : parseDateInput(options.at, '--at');
          // Decimal digits only: Number() would read "0x10" as 16 and "" as 0.
          const percent =
            options.percent === undefined
              ? null
              : /^\d+(?:\.\d+)?$/.test(options.percent.trim())
                ? Number(options.percent)
                : Number.NaN;
          if (percent !== null && !(percent > 0 && percent <= 100))
            throw new AppError('invalid-input', '--percent must be in (0, 100]');
          // Decimal digits only: Number() would read "0x10" as 16 and "" as 0.
          const holdout =
            options.holdout === undefined
              ? 0
              : /^\d+(?:\.\d+)?$/.test(options.holdout.trim())
                ? Number(options.holdout)
                : Number.NaN;
          if (!(holdout >= 0 && holdout <= 50))
            throw new AppError('invalid-input', '--holdout must be a percent in [0, 50]');
          const channels = toChannels(options.channels);
          if (percent !== null && options.creative === undefined)
            refuseUnprintedCode(template, channels, '--percent');
          const { audience, alreadyScheduled, resumed, creative } = await launchCampaign(
            services.store,
            services.decide,
            {
              id: options.id,
              template: options.template,
              channels,
              segment: options.segment ?? null,
              incentive: percent === null ? null : { percent, validHours },
              sendAtMs,
              ...(holdout > 0 ? { holdoutPercent: holdout } : {}),
              ...(options.stratify === true ? { stratify: true } : {}),
            },
            options.creative === undefined
              ? null
              : {
                  query: typeof options.creative === 'string' ? options.creative : null,
                  writing: services.campaignWriting(nowMs),
                },
            nowMs,
          );
          console.log(
            `campaign ${options.id}: ${audience} customers scheduled for ${new Date(sendAtMs).toISOString()}${resumed > 0 ? ` (${String(resumed)} of them blocked by the budget before, given another turn)` : ''}${alreadyScheduled > 0 ? ` (${String(alreadyScheduled)} already scheduled or reached)` : ''}${creative === null ? '' : `, ${String(creative.variants.length)} variants (${creative.variants.map((v) => `${v.id}: ${v.strategy}${v.weight === undefined ? '' : `, ×${String(v.weight)} traffic (won before)`}`).join(', ')})`}${holdout > 0 ? `, ${String(holdout)} % held out` : ''}`,
          );
          if (creative !== null && creative.usage.calls > 0) console.log(writerNote(creative));
        } finally {
          await services.close();
        }
      },
    );
};

/** Who wrote a campaign's copy when a language model was asked, what it cost, and any fallback. */
const writerNote = (creative: PreparedCreative): string => {
  const u = creative.usage;
  const writers = [...new Set(creative.variants.map((v) => v.generator))].join(', ');
  const cost = `${String(u.calls)} model call${u.calls === 1 ? '' : 's'}, ${String(u.promptTokens)} prompt and ${String(u.completionTokens)} completion tokens, $${u.costUsd.toFixed(4)}`;
  return `copy written by ${writers} (${cost})${creative.fallback === null ? '' : `; the composer stood in: ${creative.fallback}`}`;
};
