// Experiments across a merge of two records: the unit the merge keeps is the one measured.
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { HOUR_MS } from '../../src/core/time.js';
import { isInCampaignHoldout, isInGlobalHoldout } from '../../src/pipeline/experiment/index.js';
import { globalHoldoutExperimentId } from '../../src/pipeline/guard-and-record.js';
import {
  adminCall,
  adminGet,
  batchCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const holdout = { salt: 'g-salt', percent: 30 };
/** The first id of `prefix0` … `prefix49` for which `wanted` holds. */
const firstId = (prefix: string, wanted: (id: string) => boolean): string => {
  const id = Array.from({ length: 50 }, (_, i) => `${prefix}${String(i)}`).find(wanted);
  if (id === undefined) throw new Error('none');
  return id;
};
const inGlobalHoldout = (id: string) => isInGlobalHoldout(toCustomerId(id), holdout);
const treatedInC1 = (id: string) =>
  !isInCampaignHoldout(toCustomerId(id), { salt: 'campaign', campaignId: 'c1', percent: 10 });

type Listed = { id: string; status: string; reasonCode: string | null; campaignId?: string };

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`experiments across a merge (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    let seq = 0;
    const start = async (configYaml?: string) => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, {
        clock,
        ...(configYaml === undefined ? {} : { configYaml }),
      });
    };
    afterEach(async () => {
      await herald.close();
    });
    const batch = (events: object[]) =>
      batchCall(
        herald,
        events.map((e) => ({
          messageId: `x-${String((seq += 1))}`,
          timestamp: new Date(clock.nowMs()).toISOString(),
          ...e,
        })),
      );
    const identify = (userId: string) =>
      batch([{ type: 'identify', userId, traits: { email: `${userId}@example.com` } }]);
    const launch = async (campaign: object) => {
      expect((await adminCall(herald, 'POST', '/v1/campaigns', campaign)).statusCode).toBe(202);
    };
    /** The alias, then a round of the worker and of the dispatcher; the survivor's messages. */
    const merge = async (survivor: string, previousId: string) => {
      await batch([{ type: 'alias', userId: survivor, previousId }]);
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
      return (
        await adminGet<{ messages: Listed[] }>(herald, `/v1/messages?userId=${survivor}&limit=100`)
      ).messages;
    };

    it('sends no marketing the merged record had queued to a person measured in the global holdout', async () => {
      await start(
        `guard:\n  holdout:\n    globalPercent: ${String(holdout.percent)}\n    salt: ${holdout.salt}\n`,
      );
      const survivor = firstId('s', inGlobalHoldout);
      const first = firstId('f', (id) => !inGlobalHoldout(id));
      await identify(survivor);
      await identify(first);
      await launch({ id: 'c1', template: 'upsell', channels: ['email'] });
      // The survivor is held out; the other record's copy is queued.
      await herald.services.worker.runDue();
      clock.set(T0 + HOUR_MS);
      const messages = await merge(survivor, first);
      const units = await herald.services.store.unitsOfCustomer(toCustomerId(survivor));
      expect(units.find((u) => u.experimentId === globalHoldoutExperimentId(holdout))?.arm).toBe(
        'holdout',
      );
      expect(messages.map((m) => [m.status, m.reasonCode]).sort()).toEqual([
        ['blocked', 'global_holdout'],
        ['held-out', 'global_holdout'],
      ]);
    });

    it('exposes the unit the merge keeps with the campaign copy that goes', async () => {
      await start();
      const campaign = { id: 'c1', template: 'upsell', channels: ['email'], holdoutPercent: 10 };
      const first = firstId('f', treatedInC1);
      const survivor = firstId('s', treatedInC1);
      await identify(first);
      await launch(campaign);
      await herald.services.worker.runDue(); // the first record's copy, the older
      clock.set(T0 + HOUR_MS);
      await identify(survivor);
      await launch(campaign);
      await herald.services.worker.runDue(); // the survivor's copy
      clock.set(T0 + 2 * HOUR_MS);
      const copies = (await merge(survivor, first)).filter((m) => m.campaignId === 'c1');
      expect(copies.map((m) => m.status).sort()).toEqual(['cancelled', 'sent']);
      const units = (await herald.services.store.unitsOfCustomer(toCustomerId(survivor))).filter(
        (u) => u.experimentId === 'c1',
      );
      expect(units).toHaveLength(1);
      expect(units[0]?.arm).toBe('treatment');
      expect(units[0]?.exposedAtMs).not.toBeNull();
      expect(units[0]?.messageId).toBe(copies.find((m) => m.status === 'sent')?.id);
    });
  });
