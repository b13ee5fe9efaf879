// The global holdout follows the person's recorded unit: a record merged into one measured in
// the holdout brings its queued automated marketing with it, which goes no more.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { HOUR_MS } from '../../src/core/time.js';
import { isInGlobalHoldout } from '../../src/pipeline/experiment/index.js';
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
/** The first id of `prefix0` … `prefix49` the hash puts in the holdout, or out of it. */
const idWhere = (prefix: string, held: boolean): string => {
  const id = Array.from({ length: 50 }, (_, i) => `${prefix}${String(i)}`).find(
    (c) => isInGlobalHoldout(toCustomerId(c), holdout) === held,
  );
  if (id === undefined) throw new Error('none');
  return id;
};

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`the global holdout across a merge (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    let seq = 0;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, {
        clock,
        configYaml: `guard:\n  holdout:\n    globalPercent: ${String(holdout.percent)}\n    salt: ${holdout.salt}\n`,
      });
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

    it('sends no marketing the merged record had queued to a person measured in the holdout', async () => {
      const survivor = idWhere('s', true);
      const first = idWhere('f', false);
      await batch([
        { type: 'identify', userId: survivor, traits: { email: `${survivor}@example.com` } },
        { type: 'identify', userId: first, traits: { email: `${first}@example.com` } },
      ]);
      const launched = await adminCall(herald, 'POST', '/v1/campaigns', {
        id: 'c1',
        template: 'upsell',
        channels: ['email'],
      });
      expect(launched.statusCode).toBe(202);
      // The survivor is held out; the other record's copy is queued.
      await herald.services.worker.runDue();
      clock.set(T0 + HOUR_MS);
      await batch([{ type: 'alias', userId: survivor, previousId: first }]);
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
      const units = await herald.services.store.unitsOfCustomer(toCustomerId(survivor));
      expect(units.find((u) => u.experimentId === globalHoldoutExperimentId(holdout))?.arm).toBe(
        'holdout',
      );
      const { messages } = await adminGet<{
        messages: { customerId: string; status: string; reasonCode: string | null }[];
      }>(herald, `/v1/messages?userId=${survivor}&limit=100`);
      expect(messages.filter((m) => m.status === 'sent')).toEqual([]);
      expect(messages.map((m) => [m.status, m.reasonCode]).sort()).toEqual([
        ['blocked', 'global_holdout'],
        ['held-out', 'global_holdout'],
      ]);
    });
  });
