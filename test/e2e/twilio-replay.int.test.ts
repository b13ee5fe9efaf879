import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createSqliteStore } from '../../src/adapters/storage/sqlite/create-sqlite-store.js';
import {
  adminCall,
  batchCall,
  ingestCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import type { StoreFactory } from '../support/stores.js';
import { postAsTwilio } from '../support/twilio.js';

// 18:00 UTC: out of quiet hours in every US zone (14:00 in New York, 08:00 in Honolulu), where
// a +1 number with no state may be.
const T0 = Date.UTC(2026, 5, 3, 18);
const PUBLIC = 'https://herald.example.com';
const token = 'twilio-auth-token-0001';

/** The embedded store with a de-duplication window of 1,000 events (2,000,000 by default). */
const smallWindow: StoreFactory = {
  name: 'sqlite',
  available: true,
  async make(options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'herald-replay-'));
    const store = await createSqliteStore({
      file: join(dir, 'h.db'),
      synchronous: 'normal',
      auditKey: options.auditKey ?? null,
      dedupWindow: 1000,
    });
    return {
      store,
      reopen: () => Promise.resolve(store),
      raw: () => Promise.resolve(),
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

let herald: TestHerald | undefined;
afterEach(async () => {
  await herald?.close();
});

it('does not act again on a signed START replayed after the events forgot its id', async () => {
  const clock = createVirtualClock(T0);
  const h = await startHerald(smallWindow, {
    clock,
    env: { HERALD_PUBLIC_URL: PUBLIC, HERALD_TWILIO_AUTH_TOKEN: token },
  });
  herald = h;
  const textIn = (body: string, sid: string) => {
    clock.set(clock.nowMs() + 60_000);
    return postAsTwilio(
      h,
      { publicUrl: PUBLIC, token },
      '/webhooks/twilio/inbound',
      new URLSearchParams({ From: '+14155550146', Body: body, MessageSid: sid }),
    );
  };
  const marketing = async () =>
    (await adminCall(h, 'GET', '/v1/profiles/dee')).json<{
      consent: { sms?: { marketing?: { granted: boolean } } };
    }>().consent.sms?.marketing?.granted;

  await ingestCall(h, clock, 'identify', {
    userId: 'dee',
    traits: { phone: '+14155550146', consent: { sms: { marketing: true } } },
  });
  await adminCall(h, 'POST', '/v1/sends', { userId: 'dee', channel: 'sms', template: 'upsell' });
  await h.services.dispatcher.runDue();
  await textIn('STOP', 'SM-stop-1');
  await textIn('START', 'SM-start-1');
  expect(await marketing()).toBe(true);
  await textIn('STOP', 'SM-stop-2');
  expect(await marketing()).toBe(false);
  // Everyone else's traffic, past the window that still knew the START's event.
  for (let b = 0; b < 21; b += 1) {
    const batch = Array.from({ length: 100 }, (_, i) => ({
      type: 'track',
      userId: `o${String(i)}`,
      event: 'Product Viewed',
      messageId: `t-${String(b)}-${String(i)}`,
      timestamp: new Date(clock.nowMs()).toISOString(),
    }));
    await batchCall(h, batch);
  }
  // The captured START, replayed a day later.
  clock.set(clock.nowMs() + 24 * 3_600_000);
  expect((await textIn('START', 'SM-start-1')).statusCode).toBe(200);
  expect(await marketing()).toBe(false);
});
