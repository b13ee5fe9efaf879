import { describe, expect, it } from 'vitest';
import { cartFingerprint } from '../../core/cart-fingerprint.js';
import type { Channel, ProfileState } from '../../core/profile.js';
import { HOUR_MS } from '../../core/time.js';
import {
  checkAtHandOff,
  checkReputationAtHandOff,
  checkTimingAtHandOff,
  DOMAIN_PAUSED_HOLD_MS,
} from './hand-off.js';
import { aProfile, defaultGuardPolicy, defaultQuietHours, now } from './test-builders.js';

// `now` is 08:00 in New York: 21:05 there is 13 h 5 min later, 02:00 the next night 18 h.
const ny = aProfile();
const quiet = defaultQuietHours();
const sms = (createdAtMs: number, overrides: object = {}) => ({
  channel: 'sms' as const,
  class: 'marketing' as const,
  createdAtMs,
  ...overrides,
});
const at = (hours: number, minutes = 0) => now + hours * HOUR_MS + minutes * 60_000;

describe('the timing check at hand-off', () => {
  it('lets a marketing message go outside quiet hours, when it is due', () => {
    expect(checkTimingAtHandOff(sms(at(2)), ny, quiet, 24, at(2, 30))).toBeNull();
  });

  it('holds a retry pushed into the customer’s quiet hours until they end', () => {
    // Queued at 20:50 local, retried at 21:05 local: it waits until 08:00 local, and is due
    // then as late as it was at 21:05 (15 min).
    expect(checkTimingAtHandOff(sms(at(12, 50)), ny, quiet, 24, at(13, 5))).toEqual({
      holdUntilMs: at(24),
      holdCode: 'quiet_hours',
      reason: 'quiet hours in America/New_York',
      dueAtMs: at(23, 45),
    });
  });

  it('counts no lateness for the quiet hours a message waited out, only what it had before', () => {
    // Due at 13:00 local, reached at 21:05 after an outage (8 h 5 min late, 9 h allowed): held
    // until 08:00, it is still 8 h 5 min late then, and no more than that.
    const held = checkTimingAtHandOff(sms(at(5)), ny, quiet, 9, at(13, 5));
    expect(held).toEqual({
      holdUntilMs: at(24),
      holdCode: 'quiet_hours',
      reason: 'quiet hours in America/New_York',
      dueAtMs: at(15, 55),
    });
    const dueAtMs = held !== null && 'dueAtMs' in held ? held.dueAtMs : undefined;
    expect(checkTimingAtHandOff(sms(at(5), { dueAtMs }), ny, quiet, 9, at(24))).toBeNull();
    expect(checkTimingAtHandOff(sms(at(5), { dueAtMs }), ny, quiet, 9, at(24, 56))).toMatchObject({
      code: 'stale',
    });
  });

  it('refuses a message whose offer’s code expired since it was judged, whatever its channel', () => {
    const expired = {
      code: 'offer_expired',
      reason: `the code of its offer expired ${new Date(at(1)).toISOString()}, before it left`,
    };
    expect(checkTimingAtHandOff(sms(at(0), { offerEndsMs: at(1) }), ny, quiet, 24, at(1))).toEqual(
      expired,
    );
    expect(
      checkTimingAtHandOff(
        sms(at(0), { offerEndsMs: at(1), channel: 'web' }),
        ny,
        quiet,
        24,
        at(3),
      ),
    ).toEqual(expired);
    expect(
      checkTimingAtHandOff(sms(at(0), { offerEndsMs: at(1) }), ny, quiet, 24, at(0, 59)),
    ).toBeNull();
  });

  it('refuses a message whose copy cites a document that expired since, whatever its class', () => {
    const expired = {
      code: 'content_expired',
      reason: `its copy cites a document that expired ${new Date(at(1)).toISOString()}, before it left`,
    };
    expect(checkTimingAtHandOff(sms(at(0), { validUntilMs: at(1) }), ny, quiet, 24, at(1))).toEqual(
      expired,
    );
    expect(
      checkTimingAtHandOff(
        sms(at(0), { validUntilMs: at(1), class: 'transactional', channel: 'web' }),
        ny,
        quiet,
        24,
        at(2),
      ),
    ).toEqual(expired);
    expect(
      checkTimingAtHandOff(sms(at(0), { validUntilMs: at(1) }), ny, quiet, 24, at(0, 59)),
    ).toBeNull();
  });

  it('refuses a marketing message due longer ago than the lateness allowed, retries or not', () => {
    expect(checkTimingAtHandOff(sms(at(-50)), ny, quiet, 24, at(2))).toEqual({
      code: 'stale',
      reason: 'due 52 h ago, past the 24 h a marketing message may be late',
    });
    expect(checkTimingAtHandOff(sms(at(-20)), ny, quiet, 24, at(2))).toBeNull();
    expect(checkTimingAtHandOff(sms(at(-50), { dueAtMs: at(-30) }), ny, quiet, 24, at(2))).toEqual({
      code: 'stale',
      reason: 'due 32 h ago, past the 24 h a marketing message may be late',
    });
  });

  it('counts lateness from when the message was meant to leave, not when it was decided', () => {
    // Sent at the customer's best hour a day later, or approved by a reviewer 40 h after it
    // was recorded: neither is late on the hour it was due.
    expect(checkTimingAtHandOff(sms(at(-40), { dueAtMs: at(1) }), ny, quiet, 24, at(2))).toBeNull();
    expect(
      checkTimingAtHandOff(sms(at(-40), { dueAtMs: at(1) }), ny, quiet, 24, at(25, 1)),
    ).toMatchObject({ code: 'stale' });
  });

  it('never holds or refuses a transactional message or web content', () => {
    const midnight = at(16);
    for (const message of [
      sms(at(-50), { class: 'transactional' }),
      sms(at(-50), { channel: 'web' }),
    ])
      expect(checkTimingAtHandOff(message, ny, quiet, 24, midnight)).toBeNull();
  });
});

describe('the reputation check at hand-off', () => {
  const policy = defaultGuardPolicy();
  const email = { channel: 'email' as const, class: 'marketing' as const };
  const domain = (sent: number, bounced: number, complained: number) => ({
    domain: 'mail.example.com',
    sent,
    bounced,
    complained,
  });

  it('holds marketing email from a domain paused since it was judged, then tries it again', () => {
    expect(checkReputationAtHandOff(email, domain(1000, 50, 0), policy, now)).toEqual({
      holdUntilMs: now + DOMAIN_PAUSED_HOLD_MS,
      holdCode: 'domain_paused',
      reason: 'mail.example.com: bounce rate 5 % reached 5 %: marketing email from it is held',
    });
    expect(checkReputationAtHandOff(email, domain(1000, 0, 3), policy, now)).toMatchObject({
      reason:
        'mail.example.com: complaint rate 0.3 % reached 0.3 %: marketing email from it is held',
    });
  });

  it('lets it go from a domain within its limits, too new to judge, or not known yet', () => {
    expect(checkReputationAtHandOff(email, domain(1000, 49, 2), policy, now)).toBeNull();
    expect(checkReputationAtHandOff(email, domain(99, 50, 10), policy, now)).toBeNull();
    expect(checkReputationAtHandOff(email, null, policy, now)).toBeNull();
  });

  it('never holds transactional email or another channel', () => {
    const paused = domain(1000, 100, 10);
    expect(
      checkReputationAtHandOff({ ...email, class: 'transactional' }, paused, policy, now),
    ).toBeNull();
    expect(checkReputationAtHandOff({ ...email, channel: 'sms' }, paused, policy, now)).toBeNull();
  });
});

describe('the consent check at hand-off', () => {
  const policy = { autoOptOutHardBounces: 3, gdpr: defaultGuardPolicy().gdpr };
  const email = (topic: string | null, agent = 'lifecycle', createdAtMs = now - HOUR_MS) => ({
    channel: 'email' as const,
    class: 'marketing' as const,
    topic,
    agent,
    createdAtMs,
  });
  it('refuses a message whose topic the customer unsubscribed from since it was judged', () => {
    const profile = aProfile({
      consent: {
        email: {
          marketing: { granted: true, atMs: now, source: 'form' },
          promotions: { granted: false, atMs: now, source: 'Unsubscribed', explicit: true },
        },
      },
    });
    expect(checkAtHandOff(email('promotions'), profile, policy, now)).toMatchObject({
      code: 'unsubscribed_topic',
    });
    expect(checkAtHandOff(email('onboarding'), profile, policy, now)).toBeNull();
    expect(
      checkAtHandOff({ ...email('promotions'), class: 'transactional' }, profile, policy, now),
    ).toBeNull();
  });
  it('refuses marketing to a GDPR customer whose consent ran out since it was judged', () => {
    const grantedAtMs = now - 1095 * 24 * HOUR_MS;
    const profile = aProfile({
      location: { country: 'DE', region: null, city: null, timezone: 'Europe/Berlin' },
      consent: { web: { marketing: { granted: true, atMs: grantedAtMs, source: 'form' } } },
    });
    const banner = { ...email(null), channel: 'web' as const };
    // Consent must be younger than the limit: on the moment it reaches 1,095 days, it expired.
    expect(checkAtHandOff(banner, profile, policy, now - 1)).toBeNull();
    expect(checkAtHandOff(banner, profile, policy, now)).toMatchObject({
      code: 'gdpr_consent_expired',
    });
    expect(
      checkAtHandOff({ ...banner, class: 'transactional' }, profile, policy, now + 1),
    ).toBeNull();
    // Outside the EU the age does not count.
    expect(
      checkAtHandOff(banner, aProfile({ consent: profile.consent }), policy, now + 1),
    ).toBeNull();
  });
  it('refuses marketing to a customer placed in the EU since it was judged, without consent', () => {
    // Judged with no country (GDPR did not apply); an identify gave Germany before it left.
    const berlin = { country: 'DE', region: null, city: null, timezone: 'Europe/Berlin' };
    const placed = aProfile({ location: berlin, consent: {} });
    expect(checkAtHandOff(email(null), placed, policy, now)).toEqual({
      code: 'gdpr_no_consent',
      reason: 'GDPR (DE): no marketing consent for email, as the message was to leave',
    });
    // Consent from an implied source is refused as the guardrail refuses it.
    const implied = aProfile({
      location: berlin,
      consent: { email: { marketing: { granted: true, atMs: now, source: 'implied' } } },
    });
    expect(checkAtHandOff(email(null), implied, policy, now)).toMatchObject({
      code: 'gdpr_consent_implied',
    });
    const explicit = aProfile({
      location: berlin,
      consent: { email: { marketing: { granted: true, atMs: now, source: 'form' } } },
    });
    expect(checkAtHandOff(email(null), explicit, policy, now)).toBeNull();
  });
});

describe('the consent guardrail’s rules, again at hand-off', () => {
  const policy = { autoOptOutHardBounces: 3, gdpr: defaultGuardPolicy().gdpr };
  const message = (channel: Channel, cls: 'marketing' | 'transactional' = 'marketing') => ({
    channel,
    class: cls,
    topic: 'promotions',
    agent: 'journey',
    createdAtMs: now - HOUR_MS,
  });
  const given = (granted: boolean) => ({
    granted,
    atMs: now,
    source: 'Consent Updated',
    explicit: true as const,
  });

  it('refuses marketing the customer’s preferences now exclude: channels, topics, cadence never', () => {
    const codeOf = (preferences: Record<string, unknown>) =>
      checkAtHandOff(message('email'), aProfile({ preferences }), policy, now)?.code ?? null;
    expect(codeOf({ cadence: 'never' })).toBe('cadence');
    expect(codeOf({ channels: ['sms'] })).toBe('channel_preference');
    expect(codeOf({ topics: ['newsletter'] })).toBe('topic_preference');
    expect(codeOf({ channels: ['Email'], topics: 'Promotions' })).toBeNull();
    // The cadence window needs the send history, which hand-off does not read: judged when the
    // message was recorded, against every message sent or queued then.
    expect(codeOf({ cadence: 'weekly' })).toBeNull();
    // Preferences are about marketing: a receipt still goes.
    expect(
      checkAtHandOff(
        message('email', 'transactional'),
        aProfile({ preferences: { cadence: 'never', channels: ['sms'] } }),
        policy,
        now,
      ),
    ).toBeNull();
  });

  it('refuses a transactional message on SMS, WhatsApp or push opted out of since, and WhatsApp without an opt-in', () => {
    const codeOf = (channel: Channel, consent: ProfileState['consent']) =>
      checkAtHandOff(message(channel, 'transactional'), aProfile({ consent }), policy, now)?.code ??
      null;
    for (const channel of ['sms', 'whatsapp', 'push'] as const)
      expect(codeOf(channel, { [channel]: { marketing: given(false) } })).toBe('unsubscribed');
    // A number given for the order is consent to texts about it; WhatsApp asks for an opt-in.
    expect(codeOf('sms', {})).toBeNull();
    expect(codeOf('whatsapp', {})).toBe('no_consent');
    expect(codeOf('whatsapp', { whatsapp: { transactional: given(true) } })).toBeNull();
    expect(codeOf('whatsapp', { whatsapp: { marketing: given(true) } })).toBeNull();
    // An email address unsubscribed from marketing still gets its receipts, unless the
    // customer withdrew them too.
    expect(codeOf('email', { email: { marketing: given(false) } })).toBeNull();
    expect(codeOf('email', { email: { transactional: given(false) } })).toBe('unsubscribed');
  });
});

describe('an offer made moot since it was made', () => {
  const policy = { autoOptOutHardBounces: 3, gdpr: defaultGuardPolicy().gdpr };
  const offer = (agent: string, topic: string, createdAtMs: number) => ({
    channel: 'email' as const,
    class: 'marketing' as const,
    topic,
    agent,
    createdAtMs,
  });
  it('refuses a cart offer after the customer emptied the cart', () => {
    const emptied = aProfile({
      cartClosedAtMs: now,
      orders: { ...aProfile().orders, lastAtMs: null },
    });
    expect(
      checkAtHandOff(offer('cart', 'promotions', now - HOUR_MS), emptied, policy, now),
    ).toMatchObject({
      code: 'superseded',
      reason: expect.stringMatching(/emptied the cart/) as unknown,
    });
    expect(checkAtHandOff(offer('cart', 'promotions', now + 1), emptied, policy, now)).toBeNull();
  });

  it('refuses a cart offer after the cart changed, not after a look at it that changed nothing', () => {
    const item = (productId: string, priceCents: number) => ({
      productId,
      sku: null,
      name: null,
      priceCents,
      quantity: 1,
      marginCents: null,
    });
    const [coat, sofa] = [item('coat', 9_000), item('sofa', 60_000)];
    const made = now - HOUR_MS;
    const offered = {
      ...offer('cart', 'promotions', made),
      cartAsOffered: cartFingerprint([coat]),
    };
    const holding = (items: (typeof coat)[]) =>
      aProfile({
        cart: { items, valueCents: 0, updatedAtMs: now - 60_000 },
        orders: { ...aProfile().orders, lastAtMs: null },
      });
    // Offered 25 % for a $90 cart; a $600 sofa added since: the offer was for another cart.
    expect(checkAtHandOff(offered, holding([coat, sofa]), policy, now)).toMatchObject({
      code: 'superseded',
      reason: expect.stringMatching(/changed the cart/) as unknown,
    });
    // Viewed since (the cart's time moved on), the same coat: the offer stands.
    expect(checkAtHandOff(offered, holding([{ ...coat }]), policy, now)).toBeNull();
    // An offer recorded before offers kept their cart is let go, as before this check existed.
    expect(
      checkAtHandOff(offer('cart', 'promotions', made), holding([coat, sofa]), policy, now),
    ).toBeNull();
  });

  it('refuses a message about a cart once the cart is gone, whatever the order’s time', () => {
    const coat = {
      productId: 'coat',
      sku: null,
      name: null,
      priceCents: 9_000,
      quantity: 1,
      marginCents: null,
    };
    const made = now - HOUR_MS;
    // Ordered from a phone five minutes before the offer was made, recorded after it: the
    // order's time is before the offer's, and the cart is closed.
    const closed = aProfile({
      cart: null,
      orders: { ...aProfile().orders, lastAtMs: made - 5 * 60_000 },
    });
    const cartOffer = {
      ...offer('cart', 'promotions', made),
      cartAsOffered: cartFingerprint([coat]),
    };
    expect(checkAtHandOff(cartOffer, closed, policy, now)).toMatchObject({
      code: 'superseded',
      reason: 'the cart is no longer open: ordered or emptied since the cart offer was made for it',
    });
    // A cart journey's reminder keeps its cart too, and goes no more once it is emptied.
    const reminder = {
      ...offer('journey', 'promotions', made),
      cartAsOffered: cartFingerprint([coat]),
    };
    const emptied = aProfile({
      cart: null,
      cartClosedAtMs: now - 60_000,
      orders: { ...aProfile().orders, lastAtMs: null },
    });
    expect(checkAtHandOff(reminder, emptied, policy, now)).toMatchObject({
      code: 'superseded',
      reason: expect.stringMatching(
        /emptied the cart .* after the message about the cart/,
      ) as unknown,
    });
    // Another journey's message does not depend on the cart.
    expect(checkAtHandOff(offer('journey', 'promotions', made), emptied, policy, now)).toBeNull();
  });

  it('refuses a win-back or lifecycle offer for an order or visit it was not judged on, whatever its time', () => {
    const made = now - HOUR_MS;
    const judgedOn = {
      orders: 1,
      lastOrderAtMs: made - 100 * 86_400_000,
      lastActiveAtMs: made - 95 * 86_400_000,
    };
    // Came back five minutes before the wave was made; recorded after it.
    const visited = aProfile({
      lastActiveAtMs: made - 5 * 60_000,
      orders: { ...aProfile().orders, count: 1, lastAtMs: judgedOn.lastOrderAtMs },
    });
    const wave = { ...offer('win-back', 'win-back', made), judgedOn };
    expect(checkAtHandOff(wave, visited, policy, now)).toMatchObject({
      code: 'superseded',
      reason: expect.stringMatching(/recorded after the win-back wave was made/) as unknown,
    });
    // Without what it was judged on (recorded before it was kept), only its own time counts.
    expect(checkAtHandOff(offer('win-back', 'win-back', made), visited, policy, now)).toBeNull();
    // An order stamped before the last one known, recorded since: the count says so.
    const ordered = aProfile({
      lastActiveAtMs: judgedOn.lastActiveAtMs,
      orders: { ...aProfile().orders, count: 2, lastAtMs: judgedOn.lastOrderAtMs },
    });
    const stageOffer = { ...offer('lifecycle', 'win-back', made), offerEndsMs: now + 1, judgedOn };
    expect(checkAtHandOff(stageOffer, ordered, policy, now)).toMatchObject({ code: 'superseded' });
    // Nothing since: it goes.
    const unchanged = aProfile({
      lastActiveAtMs: judgedOn.lastActiveAtMs,
      orders: { ...aProfile().orders, count: 1, lastAtMs: judgedOn.lastOrderAtMs },
    });
    expect(checkAtHandOff(stageOffer, unchanged, policy, now)).toBeNull();
    expect(checkAtHandOff(wave, unchanged, policy, now)).toBeNull();
  });

  it('refuses a cart offer after an order, and a win-back message after a visit', () => {
    const ordered = aProfile({
      orders: { ...aProfile().orders, lastAtMs: now },
      lastActiveAtMs: now,
    });
    expect(
      checkAtHandOff(offer('cart', 'promotions', now - HOUR_MS), ordered, policy, now),
    ).toMatchObject({
      code: 'superseded',
    });
    expect(
      checkAtHandOff(offer('win-back', 'win-back', now - HOUR_MS), ordered, policy, now),
    ).toMatchObject({
      code: 'superseded',
    });
    // A lifecycle offer to an at-risk customer who is still active is not a win-back wave: a
    // visit leaves it, an order since it was made does not.
    const visited = aProfile({
      lastActiveAtMs: now,
      orders: { ...aProfile().orders, lastAtMs: null },
    });
    const stageOffer = { ...offer('lifecycle', 'win-back', now - HOUR_MS), offerEndsMs: now + 1 };
    expect(checkAtHandOff(stageOffer, visited, policy, now)).toBeNull();
    expect(checkAtHandOff(stageOffer, ordered, policy, now)).toMatchObject({
      code: 'superseded',
      reason: expect.stringMatching(/ordered on .* after the offer to win them back/) as unknown,
    });
    expect(
      checkAtHandOff(offer('lifecycle', 'win-back', now - HOUR_MS), ordered, policy, now),
    ).toBeNull();
    // Made after the order and the visit: they go.
    expect(checkAtHandOff(offer('cart', 'promotions', now + 1), ordered, policy, now)).toBeNull();
    expect(checkAtHandOff(offer('win-back', 'win-back', now + 1), ordered, policy, now)).toBeNull();
    // Other messages do not depend on it.
    expect(
      checkAtHandOff(offer('lifecycle', 'onboarding', now - HOUR_MS), ordered, policy, now),
    ).toBeNull();
  });
});
