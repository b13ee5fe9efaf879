// Two records, each with a queued copy of one tested campaign, merge: one copy goes, and the
// unit the merge keeps is the one that copy exposes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { HOUR_MS } from '../../src/core/time.js';
import { isInCampaignHoldout } from '../../src/pipeline/experiment/index.js';
import {
  adminCall,
  adminGet,
  batchCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const campaign = { id: 'c1', template: 'upsell', channels: ['email'], holdoutPercent: 10 };
/** The first id of `prefix0` … the campaign's holdout leaves treated. */
const treated = (prefix: string) => {
  const id = Array.from({ length: 50 }, (_, i) => `${prefix}${String(i)}`).find(
    (c) =>
      !isInCampaignHoldout(toCustomerId(c), { salt: 'campaign', campaignId: 'c1', percent: 10 }),
  );
  if (id === undefined) throw new Error('none');
  return id;
};

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`a tested campaign across a merge (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    let seq = 0;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, { clock });
    });
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

    it('exposes the unit the merge keeps with the copy that goes', async () => {
      const first = treated('f');
      const survivor = treated('s');
      await batch([{ type: 'identify', userId: first, traits: { email: `${first}@example.com` } }]);
      expect((await adminCall(herald, 'POST', '/v1/campaigns', campaign)).statusCode).toBe(202);
      await herald.services.worker.runDue(); // the first record's copy, the older
      clock.set(T0 + HOUR_MS);
      await batch([
        { type: 'identify', userId: survivor, traits: { email: `${survivor}@example.com` } },
      ]);
      expect((await adminCall(herald, 'POST', '/v1/campaigns', campaign)).statusCode).toBe(202);
      await herald.services.worker.runDue(); // the survivor's copy
      clock.set(T0 + 2 * HOUR_MS);
      await batch([{ type: 'alias', userId: survivor, previousId: first }]);
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
      const { messages } = await adminGet<{
        messages: { id: string; status: string; campaignId?: string }[];
      }>(herald, `/v1/messages?userId=${survivor}&limit=100`);
      const copies = messages.filter((m) => m.campaignId === 'c1');
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
