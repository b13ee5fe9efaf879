import { describe, expect, it } from 'vitest';
import type { Trigger } from '../../../core/decision.js';
import { toCustomerId } from '../../../core/ids.js';
import type { Membership } from '../../../ports/decide-store.js';
import {
  aCart,
  aCartItem,
  aMembership,
  aState,
  aView,
  anEnv,
  consentOf,
  daysMs,
  hoursMs,
  t0,
} from '../test-builders.js';
import {
  END_STEP,
  NEXT_SEND_AFTER_MS,
  advanceJourney,
  mayEnter,
  newMembership,
} from './advance-journey.js';
import { defaultJourneys } from './default-journeys.js';
import { hashJourney, toJourney, type Journey } from './journey-catalog.js';
import type { JourneyDefinition, JourneyStep } from './journey-schema.js';
import { aSendStep } from './test-builders.js';

const journeyOf = (id: string, steps: JourneyStep[], extra: Partial<JourneyDefinition> = {}) => {
  const definition: JourneyDefinition = { id, entry: { trigger: 'signed-up' }, steps, ...extra };
  return toJourney(definition, 1, hashJourney(definition));
};
const send = aSendStep;
const exit = (id: string): JourneyStep => ({ id, type: 'exit' });
const fromDefaults = (id: string): Journey => {
  const definition = defaultJourneys.find((j) => j.id === id);
  if (definition === undefined) throw new Error(`no default journey ${id}`);
  return toJourney(definition, 1, hashJourney(definition));
};

const signedUp: Trigger = { kind: 'signed-up' };
const welcome = fromDefaults('welcome');
const at = (journey: Journey, stepId: string, extra: Partial<Membership> = {}): Membership =>
  aMembership({ journeyId: journey.definition.id, stepId, ...extra });
const run = (journey: Journey, start: Membership, view = aView(), trigger: Trigger = signedUp) =>
  advanceJourney(journey, start, view, anEnv(), t0, trigger);

describe('advanceJourney', () => {
  it('runs the welcome sends until the first wait', () => {
    const result = run(welcome, newMembership(welcome, aView(), undefined, t0));
    expect(result.proposals.map((p) => [p.kind, p.template, p.journey?.stepId])).toEqual([
      ['send', 'welcome-1', 'day-1-email'],
      ['web', 'welcome-banner', 'day-1-banner'],
    ]);
    expect(result.wakeAtMs).toBe(t0 + daysMs(2));
    expect(result.membership).toMatchObject({ status: 'active', stepId: 'day-3-email' });
  });

  it('makes journey sends and web content carry the journey, version and step', () => {
    const [mail, banner] = run(welcome, at(welcome, 'day-1-email')).proposals;
    expect(mail).toMatchObject({
      agent: 'journey',
      action: 'welcome/day-1-email',
      channels: ['email'],
      priority: 60,
      journey: { id: 'welcome', version: 1, stepId: 'day-1-email' },
    });
    expect(banner).toMatchObject({
      kind: 'web',
      channels: ['web'],
      scheduledForMs: t0,
      details: {
        slot: 'homepage-hero',
        content: 'welcome-banner',
        expiresAt: new Date(t0 + hoursMs(72)).toISOString(),
      },
    });
  });

  it('continues from the step the membership holds', () => {
    const result = run(welcome, at(welcome, 'day-3-email'));
    expect(result.proposals.map((p) => p.template)).toEqual(['welcome-2']);
    expect(result.wakeAtMs).toBe(t0 + daysMs(4));
    expect(result.membership.stepId).toBe('day-7-email');
  });

  it('completes after the last step', () => {
    const result = run(welcome, at(welcome, 'day-7-email'));
    expect(result.proposals.map((p) => p.template)).toEqual(['welcome-3']);
    expect(result.wakeAtMs).toBeNull();
    expect(result.membership).toMatchObject({ status: 'completed', stepId: END_STEP });
  });

  it('completes after a wait that is the last step', () => {
    const journey = journeyOf('tail', [send('a'), { id: 'w', type: 'wait', hours: 5 }]);
    const first = run(journey, at(journey, 'a'));
    expect(first.wakeAtMs).toBe(t0 + hoursMs(5));
    expect(first.membership.stepId).toBe(END_STEP);
    const second = run(journey, first.membership);
    expect(second.membership.status).toBe('completed');
    expect(second.proposals).toEqual([]);
  });

  describe('a wait in days', () => {
    const NY = 'America/New_York';
    const inNewYork = aView({
      state: aState({ location: { country: null, region: null, city: null, timezone: NY } }),
    });
    const wait = (step: JourneyStep, startMs: number, view = inNewYork) => {
      const journey = journeyOf('later', [step, send('after')]);
      return advanceJourney(journey, at(journey, step.id), view, anEnv(), startMs, signedUp)
        .wakeAtMs;
    };
    const local = (ms: number | null) =>
      new Date(ms ?? 0).toLocaleString('en-CA', { timeZone: NY, hour12: false });

    it('counts calendar days at the same local time over a clock change', () => {
      // Friday 6 March 2026, 20:30 EST; the clocks go forward on Sunday the 8th.
      const friday = Date.parse('2026-03-07T01:30:00.000Z');
      expect(local(wait({ id: 'w', type: 'wait', days: 2 }, friday))).toBe('2026-03-08, 20:30:00');
      expect(local(wait({ id: 'w', type: 'wait', days: 4 }, friday))).toBe('2026-03-10, 20:30:00');
      // And back on Sunday 1 November: two days are 49 hours.
      const saturday = Date.parse('2026-10-31T00:30:00.000Z');
      expect(wait({ id: 'w', type: 'wait', days: 2 }, saturday)).toBe(saturday + hoursMs(49));
    });

    it('wakes at the first moment after a local time the clock change skips', () => {
      // 02:30 on Saturday 7 March; on Sunday 02:00 EST is 03:00 EDT.
      const night = Date.parse('2026-03-07T07:30:00.000Z');
      expect(wait({ id: 'w', type: 'wait', days: 1 }, night)).toBe(
        Date.parse('2026-03-08T07:00:00.000Z'),
      );
    });

    it('counts hours and timeouts as elapsed time', () => {
      const friday = Date.parse('2026-03-07T01:30:00.000Z');
      expect(wait({ id: 'w', type: 'wait', hours: 48 }, friday)).toBe(friday + hoursMs(48));
      const until = { event: 'Clicked', timeoutHours: 48 };
      expect(wait({ id: 'w', type: 'wait', until }, friday)).toBe(friday + hoursMs(48));
    });

    it('is 24 hours a day in UTC, the default time zone', () => {
      const friday = Date.parse('2026-03-07T01:30:00.000Z');
      expect(wait({ id: 'w', type: 'wait', days: 2 }, friday, aView())).toBe(friday + daysMs(2));
    });

    it('cuts a wait longer than ten years (a version stored before the bound) to ten years', () => {
      expect(wait({ id: 'w', type: 'wait', hours: 1e300 }, t0)).toBe(t0 + daysMs(3650));
      expect(wait({ id: 'w', type: 'wait', days: 1e300 }, t0, aView())).toBe(t0 + daysMs(3650));
      const until = { event: 'Clicked', timeoutHours: 1e300 };
      expect(wait({ id: 'w', type: 'wait', until }, t0)).toBe(t0 + daysMs(3650));
    });
  });

  describe('wait until', () => {
    const journey = journeyOf('nudge', [
      { id: 'w', type: 'wait', until: { event: 'Clicked', timeoutHours: 48 } },
      send('after'),
    ]);

    it('waits for the event, at most the timeout', () => {
      const result = run(journey, at(journey, 'w'));
      expect(result.proposals).toEqual([]);
      expect(result.wakeAtMs).toBe(t0 + hoursMs(48));
      expect(result.membership).toMatchObject({ waitingFor: 'Clicked', stepId: 'after' });
    });

    it('continues at once when the event was already seen', () => {
      const result = run(journey, at(journey, 'w', { seenEvents: ['Clicked'] }));
      expect(result.proposals.map((p) => p.template)).toEqual(['after']);
      expect(result.membership).toMatchObject({ status: 'completed', waitingFor: null });
    });
  });

  describe('branch on a condition', () => {
    const journey = journeyOf('vip', [
      {
        id: 'b',
        type: 'branch',
        if: { field: 'trait.plan', op: 'eq', value: 'gold' },
        then: 'gold',
        else: 'plain',
      },
      send('gold', 'stop'),
      send('plain', 'stop'),
      exit('stop'),
    ]);
    const templates = (view = aView()) =>
      run(journey, at(journey, 'b'), view).proposals.map((p) => p.template);

    it('follows "then" when the condition holds and "else" when not', () => {
      const gold = aView({ state: aState({ traits: { email: 'c1@example.com', plan: 'gold' } }) });
      expect(templates(gold)).toEqual(['gold']);
      expect(templates()).toEqual(['plain']);
      expect(run(journey, at(journey, 'b')).notes).toEqual(['step b: condition does not hold']);
    });

    it('compares profile figures and events seen since entry', () => {
      const numeric = journeyOf('n', [
        { id: 'b', type: 'branch', if: { field: 'frequency', op: 'gte', value: 3 }, then: 'yes' },
        exit('no'),
        send('yes'),
      ]);
      const loyal = aView({ computed: { frequency: 3 } });
      expect(run(numeric, at(numeric, 'b'), loyal).proposals.map((p) => p.template)).toEqual([
        'yes',
      ]);
      expect(run(numeric, at(numeric, 'b')).membership.exitReason).toBe('exit step no');
      const clicked = journeyOf('e', [
        { id: 'b', type: 'branch', if: { event: 'Clicked' }, then: 'yes', else: 'no' },
        exit('no'),
        send('yes'),
      ]);
      const seen = at(clicked, 'b', { seenEvents: ['Opened', 'Clicked'] });
      expect(run(clicked, seen).proposals.map((p) => p.template)).toEqual(['yes']);
      expect(run(clicked, at(clicked, 'b')).membership.status).toBe('exited');
    });

    it('goes to the following step without an "else"', () => {
      const noElse = journeyOf('x', [
        { id: 'b', type: 'branch', if: { field: 'segment', op: 'in', value: ['New'] }, then: 'z' },
        send('y', 'stop'),
        send('z', 'stop'),
        exit('stop'),
      ]);
      expect(run(noElse, at(noElse, 'b')).proposals.map((p) => p.template)).toEqual(['y']);
      const newcomer = aView({ segment: 'New' });
      expect(run(noElse, at(noElse, 'b'), newcomer).proposals.map((p) => p.template)).toEqual([
        'z',
      ]);
    });
  });

  describe('split', () => {
    const journey = journeyOf('ab', [
      {
        id: 'split',
        type: 'branch',
        split: [
          { arm: 'a', weight: 1, next: 'to-a' },
          { arm: 'b', weight: 3, next: 'to-b' },
        ],
      },
      exit('to-a'),
      exit('to-b'),
    ]);
    const viewOf = (id: string) => aView({ state: aState({ customerId: toCustomerId(id) }) });
    const armOf = (id: string, start = at(journey, 'split')) =>
      run(journey, { ...start, customerId: toCustomerId(id) }, viewOf(id)).membership;

    it('records the arm and goes to its step', () => {
      const m = armOf('c1');
      const arm = m.arms['split'];
      expect(arm === 'a' || arm === 'b').toBe(true);
      expect(m.exitReason).toBe(`exit step to-${arm ?? ''}`);
    });

    it('gives a customer the same arm every time', () => {
      for (const id of ['c1', 'c2', 'c3', 'c4'])
        expect(armOf(id).arms['split']).toBe(armOf(id).arms['split']);
    });

    it('keeps an arm chosen before', () => {
      const fresh = armOf('c1').arms['split'];
      const other = fresh === 'a' ? 'b' : 'a';
      const kept = armOf('c1', at(journey, 'split', { arms: { split: other } }));
      expect(kept.arms['split']).toBe(other);
      expect(kept.exitReason).toBe(`exit step to-${other}`);
    });

    it('splits many customers roughly by the weights', () => {
      const n = 2000;
      let a = 0;
      for (let i = 0; i < n; i += 1) if (armOf(`customer-${i}`).arms['split'] === 'a') a += 1;
      expect(a / n).toBeGreaterThan(0.21);
      expect(a / n).toBeLessThan(0.29);
    });
  });

  it('ends the membership at an exit step, keeping what it proposed before', () => {
    const journey = journeyOf('short', [send('a'), exit('stop'), send('never')]);
    const result = run(journey, at(journey, 'a'));
    expect(result.proposals.map((p) => p.template)).toEqual(['a']);
    expect(result.wakeAtMs).toBeNull();
    expect(result.membership).toMatchObject({ status: 'exited', exitReason: 'exit step stop' });
  });

  it('stops a loop without a wait', () => {
    const journey = journeyOf('loop', [
      { id: 'b', type: 'branch', if: { event: 'never' }, then: 'b', else: 'b' },
    ]);
    const result = run(journey, at(journey, 'b'));
    expect(result.membership).toMatchObject({
      status: 'exited',
      exitReason: 'loop without a wait',
    });
    expect(result.wakeAtMs).toBeNull();
  });

  it('gives a send step its fixed incentive and variants', () => {
    const journey = journeyOf(
      'promo',
      [
        {
          id: 'mail',
          type: 'send',
          channels: ['email'],
          template: 't',
          incentive: { percent: 5, validHours: 10 },
          variants: ['v1', 'v2'],
        },
      ],
      { priority: 77 },
    );
    const [p] = run(journey, at(journey, 'mail')).proposals;
    expect(p?.incentive).toEqual({
      kind: 'percent-off',
      percent: 5,
      amount: null,
      code: expect.stringMatching(/^PROMO-[A-Z2-9]{12}$/),
      expiresAtMs: t0 + hoursMs(10),
    });
    expect(p?.experiment).toEqual({ slot: 'promo@1/mail', variants: ['v1', 'v2'] });
    expect(p?.priority).toBe(77);
    // Another version is a test of its own: its weights and winner are not version 1's.
    const next = { ...journey, version: 2 };
    expect(run(next, at(next, 'mail')).proposals[0]?.experiment?.slot).toBe('promo@2/mail');
  });

  describe('cart offer', () => {
    const cartRecovery = fromDefaults('cart-recovery');
    const updatedAtMs = t0 - hoursMs(2);
    const withCart = aView({
      state: aState({
        consent: consentOf(['email', 'push']),
        cart: aCart([aCartItem({ priceCents: 25_000 })], updatedAtMs),
      }),
    });
    const abandoned: Trigger = { kind: 'cart-abandoned', cartUpdatedAtMs: updatedAtMs };

    it("sends the cart agent's offer on the step's channels and template", () => {
      const pushOnly = journeyOf('cart-push', [
        { id: 'offer', type: 'send', channels: ['push'], template: 'cart-push', offer: 'cart' },
      ]);
      const [p] = run(pushOnly, at(pushOnly, 'offer'), withCart, abandoned).proposals;
      expect(p).toMatchObject({ agent: 'cart', channels: ['push'], template: 'cart-push' });
      expect(p?.incentive?.percent).toBe(20);
      expect(p?.journey).toEqual({ id: 'cart-push', version: 1, stepId: 'offer' });
    });

    it("takes the step's own incentive and template variants over the cart bands", () => {
      const tested = journeyOf('cart-tested', [
        {
          id: 'offer',
          type: 'send',
          channels: ['email'],
          template: 'cart-a',
          offer: 'cart',
          incentive: { percent: 10, validHours: 24 },
          variants: ['cart-a', 'cart-b'],
        },
      ]);
      const [p] = run(tested, at(tested, 'offer'), withCart, abandoned).proposals;
      expect(p).toMatchObject({
        agent: 'cart',
        incentive: { percent: 10, expiresAtMs: t0 + hoursMs(24) },
        experiment: { slot: 'cart-tested@1/offer', variants: ['cart-a', 'cart-b'] },
      });
      expect(p?.reasons).toContain('10 % incentive set by the journey step');
      expect(p?.reasons).toContain('code valid 24 h');
    });

    it("orders the step's channels by reach before the step's order, and rates the channel it sends", () => {
      // Email has no recorded opt-in (reach 0.8); push is opted in (reach 1).
      const view = aView({
        state: aState({
          consent: consentOf(['push']),
          cart: aCart([aCartItem({ priceCents: 25_000 })], updatedAtMs),
        }),
      });
      const emailFirst = journeyOf('cart-email-first', [
        { id: 'offer', type: 'send', channels: ['email', 'push'], template: 'c', offer: 'cart' },
      ]);
      const pushFirst = journeyOf('cart-push-first', [
        { id: 'offer', type: 'send', channels: ['push', 'email'], template: 'c', offer: 'cart' },
      ]);
      const [byEmail] = run(emailFirst, at(emailFirst, 'offer'), view, abandoned).proposals;
      const [byPush] = run(pushFirst, at(pushFirst, 'offer'), view, abandoned).proposals;
      // The opt-in goes first whichever the step lists first; the step's order breaks ties.
      expect(byEmail).toMatchObject({ channels: ['push', 'email'], confidence: 0.9 });
      expect(byPush).toMatchObject({ channels: ['push', 'email'], confidence: 0.9 });
      const bothOptedIn = aView({
        state: aState({
          consent: consentOf(['push', 'email']),
          cart: aCart([aCartItem({ priceCents: 25_000 })], updatedAtMs),
        }),
      });
      const [tied] = run(emailFirst, at(emailFirst, 'offer'), bothOptedIn, abandoned).proposals;
      expect(tied).toMatchObject({ channels: ['email', 'push'], confidence: 0.9 });
    });

    it('builds the offer from the current cart when woken by a timer', () => {
      const step: Trigger = {
        kind: 'journey-step',
        journeyId: 'cart-recovery',
        version: 1,
        stepId: 'offer',
      };
      const result = run(cartRecovery, at(cartRecovery, 'offer'), withCart, step);
      expect(result.proposals.map((p) => p.agent)).toEqual(['cart']);
      expect(result.wakeAtMs).toBe(t0 + hoursMs(24));
    });

    it('notes why there is no offer and goes on waiting', () => {
      const result = run(cartRecovery, at(cartRecovery, 'offer'), aView(), abandoned);
      expect(result.proposals).toEqual([]);
      expect(result.notes).toEqual(['step offer: the cart is empty now']);
      expect(result.membership.stepId).toBe('cart-still-open');
    });
  });
});

describe('mayEnter', () => {
  const rule = (reEntry: NonNullable<JourneyDefinition['reEntry']>) =>
    journeyOf('j', [send('a')], { reEntry });
  const left = aMembership({ journeyId: 'j', status: 'exited', enteredAtMs: t0 - daysMs(10) });

  it('lets anyone in for the first time', () => {
    expect(mayEnter(rule('never'), undefined, t0)).toBeNull();
  });

  it('never lets a customer in twice at once', () => {
    const active = { ...left, status: 'active' } as const;
    expect(mayEnter(rule('after-exit'), active, t0)).toBe('already in journey j');
  });

  it('keeps a customer out for good under "never" (the default)', () => {
    expect(mayEnter(rule('never'), left, t0)).toBe('journey j allows no re-entry');
    expect(mayEnter(journeyOf('j', [send('a')]), left, t0)).toBe('journey j allows no re-entry');
  });

  it('lets a customer back in after leaving under "after-exit"', () => {
    expect(mayEnter(rule('after-exit'), left, t0)).toBeNull();
    expect(mayEnter(rule('after-exit'), { ...left, status: 'completed' }, t0)).toBeNull();
  });

  it('lets a customer back in only afterDays after the last entry', () => {
    expect(mayEnter(rule({ afterDays: 30 }), left, t0)).toBe(
      're-entry to j only 30 days after the last entry',
    );
    expect(mayEnter(rule({ afterDays: 10 }), left, t0)).toBeNull();
  });
});

describe('newMembership', () => {
  it('starts at the first step and counts the entries', () => {
    const again = newMembership(
      welcome,
      aView(),
      aMembership({ entries: 2, arms: { x: 'a' } }),
      t0,
    );
    expect(again).toMatchObject({
      journeyId: 'welcome',
      version: 1,
      stepId: 'day-1-email',
      status: 'active',
      enteredAtMs: t0,
      entries: 3,
      seenEvents: [],
      arms: {},
    });
  });
});

describe('two sends a run reaches without a timed wait', () => {
  it('sends the second in a round of its own, a minute on, rather than dropping it', () => {
    const quiz = journeyOf('quiz', [send('results'), send('coupon')]);
    const first = run(quiz, at(quiz, 'results'));
    expect(first.proposals.map((p) => p.journey?.stepId)).toEqual(['results']);
    expect(first.membership).toMatchObject({ stepId: 'coupon', status: 'active' });
    expect(first.wakeAtMs).toBe(t0 + NEXT_SEND_AFTER_MS);
    const second = run(quiz, first.membership);
    expect(second.proposals.map((p) => p.journey?.stepId)).toEqual(['coupon']);
    expect(second.membership.status).toBe('completed');
  });

  it('waits a round after a wait until an event the customer had already sent', () => {
    const series = journeyOf('series', [
      send('s1'),
      { id: 'w2', type: 'wait', until: { event: 'Product Viewed', timeoutHours: 48 } },
      send('s2'),
    ]);
    const viewed = at(series, 's1', { seenEvents: ['Product Viewed'] });
    const first = run(series, viewed);
    expect(first.proposals.map((p) => p.journey?.stepId)).toEqual(['s1']);
    expect(first.membership.stepId).toBe('s2');
  });
});

describe('a send step a run reaches again', () => {
  it('ends the run as a loop, not with a message a minute for ever', () => {
    // A version stored before such loops were refused at load.
    const loop = journeyOf('loop', [
      send('a'),
      { id: 'back', type: 'branch', if: { event: 'never' }, then: 'a', else: 'a' },
    ]);
    const out = run(loop, at(loop, 'a'));
    expect(out.proposals).toHaveLength(1);
    expect(out.membership).toMatchObject({ status: 'exited', exitReason: 'loop without a wait' });
    expect(out.wakeAtMs).toBeNull();
  });
});
