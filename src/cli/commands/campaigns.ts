import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { channels as allChannels, type Channel } from '../../core/profile.js';
import { scheduleCampaign, segmentNames } from '../../pipeline/decide/index.js';
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
  program
    .command('campaigns')
    .description('one-off campaigns')
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
