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
 * The learning loop's schedule: trains when no run is registered yet, when the latest trained
 * model is `everyDays` old, or a day after a run refused for lack of data (data keeps
 * arriving). Returns the new versions (CLV, then churn), or null when nothing was due.
 */
export const trainIfDue = async (
  store: Pick<ModelStore, 'listOrders' | 'saveModel' | 'listModels'>,
  policy: RetrainPolicy,
  nowMs: number,
  options: Pick<TrainModelsOptions, 'ruleScore' | 'churnDays'> = {},
): Promise<ModelVersion[] | null> => {
  if (policy.everyDays <= 0) return null;
  const [latest] = await store.listModels(1);
  if (latest !== undefined) {
    const waitDays = latest.status === 'trained' ? policy.everyDays : Math.min(1, policy.everyDays);
    if (nowMs - latest.trainedAtMs < waitDays * DAY_MS) return null;
  }
  return trainModels(store, { ...options, nowMs, holdoutDays: policy.holdoutDays });
};
