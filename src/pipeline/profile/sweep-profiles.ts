import type { CustomerId } from '../../core/ids.js';
import type { LiveChurnModel } from '../../core/profile.js';
import type { IngestTx, ProfileRow, Store } from '../../ports/store.js';
import { deriveComputed } from './derive-computed.js';
import type { ProfilePolicy } from './policy.js';
import { forEachHistory, replayHistory } from './record-events.js';

export interface SweepOptions {
  /** `refresh` re-derives figures from the stored facts (time moves on: recency, lifecycle);
   * `rebuild` replays every customer's events from scratch (after a policy change). */
  mode: 'refresh' | 'rebuild';
  batchSize?: number;
  onProgress?: (done: number) => void;
  /** The trained churn model profiles are scored with (the rule-based score without one). */
  churnModel?: LiveChurnModel;
}

/** Pages through every profile, re-deriving or rebuilding it at `nowMs`; returns how many. */
export const sweepProfiles = async (
  store: Store,
  policy: ProfilePolicy,
  nowMs: number,
  options: SweepOptions,
): Promise<number> => {
  const batchSize = options.batchSize ?? 500;
  let after: CustomerId | null = null;
  let done = 0;
  for (;;) {
    const ids = await store.listCustomerIds(after, batchSize);
    const last = ids.at(-1);
    if (last === undefined) return done;
    await store.transaction(async (tx) => {
      await tx.lock(ids);
      const rows: ProfileRow[] = [];
      if (options.mode === 'refresh') {
        for (const [customerId, state] of await tx.loadProfiles(ids)) {
          rows.push({
            customerId,
            state,
            computed: deriveComputed(state, nowMs, policy, options.churnModel),
          });
        }
        await tx.saveProfiles(rows);
      } else {
        await rebuildIn(tx, ids, policy, nowMs, options.churnModel);
      }
    });
    done += ids.length;
    options.onProgress?.(done);
    after = last;
  }
};

const rebuildIn = async (
  tx: IngestTx,
  ids: readonly CustomerId[],
  policy: ProfilePolicy,
  nowMs: number,
  churnModel?: LiveChurnModel,
): Promise<void> => {
  const rows: ProfileRow[] = [];
  await forEachHistory(tx, ids, (customerId, history, owners) => {
    const state = replayHistory(customerId, history, policy, owners);
    if (state !== null)
      rows.push({ customerId, state, computed: deriveComputed(state, nowMs, policy, churnModel) });
  });
  await tx.saveProfiles(rows);
};

/**
 * Rebuilds the profiles the store reports as behind their events (after a crash of the
 * embedded mode), in batches; returns how many. Run before serving.
 */
export const catchUpProfiles = async (
  store: Store,
  policy: ProfilePolicy,
  nowMs: number,
  churnModel?: LiveChurnModel,
): Promise<number> => {
  const behind = await store.profilesBehind();
  for (let i = 0; i < behind.length; i += 500) {
    const ids = behind.slice(i, i + 500);
    await store.transaction(async (tx) => {
      await tx.lock(ids);
      await rebuildIn(tx, ids, policy, nowMs, churnModel);
    });
  }
  return behind.length;
};
