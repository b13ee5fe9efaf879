import { afterEach, describe, expect, it } from 'vitest';
import { aDecision, aSentMessage } from '../../test/support/builders.js';
import { storeFactories } from '../../test/support/stores.js';
import { AppError } from '../core/errors.js';
import type { MessageRecord } from '../core/message.js';
import type { Store } from '../ports/store.js';
import { checkRollout, readRollout, rolloutAt, startRollout, stepsSinceStart } from './rollout.js';

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

    it('replays the stages before a start with the cohort of their time, a history kept before salts too', async () => {
      const store = await aStore();
      await startRollout(store, t0);
      // As stored before starts kept their salts: the first start without one.
      const legacy = await readRollout(store);
      if (legacy === null) throw new Error('no rollout');
      await store.transaction((tx) =>
        tx.setSetting(
          'rollout',
          JSON.stringify({
            ...legacy,
            history: legacy.history.map(({ salt: _salt, ...step }) => step),
          }),
        ),
      );
      await startRollout(store, t0 + 5 * dayMs, { restart: true });
      const kept = await readRollout(store);
      if (kept === null) throw new Error('no rollout');
      expect(rolloutAt(kept, t0 + dayMs)?.salt).toBe(`rollout-${String(t0)}`);
      expect(rolloutAt(kept, t0 + 6 * dayMs)?.salt).toBe(`rollout-${String(t0 + 5 * dayMs)}`);
      expect(stepsSinceStart(kept)).toHaveLength(1);
    });

    it('keeps a restart of the rollout that lands while a check is deciding on the old one', async () => {
      const store = await aStore();
      await startRollout(store, t0);
      // Too few messages yet: the check would hold the first stage, on the old cohort.
      expect((await readRollout(store))?.salt).toBe(`rollout-${String(t0)}`);

      const [checked, restarted] = await Promise.allSettled([
        checkRollout(store, t0 + 16 * dayMs, healthy),
        startRollout(store, t0 + 16 * dayMs, { restart: true }),
      ]);

      expect(restarted.status).toBe('fulfilled');
      // A check that read the old stage is refused; one that ran wholly before or after the
      // restart (PostgreSQL's pool may order them so) is fine.
      if (checked.status === 'rejected') expect(checked.reason).toBeInstanceOf(AppError);
      const after = await readRollout(store);
      // The restart's new cohort, not a step decided on the old one.
      expect(after?.salt).toBe(`rollout-${String(t0 + 16 * dayMs)}`);
    });

    it('starts once when two starts land at once, and starts over only when asked to', async () => {
      const store = await aStore();
      const both = await Promise.allSettled([startRollout(store, t0), startRollout(store, t0 + 1)]);
      expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const kept = await readRollout(store);
      expect(kept?.history).toHaveLength(1);
      await expect(startRollout(store, t0 + dayMs)).rejects.toThrow(/under way at 5 %/);
      expect((await readRollout(store))?.salt).toBe(kept?.salt);
      const restarted = await startRollout(store, t0 + dayMs, { restart: true });
      expect(restarted.salt).toBe(`rollout-${String(t0 + dayMs)}`);
    });

    const record = (store: Store, messages: MessageRecord[]) =>
      store.transaction(async (tx) => {
        await tx.insertDecisions(
          messages.map((m) => aDecision({ id: m.id, customerId: m.customerId, agent: m.agent })),
        );
        await tx.insertMessages(messages);
      });
    const many = (prefix: string, atMs: number, overrides: Partial<MessageRecord>) =>
      Array.from({ length: 1000 }, (_, i) =>
        aSentMessage(`${prefix}-${String(i)}`, `${prefix}-c${String(i)}`, atMs, overrides),
      );

    it('judges a stage on the automated marketing it gated, not on API sends or transactional messages', async () => {
      const store = await aStore();
      await startRollout(store, t0);
      // A stage's worth of messages the rollout lets through to everyone, and of marketing made
      // before it began (sent since).
      await record(store, [
        ...many('api', t0 + 10, { agent: 'api', campaignId: null }),
        ...many('receipt', t0 + 10, { class: 'transactional', campaignId: null }),
        ...many('older', t0 + 10, { createdAtMs: t0 - 1 }),
      ]);

      const held = await checkRollout(store, t0 + dayMs, healthy);

      expect(held.health?.messages).toBe(0);
      expect(held.decision).toMatchObject({ action: 'hold', percent: 5 });

      await record(store, many('campaign', t0 + dayMs + 10, {}));
      const advanced = await checkRollout(store, t0 + 2 * dayMs, healthy);

      expect(advanced.health?.messages).toBe(1000);
      expect(advanced.decision).toMatchObject({ action: 'advance', toPercent: 20 });
    });
  },
);
