import type { ComputedProfile, ProfileState } from '../../core/profile.js';
import type { DecideTx } from '../../ports/decide-store.js';
import type { Store } from '../../ports/store.js';
import { defaultJourneys } from './journeys/default-journeys.js';
import { buildCatalog, type JourneyCatalog } from './journeys/journey-catalog.js';
import type { TriggerPlanner } from './plan-triggers.js';
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
  emailBounceLimit: number,
  impliedConsentSources: readonly string[],
  transactionalTemplates: ReadonlySet<string>,
): Promise<DecideEnv> => {
  const configured = policy.journeys ?? defaultJourneys;
  for (let round = 0; ; round += 1) {
    const { catalog, added } = buildCatalog(configured, await store.loadJourneyVersions());
    if (added.length === 0)
      return {
        policy,
        journeys: catalog,
        computeProfile,
        population: null,
        nextId,
        emailBounceLimit,
        impliedConsentSources,
        transactionalTemplates,
      };
    if (round === SAVE_ROUNDS) break;
    for (const version of added) await store.saveJourneyVersion({ ...version, createdAtMs: nowMs });
  }
  throw new Error(
    `journey versions kept changing while they were saved (${String(SAVE_ROUNDS)} rounds): other processes are storing different journeys at the same time`,
  );
};

/**
 * The trigger planner for the journey versions stored now, not only those stored when the
 * process started: during a rolling deploy on PostgreSQL, a process of the newer release stores
 * a version with an exit, wait or branch event the older one never planned work for, and a
 * customer entered into it whose event reached the older process would never leave. Each
 * recorded batch asks, in its own transaction, whether the number of stored versions changed
 * (never on SQLite); when it did, the planner is made again from all of them. A version this
 * release cannot read is reported and the planner kept as it was.
 */
export const followJourneyVersions = (
  policy: DecidePolicy,
  started: JourneyCatalog,
  makePlanner: (catalog: JourneyCatalog) => TriggerPlanner,
  onError: (error: unknown) => void,
): ((tx: Pick<DecideTx, 'journeyVersionsBeyond'>) => Promise<TriggerPlanner>) => {
  let planner = makePlanner(started);
  let known = started.all.length;
  return async (tx) => {
    const stored = await tx.journeyVersionsBeyond(known);
    if (stored === null) return planner;
    try {
      planner = makePlanner(buildCatalog(policy.journeys ?? defaultJourneys, stored).catalog);
    } catch (error) {
      onError(error);
    }
    known = stored.length;
    return planner;
  };
};
