import { afterEach, describe, expect, it } from 'vitest';
import { storeFactories } from '../../../test/support/stores.js';
import { toCustomerId } from '../../core/ids.js';
import type { ProfileState } from '../../core/profile.js';
import type { Store } from '../../ports/store.js';
import { runSweepIfDue, type SweepFailure } from './run-sweep.js';
import { aState, anEnv, daysMs, t0, toComputed } from './test-builders.js';

/** A customer inactive for 30 days at t0: the sweep of t0's day raises their `inactive 30`. */
const idle = (id: string, overrides: Partial<ProfileState> = {}): ProfileState =>
  aState({
    customerId: toCustomerId(id),
    userId: id,
    lastActiveAtMs: t0 - daysMs(30),
    ...overrides,
  });

const saveProfiles = (store: Store, states: readonly ProfileState[]) =>
  store.transaction((tx) =>
    tx.saveProfiles(
      states.map((state) => ({
        customerId: state.customerId,
        state,
        computed: toComputed(state, t0),
      })),
    ),
  );

/** The kinds of trigger the customer has work for. */
const workOf = async (store: Store, id: string) =>
  (await store.listWork(toCustomerId(id), 20)).map((w) => w.trigger.kind);

describe.each(storeFactories.filter((f) => f.available))(
  'the daily sweep with one worker ($name)',
  (factory) => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    const aStore = async () => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      return made.store;
    };

    it('skips and reports a customer whose look throws, sweeps the others, and ends the day', async () => {
      const store = await aStore();
      await saveProfiles(store, [idle('a'), idle('b'), idle('c')]);
      let broken = true;
      const env = anEnv({
        computeProfile: (state, nowMs) => {
          if (broken && state.customerId === 'b') throw new Error('cannot derive b');
          return toComputed(state, nowMs);
        },
      });
      const failures: SweepFailure[] = [];
      // Two customers a page: the one that throws is in the first, the sweep goes on to the next.
      expect(
        await runSweepIfDue(store, env, t0, { onFailure: (f) => failures.push(f), pageSize: 2 }),
      ).toBe(3);
      expect(failures).toEqual([{ customerId: 'b', error: new Error('cannot derive b') }]);
      expect(await workOf(store, 'a')).toEqual(['inactive']);
      expect(await workOf(store, 'b')).toEqual([]);
      expect(await workOf(store, 'c')).toEqual(['inactive']);
      // The day is swept: the next drain of the day does not sweep again.
      expect(
        await runSweepIfDue(store, env, t0 + 60_000, {
          onFailure: (f) => failures.push(f),
          pageSize: 2,
        }),
      ).toBeNull();
      // The next day's sweep looks at the customer again.
      broken = false;
      expect(
        await runSweepIfDue(store, env, t0 + daysMs(1), {
          onFailure: (f) => failures.push(f),
          pageSize: 2,
        }),
      ).toBe(3);
      expect(failures).toHaveLength(1);
      expect(await workOf(store, 'b')).toEqual(['inactive']);
    });

    it('sweeps a customer whose stored signup time no calendar has, and those after them', async () => {
      const store = await aStore();
      // Stored from a createdAt in nanoseconds (Go's UnixNano) before such numbers were refused.
      await saveProfiles(store, [
        idle('a', { signedUpAtMs: 1_780_488_000_000_000_000 }),
        idle('b'),
      ]);
      const failures: SweepFailure[] = [];
      expect(await runSweepIfDue(store, anEnv(), t0, { onFailure: (f) => failures.push(f) })).toBe(
        2,
      );
      expect(failures).toEqual([]);
      expect(await workOf(store, 'a')).toEqual(['inactive']);
      expect(await workOf(store, 'b')).toEqual(['inactive']);
    });

    it('counts each customer’s opens by their own local hour', async () => {
      const store = await aStore();
      // Both read their mail at 19:00 on Thursdays, at home: 00:00 UTC Friday in New York
      // (EST, January), 18:00 UTC Thursday in Berlin. One habit, six UTC hours apart.
      const thursday19 = 3 * 24 + 19;
      // A profile stored before counts were kept by local hour holds them by UTC hour.
      const at = (id: string, timezone: string, utcSlot: number) =>
        idle(id, {
          location: { country: null, region: null, city: null, timezone },
          responses: { byChannel: { email: 4 }, byHourOfWeek: { [String(utcSlot)]: 4 } },
        });
      // One kept by local hour (20:00 on Thursdays), in a zone five and a half hours off UTC:
      // taken as it is.
      const kolkata = idle('kolkata', {
        location: { country: null, region: null, city: null, timezone: 'Asia/Kolkata' },
        responses: { byChannel: { email: 4 }, byLocalHourOfWeek: { [String(thursday19 + 1)]: 4 } },
      });
      await saveProfiles(store, [
        at('ny', 'America/New_York', 4 * 24),
        at('berlin', 'Europe/Berlin', 3 * 24 + 18),
        kolkata,
      ]);
      const env = anEnv();
      await runSweepIfDue(store, env, t0);
      expect(env.population?.[thursday19]).toBeCloseTo(8 / 12, 12);
      expect(env.population?.[thursday19 + 1]).toBeCloseTo(4 / 12, 12);
    });

    it('weighs each customer’s habit once, however many responses they have', async () => {
      const store = await aStore();
      const monday10 = 10;
      const monday18 = 18;
      const who = (id: string, counts: Record<string, number>) =>
        idle(id, {
          location: { country: null, region: null, city: null, timezone: 'UTC' },
          responses: { byChannel: { email: 1 }, byLocalHourOfWeek: counts, zone: 'UTC' },
        });
      // Twenty customers open at 18:00 on Mondays, three times each; one inbox (a scanner, a
      // test address) opened everything at 10:00, 2,000 times. Summed as counts, its hour was
      // the population's (2,000 against 60).
      await saveProfiles(store, [
        ...Array.from({ length: 20 }, (_, i) => who(`c${String(i)}`, { [monday18]: 3 })),
        who('scanner', { [monday10]: 2000 }),
        who('both', { [monday10]: 1, [monday18]: 3 }),
      ]);
      const env = anEnv();
      await runSweepIfDue(store, env, t0);
      expect(env.population?.[monday18]).toBeCloseTo((20 + 0.75) / 22, 12);
      expect(env.population?.[monday10]).toBeCloseTo((1 + 0.25) / 22, 12);
    });
  },
);

describe.each(storeFactories.filter((f) => f.available))(
  'the daily sweep with several workers on one database ($name)',
  (factory) => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    const claimBy = (by: string, now: () => number) => ({ by, leaseMs: 600_000, clockMs: now });

    it('is swept by one worker; the others wait for its claim, and take over when it lapses', async () => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      const store = made.store;
      await saveProfiles(store, [idle('a'), idle('b'), idle('c')]);
      let now = t0;
      const clock = () => now;
      // w1 claims the day and is held before its first page: w2, asking meanwhile, finds the
      // claim and is told how long it holds.
      let listing = (): void => undefined;
      const listed = new Promise<void>((resolve) => (listing = resolve));
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      const held: Store = Object.create(store) as Store;
      held.listCustomerIds = async (after, limit) => {
        listing();
        await released;
        return store.listCustomerIds(after, limit);
      };
      const first = runSweepIfDue(held, anEnv(), t0, { pageSize: 2, claim: claimBy('w1', clock) });
      await listed;
      expect(
        await runSweepIfDue(store, anEnv(), t0, { pageSize: 2, claim: claimBy('w2', clock) }),
      ).toEqual({ claimedBy: 'w1', untilMs: t0 + 600_000 });
      release();
      expect(await first).toBe(3);
      // Once the sweeper is done, the day is swept for everyone.
      expect(
        await runSweepIfDue(store, anEnv(), t0, { pageSize: 2, claim: claimBy('w2', clock) }),
      ).toBe(null);

      // The next day: a worker claims it and dies before the end (its claim is left).
      now = t0 + daysMs(1);
      await store.transaction((tx) =>
        tx.setSetting(
          'decide.sweep.claim',
          JSON.stringify({ day: Math.floor(now / daysMs(1)), by: 'w1', untilMs: now + 600_000 }),
        ),
      );
      expect(
        await runSweepIfDue(store, anEnv(), now, { pageSize: 2, claim: claimBy('w2', clock) }),
      ).toMatchObject({ claimedBy: 'w1' });
      now += 600_001;
      expect(
        await runSweepIfDue(store, anEnv(), now, { pageSize: 2, claim: claimBy('w2', clock) }),
      ).toBe(3);
    });

    it('is swept by one of two workers asking at once; the other waits or finds it done', async () => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      const store = made.store;
      await saveProfiles(store, [idle('a'), idle('b'), idle('c')]);
      const clock = () => t0;
      // However the two interleave, the day is swept once: the second finds the first's claim,
      // or (having started after the sweep ended) the day swept.
      const outcomes = await Promise.all([
        runSweepIfDue(store, anEnv(), t0, { pageSize: 2, claim: claimBy('w1', clock) }),
        runSweepIfDue(store, anEnv(), t0, { pageSize: 2, claim: claimBy('w2', clock) }),
      ]);
      expect(outcomes.filter((o) => o === 3)).toHaveLength(1);
      for (const other of outcomes.filter((o) => o !== 3))
        expect(other === null || (typeof other === 'object' && 'claimedBy' in other)).toBe(true);
    });

    it('ends a sweep whose claim another worker took once it lapsed, leaving that claim alone', async () => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      const store = made.store;
      await saveProfiles(store, [idle('a'), idle('b'), idle('c')]);
      const day = Math.floor(t0 / daysMs(1));
      const w2 = JSON.stringify({ day, by: 'w2', untilMs: t0 + 600_000 });
      let pages = 0;
      // w1 stalls after its first page; its claim lapses and w2 takes the day meanwhile.
      const stalling: Store = Object.create(store) as Store;
      stalling.listCustomerIds = async (after, limit) => {
        pages += 1;
        if (pages === 2) await store.transaction((tx) => tx.setSetting('decide.sweep.claim', w2));
        return store.listCustomerIds(after, limit);
      };
      const outcome = await runSweepIfDue(stalling, anEnv(), t0, {
        pageSize: 1,
        claim: { by: 'w1', leaseMs: 600_000, clockMs: () => t0 },
      });
      expect(outcome).toMatchObject({ claimedBy: 'w2' });
      expect(await store.transaction((tx) => tx.getSetting('decide.sweep.claim'))).toBe(w2);
      expect(await store.transaction((tx) => tx.getSetting('decide.sweep.lastDay'))).toBeNull();
    });
  },
);
