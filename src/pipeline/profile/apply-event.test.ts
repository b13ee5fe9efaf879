import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../ports/random.js';
import type { HeraldEvent } from '../../core/event.js';
import { hasRecipient, recipientOf } from '../../core/recipient.js';
import { responsesIn } from '../../core/local-time.js';
import { HOUR_MS } from '../../core/time.js';
import { optedOutOfSale } from '../../core/profile.js';
import { applyEvent, CANCELLED_IDS_KEPT, ORDERS_KEPT, orderValueCents } from './apply-event.js';
import { deriveComputed } from './derive-computed.js';
import {
  aProfile,
  aTrack,
  anEvent,
  anIdentify,
  applyAll,
  daysMs,
  defaultPolicy,
  t0,
} from './test-builders.js';

const policy = defaultPolicy();
const at = (days: number): number => t0 + daysMs(days);

describe('applyEvent: responses', () => {
  it('counts opens and clicks per channel and per hour of the week, sparsely (UTC for no zone)', () => {
    // 2026-06-03 is a Wednesday: 14:00 UTC is hour 2 × 24 + 14 of the week.
    const wednesday = Date.UTC(2026, 5, 3, 14, 30);
    const state = applyAll([
      aTrack('Email Opened', {}, { timestampMs: wednesday }),
      aTrack('Email Link Clicked', {}, { timestampMs: wednesday + 60_000 }),
      aTrack('Push Notification Opened', {}, { timestampMs: wednesday + 3_600_000 }),
      aTrack('Product Viewed', {}, { timestampMs: wednesday + 7_200_000 }),
    ]);
    expect(state.responses).toEqual({
      byChannel: { email: 2, push: 1 },
      byLocalHourOfWeek: { [String(2 * 24 + 14)]: 2, [String(2 * 24 + 15)]: 1 },
      zone: 'UTC',
    });
  });

  // Monday 08:xx in Berlin: 07:xx UTC in winter (CET), 06:xx in summer (CEST).
  const winterMonday = Date.UTC(2026, 0, 5, 7, 10);
  const summerMonday = Date.UTC(2026, 6, 6, 6, 10);
  const opened = (atMs: number) => aTrack('Email Opened', {}, { timestampMs: atMs });

  it("counts by the customer's local hour, one habit on both sides of a clock change", () => {
    const state = applyAll([
      anIdentify({ timezone: 'Europe/Berlin' }, { timestampMs: winterMonday - HOUR_MS }),
      opened(winterMonday),
      opened(summerMonday),
    ]);
    expect(state.responses?.byLocalHourOfWeek).toEqual({ '8': 2 });
  });

  it("reads the zone as the quiet hours do: the state's, else the configured default", () => {
    // 13:10 UTC on a Monday in January is 08:10 in New York.
    const newYork = applyAll([
      anIdentify({ address: { country: 'US', state: 'NY' } }, { timestampMs: t0 }),
      opened(Date.UTC(2026, 0, 5, 13, 10)),
    ]);
    expect(newYork.responses?.byLocalHourOfWeek).toEqual({ '8': 1 });
    const nowhere = applyAll([opened(winterMonday)], {
      ...policy,
      defaultTimezone: 'Europe/Berlin',
    });
    expect(nowhere.responses?.byLocalHourOfWeek).toEqual({ '8': 1 });
  });

  it("reads the zone of a customer placed by their phone number alone as quiet hours do: the number's country's", () => {
    // A UK number, nothing else: quiet hours hold in London's time. Monday 08:10 there is
    // 07:10 UTC in summer; counted by UTC hour it was hour 7, an hour off the habit once the
    // clocks went back.
    const state = applyAll([
      anIdentify({ phone: '+447911123456' }, { timestampMs: t0 }),
      opened(Date.UTC(2026, 6, 6, 7, 10)),
      opened(Date.UTC(2026, 11, 7, 8, 10)),
    ]);
    expect(state.responses?.byLocalHourOfWeek).toEqual({ '8': 2 });
    expect(state.responses?.zone).not.toBe('UTC');
  });

  it('counts as a rebuild does when the zone is learned after the responses', () => {
    // Mondays at 08:10 in New York (13:10 UTC); the identify naming the zone is dated before
    // them but arrives after them.
    const opens = [0, 1, 2].map((week) => opened(Date.UTC(2026, 0, 5 + 7 * week, 13, 10)));
    const zone = anIdentify({ timezone: 'America/New_York' }, { timestampMs: t0 });
    const rebuilt = applyAll([zone, ...opens]);
    const live = applyAll([...opens, zone]);
    const read = (state: typeof live) => responsesIn(state.responses, 'America/New_York', t0);
    expect(read(rebuilt)).toEqual({ '8': 3 });
    expect(read(live)).toEqual({ '8': 3 });
    // The next response moves what was counted in UTC to the zone now known.
    const next = applyAll([opened(Date.UTC(2026, 0, 26, 13, 40))], policy, live);
    expect(next.responses).toMatchObject({
      byLocalHourOfWeek: { '8': 4 },
      zone: 'America/New_York',
    });
  });

  it('moves counts a profile kept by UTC hour to local hours at its next response', () => {
    const stored = aProfile({
      location: { country: null, region: null, city: null, timezone: 'Europe/Berlin' },
      // Monday 07:00 UTC (08:00 in Berlin in winter) five times; a key no week has, dropped.
      responses: { byChannel: { email: 5 }, byHourOfWeek: { '7': 5, '999': 1 } },
    });
    const state = applyAll([opened(winterMonday)], policy, stored);
    expect(state.responses).toEqual({
      byChannel: { email: 6 },
      byLocalHourOfWeek: { '8': 6 },
      zone: 'Europe/Berlin',
    });
  });

  it('has no responses until the customer opens or clicks something', () => {
    expect(applyAll([aTrack('Product Viewed')]).responses).toBeUndefined();
  });
});

describe('applyEvent: numbers that cannot receive', () => {
  const failed = (to: string, permanent = true, channel = 'sms') =>
    aTrack('SMS Undelivered', { channel, permanent, to, reason: '30005' });
  const phone = (number: string, days: number) =>
    anIdentify({ phone: number }, { timestampMs: at(days) });

  it('stops messaging a number its provider said cannot receive, until the phone changes', () => {
    const dead = applyAll([phone('+1 415 555 0199', 0), failed('+14155550199')]);
    expect(dead.unreachable).toEqual({ sms: { to: '+14155550199', atMs: t0 } });
    expect(recipientOf(dead, 'sms')).toBeNull();
    expect(hasRecipient(dead, 'sms')).toBe(false);
    // WhatsApp is another provider's word.
    expect(recipientOf(dead, 'whatsapp')).toEqual({ to: '+14155550199' });
    const changed = applyAll([phone('+14155550100', 1)], policy, dead);
    expect(recipientOf(changed, 'sms')).toEqual({ to: '+14155550100' });
  });

  it('does not stop for a failure that may pass, and hears an opt-in from the number itself', () => {
    expect(applyAll([phone('+14155550199', 0), failed('+14155550199', false)]).unreachable).toBe(
      undefined,
    );
    const optIn = (source: string, days: number) =>
      aTrack(
        'Consent Updated',
        { channel: 'sms', purpose: 'marketing', granted: true, source },
        { timestampMs: at(days) },
      );
    const events = [
      phone('+14155550199', 0),
      { ...failed('+14155550199'), timestampMs: at(1) },
      optIn('web-form', 2), // a form saved again says nothing about the number
    ];
    expect(recipientOf(applyAll(events), 'sms')).toBeNull();
    const texted = [...events, optIn('sms-reply', 3)];
    expect(recipientOf(applyAll(texted), 'sms')).toEqual({ to: '+14155550199' });
    // Whatever order they arrive in.
    expect(recipientOf(applyAll([...texted].reverse()), 'sms')).toEqual({ to: '+14155550199' });
    const failedAgain = [...texted, { ...failed('+14155550199'), timestampMs: at(4) }];
    expect(recipientOf(applyAll([...failedAgain].reverse()), 'sms')).toBeNull();
  });
});

describe('applyEvent: push devices', () => {
  it('keeps the device tokens events carry, newest seen last, and drops one reported dead', () => {
    const device = (token: string, type: string, days: number) =>
      aTrack(
        'Application Opened',
        {},
        { context: { device: { token, type } }, timestampMs: at(days) },
      );
    const state = applyAll([
      device('tok-a', 'ios', 0),
      device('tok-b', 'android', 1),
      device('tok-a', 'ios', 2),
    ]);
    expect(state.devices).toEqual([
      { token: 'tok-b', platform: 'android', seenAtMs: at(1) },
      { token: 'tok-a', platform: 'ios', seenAtMs: at(2) },
    ]);
    const after = applyEvent(
      state,
      aTrack('Push Token Unregistered', { token: 'tok-a' }, { timestampMs: at(3) }),
      { repeatOrder: false },
      policy,
    );
    expect(after.devices).toEqual([{ token: 'tok-b', platform: 'android', seenAtMs: at(1) }]);
    // A profile that never saw a device keeps no device list at all.
    expect(applyAll([anIdentify({ email: 'x@example.com' })]).devices).toBeUndefined();
  });

  const device = (token: string, days: number) =>
    aTrack(
      'Application Opened',
      {},
      { context: { device: { token, type: 'android' } }, timestampMs: at(days) },
    );
  const unregistered = (token: string, days: number) =>
    aTrack('Push Token Unregistered', { token }, { timestampMs: at(days) });
  const tokensOf = (events: ReturnType<typeof device>[]) =>
    (applyAll(events).devices ?? []).map((d) => d.token);

  it('brings back no unregistered token with an event stamped before, arriving late', () => {
    // Seen, unregistered, then a device's offline queue delivers an event from between.
    expect(tokensOf([device('dead', 0), unregistered('dead', 4), device('dead', 2)])).toEqual([]);
    // As a replay in time order gives it; an event after the unregistration does bring it back.
    expect(tokensOf([device('dead', 0), device('dead', 2), unregistered('dead', 4)])).toEqual([]);
    expect(tokensOf([device('dead', 0), unregistered('dead', 4), device('dead', 5)])).toEqual([
      'dead',
    ]);
    // Seen after the unregistration, but arrived before it: it stays, as in time order.
    expect(tokensOf([device('live', 5), unregistered('live', 4)])).toEqual(['live']);
  });

  it('keeps the five devices seen last by their times, whatever order the events came in', () => {
    const recent = [1, 2, 3, 4, 5].map((d) => device(`tok${String(d)}`, d));
    const expected = ['tok1', 'tok2', 'tok3', 'tok4', 'tok5'];
    expect(tokensOf([...recent, device('old', 0)])).toEqual(expected);
    expect(tokensOf([device('old', 0), ...recent])).toEqual(expected);
  });
});

describe('applyEvent', () => {
  describe('identity and traits', () => {
    it('merges identify traits over the earlier ones', () => {
      const state = applyAll([
        anIdentify({ email: 'ada@example.com', plan: 'free' }),
        anIdentify({ plan: 'pro', company: 'Acme' }, { timestampMs: at(1) }),
      ]);
      expect(state.traits).toEqual({ email: 'ada@example.com', plan: 'pro', company: 'Acme' });
    });

    it('takes no "__proto__" trait for the traits\' prototype (an event stored before ingest refused it)', () => {
      // As JSON.parse gives it: an own key, which an assignment would take for the prototype.
      const traits = JSON.parse('{"name":"Ada","__proto__":{"email":"hidden@example.com"}}') as {
        name: string;
      };
      const state = applyAll([anIdentify(traits)]);
      expect(Object.getPrototypeOf(state.traits)).toBe(Object.prototype);
      expect(recipientOf(state, 'email')).toBeNull();
      expect(state.traits).toEqual({ name: 'Ada' });
    });

    it('does not take traits from other calls', () => {
      const state = applyAll([
        anEvent({ type: 'group', groupId: 'acme', traits: { name: 'Acme Inc' } }),
        aTrack('Signed Up', {}, { traits: { plan: 'pro' } }),
      ]);
      expect(state.traits).toEqual({});
    });

    it('keeps the first user id and collects every anonymous id once', () => {
      const state = applyAll([
        anEvent({ userId: null, anonymousId: 'dev-1' }),
        anEvent({ userId: 'u1', anonymousId: 'dev-2' }),
        anEvent({ userId: 'u1-new', anonymousId: 'dev-1' }),
      ]);
      expect(state.userId).toBe('u1');
      expect(state.anonymousIds).toEqual(['dev-1', 'dev-2']);
    });

    it('collects each of a kiosk’s many anonymous ids once, from any state it came from', () => {
      const visit = (i: number) => anEvent({ userId: 'kiosk', anonymousId: `dev-${String(i)}` });
      const states = [applyAll([visit(0)])];
      for (let i = 1; i < 100; i += 1) {
        const last = states.at(-1);
        if (last === undefined) break;
        states.push(applyAll([visit(i), visit(i % 7)], policy, last));
      }
      const newest = states.at(-1);
      expect(newest?.anonymousIds).toEqual(
        Array.from({ length: 100 }, (_, i) => `dev-${String(i)}`),
      );
      // An earlier state, past the length searched as a set, knows only its own ids: an id added
      // after it is added again from it, one it has is not.
      const earlier = states[60];
      expect(applyAll([visit(80)], policy, earlier).anonymousIds).toHaveLength(62);
      expect(applyAll([visit(40)], policy, earlier).anonymousIds).toHaveLength(61);
      expect(applyAll([visit(99)], policy, newest).anonymousIds).toHaveLength(100);
    });

    it('merges preferences from identify traits', () => {
      const state = applyAll([
        anIdentify({ preferences: { topics: ['shoes'], frequency: 'weekly' } }),
        anIdentify({ preferences: { frequency: 'daily' } }, { timestampMs: at(1) }),
      ]);
      expect(state.preferences).toEqual({ topics: ['shoes'], frequency: 'daily' });
    });

    it('keeps the newer trait, preference and location when an older identify arrives late', () => {
      const state = applyAll([
        anIdentify({ email: 'old@example.com', plan: 'free' }, { timestampMs: at(0) }),
        anIdentify(
          { email: 'new@example.com', preferences: { frequency: 'daily' }, timezone: 'Asia/Tokyo' },
          { timestampMs: at(2) },
        ),
        // Queued on a device that was offline: older than the change above, newer than the first.
        anIdentify(
          {
            email: 'old@example.com',
            plan: 'pro',
            preferences: { frequency: 'weekly', topics: ['shoes'] },
            timezone: 'Europe/Berlin',
          },
          { timestampMs: at(1) },
        ),
      ]);
      expect(state.traits).toMatchObject({ email: 'new@example.com', plan: 'pro' });
      expect(state.preferences).toEqual({ frequency: 'daily', topics: ['shoes'] });
      expect(state.location.timezone).toBe('Asia/Tokyo');
      expect(state.setAtMs).toMatchObject({
        'traits.email': at(2),
        'traits.plan': at(1),
        'preferences.topics': at(1),
        'location.timezone': at(2),
      });
    });

    it('keeps a time zone Intl can read when a later event names one it cannot', () => {
      const state = applyAll([
        anIdentify({ timezone: 'America/Los_Angeles' }, { timestampMs: at(0) }),
        anEvent({
          type: 'page',
          name: 'Home',
          timestampMs: at(1),
          context: { timezone: 'GMT-08:00' },
        }),
        anIdentify({ timezone: 'Pacific time' }, { timestampMs: at(2), context: { timezone: -8 } }),
      ]);
      expect(state.location.timezone).toBe('America/Los_Angeles');
      // A readable one in the context is taken when the trait is not.
      const moved = applyAll([
        anIdentify({ timezone: 'America/Los_Angeles' }, { timestampMs: at(0) }),
        anIdentify(
          { timezone: 'PT' },
          { timestampMs: at(1), context: { timezone: 'Europe/Kyiv' } },
        ),
      ]);
      expect(moved.location.timezone).toBe('Europe/Kyiv');
    });

    it('ends with the same traits, preferences and location whatever order events arrive in', () => {
      const events = [
        anIdentify(
          { email: 'a@example.com', plan: 'free', address: { country: 'DE', city: 'Hamburg' } },
          { timestampMs: at(0) },
        ),
        anEvent({ type: 'page', name: 'Home', timestampMs: at(1), context: { timezone: 'UTC' } }),
        anIdentify(
          { plan: 'pro', preferences: { frequency: 'weekly' }, timezone: 'Europe/Paris' },
          { timestampMs: at(2) },
        ),
        anIdentify(
          { email: 'b@example.com', address: { country: 'FR' }, preferences: { topics: ['x'] } },
          { timestampMs: at(3), context: { location: { city: 'Lyon' } } },
        ),
        anEvent({ timestampMs: at(4), context: { timezone: 'Europe/Lisbon' } }),
        anIdentify({ preferences: { frequency: 'daily' } }, { timestampMs: at(5) }),
      ];
      const facts = (state: ReturnType<typeof applyAll>) => ({
        traits: state.traits,
        preferences: state.preferences,
        location: state.location,
        setAtMs: state.setAtMs,
      });
      const inTimeOrder = facts(applyAll(events));
      expect(inTimeOrder.traits).toMatchObject({ email: 'b@example.com', plan: 'pro' });
      // Lyon was only observed (context.location); Hamburg was declared.
      expect(inTimeOrder.location).toEqual({
        country: 'FR',
        region: null,
        city: 'Hamburg',
        timezone: 'Europe/Lisbon',
      });
      // Every rotation and its reverse: each event arrives first, last and in between.
      for (let shift = 1; shift < events.length; shift += 1) {
        const rotated = [...events.slice(shift), ...events.slice(0, shift)];
        expect(facts(applyAll(rotated))).toEqual(inTimeOrder);
        expect(facts(applyAll(rotated.reverse()))).toEqual(inTimeOrder);
      }
    });

    it('keeps a declared country over one a device or geo-IP observed later, as an ISO code', () => {
      const travelling = [
        anIdentify({ address: { country: 'Germany', state: 'HH' } }, { timestampMs: at(1) }),
        aTrack(
          'Product Viewed',
          {},
          {
            timestampMs: at(2),
            context: { location: { country: 'United States', region: 'CA' } },
          },
        ),
      ];
      for (const order of [travelling, [...travelling].reverse()])
        expect(applyAll(order).location).toMatchObject({ country: 'DE', region: 'HH' });
      // Nothing declared: what was observed fills in, newest first, until something is.
      const observed = applyAll([
        aTrack(
          'Product Viewed',
          {},
          { timestampMs: at(1), context: { location: { country: 'fr' } } },
        ),
        aTrack(
          'Product Viewed',
          {},
          { timestampMs: at(2), context: { location: { country: 'ESP' } } },
        ),
      ]);
      expect(observed.location.country).toBe('ES');
      const declared = applyAll(
        [anIdentify({ country: 'Atlantis' }, { timestampMs: at(0) })],
        policy,
        observed,
      );
      // An older declaration still outranks an observation; text naming no country is kept.
      expect(declared.location.country).toBe('Atlantis');
    });

    it('dates a value no later than it was received: a clock running ahead locks nothing', () => {
      // A CRM whose clock runs 23 hours fast, sending without sentAt: stamped t0 + 23 h, received
      // at t0. A minute later the customer changes their address on the website.
      const crm = anIdentify(
        {
          email: 'old@example.com',
          preferences: { frequency: 'weekly' },
          timezone: 'Europe/Berlin',
          address: { country: 'DE' },
        },
        { timestampMs: t0 + 23 * HOUR_MS, receivedAtMs: t0 },
      );
      const web = anIdentify(
        {
          email: 'new@example.com',
          preferences: { frequency: 'daily' },
          timezone: 'Asia/Tokyo',
          address: { country: 'FR' },
        },
        { timestampMs: t0 + 60_000 },
      );
      const live = applyAll([crm, web]);
      expect(live.traits['email']).toBe('new@example.com');
      expect(live.preferences).toEqual({ frequency: 'daily' });
      expect(live.location).toMatchObject({ country: 'FR', timezone: 'Asia/Tokyo' });
      expect(live.setAtMs?.['traits.email']).toBe(t0 + 60_000);
      // A rebuild reads them in stamp order, the CRM's last, and comes to the same.
      expect(applyAll([web, crm])).toEqual(live);
    });

    it('weighs values dated alike by their stamps, in any arrival order', () => {
      // Both stamped after they were received (at t0): the one stamped later is the newer.
      const ahead = (minutes: number, email: string) =>
        anIdentify({ email }, { timestampMs: t0 + minutes * 60_000, receivedAtMs: t0 });
      const first = ahead(1, 'first@example.com');
      const second = ahead(2, 'second@example.com');
      for (const events of [
        [first, second],
        [second, first],
      ]) {
        const state = applyAll(events);
        expect(state.traits['email']).toBe('second@example.com');
        expect(state.setAtMs).toEqual({
          'traits.email': t0,
          'stamped.traits.email': t0 + 2 * 60_000,
        });
      }
      // A value then set in time drops the stamp kept for the tie.
      const later = applyAll([
        first,
        anIdentify({ email: 'x@example.com' }, { timestampMs: t0 + 1 }),
      ]);
      expect(later.setAtMs).toEqual({ 'traits.email': t0 + 1 });
    });

    it('takes any value for a field a profile stored before set times were kept', () => {
      const stored = applyAll([anIdentify({ email: 'new@example.com' }, { timestampMs: at(2) })]);
      delete stored.setAtMs;
      const state = applyAll(
        [anIdentify({ email: 'old@example.com' }, { timestampMs: at(1) })],
        policy,
        stored,
      );
      expect(state.traits['email']).toBe('old@example.com');
      // A call that sets none of them leaves a profile without times as it was.
      expect(applyAll([aTrack('Product Viewed')], policy, stored).setAtMs).toBeUndefined();
    });

    it('widens first and last seen and counts every event', () => {
      const state = applyAll([
        anEvent({ timestampMs: at(5) }),
        anEvent({ timestampMs: at(-2) }),
        anEvent({ timestampMs: at(3) }),
      ]);
      expect(state.firstSeenAtMs).toBe(at(-2));
      expect(state.lastSeenAtMs).toBe(at(5));
      expect(state.eventCount).toBe(3);
    });

    it('leaves the state it is given untouched', () => {
      const before = applyAll([
        anIdentify({ plan: 'free', consent: { email: { marketing: true } } }),
        aTrack('Product Added', { product_id: 'p1', price: 10 }),
      ]);
      const copy = structuredClone(before);
      applyEvent(
        before,
        aTrack('Product Added', { product_id: 'p1', price: 10 }, { timestampMs: at(1) }),
        { repeatOrder: false },
        policy,
      );
      applyEvent(
        before,
        anIdentify({ plan: 'pro' }, { timestampMs: at(1) }),
        { repeatOrder: false },
        policy,
      );
      expect(before).toEqual(copy);
    });
  });

  describe('location', () => {
    it('reads country, region and city from traits.address', () => {
      const state = applyAll([
        anIdentify({ address: { country: 'DE', state: 'Berlin', city: 'Berlin' } }),
      ]);
      expect(state.location).toEqual({
        country: 'DE',
        region: 'Berlin',
        city: 'Berlin',
        timezone: null,
      });
    });

    it('reads flat traits and the timezone trait', () => {
      const state = applyAll([
        anIdentify({ country: 'FR', region: 'IDF', city: 'Paris', timezone: 'Europe/Paris' }),
      ]);
      expect(state.location).toEqual({
        country: 'FR',
        region: 'IDF',
        city: 'Paris',
        timezone: 'Europe/Paris',
      });
    });

    it('reads context.location and context.timezone of any call', () => {
      const state = applyAll([
        aTrack(
          'Product Viewed',
          {},
          {
            context: {
              location: { country: 'US', region: 'CA', city: 'San Francisco' },
              timezone: 'America/Los_Angeles',
            },
          },
        ),
      ]);
      expect(state.location).toEqual({
        country: 'US',
        region: 'CA',
        city: 'San Francisco',
        timezone: 'America/Los_Angeles',
      });
    });

    it('prefers the address the customer gave over the location the device reports', () => {
      const state = applyAll([
        anIdentify(
          { address: { country: 'DE' } },
          { context: { location: { country: 'NL', city: 'Amsterdam' } } },
        ),
      ]);
      expect(state.location.country).toBe('DE');
      expect(state.location.city).toBe('Amsterdam');
    });

    it('keeps what it knew for the fields an event does not mention', () => {
      const state = applyAll([
        anIdentify({ address: { country: 'DE', city: 'Hamburg' }, timezone: 'Europe/Berlin' }),
        anEvent({ type: 'page', name: 'Home', context: { timezone: 'Europe/Lisbon' } }),
        anIdentify({ plan: 'pro' }),
      ]);
      expect(state.location).toEqual({
        country: 'DE',
        region: null,
        city: 'Hamburg',
        timezone: 'Europe/Lisbon',
      });
    });

    it('does not take a company’s address from a group call as the customer’s', () => {
      const state = applyAll([
        anIdentify({ address: { country: 'DE' } }),
        anEvent({
          type: 'group',
          groupId: 'acme',
          name: null,
          traits: { address: { country: 'US', city: 'Austin' } },
          context: { timezone: 'Europe/Berlin' },
        }),
      ]);
      expect(state.location).toEqual({
        country: 'DE',
        region: null,
        city: null,
        timezone: 'Europe/Berlin',
      });
    });
  });

  describe('consent', () => {
    it('reads consent per channel and purpose from identify traits', () => {
      const state = applyAll([
        anIdentify(
          {
            consent: {
              email: { marketing: true, newsletter: 'no' },
              sms: { marketing: { granted: false, source: 'preference-center' } },
            },
          },
          { timestampMs: at(1) },
        ),
      ]);
      expect(state.consent).toEqual({
        email: {
          marketing: { granted: true, atMs: at(1), source: 'identify' },
          newsletter: { granted: false, atMs: at(1), source: 'identify' },
        },
        sms: { marketing: { granted: false, atMs: at(1), source: 'preference-center' } },
      });
    });

    it('takes the source from consentSource and skips unknown channels and unreadable values', () => {
      const state = applyAll([
        anIdentify({
          consentSource: 'checkout',
          consent: {
            email: { marketing: 'maybe', updates: 1 },
            fax: { marketing: true },
            push: 'sometimes',
          },
        }),
      ]);
      expect(state.consent).toEqual({
        email: { updates: { granted: true, atMs: t0, source: 'checkout' } },
      });
    });

    it('records Consent Updated for its channel and purpose', () => {
      const state = applyAll([
        aTrack('Consent Updated', {
          channel: 'sms',
          purpose: 'alerts',
          granted: 'yes',
          source: 'app',
        }),
        aTrack('Consent Updated', { granted: true }),
        aTrack('Consent Updated', { channel: 'push' }),
      ]);
      expect(state.consent).toEqual({
        sms: { alerts: { granted: true, atMs: t0, source: 'app', explicit: true } },
        email: {
          marketing: { granted: true, atMs: t0, source: 'Consent Updated', explicit: true },
        },
      });
    });

    it('weighs facts stamped after they were received by their stamps, in any arrival order', () => {
      // A source whose clock runs ahead: both facts are dated when they were received, t0; the
      // customer granted at their t0 + 1 min and withdrew at t0 + 2 min.
      const ahead = (minutes: number) => ({ timestampMs: t0 + minutes * 60_000, receivedAtMs: t0 });
      const grant = aTrack('Consent Updated', { granted: true }, ahead(1));
      const withdraw = aTrack('Consent Updated', { granted: false }, ahead(2));
      const traitsGrant = anIdentify({ consent: { sms: { marketing: true } } }, ahead(1));
      const traitsWithdraw = anIdentify({ consent: { sms: { marketing: false } } }, ahead(2));
      for (const events of [
        [grant, withdraw, traitsGrant, traitsWithdraw],
        [withdraw, grant, traitsWithdraw, traitsGrant],
      ]) {
        const state = applyAll(events);
        expect(state.consent.email?.['marketing']).toMatchObject({ granted: false, atMs: t0 });
        expect(state.consent.sms?.['marketing']).toMatchObject({ granted: false, atMs: t0 });
      }
    });

    it('reads yes and no however a CRM or a spreadsheet writes them', () => {
      const state = applyAll([
        anIdentify({ consent: { email: { marketing: true }, sms: { marketing: true } } }),
        aTrack('Consent Updated', { channel: 'email', granted: 'FALSE' }, { timestampMs: at(1) }),
        aTrack('Consent Updated', { channel: 'sms', granted: ' No ' }, { timestampMs: at(2) }),
        aTrack('Consent Updated', { channel: 'push', granted: 'Yes' }, { timestampMs: at(3) }),
      ]);
      expect(state.consent.email?.['marketing']?.granted).toBe(false);
      expect(state.consent.sms?.['marketing']?.granted).toBe(false);
      expect(state.consent.push?.['marketing']?.granted).toBe(true);
      // For the whole channel too.
      const whole = applyAll([
        anIdentify({ consent: { email: { marketing: true } } }),
        anIdentify({ consent: { email: 'FALSE' } }, { timestampMs: at(1) }),
      ]);
      expect(whole.consent.email?.['marketing']?.granted).toBe(false);
      // And in the words consent tools write: Google Consent Mode's `denied`, a preference
      // centre's `opted-out`.
      const words = applyAll([
        anIdentify({ consent: { email: { marketing: true }, sms: { marketing: true } } }),
        anIdentify({ consent: { email: { marketing: 'denied' } } }, { timestampMs: at(1) }),
        aTrack('Consent Updated', { channel: 'sms', granted: 'Opted-Out' }, { timestampMs: at(2) }),
        aTrack('Consent Updated', { channel: 'push', granted: 'granted' }, { timestampMs: at(3) }),
      ]);
      expect(words.consent.email?.['marketing']?.granted).toBe(false);
      expect(words.consent.sms?.['marketing']?.granted).toBe(false);
      expect(words.consent.push?.['marketing']?.granted).toBe(true);
      for (const doNotSell of ['Yes', 'TRUE', ' true'])
        expect(optedOutOfSale(applyAll([anIdentify({ preferences: { doNotSell } })]))).toBe(true);
      expect(optedOutOfSale(applyAll([anIdentify({ preferences: { doNotSell: 'No' } })]))).toBe(
        false,
      );
    });

    it('withdraws marketing on Unsubscribed, for email unless a channel is named', () => {
      const state = applyAll([
        anIdentify({ consent: { email: { marketing: true }, sms: { marketing: true } } }),
        aTrack('Unsubscribed', {}, { timestampMs: at(1) }),
        aTrack('Unsubscribed', { channel: 'sms', source: 'STOP' }, { timestampMs: at(2) }),
      ]);
      expect(state.consent.email?.['marketing']).toMatchObject({
        granted: false,
        atMs: at(1),
        source: 'Unsubscribed',
        explicit: true,
      });
      expect(state.consent.sms?.['marketing']).toMatchObject({
        granted: false,
        atMs: at(2),
        source: 'STOP',
        explicit: true,
      });
    });

    it('reads channel names in any case, and withdraws everywhere for a channel it does not know', () => {
      const state = applyAll([
        anIdentify({ consent: { Email: { marketing: true }, sms: true, whatsapp: false } }),
        aTrack('Unsubscribed', { channel: 'SMS ' }, { timestampMs: at(1) }),
      ]);
      expect(state.consent.email?.['marketing']).toMatchObject({ granted: true, atMs: t0 });
      expect(state.consent.sms?.['marketing']).toMatchObject({ granted: false, atMs: at(1) });
      expect(state.consent.whatsapp?.['marketing']).toMatchObject({ granted: false, atMs: t0 });
      for (const channel of ['all', 'newsletter']) {
        const everywhere = applyAll([
          anIdentify({ consent: { email: { marketing: true }, push: { marketing: true } } }),
          aTrack('Unsubscribed', { channel }, { timestampMs: at(1) }),
        ]);
        for (const c of ['email', 'sms', 'whatsapp', 'push', 'web'] as const)
          expect(everywhere.consent[c]?.['marketing']).toMatchObject({
            granted: false,
            atMs: at(1),
            explicit: true,
            everyChannel: true,
          });
      }
      // A withdrawal naming its channel is that channel's own opt-out.
      expect(state.consent.sms?.['marketing']?.everyChannel).toBeUndefined();
      // Purposes are kept trimmed and in lower case, as topics are looked up.
      const topic = applyAll([
        aTrack('Unsubscribed', { purpose: ' Newsletter ' }, { timestampMs: at(1) }),
      ]);
      expect(topic.consent.email?.['newsletter']).toMatchObject({ granted: false });
      // A grant that names no channel Herald knows grants nothing; a withdrawal still withdraws.
      const odd = applyAll([
        aTrack('Consent Updated', { channel: 'fax', granted: true }),
        aTrack('Consent Updated', { channel: 'fax', granted: false, purpose: 'promotions' }),
      ]);
      expect(odd.consent.email?.['marketing']).toBeUndefined();
      expect(odd.consent.email?.['promotions']).toMatchObject({ granted: false });
    });

    it('never dates restated consent later than the run of statements it belongs to, in any order', () => {
      // Statements true@1, false@2, true@3, true@4: the grant held runs from 3. In time order
      // Herald knows that; in other orders only the latest fact is kept, and it errs old.
      const say = (hour: number, granted: boolean) =>
        anIdentify({ consent: { email: { marketing: granted } } }, { timestampMs: at(hour) });
      const [s1, s2, s3, s4] = [say(1, true), say(2, false), say(3, true), say(4, true)];
      const orders = [
        [s1, s2, s3, s4],
        [s4, s3, s2, s1],
        [s1, s4, s3, s2],
      ];
      for (const order of orders) {
        const entry = applyAll(order).consent.email?.['marketing'];
        expect(entry).toMatchObject({ granted: true, atMs: at(4) });
        // Never later than 3 (that would make the consent younger than it is).
        expect(entry?.sinceMs ?? entry?.atMs).toBeLessThanOrEqual(at(3));
      }
      expect(applyAll([s1, s2, s3, s4]).consent.email?.['marketing']?.sinceMs).toBe(at(3));
    });

    it('keeps when traits first granted consent they restate, and renews it on an explicit grant', () => {
      const grantOn = (day: number) =>
        anIdentify(
          { consent: { email: { marketing: true } } },
          { timestampMs: t0 + day * 24 * 3600 * 1000 },
        );
      const restating = [0, 400, 800, 1200].map(grantOn);
      const last = t0 + 1200 * 24 * 3600 * 1000;
      for (const order of [restating, [...restating].reverse()])
        expect(applyAll(order).consent.email?.['marketing']).toEqual({
          granted: true,
          atMs: last,
          source: 'identify',
          sinceMs: t0,
        });
      // Withdrawn by traits in between: the grant after it is a new one.
      const regranted = applyAll([
        grantOn(0),
        anIdentify({ consent: { email: { marketing: false } } }, { timestampMs: at(5) }),
        grantOn(1200),
      ]);
      expect(regranted.consent.email?.['marketing']).toEqual({
        granted: true,
        atMs: last,
        source: 'identify',
      });
      const renewed = applyAll([
        ...restating,
        aTrack(
          'Consent Updated',
          { granted: true, source: 'preference-centre' },
          { timestampMs: last + 1 },
        ),
      ]);
      expect(renewed.consent.email?.['marketing']).toMatchObject({
        atMs: last + 1,
        explicit: true,
      });
      expect(renewed.consent.email?.['marketing']?.sinceMs).toBeUndefined();
    });

    it('withdraws email marketing on a spam complaint', () => {
      const state = applyAll([
        anIdentify({ consent: { email: { marketing: true } } }),
        aTrack('Email Marked as Spam', {}, { timestampMs: at(1) }),
      ]);
      expect(state.consent.email?.['marketing']).toMatchObject({ granted: false, atMs: at(1) });
      expect(state.email.complaints).toBe(1);
    });

    it('keeps the newer fact when an older one arrives late, in either order', () => {
      const grant = aTrack('Consent Updated', { granted: true }, { timestampMs: at(2) });
      const withdraw = aTrack('Unsubscribed', {}, { timestampMs: at(1) });
      const lateWithdrawal = applyAll([grant, withdraw]);
      const inOrder = applyAll([withdraw, grant]);
      expect(lateWithdrawal.consent.email?.['marketing']).toMatchObject({
        granted: true,
        atMs: at(2),
      });
      expect(inOrder.consent).toEqual(lateWithdrawal.consent);
      const traits = (granted: boolean, hour: number) =>
        anIdentify({ consent: { email: { marketing: granted } } }, { timestampMs: at(hour) });
      // Between two facts from traits, too.
      expect(applyAll([traits(false, 2), traits(true, 1)]).consent).toEqual(
        applyAll([traits(true, 1), traits(false, 2)]).consent,
      );
      expect(
        applyAll([traits(true, 1), traits(false, 2)]).consent.email?.['marketing']?.granted,
      ).toBe(false);
    });

    it('dates a fact no later than it was received: a clock running ahead cannot outlast an unsubscribe', () => {
      // A source stamps a grant 10 hours ahead; the customer unsubscribes an hour after it came.
      const hour = (h: number) => t0 + h * 3_600_000;
      const grant = aTrack(
        'Consent Updated',
        { granted: true },
        { timestampMs: hour(10), receivedAtMs: hour(0) },
      );
      const unsubscribe = aTrack('Unsubscribed', {}, { timestampMs: hour(1) });
      for (const order of [
        [grant, unsubscribe],
        [unsubscribe, grant],
      ])
        expect(applyAll(order).consent.email?.['marketing']).toMatchObject({
          granted: false,
          atMs: hour(1),
          source: 'Unsubscribed',
        });
      expect(applyAll([grant]).consent.email?.['marketing']).toMatchObject({ atMs: hour(0) });
    });

    it('never lets traits undo an unsubscribe, in any order; a newer Consent Updated does', () => {
      // An integration resends every trait, stale consent included: withdrawing, then granting.
      const unsubscribe = aTrack('Unsubscribed', {}, { timestampMs: at(1) });
      const traits = (granted: boolean, hour: number) =>
        anIdentify({ consent: { email: { marketing: granted } } }, { timestampMs: at(hour) });
      const regrant = aTrack('Consent Updated', { granted: true }, { timestampMs: at(4) });
      const permutations = <T>(items: T[]): T[][] =>
        items.length <= 1
          ? [items]
          : items.flatMap((item, i) =>
              permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [
                item,
                ...rest,
              ]),
            );
      // Only `sinceMs` may depend on the order (never later than the truth): left out here.
      const outcomes = (events: HeraldEvent[]) =>
        new Set(
          permutations(events).map((order) =>
            JSON.stringify(applyAll(order).consent.email, (key, value: unknown) =>
              key === 'sinceMs' ? undefined : value,
            ),
          ),
        );
      const withdrawn = [unsubscribe, traits(false, 2), traits(true, 3)];
      expect(outcomes(withdrawn).size).toBe(1);
      expect(applyAll(withdrawn).consent.email?.['marketing']).toMatchObject({
        granted: false,
        atMs: at(1),
        source: 'Unsubscribed',
        explicit: true,
      });
      // A newer explicit grant lifts it; traits newer than that grant count again.
      expect(outcomes([...withdrawn, regrant]).size).toBe(1);
      expect(applyAll([...withdrawn, regrant]).consent.email?.['marketing']?.granted).toBe(true);
      const later = [...withdrawn, regrant, traits(false, 5)];
      expect(outcomes(later).size).toBe(1);
      expect(applyAll(later).consent.email?.['marketing']).toMatchObject({
        granted: false,
        atMs: at(5),
        source: 'identify',
      });
      // An explicit grant older than the unsubscribe lifts nothing.
      const stale = [
        aTrack('Consent Updated', { granted: true }, { timestampMs: at(0) }),
        ...withdrawn,
      ];
      expect(outcomes(stale).size).toBe(1);
      expect(applyAll(stale).consent.email?.['marketing']?.granted).toBe(false);
    });
  });

  describe('orders', () => {
    it('counts an order with its value and dates', () => {
      const state = applyAll([
        aTrack('Order Completed', { order_id: 'o1', total: 49.99 }, { timestampMs: at(3) }),
        aTrack('Order Completed', { order_id: 'o2', revenue: '20' }, { timestampMs: at(1) }),
      ]);
      expect(state.orders).toEqual({
        count: 2,
        peakCount: 2,
        revenueCents: 6999,
        refundedCents: 0,
        firstAtMs: at(1),
        lastAtMs: at(3),
        // In time order, whatever order they arrived in.
        kept: [
          { id: 'o2', cents: 2000, atMs: at(1), refundedCents: 0 },
          { id: 'o1', cents: 4999, atMs: at(3), refundedCents: 0 },
        ],
      });
    });

    it('keeps the newest orders by time, so a backfill never pushes out a recent one', () => {
      const today = aTrack(
        'Order Completed',
        { order_id: 'today', total: 1500 },
        { timestampMs: at(400) },
      );
      const history = Array.from({ length: ORDERS_KEPT }, (_, i) =>
        aTrack('Order Completed', { order_id: `h${String(i)}`, total: 10 }, { timestampMs: at(i) }),
      );
      const cancel = aTrack('Order Cancelled', { order_id: 'today' }, { timestampMs: at(401) });
      const live = applyAll([today, ...history, cancel]).orders;
      // Taken back whole though it states no amount: no longer in the LTV, nor a VIP by it,
      // and the last order is the latest that still counts, as a rebuild in time order has it.
      expect(live.revenueCents - live.refundedCents).toBe(ORDERS_KEPT * 1000);
      expect(live).toMatchObject({ count: ORDERS_KEPT, lastAtMs: at(ORDERS_KEPT - 1) });
      expect(live).toEqual(applyAll([...history, today, cancel]).orders);
      expect(live.kept?.map((o) => o.id)).toEqual([
        ...history.slice(1).map((e) => e.properties['order_id']),
        'today',
      ]);
    });

    it('keeps, cancels and refunds orders as a rebuild in time order does, in any arrival order', () => {
      const random = seededRandom(11);
      for (let run = 0; run < 100; run += 1) {
        // More orders than are kept, many of one moment, then cancellations and refunds.
        const orders = Array.from(
          { length: ORDERS_KEPT - 5 + Math.floor(random.next() * 20) },
          (_, i) =>
            aTrack(
              'Order Completed',
              random.next() < 0.1
                ? { total: 5 }
                : { order_id: `o${String(i)}`, total: 1 + Math.floor(random.next() * 100) },
              { timestampMs: at(Math.floor(random.next() * 30)) },
            ),
        );
        const named = (i: number) => ({ order_id: `o${String(Math.floor(random.next() * i))}` });
        const after = Array.from({ length: 1 + Math.floor(random.next() * 8) }, (_, i) =>
          random.next() < 0.5
            ? aTrack('Order Cancelled', named(orders.length), { timestampMs: at(31 + i) })
            : aTrack(
                'Order Refunded',
                { ...named(orders.length), total: Math.floor(random.next() * 60) },
                { timestampMs: at(31 + i) },
              ),
        );
        const arrival = [...orders].sort(() => random.next() - 0.5);
        // A rebuild reads them in time order, those of one moment in the order they arrived.
        const inTime = [...arrival].sort((a, b) => a.timestampMs - b.timestampMs);
        const label = JSON.stringify(arrival.map((e) => [e.timestampMs, e.properties]));
        expect(applyAll([...arrival, ...after]).orders, label).toEqual(
          applyAll([...inTime, ...after]).orders,
        );
      }
    });

    it('moves the last order back past a cancelled one, in any arrival order', () => {
      const older = aTrack(
        'Order Completed',
        { order_id: 'o1', total: 50 },
        { timestampMs: at(0) },
      );
      const newer = aTrack(
        'Order Completed',
        { order_id: 'o2', total: 80 },
        { timestampMs: at(60) },
      );
      const cancel = aTrack('Order Cancelled', { order_id: 'o2' }, { timestampMs: at(61) });
      // As a replay reads them, and with the older order arriving last (a backfill).
      expect(applyAll([older, newer, cancel]).orders.lastAtMs).toBe(at(0));
      expect(applyAll([newer, cancel, older]).orders.lastAtMs).toBe(at(0));
      // No order left that counts: none is the last.
      expect(applyAll([newer, cancel]).orders.lastAtMs).toBeNull();
      // An order without an id counts as the last one too.
      const anonymous = aTrack('Order Completed', { total: 20 }, { timestampMs: at(20) });
      expect(applyAll([anonymous, newer, cancel]).orders.lastAtMs).toBe(at(20));
    });

    it('holds a refund that came before its order against it, as if it had come after', () => {
      const order = aTrack(
        'Order Completed',
        { order_id: 'o1', total: 100 },
        { timestampMs: at(0) },
      );
      const refund = (total: number) =>
        aTrack('Order Refunded', { order_id: 'o1', total }, { timestampMs: at(1) });
      const cancel = aTrack('Order Cancelled', { order_id: 'o1' }, { timestampMs: at(2) });
      const netted = (events: HeraldEvent[]) => {
        const { revenueCents, refundedCents, count } = applyAll(events).orders;
        return { revenueCents, refundedCents, count };
      };
      const inOrder = netted([order, refund(30), cancel]);
      expect(inOrder).toEqual({ revenueCents: 10000, refundedCents: 10000, count: 0 });
      expect(netted([refund(30), order, cancel])).toEqual(inOrder);
      // A cancellation of an order not placed yet: the order never counts, nor its refund.
      const notPlaced = applyEvent(
        applyAll([refund(30)]),
        cancel,
        { repeatOrder: false, cancelsPlacedOrder: false },
        policy,
      );
      expect(applyAll([order], policy, notPlaced).orders).toMatchObject({
        count: 0,
        revenueCents: 0,
        refundedCents: 0,
      });
      // No more than the order's value, whichever came first.
      expect(netted([refund(150), order])).toEqual(netted([order, refund(150)]));
      expect(netted([order, refund(150)]).refundedCents).toBe(10000);
    });

    it('takes back a refund that came first only when its order comes to this customer', () => {
      const refund = aTrack(
        'Order Refunded',
        { order_id: 'X-9', total: 60 },
        { timestampMs: at(1) },
      );
      const first = aTrack(
        'Order Completed',
        { order_id: 'A-1', total: 100 },
        { timestampMs: at(0) },
      );
      // The order it names is still to come: nothing taken back yet, the refund held.
      const waiting = applyAll([first, refund]).orders;
      expect(waiting).toMatchObject({ revenueCents: 10000, refundedCents: 0 });
      expect(waiting.earlyRefunds).toEqual([{ id: 'X-9', cents: 6000, onArrival: true }]);
      // Another customer places it: this one's value stays whole, as a rebuild gives it (the
      // refund then read as of another customer's order).
      const rebuilt = applyEvent(
        applyAll([first]),
        refund,
        { repeatOrder: false, refundsOrderOf: 'other' },
        policy,
      );
      expect(rebuilt.orders.revenueCents - rebuilt.orders.refundedCents).toBe(10000);
      expect(waiting.revenueCents - waiting.refundedCents).toBe(10000);
      // Their own order comes: taken back then.
      const order = aTrack(
        'Order Completed',
        { order_id: 'X-9', total: 60 },
        { timestampMs: at(2) },
      );
      expect(applyAll([first, refund, order]).orders).toMatchObject({
        revenueCents: 16000,
        refundedCents: 6000,
      });
    });

    it('nets a refund held the earlier way, taken back in full when it came, as it did', () => {
      const stored = aProfile({
        orders: {
          count: 0,
          revenueCents: 0,
          refundedCents: 15000,
          firstAtMs: null,
          lastAtMs: null,
          earlyRefunds: [{ id: 'o1', cents: 15000 }],
        },
      });
      const order = aTrack(
        'Order Completed',
        { order_id: 'o1', total: 100 },
        { timestampMs: at(2) },
      );
      // No more than the order's value: the excess given back.
      expect(applyAll([order], policy, stored).orders).toMatchObject({
        revenueCents: 10000,
        refundedCents: 10000,
      });
      const cancel = aTrack('Order Cancelled', { order_id: 'o1' }, { timestampMs: at(2) });
      const notPlaced = applyEvent(
        stored,
        cancel,
        { repeatOrder: false, cancelsPlacedOrder: false },
        policy,
      );
      expect(notPlaced.orders).toMatchObject({ refundedCents: 0 });
    });

    it('does not count a re-sent order again, nor give it points', () => {
      const order = aTrack('Order Completed', { order_id: 'o1', total: 30 });
      const once = applyAll([order]);
      const twice = applyEvent(once, order, { repeatOrder: true }, policy);
      expect(twice.orders).toEqual(once.orders);
      expect(twice.engagement).toEqual(once.engagement);
      expect(twice.eventCount).toBe(2);
    });

    it('adds refunds to the refunded total without dropping the order', () => {
      const state = applyAll([
        aTrack('Order Completed', { order_id: 'o1', total: 100 }),
        aTrack('Order Refunded', { order_id: 'o1', total: 25 }, { timestampMs: at(1) }),
      ]);
      expect(state.orders).toMatchObject({ count: 1, revenueCents: 10_000, refundedCents: 2500 });
    });

    it('takes back what is left of an order refunded by its id alone, as Segment sends a full refund', () => {
      const order = aTrack('Order Completed', { order_id: 'o1', total: 1500 });
      const full = aTrack('Order Refunded', { order_id: 'o1' }, { timestampMs: at(1) });
      const vip = applyAll([order, full]);
      expect(vip.orders).toMatchObject({ count: 1, revenueCents: 150_000, refundedCents: 150_000 });
      expect(deriveComputed(vip, at(2), policy)).toMatchObject({ ltv: 0, vip: false });
      // After a partial refund, the rest; sent again, nothing more.
      const part = aTrack('Order Refunded', { order_id: 'o1', total: 400 }, { timestampMs: at(1) });
      const again = aTrack('Order Refunded', { order_id: 'o1' }, { timestampMs: at(2) });
      for (const events of [
        [order, part, full, again],
        [order, full, part, again],
      ])
        expect(applyAll(events).orders.refundedCents).toBe(150_000);
      // Products listed without a price state no amount either; one priced line is the amount.
      const lines = (products: object[]) =>
        applyAll([
          order,
          aTrack('Order Refunded', { order_id: 'o1', products }, { timestampMs: at(1) }),
        ]).orders.refundedCents;
      expect(lines([{ product_id: 'p1' }])).toBe(150_000);
      expect(lines([{ product_id: 'p1', price: 20 }, { product_id: 'p2' }])).toBe(2000);
      // Arriving before its order, it is held and takes back the whole order when that comes.
      expect(applyAll([full, order]).orders).toEqual(vip.orders);
      const held = applyAll([full]).orders;
      expect(held.refundedCents).toBe(0);
      // Naming no order, and stating no amount, it takes back nothing.
      expect(
        applyAll([order, aTrack('Order Refunded', {}, { timestampMs: at(1) })]).orders
          .refundedCents,
      ).toBe(0);
    });

    it('uncounts a cancelled order and refunds its value, never below zero orders', () => {
      const state = applyAll([
        aTrack('Order Completed', { order_id: 'o1', total: 40 }),
        aTrack('Order Cancelled', { order_id: 'o1', total: 40 }, { timestampMs: at(1) }),
        aTrack('Order Cancelled', { order_id: 'o0', total: 5 }, { timestampMs: at(2) }),
      ]);
      expect(state.orders).toMatchObject({ count: 0, revenueCents: 4000, refundedCents: 4500 });
    });

    it('cancels an order id once, however often the cancellation is sent', () => {
      const cancel = (at1: number, id: string | null) =>
        aTrack('Order Cancelled', id === null ? { total: 10 } : { order_id: id, total: 40 }, {
          timestampMs: at(at1),
        });
      const state = applyAll([
        aTrack('Order Completed', { order_id: 'o1', total: 40 }),
        aTrack('Order Completed', { order_id: 'o2', total: 40 }),
        aTrack('Order Completed', { order_id: 'o3', total: 40 }),
        cancel(1, 'o1'),
        aTrack('Order Completed', { order_id: 'o4', total: 40 }, { timestampMs: at(2) }),
        cancel(3, 'o1'), // sent again with a new messageId, after another order
        cancel(4, null),
        cancel(5, null), // without an id, each one counts
      ]);
      expect(state.orders).toMatchObject({
        count: 1,
        refundedCents: 6000,
        cancelledIds: ['o1'],
      });
    });

    it('takes back what is left of a cancelled order: its own value, less its refunds', () => {
      const vip = applyAll([
        aTrack('Order Completed', { order_id: 'o1', total: 1500 }),
        // No amount stated: the order's own is taken back (a VIP by this order alone no more).
        aTrack('Order Cancelled', { order_id: 'o1' }, { timestampMs: at(1) }),
      ]);
      expect(vip.orders).toMatchObject({ count: 0, revenueCents: 150_000, refundedCents: 150_000 });
      const refunded = applyAll([
        aTrack('Order Completed', { order_id: 'o1', total: 2000 }),
        aTrack('Order Completed', { order_id: 'o2', total: 1500 }, { timestampMs: at(1) }),
        aTrack('Order Refunded', { order_id: 'o2', total: 1500 }, { timestampMs: at(2) }),
        aTrack('Order Cancelled', { order_id: 'o2', total: 1500 }, { timestampMs: at(3) }),
        // A refund stated again, or beyond the order, takes back no more than is left.
        aTrack('Order Refunded', { order_id: 'o1', total: 500 }, { timestampMs: at(4) }),
        aTrack('Order Refunded', { order_id: 'o1', total: 1800 }, { timestampMs: at(5) }),
      ]);
      expect(refunded.orders.revenueCents - refunded.orders.refundedCents).toBe(0);
      expect(refunded.orders).toMatchObject({ count: 1, refundedCents: 350_000 });
      // A refund after the cancellation takes nothing more back, in either order.
      const order = aTrack('Order Completed', { order_id: 'o1', total: 100 });
      const cancel = aTrack('Order Cancelled', { order_id: 'o1' }, { timestampMs: at(1) });
      const refund = aTrack(
        'Order Refunded',
        { order_id: 'o1', total: 100 },
        { timestampMs: at(2) },
      );
      const noFacts = { repeatOrder: false };
      for (const events of [
        [order, cancel, refund],
        [order, refund, cancel],
      ]) {
        const net = applyAll(events).orders;
        expect(net.revenueCents - net.refundedCents).toBe(0);
      }
      // The cancellation first (the order then never counts): a refund takes nothing back.
      const cancelledFirst = [cancel, order, refund].reduce(
        (state, e) =>
          applyEvent(
            state,
            e,
            e === cancel ? { ...noFacts, cancelsPlacedOrder: false } : noFacts,
            policy,
          ),
        aProfile(),
      ).orders;
      expect(cancelledFirst.revenueCents - cancelledFirst.refundedCents).toBe(0);
      // A cancellation stating less than is left takes back the rest all the same.
      const partial = aTrack(
        'Order Cancelled',
        { order_id: 'o1', total: 30 },
        { timestampMs: at(3) },
      );
      const half = aTrack('Order Refunded', { order_id: 'o1', total: 50 }, { timestampMs: at(2) });
      for (const events of [
        [order, half, partial],
        [order, partial, half],
      ]) {
        const net = applyAll(events).orders;
        expect(net.revenueCents - net.refundedCents).toBe(0);
      }
    });

    it("moves the last order's time back to the latest order that still counts", () => {
      const state = applyAll([
        aTrack('Order Completed', { order_id: 'o1', total: 600 }),
        aTrack('Order Completed', { order_id: 'o2', total: 600 }, { timestampMs: at(80) }),
        aTrack('Order Cancelled', { order_id: 'o2', total: 600 }, { timestampMs: at(81) }),
      ]);
      expect(state.orders).toMatchObject({ count: 1, lastAtMs: at(0) });
    });

    it('remembers the latest cancelled order ids only', () => {
      const events = Array.from({ length: CANCELLED_IDS_KEPT + 5 }, (_, i) =>
        aTrack('Order Cancelled', { order_id: `o${i}`, total: 1 }, { timestampMs: at(i) }),
      );
      const ids = applyAll(events).orders.cancelledIds ?? [];
      expect(ids).toHaveLength(CANCELLED_IDS_KEPT);
      expect(ids[0]).toBe('o5');
      expect(ids.at(-1)).toBe(`o${CANCELLED_IDS_KEPT + 4}`);
    });

    it('ignores order events that are not track calls', () => {
      const state = applyAll([
        anEvent({ type: 'page', name: 'Order Completed', properties: { total: 9 } }),
      ]);
      expect(state.orders.count).toBe(0);
    });
  });

  describe('orderValueCents', () => {
    it('reads total, else revenue, else value, as cents', () => {
      expect(orderValueCents({ total: 10.1, revenue: 99, value: 1 })).toBe(1010);
      expect(orderValueCents({ revenue: '19.99', value: 1 })).toBe(1999);
      expect(orderValueCents({ value: 0.1 + 0.2 })).toBe(30);
    });

    it('sums the products when no amount is given', () => {
      expect(
        orderValueCents({
          products: [{ price: 10, quantity: 2 }, { price: '2.5' }, 'junk', { quantity: 3 }],
        }),
      ).toBe(2250);
      expect(orderValueCents({})).toBe(0);
      // Sold by weight: each line in whole cents.
      expect(orderValueCents({ products: [{ price: 19.99, quantity: 1.5 }] })).toBe(2999);
      expect(orderValueCents({ total: 'n/a' })).toBe(0);
    });
  });

  describe('engagement points', () => {
    it.each([
      ['Email Opened', 0.3],
      ['Push Notification Opened', 0.3],
      ['Email Link Clicked', 0.5],
      ['SMS Link Clicked', 0.5],
      ['Order Completed', 1.0],
      ['Email Marked as Spam', -1.0],
      ['Product Viewed', 0],
    ])('gives %s %s points', (name, points) => {
      expect(applyAll([aTrack(name)]).engagement).toEqual({ points, asOfMs: t0 });
    });

    it('counts a hard bounce, and a soft one not at all', () => {
      const hard = applyAll([
        aTrack('Email Bounced', { bounce_type: 'Permanent' }, { timestampMs: at(1) }),
      ]);
      expect(hard.engagement.points).toBe(-0.5);
      expect(hard.email).toEqual({ hardBounces: 1, complaints: 0, lastBounceAtMs: at(1) });
      const untyped = applyAll([aTrack('Email Bounced')]);
      expect(untyped.email.hardBounces).toBe(1);
      const soft = applyAll([aTrack('Email Bounced', { bounceType: 'soft' })]);
      expect(soft.engagement.points).toBe(0);
      expect(soft.email.hardBounces).toBe(0);
    });

    it('counts hard bounces for the current address: a new one starts again from none', () => {
      const bounce = (days: number) =>
        aTrack('Email Bounced', { bounce_type: 'hard' }, { timestampMs: at(days) });
      const email = (address: string, days: number) =>
        anIdentify({ email: address }, { timestampMs: at(days) });
      const typo = [email('kim@exmaple.com', 0), bounce(1), bounce(2), bounce(3)];
      expect(applyAll(typo).email.hardBounces).toBe(3);
      // The same address stated again (any case, spaces around it), or another trait: kept.
      expect(
        applyAll([...typo, email(' Kim@Exmaple.com ', 4), anIdentify({ firstName: 'Kim' })]).email
          .hardBounces,
      ).toBe(3);
      // The typo fixed: the new address has bounced nowhere; its own bounces count from there.
      const fixed = applyAll([...typo, email('kim@example.com', 4)]);
      expect(fixed.email).toEqual({ hardBounces: 0, complaints: 0, lastBounceAtMs: at(3) });
      expect(applyAll([bounce(5)], policy, fixed).email.hardBounces).toBe(1);
      // An identify stamped before the address it would change is no change.
      expect(applyAll([...typo, email('kim@example.com', -1)]).email.hardBounces).toBe(3);
    });

    it('keeps the count whole when a bounce arrives on the other side of an address change', () => {
      const bounce = (days: number) =>
        aTrack('Email Bounced', { bounce_type: 'hard' }, { timestampMs: at(days) });
      const email = (address: string, days: number) =>
        anIdentify({ email: address }, { timestampMs: at(days) });
      // In time order (as live events usually come, and as a rebuild reads them) the change
      // starts the new address from none.
      const inTime = [email('a@example.com', 0), bounce(1), bounce(2), email('b@example.com', 3)];
      expect(applyAll(inTime).email.hardBounces).toBe(0);
      // A bounce of the new address that came before the identify naming it: which of those
      // counted are whose is not known then, so none is dropped (a rebuild counts 1).
      const early = [email('a@example.com', 0), bounce(1), bounce(4), email('b@example.com', 3)];
      expect(applyAll(early).email.hardBounces).toBe(2);
      // A bounce of the old address reported after the change counts for the new one: when
      // it comes, Herald cannot tell it from a bounce of the address it has (a rebuild counts 0).
      const late = [email('a@example.com', 0), bounce(2), email('b@example.com', 3), bounce(1)];
      expect(applyAll(late).email.hardBounces).toBe(1);
    });

    it('counts the bounces of an address whose first identify arrives after them, as in time order', () => {
      const bounce = (hours: number) =>
        aTrack('Email Bounced', { bounce_type: 'hard' }, { timestampMs: t0 + hours * HOUR_MS });
      const email = (address: string, hours: number) =>
        anIdentify({ email: address }, { timestampMs: t0 + hours * HOUR_MS });
      // The signup identify naming the address (queued on a device, backfilled) comes last,
      // after the bounces and a CRM's identify restating the address: a first address is no change.
      const signup = email('kim@example.com', 1);
      const inTime = [signup, bounce(25), bounce(26), bounce(27), email('kim@example.com', 74)];
      expect(applyAll(inTime).email.hardBounces).toBe(3);
      expect(applyAll([...inTime.slice(1), signup]).email.hardBounces).toBe(3);
      expect(applyAll([bounce(25), signup]).email.hardBounces).toBe(1);
      // An identify older than the address held that names another: in time order the address
      // changed after it, so the bounces counted before it were the other address's.
      const other = [bounce(26), email('y@example.com', 50), email('x@example.com', 48)];
      expect(applyAll(other).email.hardBounces).toBe(0);
      expect(
        applyAll([bounce(26), email('x@example.com', 48), email('y@example.com', 50)]).email,
      ).toMatchObject({ hardBounces: 0 });
      // Those counted after it may be the one held: the count is kept whole.
      expect(
        applyAll([...other.slice(0, 2), bounce(49), other[2] as HeraldEvent]).email,
      ).toMatchObject({ hardBounces: 2 });
    });

    it('gives nothing for calls other than track', () => {
      const state = applyAll([anEvent({ type: 'page', name: 'Email Opened' })]);
      expect(state.engagement.points).toBe(0);
    });

    it('decays earlier points by the half-life when a later event adds more', () => {
      const state = applyAll([
        aTrack('Email Opened'),
        aTrack('Email Link Clicked', {}, { timestampMs: at(30) }),
      ]);
      expect(state.engagement.asOfMs).toBe(at(30));
      expect(state.engagement.points).toBeCloseTo(0.3 / 2 + 0.5, 12);
    });

    it('decays a late event’s points to the time already reached', () => {
      const state = applyAll([
        aTrack('Email Link Clicked', {}, { timestampMs: at(60) }),
        aTrack('Email Opened', {}, { timestampMs: at(0) }),
      ]);
      expect(state.engagement.asOfMs).toBe(at(60));
      expect(state.engagement.points).toBeCloseTo(0.5 + 0.3 / 4, 12);
    });

    it('reaches the same points whatever order the events arrive in', () => {
      const earned: [name: string, points: number, day: number][] = [
        ['Email Opened', 0.3, 0],
        ['Email Link Clicked', 0.5, 7.5],
        ['Order Completed', 1.0, 12],
        ['Email Bounced', -0.5, 20],
        ['Email Opened', 0.3, 45],
        ['Email Marked as Spam', -1.0, 46],
      ];
      const events = earned.map(([name, , day]) => aTrack(name, {}, { timestampMs: at(day) }));
      const [e0, e1, e2, e3, e4, e5] = events;
      const orders = [events, [...events].reverse(), [e4, e1, e5, e0, e3, e2]];
      const expected = earned.reduce(
        (sum, [, points, day]) => sum + points * 0.5 ** ((46 - day) / 30),
        0,
      );
      for (const order of orders) {
        const engagement = applyAll(
          order.filter((e): e is HeraldEvent => e !== undefined),
        ).engagement;
        expect(engagement.asOfMs).toBe(at(46));
        expect(engagement.points).toBeCloseTo(expected, 12);
      }
    });

    it('uses the half-life of the policy', () => {
      const fast = { ...policy, engagement: { ...policy.engagement, halfLifeDays: 10 } };
      const state = applyAll(
        [aTrack('Email Opened'), aTrack('Email Opened', {}, { timestampMs: at(10) })],
        fast,
      );
      expect(state.engagement.points).toBeCloseTo(0.45, 12);
    });
  });

  describe('activity', () => {
    it('counts pages, screens and the customer’s own track events as activity', () => {
      expect(
        applyAll([anEvent({ type: 'page', name: 'Home', timestampMs: at(1) })]).lastActiveAtMs,
      ).toBe(at(1));
      expect(
        applyAll([anEvent({ type: 'screen', name: 'Cart', timestampMs: at(2) })]).lastActiveAtMs,
      ).toBe(at(2));
      expect(applyAll([aTrack('Email Opened', {}, { timestampMs: at(3) })]).lastActiveAtMs).toBe(
        at(3),
      );
    });

    it('does not count identify calls or what systems send as activity', () => {
      const state = applyAll([
        anIdentify({ plan: 'pro' }),
        aTrack('Email Delivered'),
        aTrack('Email Bounced'),
        aTrack('Unsubscribed'),
        aTrack('SMS Sent'),
      ]);
      expect(state.lastActiveAtMs).toBeNull();
    });

    it('keeps the latest activity when an older event arrives late', () => {
      const state = applyAll([
        aTrack('Product Viewed', {}, { timestampMs: at(9) }),
        aTrack('Product Viewed', {}, { timestampMs: at(4) }),
      ]);
      expect(state.lastActiveAtMs).toBe(at(9));
    });
  });

  describe('cart', () => {
    const added = (productId: string, price: number, days: number, extra = {}) =>
      aTrack(
        'Product Added',
        { product_id: productId, price, ...extra },
        { timestampMs: at(days) },
      );

    it('adds a product with its price, quantity and margin', () => {
      const state = applyAll([
        added('p1', 19.99, 1, { quantity: 2, sku: 'SKU-1', name: 'Shoe', margin: 5 }),
      ]);
      expect(state.cart).toEqual({
        items: [
          {
            productId: 'p1',
            sku: 'SKU-1',
            name: 'Shoe',
            priceCents: 1999,
            quantity: 2,
            marginCents: 500,
          },
        ],
        valueCents: 3998,
        updatedAtMs: at(1),
      });
    });

    it('adds up the quantity of a product added twice', () => {
      const state = applyAll([
        added('p1', 10, 1),
        added('p2', 5, 2),
        added('p1', 12, 3, { quantity: 2 }),
      ]);
      expect(state.cart?.items.map((i) => [i.productId, i.quantity, i.priceCents])).toEqual([
        ['p1', 3, 1200],
        ['p2', 1, 500],
      ]);
      expect(state.cart?.valueCents).toBe(3 * 1200 + 500);
      expect(state.cart?.updatedAtMs).toBe(at(3));
    });

    it('removes quantities, then the product, then the cart', () => {
      const removed = (days: number, quantity?: number) =>
        aTrack(
          'Product Removed',
          { product_id: 'p1', ...(quantity === undefined ? {} : { quantity }) },
          {
            timestampMs: at(days),
          },
        );
      const three = applyAll([added('p1', 10, 1, { quantity: 3 })]);
      const one = applyAll([removed(2, 2)], policy, three);
      expect(one.cart).toMatchObject({
        items: [{ productId: 'p1', quantity: 1 }],
        valueCents: 1000,
      });
      expect(applyAll([removed(3)], policy, one).cart).toBeNull();
    });

    it('replaces the cart with the products of Cart Viewed and Checkout Started', () => {
      const viewed = applyAll([
        added('p1', 10, 1),
        aTrack(
          'Cart Viewed',
          { products: [{ product_id: 'p2', price: 3, quantity: 2 }, { name: 'no id' }] },
          { timestampMs: at(2) },
        ),
      ]);
      expect(viewed.cart).toEqual({
        items: [
          {
            productId: 'p2',
            sku: null,
            name: null,
            priceCents: 300,
            quantity: 2,
            marginCents: null,
          },
        ],
        valueCents: 600,
        updatedAtMs: at(2),
      });
      const checkout = applyAll(
        [
          aTrack(
            'Checkout Started',
            { products: [{ sku: 'S-9', price: 7 }] },
            { timestampMs: at(3) },
          ),
        ],
        policy,
        viewed,
      );
      expect(checkout.cart?.items.map((i) => i.productId)).toEqual(['S-9']);
      const emptied = applyAll(
        [aTrack('Checkout Started', { products: [] }, { timestampMs: at(4) })],
        policy,
        checkout,
      );
      expect(emptied.cart).toBeNull();
    });

    it('keeps the cart when Cart Viewed lists no products', () => {
      const state = applyAll([
        added('p1', 10, 1),
        aTrack('Cart Viewed', {}, { timestampMs: at(2) }),
      ]);
      expect(state.cart?.items).toHaveLength(1);
      expect(state.cart?.updatedAtMs).toBe(at(1));
    });

    it('empties the cart when the order is completed', () => {
      const state = applyAll([
        added('p1', 10, 1),
        aTrack('Order Completed', { order_id: 'o1', total: 10 }, { timestampMs: at(2) }),
      ]);
      expect(state.cart).toBeNull();
    });

    it('places a late cart change at its time, as a rebuild in time order does', () => {
      const cart = applyAll([added('p1', 10, 5)]);
      const late = [
        added('p2', 4, 4),
        aTrack('Product Removed', { product_id: 'p1' }, { timestampMs: at(3) }),
        aTrack('Cart Viewed', { products: [] }, { timestampMs: at(2) }),
        aTrack('Order Completed', { order_id: 'o0', total: 1 }, { timestampMs: at(1) }),
      ];
      const after = applyAll(late, policy, cart);
      const inTime = applyAll([...late].reverse().concat([added('p1', 10, 5)]));
      expect(after.cart).toEqual(inTime.cart);
      expect(after.cart?.items.map((i) => i.productId)).toEqual(['p2', 'p1']);
    });

    it('dates an emptied cart by the change that emptied it, in any arrival order', () => {
      const add = added('p1', 10, 1);
      const remove = aTrack('Product Removed', { product_id: 'p1' }, { timestampMs: at(2) });
      expect(applyAll([add, remove])).toMatchObject({ cart: null, cartClosedAtMs: at(2) });
      expect(applyAll([remove, add])).toMatchObject({ cart: null, cartClosedAtMs: at(2) });
      // A removal of what was never in the cart closes nothing.
      expect(applyAll([remove]).cartClosedAtMs).toBeUndefined();
      // Whatever order they come in, the close is the one time order gives: none when a late
      // add leaves the cart holding something, the first emptying when a second removal finds
      // it empty.
      const removeOne = (days: number) =>
        aTrack('Product Removed', { product_id: 'p1', quantity: 1 }, { timestampMs: at(days) });
      const inTime = (events: HeraldEvent[]) =>
        applyAll([...events].sort((a, b) => a.timestampMs - b.timestampMs)).cartClosedAtMs;
      for (const events of [
        [removeOne(2), added('p1', 10, 1), added('p1', 10, 1.5)],
        [added('p1', 10, 1), removeOne(3), removeOne(2)],
      ])
        expect(applyAll(events).cartClosedAtMs).toBe(inTime(events));
      expect(inTime([added('p1', 10, 1), removeOne(3), removeOne(2)])).toBe(at(2));
    });

    it('never lets a late cart change reopen a cart an order closed, in any order', () => {
      const order = aTrack(
        'Order Completed',
        { order_id: 'o1', total: 10 },
        { timestampMs: at(5) },
      );
      const events = [added('p1', 10, 1), order, added('p2', 4, 3)];
      for (const arrival of [events, [...events].reverse()])
        expect(applyAll(arrival).cart).toBeNull();
      // An order arriving after a later addition takes out only what came before it.
      const lateOrder = applyAll([added('p1', 80, 1), added('p2', 30, 7), order]);
      expect(lateOrder.cart?.items.map((i) => i.productId)).toEqual(['p2']);
      // Emptied by removing its last item at day 5, an addition stamped day 3 arriving late was
      // in the cart all along: the removal leaves it.
      const emptied = applyAll([
        added('p1', 10, 1),
        aTrack('Product Removed', { product_id: 'p1', quantity: 1 }, { timestampMs: at(5) }),
        added('p2', 4, 3),
      ]);
      expect(emptied.cart?.items.map((i) => i.productId)).toEqual(['p2']);
      // A change after the close opens a new cart.
      expect(applyAll([added('p1', 10, 1), order, added('p3', 7, 6)]).cart?.items).toHaveLength(1);
    });

    it('keeps its log to 50 changes within a week of the newest, those before its snapshot stale', () => {
      const many = applyAll(
        Array.from({ length: 80 }, (_, i) => added(`p${String(i % 5)}`, 1, i / 24)),
      );
      expect(many.cartLog?.length).toBeLessThanOrEqual(50);
      expect(many.cart?.items.reduce((n, i) => n + i.quantity, 0)).toBe(80);
      // p1, more than a week behind p2, is folded into a snapshot of day 0.
      const spread = applyAll([added('p1', 10, 0), added('p2', 10, 10)]);
      // Before the snapshot: stale; after it, within the week or not: applied at its time, as a
      // rebuild does (a snapshot stamped at the week's start, day 3, made day 1 stale too).
      expect(
        applyAll([added('p3', 10, -1)], policy, spread).cart?.items.map((i) => i.productId),
      ).toEqual(['p1', 'p2']);
      for (const day of [1, 5])
        expect(
          applyAll([added('p3', 10, day)], policy, spread).cart?.items.map((i) => i.productId),
        ).toEqual(['p1', 'p3', 'p2']);
      // A late removal that changed nothing, folded alone, no longer makes stale the additions
      // of the week before the window that come after it.
      const late = applyAll(
        [
          added('p2', 10, 31),
          aTrack('Product Removed', { product_id: 'p2', quantity: 1 }, { timestampMs: at(0) }),
          added('p2', 10, 17, { quantity: 2 }),
        ],
        policy,
      );
      expect(late.cart?.items.map((i) => [i.productId, i.quantity])).toEqual([['p2', 3]]);
    });

    it('comes to the same cart whatever order its events arrive in', () => {
      const random = seededRandom(42);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random.next() * list.length)] as T;
      for (let run = 0; run < 300; run += 1) {
        const events = Array.from({ length: 2 + Math.floor(random.next() * 10) }, (_, i) => {
          const atMs = at(0) + (i + 1) * 60_000 + Math.floor(random.next() * 30) * 1000;
          const product = pick(['p1', 'p2', 'p3']);
          const quantity = 1 + Math.floor(random.next() * 3);
          switch (pick(['add', 'add', 'add', 'remove', 'view', 'order'])) {
            case 'add':
              return aTrack(
                'Product Added',
                { product_id: product, price: 5, quantity },
                { timestampMs: atMs },
              );
            case 'remove':
              return aTrack(
                'Product Removed',
                { product_id: product, quantity },
                { timestampMs: atMs },
              );
            case 'view':
              return aTrack(
                'Cart Viewed',
                { products: [{ product_id: product, price: 5, quantity }] },
                { timestampMs: atMs },
              );
            default:
              return aTrack(
                'Order Completed',
                { order_id: `o${String(i)}`, total: 5 },
                { timestampMs: atMs },
              );
          }
        });
        const inTime = [...events].sort((a, b) => a.timestampMs - b.timestampMs);
        const shuffled = [...events].sort(() => random.next() - 0.5);
        expect(
          applyAll(shuffled).cart,
          JSON.stringify(shuffled.map((e) => [e.name, e.timestampMs])),
        ).toEqual(applyAll(inTime).cart);
      }
    });

    it('ignores products without an id and cart events that are not track calls', () => {
      const state = applyAll([
        aTrack('Product Added', { name: 'Mystery', price: 10 }),
        anEvent({ type: 'page', name: 'Product Added', properties: { product_id: 'p1' } }),
      ]);
      expect(state.cart).toBeNull();
    });
  });

  describe('signup', () => {
    it('reads the signup from the createdAt trait', () => {
      expect(applyAll([anIdentify({ createdAt: '2024-05-01T00:00:00Z' })]).signedUpAtMs).toBe(
        Date.parse('2024-05-01T00:00:00Z'),
      );
      expect(applyAll([anIdentify({ created_at: at(-3) })]).signedUpAtMs).toBe(at(-3));
    });

    it('reads the signup from Signed Up and Account Created', () => {
      expect(applyAll([aTrack('Signed Up', {}, { timestampMs: at(2) })]).signedUpAtMs).toBe(at(2));
      expect(applyAll([aTrack('Account Created', {}, { timestampMs: at(4) })]).signedUpAtMs).toBe(
        at(4),
      );
    });

    it('keeps the earliest signup it hears of', () => {
      const state = applyAll([
        aTrack('Signed Up', {}, { timestampMs: at(10) }),
        anIdentify({ createdAt: new Date(at(-100)).toISOString() }, { timestampMs: at(11) }),
        aTrack('Signed Up', {}, { timestampMs: at(12) }),
      ]);
      expect(state.signedUpAtMs).toBe(at(-100));
    });

    it('reads a createdAt as ISO 8601 only, in UTC without a zone, wherever Herald runs', () => {
      const zone = process.env['TZ'];
      process.env['TZ'] = 'Asia/Tokyo';
      try {
        expect(applyAll([anIdentify({ createdAt: '2026-02-20T09:00:00' })]).signedUpAtMs).toBe(
          Date.UTC(2026, 1, 20, 9),
        );
        for (const createdAt of ['1', 'March 1, 2024'])
          expect(applyAll([anIdentify({ createdAt })]).signedUpAtMs).toBeNull();
      } finally {
        if (zone === undefined) delete process.env['TZ'];
        else process.env['TZ'] = zone;
      }
    });

    it('ignores an unreadable createdAt and createdAt on other calls', () => {
      const state = applyAll([
        anIdentify({ createdAt: 'last spring' }),
        aTrack('Product Viewed', {}, { traits: { createdAt: '2020-01-01T00:00:00Z' } }),
      ]);
      expect(state.signedUpAtMs).toBeNull();
    });
  });
});

describe('amounts, signup dates and bounce types as events stored before the rules hold them', () => {
  const at = (d: number) => ({ timestampMs: t0 + daysMs(d), receivedAtMs: t0 + daysMs(d) });
  const policy = defaultPolicy();

  it('counts an amount that is no number of 0 or more as 0, not the products instead', () => {
    const refunded = applyAll([
      aTrack('Order Completed', { order_id: 'A', total: 100 }, at(0)),
      aTrack('Order Refunded', { order_id: 'A', total: -950 }, at(1)),
    ]);
    const computed = deriveComputed(refunded, t0 + daysMs(2), policy);
    expect({ ltv: computed.ltv, vip: computed.vip }).toEqual({ ltv: 100, vip: false });
    const cancelled = applyAll([
      aTrack('Order Completed', { order_id: 'A', total: 100 }, at(0)),
      aTrack('Order Cancelled', { total: -950 }, at(1)),
    ]);
    // What it takes back is 0: the spend is as it was, not raised by 950.
    expect(deriveComputed(cancelled, t0 + daysMs(2), policy).ltv).toBe(100);
    expect(orderValueCents({ total: '1e309', products: [{ price: 5 }] })).toBe(0);
    expect(orderValueCents({ products: [{ price: 5 }, { price: -3 }] })).toBe(500);
    expect(orderValueCents({ total: ' ', products: [{ price: 5 }] })).toBe(500);
  });

  it('reads a signup date written as epoch milliseconds in text', () => {
    const state = applyAll([anIdentify({ createdAt: '1577836800000' }, at(0))]);
    expect(state.signedUpAtMs).toBe(Date.UTC(2020, 0, 1));
    expect(deriveComputed(state, t0 + daysMs(1), policy).lifecycleStage).not.toBe('new');
    // A compact date and time is no epoch time.
    for (const written of ['202606031200', '20260603120000'])
      expect(applyAll([anIdentify({ createdAt: written }, at(0))]).signedUpAtMs).toBeNull();
  });

  it('counts a bounce whose type is blank or not text as no hard bounce', () => {
    for (const kind of ['', false, { kind: 'soft' }]) {
      const state = applyAll([aTrack('Email Bounced', { bounce_type: kind }, at(0))]);
      expect({ bounces: state.email.hardBounces, points: state.engagement.points }).toEqual({
        bounces: 0,
        points: 0,
      });
    }
    const hard = applyAll([aTrack('Email Bounced', { bounce_type: ' Hard ' }, at(0))]);
    expect(hard.email.hardBounces).toBe(1);
  });
});
