import type { ConversionView } from '../../../core/decision.js';
import { channels, type Channel } from '../../../core/profile.js';
import type { ModelStore, ModelVersion } from '../../../ports/model-store.js';
import { shrunkRate } from './beta-binomial.js';

/** A customer's sends and credited sends per channel. */
export type ChannelCounts = Readonly<Record<string, { sends: number; conversions: number }>>;

/** How many of the latest registry versions are read to find the conversion model in use. */
export const recentModelsRead = 50;

/**
 * The conversion version in use among the registry's latest versions (newest first): the latest
 * trained one, so a refused run leaves the one before it in use. The decide stage and the
 * profile API both choose with this, so the profile shows the figure decisions use.
 */
export const conversionVersionIn = (recent: readonly ModelVersion[]): ModelVersion | null =>
  recent.find((m) => m.kind === 'conversion' && m.status === 'trained') ?? null;

/**
 * The conversion model the decide stage weighs expected values with, held in memory: `refresh`
 * reads the latest trained conversion run (at start, after training, and hourly in `serve` and
 * `herald worker`),
 * `score` turns a customer's counts into their probability per modelled channel.
 */
export const createLiveConversionModel = (store: Pick<ModelStore, 'listModels'>) => {
  let version: ModelVersion | null = null;
  return {
    async refresh(): Promise<void> {
      version = conversionVersionIn(await store.listModels(recentModelsRead));
    },
    active: (): boolean => version !== null,
    score(counts: ChannelCounts): ConversionView | null {
      if (version === null) return null;
      const byChannel: Partial<Record<Channel, number>> = {};
      for (const channel of channels) {
        const prior = version.params[channel];
        const alpha = prior?.['alpha'];
        const beta = prior?.['beta'];
        if (alpha === undefined || beta === undefined) continue;
        byChannel[channel] = shrunkRate(counts[channel] ?? { sends: 0, conversions: 0 }, {
          alpha,
          beta,
        });
      }
      return { modelVersion: version.version, byChannel };
    },
  };
};

export type LiveConversionModel = ReturnType<typeof createLiveConversionModel>;
