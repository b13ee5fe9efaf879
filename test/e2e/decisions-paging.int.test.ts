import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { receiptTemplate } from '../support/builders.js';

const T0 = Date.UTC(2026, 5, 3, 12);

interface Page {
  decisions: { id: string; customerId: string }[];
  next: string | null;
}

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`paging through decisions (${factory.name})`, () => {
    let herald: TestHerald;
    beforeEach(async () => {
      const clock = createVirtualClock(T0);
      herald = await startHerald(factory, { clock, templates: { receipt: receiptTemplate } });
      for (const userId of ['c1', 'c2', 'c3', 'c4']) {
        await ingestCall(herald, clock, 'identify', {
          userId,
          traits: { email: `${userId}@example.com` },
        });
        const sent = await adminCall(herald, 'POST', '/v1/sends', {
          userId,
          channel: 'email',
          template: 'receipt',
        });
        expect(sent.statusCode).toBe(201);
      }
    });
    afterEach(async () => {
      await herald.close();
    });
    const page = async (query: string) => {
      const res = await adminCall(herald, 'GET', `/v1/decisions?${query}`);
      expect(res.statusCode).toBe(200);
      return res.json<Page>();
    };

    it('goes on after a page whose last decision was erased since', async () => {
      const all = (await page('limit=10')).decisions.map((d) => d.customerId);
      expect(all).toHaveLength(4);
      const first = await page('limit=2');
      const owner = first.decisions[1]?.customerId ?? '';
      const erased = await adminCall(herald, 'POST', `/v1/customers/${owner}/erase`, {
        reason: 'access request',
      });
      expect(erased.statusCode).toBe(200);
      const second = await page(`limit=2&before=${first.next ?? ''}`);
      expect(second.decisions.map((d) => d.customerId)).toEqual(all.slice(2));
    });

    it('takes a decision id as a cursor, and refuses one that names nothing', async () => {
      const [, second, ...rest] = (await page('limit=10')).decisions;
      const after = await page(`limit=10&before=${second?.id ?? ''}`);
      expect(after.decisions).toEqual(rest);
      const res = await adminCall(herald, 'GET', '/v1/decisions?before=not-a-decision-id');
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        error: { message: 'before names no decision: "not-a-decision-id"' },
      });
    });
  });
}
