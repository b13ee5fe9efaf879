import { afterEach, describe, expect, it } from 'vitest';
import { aDecision, aSentMessage } from '../../test/support/builders.js';
import { storeFactories } from '../../test/support/stores.js';
import { toCustomerId } from '../core/ids.js';
import type { MessageRecord } from '../core/message.js';
import type { Store } from '../ports/store.js';
import { withdrawRepeatedCampaigns } from './guard-and-record.js';

const t0 = Date.UTC(2026, 0, 5, 12);

// Two records made one person by a merge: the survivor holds both records' messages of campaign
// `spring` (the builder's), the merged record's older. What reaches the person, once?
describe.each(storeFactories.filter((f) => f.available))(
  'a campaign once per person after a merge ($name)',
  (factory) => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    const queued = (id: string, atMs: number, overrides: Partial<MessageRecord> = {}) =>
      aSentMessage(id, 'S', atMs, {
        status: 'queued',
        attempts: 0,
        sentAtMs: null,
        createdAtMs: atMs,
        ...overrides,
      });
    /**
     * The two messages' statuses after the merge's check: the merged record's, then the own —
     * and, with `decisions`, their decisions' statuses after them.
     */
    const afterMerge = async (
      theirs: Partial<MessageRecord>,
      own: Partial<MessageRecord> = {},
      decisions = false,
    ): Promise<string[]> => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      const store: Store = made.store;
      const messages = [queued('theirs', t0, theirs), queued('own', t0 + 1, own)];
      await store.transaction(async (tx) => {
        await tx.insertDecisions(
          messages.map((m) => aDecision({ id: m.id, customerId: m.customerId, agent: m.agent })),
        );
        await tx.insertMessages(messages);
      });
      await store.transaction((tx) => withdrawRepeatedCampaigns(tx, [toCustomerId('S')], t0 + 10));
      const statuses = await Promise.all(
        ['theirs', 'own'].map(async (id) => (await store.getMessage(id))?.status ?? 'gone'),
      );
      if (!decisions) return statuses;
      const decided = await Promise.all(
        ['theirs', 'own'].map(async (id) => (await store.getDecision(id))?.status ?? 'gone'),
      );
      return [...statuses, ...decided];
    };
    /** Claimed by a dispatcher, not known to have gone: it may be with the provider. */
    const claimed: Partial<MessageRecord> = { status: 'sending', attempts: 1 };

    it('sends the oldest of two queued', async () => {
      expect(await afterMerge({})).toEqual(['queued', 'cancelled']);
    });

    it('sends a queued one before one that waits for a reviewer, who may reject it', async () => {
      expect(await afterMerge({ status: 'review', reviewExpiresAtMs: t0 + 86_400_000 })).toEqual([
        'cancelled',
        'queued',
      ]);
    });

    it('sends none to a person held out of the campaign', async () => {
      expect(await afterMerge({ status: 'held-out', reasonCode: 'campaign_holdout' })).toEqual([
        'held-out',
        'cancelled',
      ]);
    });

    it('sends the survivor’s own when the other record was held out only by a draw of its own', async () => {
      for (const reasonCode of ['global_holdout', 'outside_rollout'])
        expect(await afterMerge({ status: 'held-out', reasonCode })).toEqual([
          'held-out',
          'queued',
        ]);
    });

    it('sends none more to a person the campaign reached', async () => {
      expect(await afterMerge({ status: 'sent', attempts: 1, sentAtMs: t0 })).toEqual([
        'sent',
        'cancelled',
      ]);
    });

    // A message a dispatcher holds is never withdrawn (the provider may have it), but an attempt
    // that comes back unsent (a 429) puts it back in the outbox: its decision is cancelled, and
    // the dispatcher refuses it at its next hand-off.
    it('cancels the decision of one a dispatcher holds when the other reached the person', async () => {
      expect(
        await afterMerge({ status: 'sent', attempts: 1, sentAtMs: t0 }, claimed, true),
      ).toEqual(['sent', 'sending', 'scheduled', 'cancelled']);
    });

    it('stops neither of two a dispatcher holds: which will reach the person is not known', async () => {
      // Stopping one could leave the person with none, should the other fail for good.
      expect(await afterMerge(claimed, { status: 'queued', attempts: 1 }, true)).toEqual([
        'sending',
        'queued',
        'scheduled',
        'scheduled',
      ]);
    });

    it('cancels the decision of one a dispatcher holds for a person held out', async () => {
      expect(
        await afterMerge({ status: 'held-out', reasonCode: 'campaign_holdout' }, claimed, true),
      ).toEqual(['held-out', 'sending', 'scheduled', 'cancelled']);
    });

    it('withdraws a queued one when a report showed the one a dispatcher holds taken', async () => {
      expect(await afterMerge({ ...claimed, sentAtMs: t0 }, {}, true)).toEqual([
        'sending',
        'cancelled',
        'scheduled',
        'scheduled',
      ]);
    });
  },
);
