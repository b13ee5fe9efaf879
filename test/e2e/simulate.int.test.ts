import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import type { HeraldEvent } from '../../src/core/event.js';
import { aTrack } from '../support/builders.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { sqliteFactory } from '../support/stores.js';
import { signMessageToken } from '../../src/core/signed-token.js';
import { toCustomerId } from '../../src/core/ids.js';
import { addressFactsOf } from '../../src/pipeline/erased-identities.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import { silentLogger } from '../../src/ports/logger.js';
import { simulate, simulationConfig } from '../../src/sim/simulate.js';

const T0 = Date.UTC(2026, 2, 2, 10);
const anEvent = (userId: string, atMs: number, fields: Partial<HeraldEvent>): HeraldEvent =>
  aTrack({ userId, timestampMs: atMs, receivedAtMs: atMs, ...fields });

describe('herald simulate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sim-'));
  const url = `sqlite:${join(dir, 'source.db')}`;
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const history: HeraldEvent[] = [
    anEvent('ann', T0, { type: 'identify', name: null, traits: { email: 'ann@example.com' } }),
    anEvent('ann', T0, { name: 'Signed Up' }),
    anEvent('bob', T0 + HOUR_MS, {
      type: 'identify',
      name: null,
      traits: { email: 'bob@example.com' },
    }),
    anEvent('bob', T0 + HOUR_MS, {
      name: 'Product Added',
      properties: { product_id: 'p1', price: 80, quantity: 1 },
    }),
  ];

  it('fires what would have fired, on virtual time, from stored history', async () => {
    const config = loadConfig({ HERALD_DATABASE_URL: url }, null);
    // Recorded long after the fact: stale, so the source itself decided nothing.
    const source = await createServices(config, {
      logger: silentLogger,
      clock: { nowMs: () => T0 + 60 * DAY_MS },
    });
    await source.recorder.record(history, T0 + 60 * DAY_MS);
    expect(await source.store.listDecisions({ limit: 10 })).toEqual([]);

    const clock = createVirtualClock(T0 - DAY_MS);
    const target = await createServices(simulationConfig(config), { clock, logger: silentLogger });
    const summary = await simulate(source.store, target, clock, {
      fromMs: T0 - DAY_MS,
      toMs: T0 + 10 * DAY_MS,
      wallNowMs: () => 0,
    });
    expect(summary.simulated).toBe(true);
    expect(summary.events).toBe(4);
    const decisions = await target.store.listDecisions({ limit: 100 });
    const ann = decisions
      .filter((d) => d.customerId === 'ann' && d.journey?.id === 'welcome')
      .map((d) => `${new Date(d.createdAtMs).toISOString()} ${d.journey?.stepId ?? ''}`)
      .sort();
    const at = (ms: number) => new Date(ms).toISOString();
    expect(ann).toEqual([
      `${at(T0)} day-1-banner`,
      `${at(T0)} day-1-email`,
      `${at(T0 + 2 * DAY_MS)} day-3-email`,
      `${at(T0 + 6 * DAY_MS)} day-7-email`,
    ]);
    const cart = decisions.find((d) => d.customerId === 'bob' && d.agent === 'cart');
    expect(cart?.createdAtMs).toBe(T0 + 3 * HOUR_MS);
    expect(cart?.incentive?.percent).toBe(25);
    expect(summary.decisions).toBe(decisions.length);
    await target.close();
    await source.close();
  });

  /** Sends `userId` an email now; the answer unsubscribes through its link when called. */
  const mailTo = async (herald: TestHerald, userId: string) => {
    const sent = (
      await adminCall(herald, 'POST', '/v1/sends', { userId, channel: 'email', template: 'upsell' })
    ).json<{ decisionId: string }>();
    await herald.services.dispatcher.runDue();
    return async () => {
      const token = signMessageToken(herald.services.linkSecret, 'u', sent.decisionId);
      const unsubscribed = await herald.app.inject({
        method: 'POST',
        url: `/u/${token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
      expect(unsubscribed.statusCode).toBe(200);
    };
  };

  it('keeps an unsubscribe through a message it does not have, and ends before --to', async () => {
    const live = createVirtualClock(T0);
    const herald = await startHerald(sqliteFactory, { clock: live });
    // cat and cat-2: two records of one address (a guest checkout and an account).
    for (const userId of ['cat', 'cat-2'])
      await ingestCall(herald, live, 'identify', {
        userId,
        traits: { email: 'cat@example.com', consent: { email: { marketing: true } } },
      });
    const unsubscribe = await mailTo(herald, 'cat');
    // An hour later cat unsubscribes through the message's link; a day later, a cart.
    live.set(T0 + HOUR_MS);
    await unsubscribe();
    live.set(T0 + DAY_MS);
    for (const userId of ['cat', 'cat-2'])
      await ingestCall(herald, live, 'track', {
        userId,
        event: 'Product Added',
        properties: { product_id: 'p1', price: 80, quantity: 1 },
      });
    // At --to: the next window's, not this one's.
    live.set(T0 + 3 * DAY_MS);
    await ingestCall(herald, live, 'track', {
      userId: 'cat',
      event: 'Order Completed',
      properties: { order_id: 'o1', total: 80 },
    });

    // The unsubscribe as history (the window from 12:00), and in the window (from 10:30).
    for (const fromMs of [T0 + 12 * HOUR_MS, T0 + 30 * 60_000]) {
      const clock = createVirtualClock(fromMs);
      const target = await createServices(simulationConfig(herald.services.config), {
        clock,
        logger: silentLogger,
      });
      const summary = await simulate(herald.services.store, target, clock, {
        fromMs,
        toMs: T0 + 3 * DAY_MS,
        wallNowMs: () => 0,
      });
      // The order at --to is the next window's.
      expect(summary.events).toBe(fromMs === T0 + 30 * 60_000 ? 3 : 2);
      expect((await target.store.getProfile(toCustomerId('cat')))?.state.consent).toMatchObject({
        email: { marketing: { granted: false } },
      });
      const cart = (await target.store.listDecisions({ limit: 10 })).filter(
        (d) => d.agent === 'cart' && d.customerId === 'cat',
      );
      expect(cart.map((d) => d.status)).toEqual(['skipped']);
      // The unsubscribe is the address's: cat-2's offers are blocked as live Herald blocks them.
      const toCat2 = (await target.store.listMessages({ limit: 50 })).filter(
        (m) => m.customerId === 'cat-2',
      );
      expect(toCat2.length).toBeGreaterThan(0);
      expect(toCat2.map((m) => [m.status, m.reasonCode])).toEqual(
        toCat2.map(() => ['blocked', 'unsubscribed']),
      );
      await target.close();
    }
    await herald.close();
  });

  it('keeps a replayed opt-out under the address its message went to, as live Herald does', async () => {
    const live = createVirtualClock(T0);
    const herald = await startHerald(sqliteFactory, { clock: live });
    for (const [userId, email] of [
      ['cat', 'old@example.com'],
      ['dog', 'new@example.com'],
      ['eel', 'old@example.com'],
    ] as const)
      await ingestCall(herald, live, 'identify', {
        userId,
        traits: { email, consent: { email: { marketing: true } } },
      });
    const unsubscribe = await mailTo(herald, 'cat');
    // cat moves to a new address, then unsubscribes through the mail sent to the old one.
    live.set(T0 + 10 * 60_000);
    await ingestCall(herald, live, 'identify', {
      userId: 'cat',
      traits: { email: 'new@example.com' },
    });
    live.set(T0 + HOUR_MS);
    await unsubscribe();
    const optedOut = (store: typeof herald.services.store) =>
      store.transaction(async (tx) => {
        const profiles = await tx.loadProfiles(['dog', 'eel'].map(toCustomerId));
        const facts = await addressFactsOf(tx, [...profiles.values()]);
        return ['dog', 'eel'].filter((id) => facts.optOuts.has(toCustomerId(id)));
      });
    // Live: old@ (eel's) opted out, new@ (dog's) did not.
    expect(await optedOut(herald.services.store)).toEqual(['eel']);
    // The unsubscribe as history and in the window.
    for (const fromMs of [T0 + 12 * HOUR_MS, T0 + 30 * 60_000]) {
      const clock = createVirtualClock(fromMs);
      const target = await createServices(simulationConfig(herald.services.config), {
        clock,
        logger: silentLogger,
      });
      await simulate(herald.services.store, target, clock, {
        fromMs,
        toMs: T0 + DAY_MS,
        wallNowMs: () => 0,
      });
      expect({ fromMs, optedOut: await optedOut(target.store) }).toEqual({
        fromMs,
        optedOut: ['eel'],
      });
      await target.close();
    }
    await herald.close();
  });

  it('runs from the command line and prints a summary labelled simulated', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bin/herald.js', 'simulate', '--from', '2026-03-01', '--to', '2026-03-12'],
      { env: { ...process.env, HERALD_DATABASE_URL: url, HERALD_LOG_LEVEL: 'warn' } },
    );
    const summary = JSON.parse(stdout) as { simulated: boolean; events: number; decisions: number };
    expect(summary).toMatchObject({ simulated: true, events: 4 });
    expect(summary.decisions).toBeGreaterThanOrEqual(5);
  });
});
