import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import type { CreativeVariant, Decision } from '../core/decision.js';
import type { MessageRecord } from '../core/message.js';
import { toCustomerId } from '../core/ids.js';
import { quietHoursSchema } from '../core/quiet-hours.js';
import { aDecision } from '../../test/support/builders.js';
import { assignArm, isInGlobalHoldout, isInRollout } from './experiment/index.js';
import {
  guardAndRecord,
  judgeDecision,
  judgeOnChannels,
  type GuardBatchState,
  type Judged,
  type GuardDeps,
} from './guard-and-record.js';
import type { SendHistory } from '../ports/record-store.js';
import type { StoreTx } from '../ports/store.js';
import type { CustomerId } from '../core/ids.js';
import type { Channel, ProfileState } from '../core/profile.js';
import {
  defaultGuardrails,
  guardPolicySchema,
  type Guardrail,
  type GuardPolicy,
} from './guard/index.js';
import { deriveComputed, emptyProfile, profilePolicySchema } from './profile/index.js';
import { createRenderer, defaultTemplates, type Template } from './render/index.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const DAY = 24 * 3600 * 1000;
const profilePolicy = Value.Default(profilePolicySchema, {}) as never;

const deps = (holdoutPercent: number): GuardDeps => ({
  renderer: createRenderer(defaultTemplates, {
    brandName: 'Herald Store',
    from: 'Herald <m@example.com>',
    replyTo: null,
    postalAddress: '1 Main St',
    publicUrl: 'https://h.example.com',
    shopUrl: 'https://shop.example.com',
    linkSecret: 'secret',
  }),
  policy: Value.Default(guardPolicySchema, {
    holdout: { globalPercent: holdoutPercent, salt: 's1' },
  }) as GuardPolicy,
  quietHours: Value.Default(quietHoursSchema, {}) as never,
  figures: (state, nowMs) => deriveComputed(state, nowMs, profilePolicy),
  reviewExpiryMs: 48 * 3600 * 1000,
  experiments: { windowMs: 7 * 24 * 3600 * 1000, segmentOf: () => 'Standard' },
  sendingDomain: null,
});

const batch = (rollout: GuardBatchState['rollout'] = null): GuardBatchState => ({
  history: new Map(),
  spend: new Map(),
  domain: null,
  creative: new Map(),
  rollout,
  promoted: new Map(),
  weights: new Map(),
  erased: new Map(),
  withdrawn: new Map(),
});

const decisionFor = (id: string, agent = 'lifecycle'): Decision =>
  aDecision({
    id: `d-${id}`,
    customerId: toCustomerId(id),
    agent,
    scheduledForMs: T0,
    createdAtMs: T0,
  });

describe('an offer with a code', () => {
  const judgeOffer = (expiresAtMs: number, timezone: string | null = null) => {
    const empty = emptyProfile(toCustomerId('o1'), T0 - 1000);
    const state = {
      ...empty,
      location: { ...empty.location, timezone },
      traits: { email: 'o1@example.com' },
      consent: { email: { marketing: { granted: true, atMs: T0 - 1000, source: 'test' } } },
    };
    const decision: Decision = {
      ...decisionFor('o1'),
      incentive: { kind: 'percent-off', percent: 10, amount: null, code: 'SAVE10', expiresAtMs },
    };
    return judgeDecision(decision, state, batch(), deps(0), T0).message;
  };

  it('is refused when its code expires before the message would go, a hold included', () => {
    expect(judgeOffer(T0)).toMatchObject({ status: 'blocked', reasonCode: 'offer_expired' });
    expect(judgeOffer(T0 + 1)).toMatchObject({ status: 'queued', offerEndsMs: T0 + 1 });
    // 12:00 UTC is 22:00 in Sydney: held by quiet hours until 08:00 there (22:00 UTC).
    expect(judgeOffer(T0 + 2 * 3_600_000, 'Australia/Sydney')).toMatchObject({
      status: 'blocked',
      reasonCode: 'offer_expired',
    });
    expect(judgeOffer(T0 + DAY, 'Australia/Sydney')).toMatchObject({
      status: 'queued',
      sendAtMs: T0 + 10 * 3_600_000,
    });
  });
});

describe('a link in a trait', () => {
  it('blocks a message whose first name carries a link to another host', () => {
    const judgeNamed = (firstName: string) => {
      const empty = emptyProfile(toCustomerId('n1'), T0 - 1000);
      const state = {
        ...empty,
        traits: { email: 'n1@example.com', firstName },
        consent: { email: { marketing: { granted: true, atMs: T0 - 1000, source: 'test' } } },
      };
      return judgeDecision(decisionFor('n1'), state, batch(), deps(0), T0).message;
    };
    expect(judgeNamed('Ana, verify: https://evil.example/x')).toMatchObject({
      status: 'blocked',
      reasonCode: 'foreign_link',
    });
    expect(judgeNamed('Ana')).toMatchObject({ status: 'queued' });
    // A link to the shop's own site (its www. host, as catalogues often link) is no stranger's.
    expect(judgeNamed('www.shop.example.com')).toMatchObject({ status: 'queued' });
    expect(judgeNamed('www.evil.example')).toMatchObject({ reasonCode: 'foreign_link' });
  });
});

describe('the global holdout', () => {
  const customers = Array.from({ length: 200 }, (_, i) => `g${String(i)}`);
  const judge = (id: string, percent: number, agent?: string) => {
    const state = {
      ...emptyProfile(toCustomerId(id), T0 - 1000),
      traits: { email: `${id}@example.com` },
    };
    return judgeDecision(decisionFor(id, agent), state, batch(), deps(percent), T0).message;
  };

  it('holds out exactly the customers the hash puts in it, from automated marketing only', () => {
    const held = customers.filter((id) => judge(id, 20).status === 'held-out');
    const expected = customers.filter((id) =>
      isInGlobalHoldout(toCustomerId(id), { salt: 's1', percent: 20 }),
    );
    expect(held).toEqual(expected);
    expect(held.length).toBeGreaterThan(20);
    expect(held.length).toBeLessThan(60);
    // An API send is someone's explicit request: it is not held out.
    for (const id of held) expect(judge(id, 20, 'api').status).not.toBe('held-out');
    // No holdout configured: nobody.
    expect(customers.filter((id) => judge(id, 0).status === 'held-out')).toEqual([]);
    expect(judge(held[0] ?? '', 20).reasonCode).toBe('global_holdout');
  });

  it("enters each customer in the global holdout's experiment in the arm the hash gives, sent or blocked", () => {
    const state = (id: string) => ({
      ...emptyProfile(toCustomerId(id), T0 - 1000),
      traits: { email: `${id}@example.com` },
    });
    const armOf = (id: string, template: string) => {
      const decision = { ...decisionFor(id), template };
      const judged = judgeDecision(decision, state(id), batch(), deps(20), T0);
      return { status: judged.message.status, arm: judged.units[0]?.arm };
    };
    for (const id of customers) {
      const expected = isInGlobalHoldout(toCustomerId(id), { salt: 's1', percent: 20 })
        ? 'holdout'
        : 'treatment';
      expect(armOf(id, 'upsell').arm).toBe(expected);
      // No such template: blocked before any holdout is drawn, and still entered.
      expect(armOf(id, 'no-such-template')).toEqual({ status: 'blocked', arm: expected });
    }
  });
});

describe('a staged rollout', () => {
  const customers = Array.from({ length: 200 }, (_, i) => `r${String(i)}`);
  const judge = (id: string, percent: number, agent?: string, holdout = 0) => {
    const state = {
      ...emptyProfile(toCustomerId(id), T0 - 1000),
      traits: { email: `${id}@example.com` },
    };
    return judgeDecision(
      decisionFor(id, agent),
      state,
      batch({ percent, salt: 'stage-salt' }),
      deps(holdout),
      T0,
    );
  };

  it('gives automated marketing to the cohort only, and assigns the others to no experiment', () => {
    const inside = customers.filter((id) => judge(id, 20).message.status === 'queued');
    expect(inside).toEqual(
      customers.filter((id) => isInRollout(toCustomerId(id), 20, 'stage-salt')),
    );
    expect(inside.length).toBeGreaterThan(20);
    expect(inside.length).toBeLessThan(60);
    const outside = customers.find((id) => !inside.includes(id)) ?? '';
    const judged = judge(outside, 20, undefined, 10);
    expect(judged.message).toMatchObject({ status: 'held-out', reasonCode: 'outside_rollout' });
    expect(judged.units).toEqual([]);
    // An API send is someone's explicit request: the rollout does not hold it.
    expect(judge(outside, 20, 'api').message.status).toBe('queued');
    // Rolled back to 0 %: nobody gets automated marketing.
    expect(customers.filter((id) => judge(id, 0).message.status === 'queued')).toEqual([]);
  });

  it('keeps every customer outside the cohort out of the experiments, held out or blocked', () => {
    const outside = customers.filter((id) => !isInRollout(toCustomerId(id), 20, 'stage-salt'));
    // With a 50 % global holdout about half of them would be drawn into it: none may join.
    for (const id of outside) {
      const judged = judge(id, 20, undefined, 50);
      expect(judged.units).toEqual([]);
      expect(judged.message.reasonCode).toBe('outside_rollout');
    }
    // Blocked (no address): still no experiment unit.
    const [first = ''] = outside;
    const blocked = judgeDecision(
      decisionFor(first),
      emptyProfile(toCustomerId(first), T0 - 1000),
      batch({ percent: 20, salt: 'stage-salt' }),
      deps(50),
      T0,
    );
    expect(blocked.message.status).toBe('blocked');
    expect(blocked.units).toEqual([]);
  });
});

describe("a campaign's holdout", () => {
  const customers = Array.from({ length: 60 }, (_, i) => `c${String(i)}`);
  const campaignDecision = (id: string): Decision => ({
    ...decisionFor(id, 'campaign'),
    trigger: {
      kind: 'campaign',
      campaign: {
        id: 'spring',
        template: 'upsell',
        channels: ['email'],
        segment: null,
        incentive: null,
        sendAtMs: T0,
        holdoutPercent: 50,
      },
    },
  });
  const judge = (id: string, guardrails?: GuardDeps['guardrails']) => {
    const state = {
      ...emptyProfile(toCustomerId(id), T0 - 1000),
      traits: { email: `${id}@example.com` },
    };
    return judgeDecision(
      campaignDecision(id),
      state,
      batch(),
      { ...deps(0), ...(guardrails === undefined ? {} : { guardrails }) },
      T0,
    );
  };

  it('is drawn among the customers a guardrail let through, who alone join the experiment', () => {
    const judged = customers.map((id) => judge(id));
    const held = judged.filter((j) => j.message.status === 'held-out');
    expect(held.length).toBeGreaterThan(15);
    expect(held.every((j) => j.units[0]?.arm === 'holdout')).toBe(true);
    expect(
      judged
        .filter((j) => j.message.status === 'queued')
        .every((j) => j.units[0]?.arm === 'treatment'),
    ).toBe(true);
    // The held-out message still carries the verdicts of the guardrails it passed.
    expect(held[0]?.message.passed).toContain('consent');
    const refuseAll: Guardrail = {
      name: 'refuse',
      check: () => [
        { guardrail: 'refuse', outcome: 'block', code: 'refused', reason: 'no', figures: {} },
      ],
    };
    const blocked = customers.map((id) => judge(id, [...defaultGuardrails, refuseAll]));
    expect(blocked.every((j) => j.message.status === 'blocked')).toBe(true);
    expect(blocked.flatMap((j) => j.units)).toEqual([]);
  });
});

describe('creative variants', () => {
  const variantsOf = (ids: readonly string[]): CreativeVariant[] =>
    ids.map((id) => ({
      id,
      strategy: id,
      tone: 'friendly',
      subject: `Hello from ${id}`,
      preheader: '',
      body: 'Hi {{ customer.firstName | default: "there" }}, new arrivals are in.',
      cta: 'Shop now',
      citations: ['doc-1'],
      generator: 'offline-composer',
      moderation: { ok: true, moderator: 'local', findings: [] },
      scores: { brand: 0.9, tone: 0.9 },
    }));
  const variants = variantsOf(['v-a', 'v-b', 'v-c']);
  const design = { salt: 'creative:c1', arms: variants.map((v) => ({ name: v.id, weight: 1 })) };
  const segmentOf = (id: string) => (Number(id.slice(1)) % 2 === 0 ? 'New' : 'Standard');
  /** Campaign c1's decision for a customer, its variants split within segments when `stratify`. */
  const campaignDecision = (id: string, stratify: boolean): Decision => ({
    ...decisionFor(id, 'campaign'),
    trigger: {
      kind: 'campaign',
      campaign: {
        id: 'c1',
        template: 'upsell',
        channels: ['email'],
        segment: null,
        incentive: null,
        sendAtMs: T0,
        ...(stratify ? { stratify: true } : {}),
      },
    },
    experiment: { slot: 'creative:c1', variants: variants.map((v) => v.id) },
  });
  const judgeWith = (
    id: string,
    stratify: boolean,
    written = variants,
    location: Partial<ProfileState['location']> = {},
  ) => {
    const decision = campaignDecision(id, stratify);
    const empty = emptyProfile(toCustomerId(id), T0 - 1000);
    const state = {
      ...empty,
      location: { ...empty.location, ...location },
      traits: { email: `${id}@example.com` },
    };
    return judgeDecision(
      decision,
      state,
      { ...batch(), creative: new Map([['creative:c1', written]]) },
      { ...deps(0), experiments: { windowMs: 7 * DAY, segmentOf: (s) => segmentOf(s.customerId) } },
      T0,
    ).message;
  };
  const judge = (id: string, stratify: boolean) => judgeWith(id, stratify).variant;

  it('refuses written copy that links anywhere but the shop, whatever its text names', () => {
    const linking = variants.map((v) => ({
      ...v,
      body: 'Hi {{ customer.firstName | default: "there" }}, read https://model.example/x',
    }));
    expect(judgeWith('s1', false, linking)).toMatchObject({
      status: 'blocked',
      reasonCode: 'foreign_link',
    });
    expect(judgeWith('s1', false)).toMatchObject({ status: 'queued' });
  });

  it('judges a message again with the variant it was made with, whatever a new draw picks', () => {
    const judgeIn = (id: string, segment: string, madeWith?: string | null) => {
      const decision = campaignDecision(id, true);
      const state = {
        ...emptyProfile(toCustomerId(id), T0 - 1000),
        traits: { email: `${id}@example.com` },
      };
      return judgeDecision(
        decision,
        state,
        { ...batch(), creative: new Map([['creative:c1', variants]]) },
        { ...deps(0), experiments: { windowMs: 7 * DAY, segmentOf: () => segment } },
        T0,
        undefined,
        madeWith,
      ).message.variant;
    };
    // A customer whose segment changed while the message waited, and with it the draw.
    const id = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'].find(
      (c) => judgeIn(c, 'New') !== judgeIn(c, 'Standard'),
    );
    if (id === undefined) throw new Error('no customer whose draw differs by segment');
    const made = judgeIn(id, 'New');
    expect(judgeIn(id, 'Standard', made)).toBe(made);
    expect(judgeIn(id, 'Standard')).not.toBe(made);
  });

  it('refuses copy whose cited document expired before it would go', () => {
    const until = (validUntilMs: number) => variants.map((v) => ({ ...v, validUntilMs }));
    expect(judgeWith('s1', false, until(T0))).toMatchObject({
      status: 'blocked',
      reasonCode: 'content_expired',
    });
    expect(judgeWith('s1', false, until(T0 + 1)).status).toBe('queued');
    // 12:00 UTC is 22:00 in Sydney: held by quiet hours until 08:00 there (22:00 UTC).
    const sydney = { timezone: 'Australia/Sydney' };
    expect(judgeWith('s1', false, until(T0 + 2 * 3_600_000), sydney)).toMatchObject({
      status: 'blocked',
      reasonCode: 'content_expired',
    });
    expect(judgeWith('s1', false, until(T0 + DAY), sydney)).toMatchObject({
      status: 'queued',
      sendAtMs: T0 + 10 * 3_600_000,
    });
  });

  it('keeps until when the copy may go on the message, for the check at hand-off', () => {
    const until = variants.map((v) => ({ ...v, validUntilMs: T0 + DAY }));
    expect(judgeWith('s1', false, until).validUntilMs).toBe(T0 + DAY);
    expect(judgeWith('s1', false).validUntilMs).toBeUndefined();
  });

  it('assigns by hash, and within the segment when the campaign asks for stratification', () => {
    const ids = Array.from({ length: 60 }, (_, i) => `s${String(i)}`);
    for (const id of ids) {
      expect(judge(id, false)).toBe(assignArm(toCustomerId(id), design));
      expect(judge(id, true)).toBe(assignArm(toCustomerId(id), design, segmentOf(id)));
    }
    // The two assignments are different draws.
    expect(ids.filter((id) => judge(id, false) !== judge(id, true)).length).toBeGreaterThan(10);
  });
});

describe('recording a round', () => {
  // A transaction that notes the order of its writes and answers reads with nothing.
  const recordingTx = (auditLockIsFree: boolean) => {
    const calls: string[] = [];
    const answers: Record<string, unknown> = {
      sendHistory: new Map(),
      campaignSpend: new Map(),
      getSetting: null,
      lockAuditHead: { head: null, key: null },
      pseudonymsOf: new Map(),
    };
    const tx = new Proxy(
      { auditLockIsFree },
      {
        get: (target, name: string) =>
          name in target
            ? target[name as keyof typeof target]
            : (...args: unknown[]) => {
                const rows = args[0];
                calls.push(Array.isArray(rows) ? `${name} ${String(rows.length)}` : name);
                return Promise.resolve(answers[name]);
              },
      },
    ) as unknown as StoreTx;
    return { tx, calls };
  };
  const customers = Array.from({ length: 150 }, (_, i) => `w${String(i)}`);
  const profiles = new Map<CustomerId, ProfileState>(
    customers.map((id) => [
      toCustomerId(id),
      { ...emptyProfile(toCustomerId(id), T0 - 1000), traits: { email: `${id}@example.com` } },
    ]),
  );
  const decisions = customers.map((id) => decisionFor(id));

  it('appends the audit entries with each group where the lock is free, else once at the end', async () => {
    const free = recordingTx(true);
    expect(await guardAndRecord(free.tx, deps(0), decisions, profiles, T0)).toBe(150);
    const writes = (calls: string[]) =>
      calls.filter((c) => /^(insertMessages|insertAudit|lockAuditHead)/.test(c));
    expect(writes(free.calls)).toEqual([
      'insertMessages 64',
      'lockAuditHead',
      'insertAudit 64',
      'insertMessages 64',
      'lockAuditHead',
      'insertAudit 64',
      'insertMessages 22',
      'lockAuditHead',
      'insertAudit 22',
    ]);
    const shared = recordingTx(false);
    expect(await guardAndRecord(shared.tx, deps(0), decisions, profiles, T0)).toBe(150);
    expect(writes(shared.calls)).toEqual([
      'insertMessages 64',
      'insertMessages 64',
      'insertMessages 22',
      'lockAuditHead',
      'insertAudit 150',
    ]);
  });
});

describe('a decision that cannot be judged', () => {
  it('blocks its own message (guard_error) and records the rest of the round', async () => {
    const messages: MessageRecord[] = [];
    const audited: unknown[] = [];
    const tx = new Proxy(
      { auditLockIsFree: true },
      {
        get: (target, name: string) =>
          name in target
            ? target[name as keyof typeof target]
            : (...args: unknown[]) => {
                if (name === 'insertMessages') messages.push(...(args[0] as MessageRecord[]));
                if (name === 'insertAudit') audited.push(...(args[0] as unknown[]));
                return Promise.resolve(
                  name === 'sendHistory' || name === 'campaignSpend' || name === 'pseudonymsOf'
                    ? new Map()
                    : name === 'lockAuditHead'
                      ? { head: null, key: null }
                      : null,
                );
              },
      },
    ) as unknown as StoreTx;
    const base = deps(0);
    const failing: GuardDeps = {
      ...base,
      renderer: {
        ...base.renderer,
        templateOf: (name) => {
          if (name === 'broken') throw new Error('the template store is gone');
          return base.renderer.templateOf(name);
        },
      },
    };
    const ids = ['f1', 'f2', 'f3'];
    const profiles = new Map<CustomerId, ProfileState>(
      ids.map((id) => [
        toCustomerId(id),
        { ...emptyProfile(toCustomerId(id), T0 - 1000), traits: { email: `${id}@example.com` } },
      ]),
    );
    const decisions = ids.map((id) => ({
      ...decisionFor(id),
      template: id === 'f2' ? 'broken' : 'upsell',
    }));
    expect(await guardAndRecord(tx, failing, decisions, profiles, T0)).toBe(3);
    expect(messages.map((m) => [m.id, m.status, m.reasonCode])).toEqual([
      ['d-f1', 'queued', null],
      ['d-f2', 'blocked', 'guard_error'],
      ['d-f3', 'queued', null],
    ]);
    expect(messages[1]?.verdicts[0]?.reason).toContain('the template store is gone');
    expect(audited).toHaveLength(3);
  });
});

describe('falling back to the next channel', () => {
  const consent = (granted: boolean) => ({
    marketing: { granted, atMs: T0 - DAY, source: 'test' },
  });
  /**
   * A New York customer (noon UTC is 08:00 there, out of quiet hours) with an email address and
   * a phone, and marketing consent granted or withdrawn per channel.
   */
  const customer = (id: string, granted: Partial<Record<Channel, boolean>>): ProfileState => ({
    ...emptyProfile(toCustomerId(id), T0 - 1000),
    traits: { email: `${id}@example.com`, phone: '+15555550100' },
    location: { country: 'US', region: 'NY', city: null, timezone: null },
    consent: Object.fromEntries(Object.entries(granted).map(([c, g]) => [c, consent(g)])),
  });
  /** The decision for `id` (email, then SMS, unless `decision` says otherwise), judged. */
  const judge = (
    id: string,
    granted: Partial<Record<Channel, boolean>>,
    options: { decision?: Partial<Decision>; deps?: GuardDeps; batch?: GuardBatchState } = {},
  ) =>
    judgeOnChannels(
      aDecision({
        id: `d-${id}`,
        customerId: toCustomerId(id),
        channels: ['email', 'sms'],
        scheduledForMs: T0,
        createdAtMs: T0,
        ...options.decision,
      }),
      customer(id, granted),
      options.batch ?? batch(),
      options.deps ?? deps(0),
      T0,
    );
  const withPolicy = (policy: Partial<GuardPolicy>): GuardDeps => ({
    ...deps(0),
    policy: { ...deps(0).policy, ...policy },
  });
  const fallback = (j: Judged) =>
    j.result.verdicts.filter((v) => v.guardrail === 'channel-fallback');

  it('sends on the next channel when the first blocks it for its own reasons, and says so', () => {
    const judged = judge('f1', { email: false, sms: true });
    expect(judged.message).toMatchObject({ channel: 'sms', status: 'queued', reasonCode: null });
    expect(judged.message.passed).toContain('channel-fallback');
    expect(fallback(judged)).toEqual([
      {
        guardrail: 'channel-fallback',
        outcome: 'pass',
        code: 'ok',
        reason: 'on sms: blocked on email (unsubscribed)',
        figures: { passedOver: [{ channel: 'email', codes: ['unsubscribed'] }] },
      },
    ]);
  });

  it('shows web content only in a slot: without one it is blocked there and goes on', () => {
    const slotless = judge('f9', { email: true }, { decision: { channels: ['web', 'email'] } });
    expect(slotless.message).toMatchObject({ channel: 'email', status: 'queued' });
    expect(fallback(slotless)[0]?.reason).toBe('on email: blocked on web (no_recipient)');
    const alone = judge('f10', { email: true }, { decision: { channels: ['web'] } });
    expect(alone.message).toMatchObject({
      channel: 'web',
      status: 'blocked',
      reasonCode: 'no_recipient',
      web: null,
    });
    const slotted = judge(
      'f11',
      { email: true },
      { decision: { channels: ['web'], details: { slot: 'home-hero' } } },
    );
    expect(slotted.message).toMatchObject({ channel: 'web', web: { slot: 'home-hero' } });
    expect(slotted.message.reasonCode).not.toBe('no_recipient');
  });

  it('does not spend a new customer’s engagement grace on web content they cannot engage with', () => {
    const state = batch();
    for (let i = 0; i < 3; i += 1) {
      const shown = judge(
        'f12',
        { email: true },
        { batch: state, decision: { id: `w-${i}`, channels: ['web'], details: { slot: 'hero' } } },
      );
      expect(shown.message).toMatchObject({ channel: 'web', status: 'queued' });
    }
    // Three banners, no email yet: the first email is still within the grace.
    const first = judge(
      'f12',
      { email: true },
      { batch: state, decision: { channels: ['email'] } },
    );
    expect(first.message).toMatchObject({ channel: 'email', status: 'queued' });
    expect(state.history.get(toCustomerId('f12'))?.marketingTotal).toBe(1);
  });

  it('goes on to a channel where the customer is held out, as one who would be messaged', () => {
    const judged = judge('f6', { email: false, sms: true }, { deps: deps(100) });
    expect(judged.message).toMatchObject({
      channel: 'sms',
      status: 'held-out',
      reasonCode: 'global_holdout',
    });
    expect(judged.units.map((u) => u.arm)).toEqual(['holdout']);
    expect(fallback(judged)).toMatchObject([{ outcome: 'pass' }]);
  });

  it('tries every next channel in turn, whatever blocks a later one', () => {
    const judged = judge(
      'f7',
      { email: true, sms: false, whatsapp: true },
      {
        decision: { channels: ['sms', 'email', 'whatsapp'] },
        deps: withPolicy({ maxSubjectLength: 5, whatsappApprovedTemplates: ['upsell'] }),
      },
    );
    expect(judged.message).toMatchObject({ channel: 'whatsapp', status: 'queued' });
    expect(fallback(judged)[0]?.reason).toBe(
      'on whatsapp: blocked on sms (unsubscribed), email (subject_too_long)',
    );
  });

  it('goes on to a cheaper channel when the first would take the campaign past its budget', () => {
    const campaign = {
      id: 'spring',
      segment: null,
      template: 'upsell',
      channels: ['sms' as const, 'email' as const],
      incentive: null,
      budget: 0.005,
      holdoutPercent: 0,
      variants: null,
    } as unknown as Extract<Decision['trigger'], { kind: 'campaign' }>['campaign'];
    const judged = judge(
      'f12',
      { email: true, sms: true },
      {
        decision: {
          agent: 'campaign',
          channels: ['sms', 'email'],
          trigger: { kind: 'campaign', campaign },
        },
      },
    );
    // An SMS segment (0.0079) is more than the 0.005 left; an email (0.001) is not.
    expect(judged.message).toMatchObject({ channel: 'email', status: 'queued' });
    expect(fallback(judged)[0]?.reason).toBe('on email: blocked on sms (budget_exhausted)');
  });

  it('stops at a channel where a guardrail fails: that blocks the message, fail closed', () => {
    const brokenOnSms: Guardrail = {
      name: 'broken',
      check: (message) => {
        if (message.channel === 'sms') throw new Error('service down');
        return [{ guardrail: 'broken', outcome: 'pass', code: 'ok', reason: 'up', figures: {} }];
      },
    };
    const judged = judge(
      'f8',
      { email: false, sms: true, whatsapp: true },
      {
        decision: { channels: ['email', 'sms', 'whatsapp'] },
        deps: {
          ...withPolicy({ whatsappApprovedTemplates: ['upsell'] }),
          guardrails: [...defaultGuardrails, brokenOnSms],
        },
      },
    );
    expect(judged.message).toMatchObject({
      channel: 'email',
      status: 'blocked',
      reasonCode: 'unsubscribed',
    });
    expect(fallback(judged)).toMatchObject([
      {
        code: 'no_channel_left',
        figures: { others: [{ channel: 'sms', codes: ['guardrail_failed'] }] },
      },
    ]);
  });

  it('keeps the first channel when turned off', () => {
    const judged = judge(
      'f2',
      { email: false, sms: true },
      { deps: withPolicy({ channelFallback: false }) },
    );
    expect(judged.message).toMatchObject({
      channel: 'email',
      status: 'blocked',
      reasonCode: 'unsubscribed',
    });
    expect(fallback(judged)).toEqual([]);
  });

  it('keeps the first channel’s block, naming the others’, when every channel blocks', () => {
    const judged = judge('f3', { email: false, sms: false });
    expect(judged.message).toMatchObject({
      channel: 'email',
      status: 'blocked',
      reasonCode: 'unsubscribed',
    });
    expect(fallback(judged)).toMatchObject([
      {
        outcome: 'block',
        code: 'no_channel_left',
        reason: 'blocked on every channel tried: sms (unsubscribed)',
      },
    ]);
  });

  it('never falls back from a block every channel would give (an offer above the limit)', () => {
    const incentive = {
      kind: 'percent-off' as const,
      percent: 30,
      amount: null,
      code: 'X-1',
      expiresAtMs: T0 + DAY,
    };
    const judged = judge('f4', { email: false, sms: true }, { decision: { incentive } });
    expect(judged.message).toMatchObject({ channel: 'email', status: 'blocked' });
    expect(judged.message.verdicts.map((v) => v.code)).toContain('discount_too_high');
    expect(fallback(judged)).toEqual([]);
  });

  it('counts the send on the channel it went on: a capped email moves to SMS, SMS is counted', () => {
    const state = batch();
    const history: SendHistory = {
      marketingInWindow: { email: 3 },
      campaignsToday: 0,
      marketingTotal: 3,
      lastMarketingAtMs: null,
    };
    state.history.set(toCustomerId('f5'), history);
    // Engagement is not at issue here (after three messages, a low score blocks every channel).
    const judged = judge(
      'f5',
      { email: true, sms: true },
      { batch: state, deps: withPolicy({ minEngagement: 0 }) },
    );
    expect(judged.message).toMatchObject({ channel: 'sms', status: 'queued' });
    expect(fallback(judged)[0]).toMatchObject({
      reason: 'on sms: blocked on email (frequency_capped)',
    });
    expect(state.history.get(toCustomerId('f5'))?.marketingInWindow).toEqual({ email: 3, sms: 1 });
  });
});

describe('the class of a message', () => {
  const orderUpdate: Template = {
    name: 'order-update',
    class: 'transactional',
    topic: null,
    subject: 'Your order',
    preheader: '',
    text: 'Hi {{ customer.firstName }}, your order is on its way.',
    html: null,
  };
  const withOrderUpdate: GuardDeps = {
    ...deps(0),
    renderer: createRenderer([...defaultTemplates, orderUpdate], {
      brandName: 'Herald Store',
      from: 'Herald <m@example.com>',
      replyTo: null,
      postalAddress: '1 Main St',
      publicUrl: 'https://h.example.com',
      shopUrl: 'https://shop.example.com',
      linkSecret: 'secret',
    }),
  };
  // Unsubscribed from email marketing: only a transactional message may reach them.
  const state: ProfileState = {
    ...emptyProfile(toCustomerId('u1'), T0 - DAY),
    traits: { email: 'u1@example.com', firstName: 'Uma' },
    consent: {
      email: { marketing: { granted: false, atMs: T0 - DAY, source: 'link', explicit: true } },
    },
  };
  const judge = (overrides: Partial<Decision>) =>
    judgeDecision(
      aDecision({
        id: 'd-u1',
        customerId: toCustomerId('u1'),
        agent: 'api',
        trigger: { kind: 'api', by: 'admin' },
        template: 'order-update',
        scheduledForMs: T0,
        createdAtMs: T0,
        ...overrides,
      }),
      state,
      batch(),
      withOrderUpdate,
      T0,
    ).message;

  it('keeps a transactional template transactional on an API send without an offer', () => {
    const message = judge({});
    expect(message).toMatchObject({ class: 'transactional', status: 'queued' });
    expect(message.content?.body).not.toContain('Unsubscribe:');
  });

  it('makes an agent’s message, a campaign’s or one with an incentive marketing whatever the template says', () => {
    const campaign = {
      id: 'spring',
      segment: null,
      template: 'order-update',
      channels: ['email' as const],
      incentive: null,
      budget: null,
      holdoutPercent: 0,
      variants: null,
    } as unknown as Extract<Decision['trigger'], { kind: 'campaign' }>['campaign'];
    for (const overrides of [
      { agent: 'cart', trigger: { kind: 'cart-abandoned', cartUpdatedAtMs: T0 - DAY } },
      { agent: 'campaign', trigger: { kind: 'campaign', campaign } },
      {
        incentive: {
          kind: 'percent-off',
          percent: 10,
          amount: null,
          code: 'TEN',
          expiresAtMs: T0 + DAY,
        },
      },
    ] as Partial<Decision>[]) {
      const message = judge(overrides);
      expect(message).toMatchObject({
        class: 'marketing',
        status: 'blocked',
        reasonCode: 'unsubscribed',
      });
      expect(message.content?.body).toContain('Unsubscribe:');
    }
  });
});
