import { afterEach, describe, expect, it } from 'vitest';
import { storeFactories } from '../../test/support/stores.js';
import { AppError } from '../core/errors.js';
import type { Store } from '../ports/store.js';
import { checkRollout, readRollout, startRollout } from './rollout.js';

const t0 = Date.UTC(2026, 0, 5, 12);
const dayMs = 86_400_000;
const healthy = { p95LatencyMs: 100, uptime: 1 };

describe.each(storeFactories.filter((f) => f.available))(
  'a rollout checked and restarted at once ($name)',
  (factory) => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    const aStore = async (): Promise<Store> => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      return made.store;
    };

    it('keeps a restart of the rollout that lands while a check is deciding on the old one', async () => {
      const store = await aStore();
      await startRollout(store, t0);
      // Too few messages yet: the check would hold the first stage, on the old cohort.
      expect((await readRollout(store))?.salt).toBe(`rollout-${String(t0)}`);

      const [checked, restarted] = await Promise.allSettled([
        checkRollout(store, t0 + 16 * dayMs, healthy),
        startRollout(store, t0 + 16 * dayMs),
      ]);

      expect(restarted.status).toBe('fulfilled');
      // A check that read the old stage is refused; one that ran wholly before or after the
      // restart (PostgreSQL's pool may order them so) is fine.
      if (checked.status === 'rejected') expect(checked.reason).toBeInstanceOf(AppError);
      const after = await readRollout(store);
      // The restart's new cohort, not a step decided on the old one.
      expect(after?.salt).toBe(`rollout-${String(t0 + 16 * dayMs)}`);
    });
  },
);
