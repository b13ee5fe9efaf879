import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../adapters/clock/virtual-clock.js';
import { createSqliteStore } from '../adapters/storage/sqlite/create-sqlite-store.js';
import { createServices, type Services } from '../app/create-services.js';
import { loadConfig, type Config } from '../app/load-config.js';
import type { HeraldEvent } from '../core/event.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../core/time.js';
import { toSourceId } from '../core/ids.js';
import { silentLogger } from '../ports/logger.js';
import { aTrack } from '../../test/support/builders.js';
import { churnFeatureNames } from '../pipeline/predict/churn/churn-features.js';
import { checkRollout, readRollout, startRollout } from '../pipeline/rollout.js';
import { simulate, simulationConfig } from './simulate.js';

const env = { HERALD_WRITE_KEYS: 'web=test-write-key-0001', HERALD_ADMIN_TOKEN: 'test-admin-0001' };
const iso = (ms: number) => new Date(ms).toISOString();
const anEvent = (userId: string, atMs: number, fields: Partial<HeraldEvent>): HeraldEvent =>
  aTrack({ userId, timestampMs: atMs, receivedAtMs: atMs, ...fields });
const identify = (userId: string, atMs: number, traits: Record<string, string> = {}) =>
  anEvent(userId, atMs, {
    type: 'identify',
    name: null,
    traits: { email: `${userId}@example.com`, ...traits },
  });
const order = (userId: string, atMs: number, orderId: string) =>
  anEvent(userId, atMs, { name: 'Order Completed', properties: { order_id: orderId, total: 50 } });

const open: Services[] = [];
afterEach(async () => {
  for (const services of open.splice(0)) await services.close();
});

/**
 * Live Herald over `events`: each recorded when it arrived (`receivedAtMs`), in that order, the
 * worker run at every due time and on the hour (the daily sweep) up to `untilMs` — the record a
 * simulation must agree with.
 */
const runLive = async (
  config: Config,
  events: readonly HeraldEvent[],
  untilMs: number,
  prepare: (live: Services) => Promise<void> = () => Promise.resolve(),
) => {
  const startMs = Math.floor((events[0]?.timestampMs ?? untilMs) / DAY_MS) * DAY_MS;
  const clock = createVirtualClock(startMs);
  const live = await createServices(config, {
    store: await createSqliteStore({ file: ':memory:', synchronous: 'normal' }),
    clock,
    logger: silentLogger,
  });
  open.push(live);
  await prepare(live);
  const runUntil = async (atMs: number) => {
    for (;;) {
      const nextHourMs = (Math.floor(clock.nowMs() / HOUR_MS) + 1) * HOUR_MS;
      const dueMs = Math.min((await live.store.nextDueAtMs()) ?? Infinity, nextHourMs);
      if (dueMs > atMs) break;
      clock.set(Math.max(clock.nowMs(), dueMs));
      await live.worker.runDue();
    }
    clock.set(atMs);
  };
  for (const event of [...events].sort((a, b) => a.receivedAtMs - b.receivedAtMs)) {
    await runUntil(event.receivedAtMs);
    await live.recorder.record([event], event.receivedAtMs);
    await live.worker.runDue();
  }
  await runUntil(untilMs);
  return live;
};

const simulated = async (config: Config, source: Services, fromMs: number, toMs: number) => {
  const clock = createVirtualClock(fromMs);
  const target = await createServices(simulationConfig(config), { clock, logger: silentLogger });
  open.push(target);
  const summary = await simulate(source.store, target, clock, { fromMs, toMs, wallNowMs: () => 0 });
  return { target, summary };
};

/** What was decided between two instants: customer, action and when, in order. */
const decidedIn = async (services: Services, fromMs: number, toMs: number) =>
  (await services.store.listDecisions({ limit: 1000 }))
    .filter((d) => d.createdAtMs >= fromMs && d.createdAtMs <= toMs)
    .map((d) => `${iso(d.createdAtMs)} ${d.customerId} ${d.action}`)
    .sort();

/**
 * What was decided between two instants, without when: live Herald decides at an event's
 * arrival, a replay at its stamp.
 */
const actionsIn = async (services: Services, fromMs: number, toMs: number) =>
  (await decidedIn(services, fromMs, toMs)).map((d) => d.slice(d.indexOf(' ') + 1)).sort();

/** Ten customers with email consent, signing up at `atMs`. */
const tenSignUps = (atMs: number) =>
  Array.from({ length: 10 }, (_, i) => `c${String(i)}`).flatMap((id) => [
    identify(id, atMs, { 'consent.email': 'granted' }),
    anEvent(id, atMs, { name: 'Signed Up' }),
  ]);

/** Every message: its customer, template, status and reason. */
const outboxOf = async (services: Services) =>
  (await services.store.listMessages({ limit: 1000 }))
    .map((m) => `${m.customerId} ${m.template} ${m.status} ${m.reasonCode ?? ''}`)
    .sort();

describe('herald simulate, against live Herald over the same history', () => {
  it('starts the window from the history before it: order counts, inactivity, birthdays', async () => {
    const config = loadConfig(env, null);
    const fromMs = Date.UTC(2026, 5, 1);
    const toMs = fromMs + 20 * DAY_MS;
    const history = [
      // Last active 15 days before the window: 30 days inactive 15 days into it.
      identify('quiet', fromMs - 15 * DAY_MS),
      order('quiet', fromMs - 15 * DAY_MS + 1000, 'q1'),
      // Four orders before the window, the fifth in it: a milestone, not a first order.
      identify('loyal', fromMs - 50 * DAY_MS),
      ...[40, 30, 20, 10].map((days, i) => order('loyal', fromMs - days * DAY_MS, `l${i}`)),
      order('loyal', fromMs + 2 * DAY_MS, 'l5'),
      // No event in the window; a birthday in it.
      identify('born', fromMs - 40 * DAY_MS, { birthday: '1990-06-10' }),
      // 30 days inactive 3 days before the window: won back then, not again in it.
      identify('gone', fromMs - 33 * DAY_MS),
      order('gone', fromMs - 33 * DAY_MS + 1000, 'g1'),
      // At risk after 30 quiet days, back two hours before the window: active again then.
      identify('back', fromMs - 40 * DAY_MS),
      order('back', fromMs - 40 * DAY_MS + 1000, 'b1'),
      anEvent('back', fromMs - 2 * HOUR_MS, { type: 'page', name: 'Home' }),
    ].sort((a, b) => a.timestampMs - b.timestampMs);
    const live = await runLive(config, history, toMs);
    const liveDecided = await decidedIn(live, fromMs, toMs);
    // The live record this test stands on, before the simulation is compared with it.
    expect(liveDecided.map((d) => d.split(' ').slice(1).join(' '))).toEqual([
      'loyal order-milestone',
      'born birthday',
      'quiet win-back-offer',
    ]);
    expect((await live.store.listDecisions({ limit: 100 })).map((d) => d.customerId)).toContain(
      'gone',
    );

    const { target, summary } = await simulated(config, live, fromMs, toMs);
    expect(await decidedIn(target, fromMs, toMs)).toEqual(liveDecided);
    expect(summary).toMatchObject({ history: history.length - 1, events: 1, decisions: 3 });
    // History plans nothing and decides nothing.
    expect((await target.store.listDecisions({ limit: 100 })).length).toBe(3);
  });

  it.each([
    ['a signup and an order 4 minutes later', null, true],
    [
      'a signup, another customer 4 minutes later, stale after 2',
      'decide:\n  staleEventMinutes: 2\n',
      false,
    ],
  ] as const)('records each event at its own time: %s', async (_label, yaml, withOrder) => {
    const config = loadConfig(env, yaml);
    const t0 = Date.UTC(2026, 5, 3, 12);
    const events = [
      identify('ann', t0),
      anEvent('ann', t0, { name: 'Signed Up' }),
      withOrder ? order('ann', t0 + 4 * MINUTE_MS, 'a1') : identify('bob', t0 + 4 * MINUTE_MS),
    ];
    const toMs = t0 + 4 * DAY_MS;
    const live = await runLive(config, events, toMs);
    const liveDecided = await decidedIn(live, t0, toMs);
    expect(liveDecided).toContain(`${iso(t0)} ann welcome/day-1-email`);

    const { target } = await simulated(config, live, t0 - HOUR_MS, toMs);
    expect(await decidedIn(target, t0, toMs)).toEqual(liveDecided);
  });

  it('runs the daily sweep due the moment the window opens', async () => {
    const config = loadConfig(env, null);
    // 06:00 UTC, the default sweep hour, on the birthday.
    const fromMs = Date.UTC(2026, 5, 10, 6);
    const toMs = fromMs + DAY_MS;
    const history = [identify('born', fromMs - 40 * DAY_MS, { birthday: '1990-06-10' })];
    const live = await runLive(config, history, toMs);
    const liveDecided = await decidedIn(live, fromMs, toMs);
    expect(liveDecided.map((d) => d.split(' ').slice(1).join(' '))).toEqual(['born birthday']);

    const { target, summary } = await simulated(config, live, fromMs, toMs);
    expect(await decidedIn(target, fromMs, toMs)).toEqual(liveDecided);
    expect(summary.decisions).toBe(1);
    // The next window starts after that sweep: back to back, the two add up to the whole.
    const { summary: next } = await simulated(config, live, toMs, toMs + DAY_MS);
    expect(next.decisions).toBe(0);
  });

  it('scores churn with the model live Herald had trained, from when it was trained', async () => {
    const config = loadConfig(env, null);
    const fromMs = Date.UTC(2026, 5, 1);
    const toMs = fromMs + 20 * DAY_MS;
    // A repeat buyer whose last order was five days before the window: active by the rules, at
    // risk by the trained model (every day since the last order weighs heavily).
    const events = [
      identify('zed', fromMs - 60 * DAY_MS),
      order('zed', fromMs - 60 * DAY_MS + 1000, 'z0'),
      order('zed', fromMs - 5 * DAY_MS, 'z1'),
    ];
    const zero = Object.fromEntries(churnFeatureNames.map((n) => [n, 0]));
    const one = Object.fromEntries(churnFeatureNames.map((n) => [n, 1]));
    const live = await runLive(config, events, toMs, async (services) => {
      await services.store.saveModel({
        kind: 'churn',
        status: 'trained',
        reason: null,
        trainedAtMs: fromMs - 90 * DAY_MS,
        windowStartMs: null,
        windowEndMs: fromMs - 90 * DAY_MS,
        features: [...churnFeatureNames],
        params: {
          bgNbd: { r: 1, alpha: 1, a: 1, b: 1 },
          logistic: { ...zero, intercept: -5, 'days since last order': 0.5 },
          means: zero,
          scales: one,
        },
        metrics: {},
        details: { chosen: 'logistic', periodDays: 90, churnDays: 90 },
      });
      await services.churnModel.refresh();
    });
    const liveDecided = await decidedIn(live, fromMs, toMs);
    expect(liveDecided.map((d) => d.split(' ').slice(1).join(' '))).toContain('zed win-back-offer');

    const { target } = await simulated(config, live, fromMs, toMs);
    expect(await decidedIn(target, fromMs, toMs)).toEqual(liveDecided);
    expect(target.churnModel.current()).not.toBeNull();
  });

  it('records events stamped the same moment as they arrived: apart when they came apart', async () => {
    // An app that stamps a checkout's signup and order with one clock reading, sent in two
    // calls: live Herald decided after each (the welcome, then the thanks); one batch of both
    // left the order's thanks alone.
    const config = loadConfig(env, null);
    const t0 = Date.UTC(2026, 5, 3, 12);
    const events = [
      identify('ann', t0),
      { ...anEvent('ann', t0, { name: 'Signed Up' }), receivedAtMs: t0 + 1000 },
      { ...order('ann', t0, 'a1'), receivedAtMs: t0 + 2000 },
    ];
    const toMs = t0 + 4 * DAY_MS;
    const live = await runLive(config, events, toMs);
    const { target } = await simulated(config, live, t0 - HOUR_MS, toMs);
    const decided = await actionsIn(live, t0, toMs);
    expect(decided).toEqual(
      expect.arrayContaining(['ann welcome/day-1-email', 'ann first-order-thanks']),
    );
    expect(await actionsIn(target, t0, toMs)).toEqual(decided);
  });

  it('keeps an import’s events of one moment together, stamped apart as imports once were', async () => {
    // `herald import` stamped each row as it was read before 2026-12-07; the batch was one.
    const config = loadConfig(env, null);
    const t0 = Date.UTC(2026, 5, 3, 12);
    const imported = (event: HeraldEvent, receivedAtMs: number): HeraldEvent => ({
      ...event,
      sourceId: toSourceId('import-events'),
      receivedAtMs,
    });
    const batch = [
      imported(identify('ann', t0), t0 + 1000),
      imported(anEvent('ann', t0, { name: 'Signed Up' }), t0 + 1000),
      imported(order('ann', t0, 'a1'), t0 + 1001),
    ];
    const toMs = t0 + 4 * DAY_MS;
    const clock = createVirtualClock(t0 - HOUR_MS);
    const live = await createServices(config, {
      store: await createSqliteStore({ file: ':memory:', synchronous: 'normal' }),
      clock,
      logger: silentLogger,
    });
    open.push(live);
    clock.set(t0 + 1001);
    await live.recorder.record(batch, t0 + 1001);
    await live.worker.runDue();
    clock.set(toMs);
    await live.worker.runDue();
    const { target } = await simulated(config, live, t0 - HOUR_MS, toMs);
    expect(await actionsIn(live, t0, toMs)).toEqual(['ann first-order-thanks']);
    expect(await actionsIn(target, t0, toMs)).toEqual(await actionsIn(live, t0, toMs));
  });

  it('records an import apart from events of its moment that came another way', async () => {
    // A signup by the API, and its order imported ten minutes later (not stale): two batches.
    const config = loadConfig(env, null);
    const t0 = Date.UTC(2026, 5, 3, 12);
    const events = [
      identify('ann', t0, { 'consent.email': 'granted' }),
      anEvent('ann', t0, { name: 'Signed Up' }),
      {
        ...order('ann', t0, 'a1'),
        sourceId: toSourceId('import-events'),
        receivedAtMs: t0 + 10 * MINUTE_MS,
      },
    ];
    const toMs = t0 + 4 * DAY_MS;
    const live = await runLive(config, events, toMs);
    const { target } = await simulated(config, live, t0 - HOUR_MS, toMs);
    expect(await actionsIn(live, t0, toMs)).toContain('ann welcome/day-1-email');
    expect(await actionsIn(target, t0, toMs)).toEqual(await actionsIn(live, t0, toMs));
  });

  it('holds out of automated marketing whom the staged rollout live Herald ran held out', async () => {
    const config = loadConfig(env, null);
    const t0 = Date.UTC(2026, 5, 3, 12);
    const events = tenSignUps(t0);
    // The first stage (5 %) began the day before; the cohort is drawn per customer.
    const live = await runLive(config, events, t0 + HOUR_MS, async (services) => {
      await startRollout(services.store, t0 - DAY_MS);
    });
    const { target } = await simulated(config, live, t0 - HOUR_MS, t0 + HOUR_MS);
    const held = (await outboxOf(live)).filter((m) => m.endsWith('outside_rollout'));
    expect(held.length).toBeGreaterThan(0);
    expect(await outboxOf(target)).toEqual(await outboxOf(live));
  });

  it('holds everyone out while the rollout was rolled back, though it was started again since', async () => {
    const config = loadConfig(env, null);
    const t0 = Date.UTC(2026, 5, 3, 12);
    const events = tenSignUps(t0);
    const live = await runLive(config, events, t0 + HOUR_MS, async (services) => {
      await startRollout(services.store, t0 - 2 * DAY_MS);
      // Rolled back to 0 %: too slow.
      await checkRollout(services.store, t0 - DAY_MS, { p95LatencyMs: 1e9, uptime: 1 });
    });
    expect((await readRollout(live.store))?.percent).toBe(0);
    // Started again after the window, as a roll-back asks (no `restart` needed at 0 %).
    await startRollout(live.store, t0 + 2 * DAY_MS);
    const { target } = await simulated(config, live, t0 - HOUR_MS, t0 + HOUR_MS);
    expect((await outboxOf(live)).filter((m) => m.endsWith('outside_rollout'))).toHaveLength(10);
    expect(await outboxOf(target)).toEqual(await outboxOf(live));
  });

  it('judges an event by when Herald received it: a late order thanks no one', async () => {
    const config = loadConfig(env, null);
    const t0 = Date.UTC(2026, 5, 3, 12);
    // The order happened an hour after the signup and reached Herald three hours after that,
    // past `staleEventMinutes` [60]: it only ends the welcome journey.
    const late = { ...order('ann', t0 + HOUR_MS, 'a1'), receivedAtMs: t0 + 4 * HOUR_MS };
    const events = [identify('ann', t0), anEvent('ann', t0, { name: 'Signed Up' }), late];
    const toMs = t0 + 8 * DAY_MS;
    const live = await runLive(config, events, toMs);
    const liveDecided = await decidedIn(live, t0, toMs);
    expect(liveDecided.map((d) => d.split(' ').slice(1).join(' '))).toEqual([
      'ann web-content',
      'ann welcome/day-1-email',
    ]);

    const { target, summary } = await simulated(config, live, t0 - HOUR_MS, toMs);
    expect(await decidedIn(target, t0, toMs)).toEqual(liveDecided);
    expect(summary.decisions).toBe(2);
  });

  it('applies a late event after what came before it arrived: a late opt-out undoes nothing sent', async () => {
    const config = loadConfig(env, null);
    const t0 = Date.UTC(2026, 5, 3, 12);
    // Unsubscribed a minute in, but the event reached Herald five hours later; the signup two
    // hours in came on time, and its welcome went out before the opt-out was known.
    const optOut = {
      ...anEvent('ann', t0 + MINUTE_MS, { name: 'Unsubscribed', properties: { channel: 'email' } }),
      receivedAtMs: t0 + 5 * HOUR_MS,
    };
    const events = [
      identify('ann', t0),
      optOut,
      anEvent('ann', t0 + 2 * HOUR_MS, { name: 'Signed Up' }),
    ];
    const toMs = t0 + 2 * DAY_MS;
    const statuses = async (services: Services) =>
      (await services.store.listDecisions({ limit: 100 }))
        .filter((d) => d.action === 'welcome/day-1-email')
        .map((d) => `${iso(d.createdAtMs)} ${d.status}`);
    const live = await runLive(config, events, toMs);
    expect(await statuses(live)).toEqual([`${iso(t0 + 2 * HOUR_MS)} scheduled`]);

    const { target } = await simulated(config, live, t0 - HOUR_MS, toMs);
    expect(await statuses(target)).toEqual(await statuses(live));
  });
});
