import { DAY_MS } from '../../core/time.js';
import type { ModelStore, ModelVersion } from '../../ports/model-store.js';
import { trainModels, type TrainModelsOptions } from './train-models.js';

export interface RetrainPolicy {
  /** Days between training runs once a model is trained (0: never on a schedule). */
  everyDays: number;
  /** Days held out to measure each run's forecast. */
  holdoutDays: number;
}

/**
 * The learning loop's schedule: trains when no run is registered yet, when the latest run's
 * CLV model trained `everyDays` ago, or a day after a run whose CLV model the data gate refused
 * (orders keep arriving). Returns the new versions (CLV, churn, conversion), or null when nothing was due.
 */
export const trainIfDue = async (
  store: Pick<ModelStore, 'listOrders' | 'saveModel' | 'listModels' | 'listMessageOutcomes'>,
  policy: RetrainPolicy,
  nowMs: number,
  options: Pick<
    TrainModelsOptions,
    'ruleScore' | 'churnDays' | 'attributionWindowDays' | 'activityHistory'
  > = {},
): Promise<ModelVersion[] | null> => {
  if (policy.everyDays <= 0) return null;
  // One run registers a CLV, a churn and a conversion version; its CLV version says whether
  // the orders passed the data gate.
  const latest = (await store.listModels(10)).find((m) => m.kind === 'clv');
  if (latest !== undefined) {
    const waitDays = latest.status === 'trained' ? policy.everyDays : Math.min(1, policy.everyDays);
    if (nowMs - latest.trainedAtMs < waitDays * DAY_MS) return null;
  }
  return trainModels(store, { ...options, nowMs, holdoutDays: policy.holdoutDays });
};
