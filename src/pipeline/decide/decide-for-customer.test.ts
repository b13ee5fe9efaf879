import { describe, expect, it } from 'vitest';
import type { Trigger } from '../../core/decision.js';
import type { ProfileState } from '../../core/profile.js';
import type { CustomerMarks, Membership, WorkItem } from '../../ports/decide-store.js';
import { decideForCustomer, type CustomerInput } from './decide-for-customer.js';
import type { JourneyDefinition } from './journeys/journey-schema.js';
import type { DecideEnv } from './proposal.js';
import {
  aCart,
  aCartItem,
  aMembership,
  aState,
  aWorkItem,
  anEnv,
  anOrders,
  c1,
  catalogOf,
  daysMs,
  hoursMs,
  marksOf,
  t0,
  withPolicy,
} from './test-builders.js';

interface Setup {
  state?: ProfileState | undefined;
  memberships?: Membership[];
  marks?: CustomerMarks | undefined;
  env?: DecideEnv;
  nowMs?: number;
  conversion?: CustomerInput['conversion'];
}

/** Decides for `c1` with marks matching the state (no stage change) unless given. */
const decide = (triggers: Trigger[], setup: Setup = {}) => {
  const nowMs = setup.nowMs ?? t0;
  const state = 'state' in setup ? setup.state : aState();
  const input: CustomerInput = {
    customerId: c1,
    state,
    memberships: setup.memberships ?? [],
    marks: 'marks' in setup ? setup.marks : state === undefined ? undefined : marksOf(state, nowMs),
    conversion: setup.conversion ?? null,
  };
  const items: WorkItem[] = triggers.map((trigger, i) => aWorkItem(trigger, { id: i + 1 }));
  return decideForCustomer(input, items, setup.env ?? anEnv(), nowMs);
};

const orderCompleted: Trigger = {
  kind: 'event',
  name: 'Order Completed',
  messageId: 'm1',
  properties: {},
};
const newcomer = aState({ firstSeenAtMs: t0, signedUpAtMs: t0, lastActiveAtMs: t0 });

describe('decideForCustomer', () => {
  describe('scores', () => {
    it('stamps each decision with the churn risk it saw and the model that made it', () => {
      const modelled = anEnv({
        computeProfile: (state, atMs) => ({
          ...anEnv().computeProfile(state, atMs),
          churnRisk: 0.42,
          churnModelVersion: 12,
        }),
      });
      const out = decide([{ kind: 'signed-up' }], { state: newcomer, env: modelled });
      expect(out.decisions.length).toBeGreaterThan(0);
      for (const d of out.decisions)
        expect(d.scores).toEqual({
          churnRisk: { value: 0.42, source: 'model', modelVersion: 12 },
        });
      const rules = decide([{ kind: 'signed-up' }], { state: newcomer });
      expect(rules.decisions[0]?.scores?.churnRisk).toMatchObject({
        source: 'rules',
        modelVersion: null,
      });
    });

    it('stamps a send with the conversion probability of its channel, and nothing else with one', () => {
      const out = decide([{ kind: 'signed-up' }], {
        state: newcomer,
        conversion: { modelVersion: 3, byChannel: { email: 0.031 } },
      });
      const churnRisk = { value: expect.any(Number), source: 'rules', modelVersion: null };
      expect(out.decisions.map((d) => [d.channels[0], d.scores])).toEqual([
        ['web', { churnRisk }],
        [
          'email',
          { churnRisk, conversion: { channel: 'email', probability: 0.031, modelVersion: 3 } },
        ],
      ]);
    });
  });

  describe('welcome journey', () => {
    it('enters a new signup: day-1 email and web banner now, wakes two days later', () => {
      const out = decide([{ kind: 'signed-up' }], { state: newcomer });
      expect(out.decisions.map((d) => [d.status, d.channels, d.template])).toEqual([
        ['scheduled', ['web'], 'welcome-banner'],
        ['scheduled', ['email'], 'welcome-1'],
      ]);
      expect(out.decisions[1]?.scheduledForMs).toBe(t0);
      expect(out.schedule).toEqual([
        {
          key: 'c1|journey|welcome',
          customerId: c1,
          dueAtMs: t0 + daysMs(2),
          trigger: {
            kind: 'journey-step',
            journeyId: 'welcome',
            version: 1,
            stepId: 'day-3-email',
          },
        },
      ]);
      expect(out.memberships).toMatchObject([
        { journeyId: 'welcome', status: 'active', stepId: 'day-3-email', entries: 1 },
      ]);
      expect(out.finished).toEqual([{ id: 1, status: 'done', note: 'entered journey welcome v1' }]);
    });

    /**
     * A customer in version 2 of the welcome journey, which a process started later with a
     * newer configuration stored: `trigger` handled by this one, on its `attempts`th retry.
     */
    const inUnknownVersion = (trigger: Trigger, attempts = 0) => {
      const nowMs = t0 + daysMs(2);
      const outcome = decideForCustomer(
        {
          customerId: c1,
          state: newcomer,
          memberships: [aMembership({ stepId: 'day-3-email', version: 2 })],
          marks: marksOf(newcomer, nowMs),
          conversion: null,
        },
        [aWorkItem(trigger, { attempts })],
        anEnv(),
        nowMs,
      );
      return { outcome, nowMs };
    };
    const waitsForAnotherProcess = ({ outcome, nowMs }: ReturnType<typeof inUnknownVersion>) => {
      expect(outcome.finished).toEqual([
        {
          id: 1,
          status: 'pending',
          note: expect.stringMatching(/version 2 is not known to this process/),
          retryAtMs: nowMs + 5 * 60_000,
        },
      ]);
      expect(outcome.memberships).toEqual([]);
      expect(outcome.cancelDecisions).toEqual([]);
      expect(outcome.cancelWork).toEqual([]);
    };

    it('waits for a process that knows a journey version this one never loaded', () => {
      const step: Trigger = {
        kind: 'journey-step',
        journeyId: 'welcome',
        version: 2,
        stepId: 'day-3-email',
      };
      waitsForAnotherProcess(inUnknownVersion(step));
      // After its last try it ends, as before.
      expect(inUnknownVersion(step, 2).outcome.memberships).toMatchObject([
        { status: 'exited', exitReason: 'version 2 is unknown' },
      ]);
    });

    it('holds an event back for a process that knows a journey version it may exit', () => {
      waitsForAnotherProcess(inUnknownVersion(orderCompleted));
      // After its last try it is handled as before.
      expect(inUnknownVersion(orderCompleted, 2).outcome.finished[0]?.status).toBe('done');
    });

    it('lets an order that came late end only the journeys entered by its time', () => {
      const late = (atMs: number): Trigger => ({ ...orderCompleted, lateAtMs: atMs });
      const nowMs = t0 + daysMs(2);
      const member = aMembership({ stepId: 'day-3-email', enteredAtMs: t0 });
      const out = decide([late(t0 + daysMs(1))], { state: newcomer, memberships: [member], nowMs });
      expect(out.memberships.map((m) => [m.journeyId, m.status, m.exitReason])).toEqual([
        ['welcome', 'exited', 'event Order Completed (arrived late)'],
      ]);
      expect(out.cancelWork.map((w) => w.key)).toEqual(['c1|journey|welcome']);
      // Nothing else: no thanks for the order, no journey entered.
      expect(out.decisions).toEqual([]);
      // An order placed before the customer entered does not end it.
      const before = decide([late(t0 - daysMs(1))], {
        state: newcomer,
        memberships: [member],
        nowMs,
      });
      expect(before.memberships).toEqual([]);
      expect(before.finished[0]?.note).toBe('Order Completed arrived late: no journey it exits');
    });

    it('lets a late order end the recovery of the cart it closed, not of a newer one', () => {
      // The cart changed at t0, its timer fired (the journey entered) at +2 h; the order, placed
      // at +1 h, arrives at +3 h.
      const recovering = aMembership({
        journeyId: 'cart-recovery',
        stepId: 'cart-still-open',
        enteredAtMs: t0 + hoursMs(2),
      });
      const late: Trigger = { ...orderCompleted, lateAtMs: t0 + hoursMs(1) };
      const closed = aState({
        cart: null,
        orders: anOrders({ count: 1, lastAtMs: t0 + hoursMs(1) }),
      });
      const out = decide([late], {
        state: closed,
        memberships: [recovering],
        nowMs: t0 + hoursMs(3),
      });
      expect(out.memberships.map((m) => [m.journeyId, m.status])).toEqual([
        ['cart-recovery', 'exited'],
      ]);
      // A cart begun after the order is another cart: its recovery goes on.
      const newer = aState({ cart: aCart([aCartItem()], t0 + hoursMs(1.5)) });
      const kept = decide([late], {
        state: newer,
        memberships: [recovering],
        nowMs: t0 + hoursMs(3),
      });
      expect(kept.memberships).toEqual([]);
    });

    it('sends the day-3 email when the journey wakes at day 3', () => {
      const member = aMembership({ stepId: 'day-3-email' });
      const step: Trigger = {
        kind: 'journey-step',
        journeyId: 'welcome',
        version: 1,
        stepId: 'day-3-email',
      };
      const nowMs = t0 + daysMs(2);
      const out = decide([step], { state: newcomer, memberships: [member], nowMs });
      expect(out.decisions.map((d) => [d.template, d.journey?.stepId])).toEqual([
        ['welcome-2', 'day-3-email'],
      ]);
      expect(out.schedule.map((w) => [w.key, w.dueAtMs])).toEqual([
        ['c1|journey|welcome', nowMs + daysMs(4)],
      ]);
    });

    it('ignores a wake-up for a step the customer is no longer at', () => {
      const member = aMembership({ stepId: 'day-7-email' });
      const step: Trigger = {
        kind: 'journey-step',
        journeyId: 'welcome',
        version: 1,
        stepId: 'day-3-email',
      };
      const out = decide([step], { memberships: [member] });
      expect(out.decisions).toEqual([]);
      expect(out.finished[0]?.note).toBe('journey welcome is no longer at step day-3-email');
    });

    it('does not enter a customer twice', () => {
      const out = decide([{ kind: 'signed-up' }], { memberships: [aMembership()] });
      expect(out.decisions).toEqual([]);
      expect(out.finished[0]?.note).toBe('already in journey welcome');
    });

    it('exits on Order Completed, cancelling its work and its due decisions', () => {
      const buyer = aState({ orders: anOrders({ count: 1, revenueCents: 4000, lastAtMs: t0 }) });
      const member = aMembership({ stepId: 'day-3-email' });
      const out = decide([orderCompleted], { state: buyer, memberships: [member] });
      expect(out.memberships).toMatchObject([
        { journeyId: 'welcome', status: 'exited', exitReason: 'event Order Completed' },
      ]);
      expect(out.cancelWork).toEqual(
        expect.arrayContaining([
          { key: 'c1|journey|welcome', note: 'event Order Completed' },
          { key: 'c1|cart', note: 'order placed' },
        ]),
      );
      expect(out.cancelDecisions).toEqual(
        expect.arrayContaining([
          { match: { journeyId: 'welcome' }, reason: 'event Order Completed' },
          { match: { agents: ['cart'] }, reason: 'order placed' },
        ]),
      );
      expect(out.decisions.map((d) => [d.agent, d.action])).toEqual([
        ['milestone', 'first-order-thanks'],
      ]);
      expect(out.schedule).toEqual([]);
    });

    it('cancels what a finished journey still has due when its exit event comes', () => {
      // The day-7 email was the last step: the journey completed when it was decided, for the
      // customer's best hour tomorrow. The order comes before that hour.
      const buyer = aState({ orders: anOrders({ count: 1, revenueCents: 4000, lastAtMs: t0 }) });
      const completed = aMembership({ stepId: '#end', status: 'completed' });
      const out = decide([orderCompleted], { state: buyer, memberships: [completed] });
      expect(out.cancelDecisions).toContainEqual({
        match: { journeyId: 'welcome' },
        reason: 'event Order Completed',
      });
      expect(out.finished[0]?.note).toContain(
        'journey welcome had completed: event Order Completed cancels what it has still due',
      );
      // Nothing to end: the membership keeps its status, and notes when the exit event came
      // (its web content still up comes down then).
      expect(out.memberships).toMatchObject([
        { journeyId: 'welcome', status: 'completed', exitReason: null, exitEventAfterEndMs: t0 },
      ]);
      // An event the journey does not exit on cancels nothing of it.
      const other = decide([{ ...orderCompleted, name: 'Product Viewed' }], {
        memberships: [completed],
      });
      expect(other.cancelDecisions).toEqual([]);
      // Late, it cancels them only if the customer had entered by the order's time.
      const late = (atMs: number): Trigger => ({ ...orderCompleted, lateAtMs: atMs });
      const entered = aMembership({ stepId: '#end', status: 'completed', enteredAtMs: t0 });
      const nowMs = t0 + daysMs(7);
      const after = decide([late(t0 + daysMs(6))], { memberships: [entered], nowMs });
      expect(after.cancelDecisions).toEqual([
        { match: { journeyId: 'welcome' }, reason: 'event Order Completed (arrived late)' },
      ]);
      // Signed up when entered: an order before that is no exit.
      const justSignedUp = aState({ signedUpAtMs: t0 });
      const before = decide([late(t0 - daysMs(1))], {
        state: justSignedUp,
        memberships: [entered],
        nowMs,
      });
      expect(before.cancelDecisions).toEqual([]);
      // Signed up two days before the round that entered them: an order between the two is
      // one since signing up, which would have kept them out, and it ends the journey.
      const earlier = aState({ signedUpAtMs: t0 - daysMs(2) });
      const between = decide([late(t0 - daysMs(1))], {
        state: earlier,
        memberships: [entered],
        nowMs,
      });
      expect(between.cancelDecisions).toEqual([
        { match: { journeyId: 'welcome' }, reason: 'event Order Completed (arrived late)' },
      ]);
    });
  });

  it('enters a journey on the stage an order brings, though the next order ends it', () => {
    const nurture: JourneyDefinition = {
      id: 'second-purchase',
      entry: { trigger: 'stage-changed', to: 'active' },
      exitOn: ['Order Completed'],
      steps: [
        { id: 'wait', type: 'wait', days: 7 },
        { id: 'nudge', type: 'send', channels: ['email'], template: 'upsell' },
      ],
    };
    // New three hours ago, and now their first order: active.
    const before = aState({
      firstSeenAtMs: t0 - hoursMs(3),
      signedUpAtMs: t0 - hoursMs(3),
      lastActiveAtMs: t0,
    });
    const after = aState({
      ...before,
      orders: anOrders({ count: 1, revenueCents: 5000, lastAtMs: t0 }),
    });
    const out = decide([{ ...orderCompleted, orderNumber: 1 }], {
      state: after,
      marks: marksOf(before, t0),
      env: anEnv({ journeys: catalogOf([nurture]) }),
    });
    expect(out.marks?.stage).toBe('active');
    expect(out.memberships).toMatchObject([{ journeyId: 'second-purchase', status: 'active' }]);
    // Another exit event of the round still keeps them out.
    const leaving = { ...nurture, exitOn: ['Order Completed', 'Account Deleted'] };
    const deleted: Trigger = {
      kind: 'event',
      name: 'Account Deleted',
      messageId: 'm2',
      properties: {},
    };
    const both = decide([{ ...orderCompleted, orderNumber: 1 }, deleted], {
      state: after,
      marks: marksOf(before, t0),
      env: anEnv({ journeys: catalogOf([leaving]) }),
    });
    expect(both.memberships.filter((m) => m.status === 'active')).toEqual([]);
  });

  it('withdraws what a signup proposed when an order in the same round exits the journey', () => {
    // An account created at checkout: the signup and the order are handled in one round.
    const buyer = aState({
      firstSeenAtMs: t0,
      signedUpAtMs: t0,
      lastActiveAtMs: t0,
      orders: anOrders({ count: 1, revenueCents: 4000, lastAtMs: t0 }),
    });
    const out = decide([{ kind: 'signed-up' }, orderCompleted], { state: buyer });
    expect(out.decisions.map((d) => [d.agent, d.action])).toEqual([
      ['milestone', 'first-order-thanks'],
    ]);
    expect(out.decisions.some((d) => d.journey?.id === 'welcome')).toBe(false);
    // Nor does the journey wake: the signup, handled first, sees the order in the profile.
    expect(out.schedule.filter((w) => w.key === 'c1|journey|welcome')).toEqual([]);
    expect(out.finished[0]?.note).toBe('not entered journey welcome: ordered since signing up');
    // Handled the other way round, the order first: the signup does not enter it either.
    const reversed = decide([orderCompleted, { kind: 'signed-up' }], { state: buyer });
    expect(reversed.decisions.map((d) => [d.agent, d.action])).toEqual([
      ['milestone', 'first-order-thanks'],
    ]);
    expect(reversed.memberships).toEqual([]);
    expect(reversed.schedule.filter((w) => w.key === 'c1|journey|welcome')).toEqual([]);
    expect(reversed.finished[1]?.note).toBe(
      'not entered journey welcome: Order Completed came with it',
    );
  });

  describe('an order handled after a newer cart began', () => {
    // Ordered at t0; a new cart began 8 s later, before the worker reached the order.
    const shopping = aState({
      orders: anOrders({ count: 1, revenueCents: 4000, lastAtMs: t0 }),
      cart: aCart([aCartItem()], t0 + 8000),
    });
    const newerCartTimer: Trigger = { kind: 'cart-abandoned', cartUpdatedAtMs: t0 + 8000 };
    const orderPlaced = { match: { agents: ['cart'] }, reason: 'order placed' };

    it('ends the recovery of the cart the order closed, and its offers still due', () => {
      // Entered when that cart's timer fired, the day before: the reminder must not follow
      // the purchase.
      const recovering = aMembership({
        journeyId: 'cart-recovery',
        stepId: 'cart-still-open',
        enteredAtMs: t0 - hoursMs(23),
      });
      const out = decide([orderCompleted], {
        state: shopping,
        nowMs: t0 + 60_000,
        memberships: [recovering],
      });
      expect(out.memberships).toMatchObject([
        { journeyId: 'cart-recovery', status: 'exited', exitReason: 'event Order Completed' },
      ]);
      expect(out.cancelWork).toContainEqual({
        key: 'c1|journey|cart-recovery',
        note: 'event Order Completed',
      });
      // Its offers still due go with it; the cart agent's stand (the newer cart's, or refused
      // at hand-off as made before the order).
      expect(out.cancelDecisions).toEqual([
        { match: { journeyId: 'cart-recovery' }, reason: 'event Order Completed' },
      ]);
      // The newer cart's timer stands.
      expect(out.cancelWork).not.toContainEqual({ key: 'c1|cart', note: 'order placed' });
      // Entered at the moment of the order, it was about the cart the order closed too.
      const atOrder = decide([orderCompleted], {
        state: shopping,
        nowMs: t0 + 60_000,
        memberships: [{ ...recovering, enteredAtMs: t0 }],
      });
      expect(atOrder.memberships.map((m) => m.status)).toEqual(['exited']);
    });

    it('leaves the newer cart its timer, and the recovery journey it entered since the order', () => {
      // The newer cart's timer fired 2 h after it began, before the worker reached the order.
      const enteredAtMs = t0 + 8000 + hoursMs(2);
      const recovering = aMembership({
        journeyId: 'cart-recovery',
        stepId: 'cart-still-open',
        enteredAtMs,
        updatedAtMs: enteredAtMs,
      });
      const out = decide([orderCompleted], {
        state: shopping,
        nowMs: enteredAtMs + 60_000,
        memberships: [recovering],
      });
      // Untouched: the order came before it, so it is not an event seen since it was entered.
      expect(out.memberships).toEqual([]);
      expect(out.cancelWork).toEqual([]);
      // Its offer is among the cart's decisions still due.
      expect(out.cancelDecisions).toEqual([]);
    });

    it('leaves the offer the newer cart’s timer made in the same round', () => {
      // The cart agent acting alone, no journey entered on an abandoned cart.
      const env = anEnv({ journeys: catalogOf([]) });
      const out = decide([newerCartTimer, orderCompleted], {
        state: shopping,
        nowMs: t0 + 8000 + hoursMs(2),
        env,
      });
      expect(out.decisions.map((d) => [d.agent, d.action, d.status])).toContainEqual([
        'cart',
        'cart-recovery',
        'scheduled',
      ]);
      // Stored offers stand too: the newer cart's timer may have made one in an earlier round.
      expect(out.cancelDecisions).toEqual([]);
      const later = decide([orderCompleted], { state: shopping, nowMs: t0 + hoursMs(3), env });
      expect(later.cancelDecisions).toEqual([]);
      expect(later.cancelWork).not.toContainEqual({ key: 'c1|cart', note: 'order placed' });
    });

    it('cancels the timer and the offers of the cart the order closed', () => {
      const closed = aState({
        orders: anOrders({ count: 1, revenueCents: 4000, lastAtMs: t0 }),
        cart: null,
      });
      const out = decide([orderCompleted], { state: closed });
      expect(out.cancelWork).toContainEqual({ key: 'c1|cart', note: 'order placed' });
      expect(out.cancelDecisions).toContainEqual(orderPlaced);
    });
  });

  it('thanks for the first order when two orders arrive in one batch', () => {
    const twice = aState({ orders: anOrders({ count: 2, revenueCents: 8000, lastAtMs: t0 }) });
    const first: Trigger = { ...orderCompleted, messageId: 'o1', orderNumber: 1 };
    const second: Trigger = { ...orderCompleted, messageId: 'o2', orderNumber: 2 };
    const out = decide([first, second], { state: twice });
    expect(out.decisions.map((d) => [d.agent, d.action])).toEqual([
      ['milestone', 'first-order-thanks'],
    ]);
  });

  describe('cart recovery', () => {
    const updatedAtMs = t0 - hoursMs(2);
    const withCart = aState({ cart: aCart([aCartItem({ priceCents: 25_000 })], updatedAtMs) });
    const abandoned: Trigger = { kind: 'cart-abandoned', cartUpdatedAtMs: updatedAtMs };

    it('enters cart recovery with the cart offer: 20 % for a $250 cart', () => {
      const out = decide([abandoned], { state: withCart });
      expect(out.decisions).toHaveLength(1);
      expect(out.decisions[0]).toMatchObject({
        agent: 'cart',
        action: 'cart-recovery',
        template: 'cart-recovery',
        status: 'scheduled',
        journey: { id: 'cart-recovery', version: 1, stepId: 'offer' },
        details: { cartValue: 250 },
      });
      expect(out.decisions[0]?.incentive?.percent).toBe(20);
      expect(out.schedule).toMatchObject([
        {
          key: 'c1|journey|cart-recovery',
          dueAtMs: t0 + hoursMs(24),
          trigger: { kind: 'journey-step', journeyId: 'cart-recovery', stepId: 'cart-still-open' },
        },
      ]);
    });

    it('hands a VIP to a person instead of making the cart offer', () => {
      const vip = aState({
        cart: aCart([aCartItem({ priceCents: 25_000 })], updatedAtMs),
        orders: anOrders({ count: 4, revenueCents: 250_000, lastAtMs: t0 - daysMs(10) }),
      });
      const out = decide([abandoned], { state: vip });
      expect(out.decisions.map((d) => [d.agent, d.action, d.status, d.incentive])).toEqual([
        ['cart', 'vip-outreach', 'escalated', null],
      ]);
      expect(out.decisions[0]?.channels).toEqual([]);
      expect(out.decisions[0]?.reasons.at(-1)).toMatch(
        /^VIP \(LTV \$2500\.00\): a person reaches out instead of the automated offer \(cart cart-recovery, percent-off 20\)$/,
      );
    });

    it('enters no journey when the cart is empty or changed since the timer was armed', () => {
      for (const state of [
        aState({ cart: null }),
        aState({ cart: aCart([aCartItem({ priceCents: 25_000 })], updatedAtMs + 60_000) }),
      ]) {
        const out = decide([abandoned], { state });
        expect(out.decisions).toEqual([]);
        expect(out.memberships).toEqual([]);
        expect(out.schedule).toEqual([]);
        expect(out.finished[0]?.note).toMatch(/^the cart (is empty now|changed after the timer)/);
      }
    });

    it('lets the cart agent act alone when no journey starts on abandoned carts', () => {
      const env = anEnv({ journeys: catalogOf([]) });
      const out = decide([abandoned], { state: withCart, env });
      expect(out.decisions).toMatchObject([{ agent: 'cart', journey: null, status: 'scheduled' }]);
      expect(out.memberships).toEqual([]);
    });

    it('lets the cart offer outrank a lifecycle message decided at the same moment', () => {
      const marks = { ...marksOf(withCart, t0), stage: 'new' };
      const out = decide([abandoned], { state: withCart, marks });
      expect(out.decisions.map((d) => [d.agent, d.status])).toEqual([['cart', 'scheduled']]);
      expect(out.decisions[0]?.alternatives.map((a) => [a.agent, a.action])).toEqual([
        ['lifecycle', 'engagement'],
      ]);
    });
  });

  describe('stage and segment', () => {
    const atRisk = aState({ lastActiveAtMs: t0 - daysMs(40) });

    it('records marks on the first look without a stage change', () => {
      const out = decide([], { state: atRisk, marks: undefined });
      expect(out.decisions).toEqual([]);
      expect(out.marks).toEqual({
        customerId: c1,
        stage: 'at-risk',
        segment: 'Standard',
        updatedAtMs: t0,
      });
    });

    it('at the first look, raises the change the ingest saw and says what was before', () => {
      const out = decide(
        [{ kind: 'profile-changed', from: { stage: 'active', segment: 'Standard' } }],
        { state: atRisk, marks: undefined },
      );
      expect(out.decisions.map((d) => [d.agent, d.action, d.trigger])).toEqual([
        ['lifecycle', 'win-back-offer', { kind: 'stage-changed', from: 'active', to: 'at-risk' }],
      ]);
      expect(out.marks?.stage).toBe('at-risk');
    });

    it('detects a stage change against the marks', () => {
      const marks = { ...marksOf(atRisk, t0), stage: 'active' };
      const out = decide([], { state: atRisk, marks });
      expect(out.decisions.map((d) => [d.agent, d.action, d.trigger])).toEqual([
        ['lifecycle', 'win-back-offer', { kind: 'stage-changed', from: 'active', to: 'at-risk' }],
      ]);
      expect(out.marks?.stage).toBe('at-risk');
    });

    it('records nothing when neither stage nor segment changed', () => {
      const out = decide([], { state: atRisk });
      expect(out.marks).toBeNull();
      expect(out.decisions).toEqual([]);
    });

    it('enters a journey that starts on the new segment', () => {
      const env = anEnv({
        journeys: catalogOf([
          {
            id: 'lapsing',
            entry: { trigger: 'segment-changed', to: 'At-Risk' },
            steps: [{ id: 'mail', type: 'send', channels: ['email'], template: 'lapsing' }],
          },
        ]),
      });
      const lapsing = aState({ lastActiveAtMs: t0 - daysMs(65) });
      const marks = { ...marksOf(lapsing, t0), segment: 'Standard' };
      const out = decide([], { state: lapsing, marks, env });
      expect(out.decisions.map((d) => d.template)).toEqual(['lapsing']);
      expect(out.marks?.segment).toBe('At-Risk');
    });
  });

  describe('dormant path', () => {
    const dormant = aState({
      lastActiveAtMs: t0 - daysMs(90),
      orders: anOrders({ count: 2, revenueCents: 20_000, lastAtMs: t0 - daysMs(120) }),
    });

    it('starts at 90 days inactive: wave 0 now, the later waves as timers', () => {
      const out = decide([{ kind: 'inactive', days: 90 }], { state: dormant });
      expect(out.decisions).toMatchObject([
        { agent: 'win-back', action: 'win-back-email', status: 'scheduled' },
      ]);
      expect(out.decisions[0]?.details['tier']).toBe('generic');
      expect(out.schedule).toEqual(
        [1, 2, 3].map((wave, i) => ({
          key: `c1|win-back|${wave}`,
          customerId: c1,
          dueAtMs: t0 + daysMs([2, 6, 13][i] ?? 0),
          trigger: { kind: 'win-back-wave', wave, startedAtMs: t0 },
        })),
      );
      expect(out.finished[0]?.note).toContain('dormant path started: 4 waves');
    });

    it('does not start for a customer who came back after the sweep queued them', () => {
      // Swept at 06:00, back at 06:01, the item handled at 06:03.
      const back = aState({ ...dormant, lastActiveAtMs: t0 + 60_000 });
      const out = decide([{ kind: 'inactive', days: 90 }], { state: back, nowMs: t0 + 180_000 });
      expect(out.decisions).toEqual([]);
      expect(out.schedule).toEqual([]);
      expect(out.finished[0]?.note).toMatch(/^active again on .*: no longer inactive for 90 days$/);
    });

    it('does not start at 30 days inactive', () => {
      const out = decide([{ kind: 'inactive', days: 30 }], { state: dormant });
      expect(out.decisions).toEqual([]);
      expect(out.schedule).toEqual([]);
    });

    it('ends when the customer acted since the path started', () => {
      const back = aState({ ...dormant, lastActiveAtMs: t0 + daysMs(1) });
      const wave: Trigger = { kind: 'win-back-wave', wave: 1, startedAtMs: t0 };
      const out = decide([wave], { state: back, nowMs: t0 + daysMs(2) });
      expect(out.decisions).toEqual([]);
      expect(out.finished[0]?.note).toMatch(/the dormant path ends$/);
    });
  });

  describe('events', () => {
    const nudge = catalogOf([
      {
        id: 'nudge',
        entry: { trigger: 'signed-up' },
        steps: [
          { id: 'w', type: 'wait', until: { event: 'Clicked', timeoutHours: 48 } },
          { id: 'after', type: 'send', channels: ['email'], template: 'thanks' },
        ],
      },
    ]);
    const waiting = aMembership({
      journeyId: 'nudge',
      stepId: 'after',
      waitingFor: 'Clicked',
      seenEvents: ['Opened'],
    });
    const event = (name: string): Trigger => ({
      kind: 'event',
      name,
      messageId: 'm',
      properties: {},
    });

    it('runs a journey on as soon as the event it waits for arrives', () => {
      const out = decide([event('Clicked')], {
        memberships: [waiting],
        env: anEnv({ journeys: nudge }),
      });
      expect(out.decisions.map((d) => d.template)).toEqual(['thanks']);
      expect(out.memberships).toMatchObject([
        { status: 'completed', seenEvents: ['Opened', 'Clicked'] },
      ]);
      expect(out.cancelWork).toEqual([{ key: 'c1|journey|nudge', note: 'journey completed' }]);
    });

    it('remembers other events for later branches without running the journey', () => {
      const out = decide([event('Viewed')], {
        memberships: [waiting],
        env: anEnv({ journeys: nudge }),
      });
      expect(out.decisions).toEqual([]);
      expect(out.memberships).toMatchObject([
        { status: 'active', stepId: 'after', seenEvents: ['Opened', 'Viewed'] },
      ]);
    });

    describe('in one round', () => {
      // A journey a view starts and the next view starts again.
      const browse = catalogOf([
        {
          id: 'browse',
          entry: { event: 'Product Viewed' },
          exitOn: ['Product Viewed'],
          reEntry: 'after-exit',
          steps: [
            { id: 'wait', type: 'wait', hours: 4 },
            { id: 'nudge', type: 'send', channels: ['email'], template: 'browse-nudge' },
          ],
        },
      ]);
      const env = anEnv({ journeys: browse });
      const viewed = event('Product Viewed');
      const wakeUp: Trigger = {
        kind: 'journey-step',
        journeyId: 'browse',
        version: 1,
        stepId: 'nudge',
      };

      it('starts a journey again on the second of two exit events, as two rounds do', () => {
        const one = decide([viewed, viewed], { env });
        const first = decide([viewed], { env });
        const two = decide([viewed], { env, memberships: first.memberships });
        for (const out of [one, two]) {
          expect(out.memberships).toMatchObject([
            { journeyId: 'browse', status: 'active', stepId: 'nudge', entries: 2 },
          ]);
          expect(out.schedule.map((w) => [w.key, w.dueAtMs])).toEqual([
            ['c1|journey|browse', t0 + hoursMs(4)],
          ]);
        }
        expect(one.finished.map((f) => f.note)).toEqual([
          'entered journey browse v1',
          'exited journey browse: event Product Viewed; entered journey browse v1',
        ]);
      });

      it('starts the journey an order starts again on the next order', () => {
        const postPurchase = catalogOf([
          {
            id: 'post-purchase',
            entry: { trigger: 'order-placed' },
            exitOn: ['Order Completed'],
            reEntry: 'after-exit',
            steps: [
              { id: 'wait', type: 'wait', days: 3 },
              { id: 'review', type: 'send', channels: ['email'], template: 'review' },
            ],
          },
        ]);
        const twice = aState({ orders: anOrders({ count: 2, revenueCents: 8000, lastAtMs: t0 }) });
        const out = decide([orderCompleted, { ...orderCompleted, messageId: 'm2' }], {
          state: twice,
          env: anEnv({ journeys: postPurchase }),
        });
        expect(out.memberships).toMatchObject([{ status: 'active', stepId: 'review', entries: 2 }]);
        expect(out.schedule.map((w) => w.key)).toEqual(['c1|journey|post-purchase']);
      });

      it('does not let the wake-up of the entry before skip the wait of the one made in the round', () => {
        // Entered 4 h ago; viewed again 1 h ago, handled with the wake-up that came due since.
        const before = aMembership({
          journeyId: 'browse',
          stepId: 'nudge',
          enteredAtMs: t0 - hoursMs(4),
          updatedAtMs: t0 - hoursMs(4),
        });
        const out = decide([viewed, wakeUp], { env, memberships: [before] });
        expect(out.decisions).toEqual([]);
        expect(out.memberships).toMatchObject([
          { status: 'active', stepId: 'nudge', entries: 2, enteredAtMs: t0 },
        ]);
        expect(out.schedule.map((w) => [w.key, w.dueAtMs])).toEqual([
          ['c1|journey|browse', t0 + hoursMs(4)],
        ]);
        expect(out.finished[1]?.note).toBe(
          'journey browse moved on earlier in this round: a wake-up armed before it',
        );
        // Handled first, the wake-up is the entry's own: it ends the journey with the nudge,
        // which the view, the journey's exit, withdraws as it starts the journey again.
        const inTime = decide([wakeUp, viewed], { env, memberships: [before] });
        expect(inTime.decisions).toEqual([]);
        expect(inTime.finished[1]?.note).toContain('withdrew journey browse/nudge');
        expect(inTime.memberships).toMatchObject([{ status: 'active', entries: 2 }]);
      });

      it('takes back the wake-up an entry set when the journey ends in the same round', () => {
        const quiz = catalogOf([
          {
            id: 'nudge',
            entry: { event: 'Quiz Started' },
            steps: [
              { id: 'w', type: 'wait', until: { event: 'Clicked', timeoutHours: 48 } },
              { id: 'after', type: 'send', channels: ['email'], template: 'thanks' },
            ],
          },
        ]);
        const out = decide([event('Quiz Started'), event('Clicked')], {
          env: anEnv({ journeys: quiz }),
        });
        expect(out.memberships).toMatchObject([{ journeyId: 'nudge', status: 'completed' }]);
        expect(out.decisions.map((d) => d.template)).toEqual(['thanks']);
        // The round's plan is cancelled before it is scheduled: a wake-up left in it would
        // outlive the journey.
        expect(out.schedule).toEqual([]);
        expect(out.cancelWork).toContainEqual({
          key: 'c1|journey|nudge',
          note: 'journey completed',
        });
      });
    });

    it('sends the configured message for a custom event', () => {
      const policy = withPolicy({
        customEvents: [{ event: 'Trial Ending', template: 'trial', channels: ['email'] }],
      });
      const out = decide([event('Trial Ending')], { env: anEnv({ policy }) });
      expect(out.decisions.map((d) => [d.agent, d.template])).toEqual([['custom', 'trial']]);
    });
  });

  it('sends a birthday message', () => {
    const out = decide([{ kind: 'birthday' }]);
    expect(out.decisions.map((d) => [d.action, d.status])).toEqual([['birthday', 'scheduled']]);
  });

  it('finishes the work of a customer without a profile, with a note', () => {
    const out = decide([{ kind: 'signed-up' }, { kind: 'birthday' }], { state: undefined });
    expect(out.finished).toEqual([
      { id: 1, status: 'done', note: 'no profile (merged into another customer)' },
      { id: 2, status: 'done', note: 'no profile (merged into another customer)' },
    ]);
    expect(out.decisions).toEqual([]);
    expect(out.marks).toBeNull();
  });
});
