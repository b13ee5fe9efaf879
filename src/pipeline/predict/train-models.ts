import type { ModelStore, ModelVersion } from '../../ports/model-store.js';
import { toChurnDraft, type ChurnTrainOptions } from './churn/train-churn-model.js';
import { loadTransactions, toClvDraft, type TrainOptions } from './train-clv-model.js';

export type TrainModelsOptions = TrainOptions & Pick<ChurnTrainOptions, 'churnDays' | 'ruleScore'>;

/**
 * One training run on the store's orders before the cutoff: the CLV model (BG/NBD +
 * Gamma-Gamma) and the churn classifier, each registered as its own version (or as
 * `insufficient-data` with the reason), CLV first.
 */
export const trainModels = async (
  store: Pick<ModelStore, 'listOrders' | 'saveModel'>,
  options: TrainModelsOptions,
): Promise<ModelVersion[]> => {
  const transactions = await loadTransactions(
    store,
    options.cutoffMs ?? options.nowMs,
    options.pageSize,
  );
  const clv = await store.saveModel(toClvDraft(transactions, options));
  const churn = await store.saveModel(
    toChurnDraft(transactions, {
      nowMs: options.nowMs,
      ...(options.cutoffMs === undefined ? {} : { cutoffMs: options.cutoffMs }),
      ...(options.periodDays === undefined ? {} : { periodDays: options.periodDays }),
      ...(options.gate === undefined ? {} : { gate: options.gate }),
      ...(options.churnDays === undefined ? {} : { churnDays: options.churnDays }),
      ...(options.ruleScore === undefined ? {} : { ruleScore: options.ruleScore }),
    }),
  );
  return [clv, churn];
};
