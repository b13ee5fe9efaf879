import type { ModelStore, ModelVersion } from '../../ports/model-store.js';
import { driftFeatures, populationStability, sharesIn, type FeatureBins } from './feature-bins.js';
import { summariseTransactions } from './summarise-transactions.js';
import { loadTransactions } from './train-clv-model.js';

export interface FeatureDrift {
  feature: string;
  /** Population stability index of today's distribution against the training window's. */
  psi: number;
  /** The usual reading of PSI: below 0.1 stable, to 0.25 moderate, above shifted. */
  level: 'stable' | 'moderate' | 'shifted';
}

const levelOf = (psi: number): FeatureDrift['level'] =>
  psi < 0.1 ? 'stable' : psi <= 0.25 ? 'moderate' : 'shifted';

/**
 * Today's customers against the training window of a registered version: the PSI of each
 * feature it stored bins for. Empty for a version without bins (refused runs, older versions).
 */
export const checkDrift = async (
  store: Pick<ModelStore, 'listOrders'>,
  version: ModelVersion,
  nowMs: number,
): Promise<FeatureDrift[]> => {
  const stored = version.details['featureBins'] as Record<string, FeatureBins> | undefined;
  if (stored === undefined) return [];
  const periodDays =
    typeof version.details['periodDays'] === 'number' ? version.details['periodDays'] : 7;
  const summaries = summariseTransactions(await loadTransactions(store, nowMs), {
    cutoffMs: nowMs,
    periodDays,
  });
  const today = driftFeatures(summaries);
  return Object.entries(stored).map(([feature, bins]) => {
    const psi = populationStability(bins.shares, sharesIn(today[feature] ?? [], bins.edges));
    return { feature, psi: Math.round(psi * 10_000) / 10_000, level: levelOf(psi) };
  });
};
