import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { signMessageToken } from '../../src/core/signed-token.js';
import { adminCall, ingestCall, startHerald } from '../support/start-herald.js';
import { sqliteFactory, type StoreFactory } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const DAY_MS = 86_400_000;

describe('a link secret configured on a running install', () => {
  it('still unsubscribes through the links of mail sent before, signed with the kept secret', async () => {
    // One database, opened by Herald twice: first with the secret it makes and keeps, then with
    // one the operator configured (as verified sources ask).
    const made = await sqliteFactory.make();
    const shared: StoreFactory = {
      ...sqliteFactory,
      make: () => Promise.resolve({ ...made, cleanup: () => Promise.resolve() }),
    };
    const clock = createVirtualClock(T0);
    try {
      const before = await startHerald(shared, { clock });
      await ingestCall(before, clock, 'identify', {
        userId: 'kim',
        traits: { email: 'kim@example.com' },
      });
      const sent = (
        await adminCall(before, 'POST', '/v1/sends', {
          userId: 'kim',
          channel: 'email',
          template: 'welcome-1',
        })
      ).json<{ decisionId: string }>();
      await before.services.dispatcher.runDue();
      const token = signMessageToken(before.services.linkSecret, 'u', sent.decisionId);
      await before.app.close();

      clock.set(T0 + 2 * DAY_MS);
      const after = await startHerald(shared, {
        clock,
        env: { HERALD_LINK_SECRET: 'a-secret-the-operator-chose-0123456789abcdef' },
      });
      expect(after.services.linkSecret).not.toBe(before.services.linkSecret);
      const oneClick = await after.app.inject({
        method: 'POST',
        url: `/u/${token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
      expect(oneClick.statusCode).toBe(200);
      const next = await adminCall(after, 'POST', '/v1/sends', {
        userId: 'kim',
        channel: 'email',
        template: 'upsell',
      });
      expect(next.json()).toMatchObject({ status: 'blocked' });
      // A token signed with neither is refused.
      const forged = signMessageToken('another-secret-0123456789abcdef0123', 'u', sent.decisionId);
      expect((await after.app.inject({ url: `/u/${forged}` })).statusCode).toBe(404);
      await after.app.close();
    } finally {
      await made.cleanup();
    }
  });
});
