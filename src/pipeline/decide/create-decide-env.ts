import type { ComputedProfile, ProfileState } from '../../core/profile.js';
import type { Store } from '../../ports/store.js';
import { defaultJourneys } from './journeys/default-journeys.js';
import { buildCatalog } from './journeys/journey-catalog.js';
import type { DecidePolicy } from './policy.js';
import type { DecideEnv } from './proposal.js';

/** Rounds of saving and reading again before two processes' journeys are given up on. */
const SAVE_ROUNDS = 5;

/**
 * Loads the journey versions stored so far, stores a new version of every configured journey
 * whose content changed, and returns the decide environment. Another process may store the same
 * journey's next version with other content at the same moment (two configurations started
 * together); the save of the loser does nothing, so the versions are read again until each
 * configured journey is found stored with its own content: a customer entered into a version
 * gets that version's steps from every process.
 */
export const loadDecideEnv = async (
  store: Store,
  policy: DecidePolicy,
  computeProfile: (state: ProfileState, nowMs: number) => ComputedProfile,
  nextId: () => string,
  nowMs: number,
): Promise<DecideEnv> => {
  const configured = policy.journeys ?? defaultJourneys;
  for (let round = 0; ; round += 1) {
    const { catalog, added } = buildCatalog(configured, await store.loadJourneyVersions());
    if (added.length === 0)
      return { policy, journeys: catalog, computeProfile, population: null, nextId };
    if (round === SAVE_ROUNDS) break;
    for (const version of added) await store.saveJourneyVersion({ ...version, createdAtMs: nowMs });
  }
  throw new Error(
    `journey versions kept changing while they were saved (${String(SAVE_ROUNDS)} rounds): other processes are storing different journeys at the same time`,
  );
};
