import type { ComputedProfile, ProfileState } from '../../core/profile.js';
import type { Store } from '../../ports/store.js';
import { defaultJourneys } from './journeys/default-journeys.js';
import { buildCatalog } from './journeys/journey-catalog.js';
import type { DecidePolicy } from './policy.js';
import type { DecideEnv } from './proposal.js';

/**
 * Loads the journey versions stored so far, stores a new version of every configured journey
 * whose content changed, and returns the decide environment.
 */
export const loadDecideEnv = async (
  store: Store,
  policy: DecidePolicy,
  computeProfile: (state: ProfileState, nowMs: number) => ComputedProfile,
  nextId: () => string,
  nowMs: number,
): Promise<DecideEnv> => {
  const stored = await store.loadJourneyVersions();
  const { catalog, added } = buildCatalog(policy.journeys ?? defaultJourneys, stored);
  for (const version of added) await store.saveJourneyVersion({ ...version, createdAtMs: nowMs });
  return { policy, journeys: catalog, computeProfile, population: null, nextId };
};
