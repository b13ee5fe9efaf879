import type { ModelStore, ModelVersion } from '../../ports/model-store.js';
import type { ActivityFacts } from './churn/churn-features.js';
import { toChurnDraft, type ChurnTrainOptions } from './churn/train-churn-model.js';
import { toConversionDraft } from './conversion/train-conversion-model.js';
import { loadTransactions, toClvDraft, type TrainOptions } from './train-clv-model.js';

const DAY_MS = 86_400_000;

export type TrainModelsOptions = TrainOptions &
  Pick<ChurnTrainOptions, 'churnDays' | 'ruleScore'> & {
    /** How long after a send an order still credits it (the deliver policy's; default 7). */
    attributionWindowDays?: number;
    /** How far back the conversion model reads sends (default 365 days). */
    conversionLookbackDays?: number;
    /**
     * Each customer's profile activity at the given cutoffs, replayed from their events, for the
     * churn classifier's activity features; without it they keep their defaults.
     */
    activityHistory?: (
      cutoffsMs: readonly number[],
    ) => Promise<ReadonlyMap<string, readonly (ActivityFacts | null)[]>>;
  };

/**
 * One training run on the store's orders and sent messages before the cutoff: the CLV model
 * (BG/NBD + Gamma-Gamma), the churn classifier and the conversion model, each registered as its
 * own version (or as `insufficient-data` with the reason), in that order.
 */
export const trainModels = async (
  store: Pick<ModelStore, 'listOrders' | 'saveModel' | 'listMessageOutcomes'>,
  options: TrainModelsOptions,
): Promise<ModelVersion[]> => {
  const transactions = await loadTransactions(
    store,
    options.cutoffMs ?? options.nowMs,
    options.pageSize,
  );
  const clv = await store.saveModel(toClvDraft(transactions, options));
  const cutoffMs = options.cutoffMs ?? options.nowMs;
  const churnDays = options.churnDays ?? 90;
  // The churn classifier's two cutoffs: it learns at cutoff − 2N and is judged at cutoff − N.
  const history = await options.activityHistory?.([
    cutoffMs - 2 * churnDays * DAY_MS,
    cutoffMs - churnDays * DAY_MS,
  ]);
  const at = (index: number) => {
    const out = new Map<string, ActivityFacts>();
    for (const [id, facts] of history ?? []) {
      const f = facts[index];
      if (f != null) out.set(id, f);
    }
    return out;
  };
  const churn = await store.saveModel(
    toChurnDraft(transactions, {
      nowMs: options.nowMs,
      ...(options.cutoffMs === undefined ? {} : { cutoffMs: options.cutoffMs }),
      ...(options.periodDays === undefined ? {} : { periodDays: options.periodDays }),
      ...(options.gate === undefined ? {} : { gate: options.gate }),
      ...(options.churnDays === undefined ? {} : { churnDays: options.churnDays }),
      ...(options.ruleScore === undefined ? {} : { ruleScore: options.ruleScore }),
      ...(history === undefined ? {} : { activity: { learn: at(0), evaluate: at(1) } }),
    }),
  );
  const windowDays = options.attributionWindowDays ?? 7;
  const lookbackDays = options.conversionLookbackDays ?? 365;
  const sends = await store.listMessageOutcomes(
    cutoffMs - (windowDays + lookbackDays) * DAY_MS,
    cutoffMs,
  );
  const conversion = await store.saveModel(
    toConversionDraft(sends, {
      nowMs: options.nowMs,
      cutoffMs,
      attributionWindowDays: windowDays,
      lookbackDays,
    }),
  );
  return [clv, churn, conversion];
};
