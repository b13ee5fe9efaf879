import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { HOUR_MS } from '../../src/core/time.js';
import { sweepProfiles } from '../../src/pipeline/profile/sweep-profiles.js';
import { adminGet, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

// The agents offer email exactly as long as the guard lets it go: both count a customer's hard
// bounces against the one configured limit (`guard.autoOptOutHardBounces`).

const T0 = Date.UTC(2026, 5, 3, 12);

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(
    `the hard-bounce limit, for deciding and guarding alike (${factory.name})`,
    () => {
      let herald: TestHerald | null = null;
      afterEach(async () => {
        await herald?.close();
        herald = null;
      });

      /** A cart of $80 left by a customer whose address bounced hard three times. */
      const cartAfterBounces = async (configYaml: string) => {
        const clock = createVirtualClock(T0);
        const started = await startHerald(factory, { clock, configYaml });
        herald = started;
        await ingestCall(started, clock, 'identify', {
          userId: 'kim',
          traits: { email: 'kim@example.com', firstName: 'Kim' },
          context: { location: { country: 'US' } },
        });
        for (let i = 0; i < 3; i += 1)
          await ingestCall(started, clock, 'track', {
            userId: 'kim',
            event: 'Email Bounced',
            properties: { bounce_type: 'hard' },
          });
        await ingestCall(started, clock, 'track', {
          userId: 'kim',
          event: 'Product Added',
          properties: { product_id: 'p1', name: 'Boots', price: 80, quantity: 1 },
        });
        clock.set(T0 + 2 * HOUR_MS);
        await started.services.worker.runDue();
        const { decisions } = await adminGet<{
          decisions: { agent: string; channels: string[]; reasons: string[] }[];
        }>(started, '/v1/decisions?customerId=kim&agent=cart');
        return decisions;
      };

      it('offers the cart by email after three hard bounces when the limit is five', async () => {
        const [decision] = await cartAfterBounces('guard:\n  autoOptOutHardBounces: 5\n');
        expect(decision?.channels).toEqual(['email']);
      });

      it('leaves email out after three hard bounces at the default limit', async () => {
        const [decision] = await cartAfterBounces('');
        expect(decision?.channels).toEqual([]);
        expect(decision?.reasons).toContain('email: address bounces');
      });

      it('keeps the bounces counted when the first identify naming the address arrives last', async () => {
        const clock = createVirtualClock(T0);
        const started = await startHerald(factory, { clock });
        herald = started;
        const at = (hours: number) => new Date(T0 - 80 * HOUR_MS + hours * HOUR_MS).toISOString();
        const hardBounces = async () =>
          (await adminGet<{ email: { hardBounces: number } }>(started, '/v1/profiles/kim')).email
            .hardBounces;
        for (const hours of [25, 26, 27])
          await ingestCall(started, clock, 'track', {
            userId: 'kim',
            event: 'Email Bounced',
            properties: { bounce_type: 'hard' },
            timestamp: at(hours),
          });
        // A CRM restates the address; then the signup identify that first named it, queued on a
        // device, arrives.
        for (const hours of [74, 1])
          await ingestCall(started, clock, 'identify', {
            userId: 'kim',
            traits: { email: 'kim@example.com' },
            timestamp: at(hours),
          });
        expect(await hardBounces()).toBe(3);
        await sweepProfiles(started.services.store, started.services.config.profilePolicy, T0, {
          mode: 'rebuild',
        });
        expect(await hardBounces()).toBe(3);
      });
    },
  );
}
