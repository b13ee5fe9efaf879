import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { channels as allChannels, type Channel } from '../../core/profile.js';
import { scheduleCampaign, segmentNames } from '../../pipeline/decide/index.js';
import { campaignResults } from '../../pipeline/creative.js';
import { loadServices } from '../load-services.js';

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

/** `herald campaigns send`: a one-off campaign to a segment, decided by the scheduler. */
export const registerCampaignCommands = (program: Command): void => {
  const campaigns = program.command('campaigns').description('one-off campaigns');
  campaigns
    .command('results')
    .description("a creative campaign's variants: sent, orders, rates, the test against control")
    .requiredOption('--id <id>', 'campaign id')
    .option('--learn', 'remember the strategy that beat control for the segment')
    .option('--segment <name>', 'the segment the campaign went to (for --learn)')
    .action(async (options: { id: string; learn?: boolean; segment?: string }) => {
      const services = await loadServices(process.env);
      try {
        const results = await campaignResults(
          services.store,
          options.id,
          options.learn === true
            ? { segment: options.segment ?? null, nowMs: services.clock.nowMs() }
            : null,
        );
        for (const v of results.variants)
          console.log(
            `${v.variant}  ${v.strategy.padEnd(12)} sent ${String(v.sent)}, orders ${String(v.conversions)} (${(v.rate * 100).toFixed(1)} %, 95 % CI ${(v.interval.lower * 100).toFixed(1)}–${(v.interval.upper * 100).toFixed(1)} %), revenue ${v.revenue.toFixed(2)}${v.vsControl === null ? '' : `; vs control ${(v.vsControl.difference * 100).toFixed(1)} pts, p = ${v.vsControl.p.toPrecision(3)}`}`,
          );
        console.log(
          results.winner === null
            ? 'no variant beat control at p < 0.05'
            : `winner: ${results.winner}${options.learn === true ? ' (learned)' : ''}`,
        );
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
    .action(
      async (options: {
        id: string;
        template: string;
        channels: string;
        segment?: string;
        at?: string;
        percent?: string;
        validHours: string;
      }) => {
        if (options.segment !== undefined && !segmentNames.some((s) => s === options.segment))
          throw new AppError(
            'invalid-input',
            `--segment: "${options.segment}" is not one of ${segmentNames.join(', ')}`,
          );
        const services = await loadServices(process.env);
        try {
          const nowMs = services.clock.nowMs();
          const sendAtMs = options.at === undefined ? nowMs : Date.parse(options.at);
          if (Number.isNaN(sendAtMs))
            throw new AppError('invalid-input', `--at: "${options.at ?? ''}" is not a date`);
          const percent = options.percent === undefined ? null : Number(options.percent);
          if (percent !== null && !(percent > 0 && percent <= 100))
            throw new AppError('invalid-input', '--percent must be in (0, 100]');
          const audience = await scheduleCampaign(
            services.store,
            services.decide,
            {
              id: options.id,
              template: options.template,
              channels: toChannels(options.channels),
              segment: options.segment ?? null,
              incentive:
                percent === null ? null : { percent, validHours: Number(options.validHours) },
              sendAtMs,
            },
            nowMs,
          );
          console.log(
            `campaign ${options.id}: ${audience} customers scheduled for ${new Date(sendAtMs).toISOString()}`,
          );
        } finally {
          await services.close();
        }
      },
    );
};
