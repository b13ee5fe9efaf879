import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import { isInGlobalHoldout } from '../../src/pipeline/experiment/index.js';
import { globalHoldoutExperimentId } from '../../src/pipeline/guard-and-record.js';
import { adminToken, batchCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const json = { 'content-type': 'application/json' };
let seq = 0;
const factory = storeFactories.find((f) => f.name === 'sqlite');

// A person merged into another keeps the global holdout's arm they were drawn into first
// (intention to treat), and is treated by it: the holdout gets no automated marketing.
describe('the global holdout after a merge', () => {
  let herald: TestHerald;
  let clock: VirtualClock;
  beforeEach(async () => {
    if (factory === undefined) throw new Error('no sqlite store factory');
    clock = createVirtualClock(T0);
    herald = await startHerald(factory, {
      clock,
      configYaml: 'guard:\n  holdout:\n    globalPercent: 30\n    salt: g-salt\n',
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
  const admin = (url: string, body: object) =>
    herald.app.inject({
      method: 'POST',
      url,
      headers: { ...json, authorization: `Bearer ${adminToken}` },
      payload: JSON.stringify(body),
    });
  const get = (url: string) =>
    herald.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${adminToken}` } });
  const inHoldout = (id: string) =>
    isInGlobalHoldout(toCustomerId(id), { salt: 'g-salt', percent: 30 });
  /** The first of `prefix`0, `prefix`1 … in the holdout (or, `held` false, outside it). */
  const idWhere = (prefix: string, held: boolean): string => {
    const id = Array.from({ length: 50 }, (_, i) => `${prefix}${String(i)}`).find(
      (c) => inHoldout(c) === held,
    );
    if (id === undefined) throw new Error(`no ${prefix} id ${held ? 'in' : 'outside'} the holdout`);
    return id;
  };

  const launch = async (id: string) => {
    const answer = await admin('/v1/campaigns', { id, template: 'upsell', channels: ['email'] });
    expect(answer.statusCode).toBe(202);
    await herald.services.worker.runDue();
    await herald.services.dispatcher.runDue();
  };
  const globalId = globalHoldoutExperimentId({ percent: 30, salt: 'g-salt' });
  /**
   * `first` gets campaign c1 (entering the global holdout by the hash of their id), then signs
   * up as `survivor` and is aliased to it, then campaign c2 goes out: the survivor's global arm
   * and what c2 did for them.
   */
  const mergeBetweenCampaigns = async (first: string, survivor: string) => {
    await batch([{ type: 'identify', userId: first, traits: { email: `${first}@example.com` } }]);
    await launch('c1');
    clock.set(T0 + HOUR_MS);
    await batch([
      { type: 'identify', userId: survivor, traits: { email: `${survivor}@example.com` } },
      { type: 'alias', userId: survivor, previousId: first },
    ]);
    await herald.services.worker.runDue();
    clock.set(T0 + DAY_MS);
    await launch('c2');
    const units = await herald.services.store.unitsOfCustomer(toCustomerId(survivor));
    const messages = (await get('/v1/messages?limit=100')).json<{
      messages: { customerId: string; status: string; campaignId?: string }[];
    }>().messages;
    return {
      arm: units.find((u) => u.experimentId === globalId)?.arm,
      c2: messages
        .filter((m) => m.customerId === survivor && m.campaignId === 'c2')
        .map((m) => m.status),
    };
  };

  it('sends automated marketing to no one whose global-holdout unit is in the holdout arm', async () => {
    const survivor = idWhere('s', false);
    // The person is measured as the holdout ("no automated marketing at all") ...
    expect(await mergeBetweenCampaigns(idWhere('h', true), survivor)).toEqual({
      arm: 'holdout',
      c2: ['held-out'],
    });
    // ... and their order counts for the holdout.
    clock.set(T0 + 2 * DAY_MS);
    await batch([
      {
        type: 'track',
        userId: survivor,
        event: 'Order Completed',
        properties: { order_id: 'o1', total: 40 },
      },
    ]);
    await herald.services.worker.runDue();
    const results = (await get(`/v1/experiments/${globalId}/results`)).json<{
      arms: { arm: string; converted: number }[];
    }>();
    expect(results.arms.map((a) => [a.arm, a.converted])).toEqual([
      ['treatment', 0],
      ['holdout', 1],
    ]);
  });

  it('holds out no one whose global-holdout unit is in the treatment arm', async () => {
    // Measured as treated, so the campaign reaches them.
    expect(await mergeBetweenCampaigns(idWhere('t', false), idWhere('s', true))).toEqual({
      arm: 'treatment',
      c2: ['sent'],
    });
  });
});
