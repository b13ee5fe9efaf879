import type { HeraldEvent, JsonObject } from '../../core/event.js';
import {
  channelOf,
  channels,
  impliedSourceOf,
  isExplicitFact,
  purposeOf,
  type Channel,
  type Consent,
  type ConsentEntry,
} from '../../core/profile.js';
import { asConsentAnswer, asObject, asString, pick } from '../../core/read-props.js';

/** One fact, without the other kind's. */
const factOf = ({ other: _, ...fact }: ConsentEntry): ConsentEntry => {
  if (fact.explicit === true) delete fact.sinceMs;
  return fact;
};

/**
 * The latest traits fact after another: the newer one, but a value restated keeps the time it
 * was first stated (`sinceMs`) — the earlier of the two when they agree, whichever came first.
 * Only the latest fact is kept, so a contrary statement arriving late (older than the one held)
 * can only move `sinceMs` up to its own time: the value was stated again after it, at a time no
 * longer known. `sinceMs` is therefore never later than the true start of the run — the age
 * of consent errs old, towards asking again — and only it, never the value or `atMs`, can
 * depend on the order statements arrive in.
 *
 * A grant from an explicit source after an implied one in time (`implied`, then
 * `double-opt-in`), whichever arrived first, is a new statement. Any other change of source
 * restates it: two integrations resending one grant, each under its own source (a signup
 * form's, a CRM's default `identify`), would otherwise make it new every day. Restated, the
 * entry takes the latest statement's source, an implied one's too: which source stated a run
 * first cannot be told once only the latest fact is kept (a withdrawal may have come between),
 * so the source errs towards asking again, whatever order the statements arrive in.
 */
const restated = (
  held: ConsentEntry | undefined,
  fact: ConsentEntry,
  implied: readonly string[],
): ConsentEntry => {
  const latest = newer(held, fact);
  if (held === undefined) return latest;
  // In time order, whichever arrived first: an explicit grant held, then an older implied one
  // arriving, was an implied grant restated by an explicit one — a new statement; an implied
  // grant held, then an older explicit one arriving, was the explicit grant restated.
  const earlier = latest === held ? fact : held;
  const upgrades =
    impliedSourceOf(earlier.source, implied) !== null &&
    impliedSourceOf(latest.source, implied) === null;
  if (held.granted !== fact.granted || upgrades)
    // `latest === held`: the held fact is strictly newer (a tie goes to the fact).
    return latest === held && held.sinceMs !== undefined && fact.atMs > held.sinceMs
      ? { ...held, sinceMs: fact.atMs }
      : latest;
  const sinceMs = Math.min(held.sinceMs ?? held.atMs, fact.sinceMs ?? fact.atMs);
  return sinceMs === latest.atMs ? latest : { ...latest, sinceMs };
};

/**
 * The newer of two facts: by their dates, then — dated alike, as facts stamped after Herald
 * heard of them are (dated when received) — by when their source stamped them, as a replay
 * orders them. A full tie goes to the withdrawal, whichever arrived last (a preference centre
 * sending both in one batch, stamped to the second), else to `b`, the fact being applied.
 */
const newer = (a: ConsentEntry | undefined, b: ConsentEntry): ConsentEntry => {
  if (a === undefined) return b;
  if (a.atMs !== b.atMs) return a.atMs > b.atMs ? a : b;
  const [aStamp, bStamp] = [a.stampedAtMs ?? a.atMs, b.stampedAtMs ?? b.atMs];
  if (aStamp !== bStamp) return aStamp > bStamp ? a : b;
  return a.granted !== b.granted && !a.granted ? a : b;
};

/**
 * The consent held for one channel and purpose, from the latest fact of each kind: what an
 * event said the customer chose (`Consent Updated`, `Unsubscribed`, a complaint — explicit)
 * and what identify traits said. An explicit withdrawal stands until a newer explicit grant:
 * traits granting again never undo it, whatever their times — integrations resend every trait,
 * stale consent included. Otherwise the newer fact wins. Each kind keeps its latest fact, so
 * the outcome does not depend on the order events arrive in. The entry is the fact that holds;
 * `other` keeps the latest fact of the other kind, for the next fact to be weighed against.
 */
const settle = (explicit: ConsentEntry | undefined, traits: ConsentEntry | undefined) => {
  const held =
    explicit === undefined
      ? traits
      : !explicit.granted || traits === undefined
        ? explicit
        : newer(explicit, traits);
  const other = held === explicit ? traits : explicit;
  return held === undefined ? undefined : other === undefined ? held : { ...held, other };
};

/**
 * What a fact says was withdrawn when a later withdrawal follows it: the fact itself, or — when
 * it is an explicit withdrawal START may undo (a STOP, a preference centre's switch; not an
 * unsubscribe from every channel) — what it withdrew in turn, its own `before`, if known. A STOP
 * texted twice withdrew the grant before the first.
 */
const withdrawnBy = (f: ConsentEntry): { granted: boolean; atMs: number } | undefined =>
  !f.granted && isExplicitFact(f) && f.everyChannel !== true
    ? f.before
    : { granted: f.granted, atMs: f.atMs };

/**
 * The entry with its explicit withdrawal's `before` brought up to date: the newest of what it
 * knew, and what the facts held and the one applied that are dated before it withdrew
 * (`withdrawnBy`; a tie counts as before). What a STOP withdrew, a START may give back; facts
 * are weighed whenever they arrive, so the outcome does not depend on the order.
 */
const withBefore = (
  entry: ConsentEntry | undefined,
  seen: readonly ConsentEntry[],
): ConsentEntry | undefined => {
  if (entry === undefined) return entry;
  const mark = (w: ConsentEntry): ConsentEntry => {
    let before = w.before;
    for (const f of seen) {
      if (
        f.atMs > w.atMs ||
        (f.atMs === w.atMs && f.source === w.source && f.granted === w.granted)
      )
        continue;
      const withdrawn = withdrawnBy(f);
      if (withdrawn !== undefined && (before === undefined || withdrawn.atMs > before.atMs))
        before = withdrawn;
    }
    if (before === undefined) return w;
    // `other` last, as `settle` writes it: the stored JSON is the same whatever the order.
    const { other, ...fact } = w;
    return other === undefined ? { ...fact, before } : { ...fact, before, other };
  };
  if (!entry.granted && entry.explicit === true) return mark(entry);
  const other = entry.other;
  if (other !== undefined && !other.granted && other.explicit === true)
    return { ...entry, other: mark(other) };
  return entry;
};

/** Weighs one new fact against those held for the same channel and purpose. */
const setConsent = (
  consent: Consent,
  channel: Channel,
  purpose: string,
  fact: ConsentEntry,
  implied: readonly string[] = [],
): Consent => {
  const current = consent[channel]?.[purpose];
  const facts = current === undefined ? [] : [current, ...(current.other ? [current.other] : [])];
  const latest = (explicit: boolean) =>
    facts.filter((f) => isExplicitFact(f) === explicit).map(factOf)[0];
  const entry =
    fact.explicit === true
      ? settle(newer(latest(true), fact), latest(false))
      : settle(latest(true), restated(latest(false), fact, implied));
  const marked = withBefore(entry, [...facts.map(factOf), fact]);
  return marked === undefined
    ? consent
    : { ...consent, [channel]: { ...consent[channel], [purpose]: marked } };
};

/**
 * Consent from identify traits shaped `consent: { email: { marketing: true } }` (a boolean or
 * `{ granted, source }` per purpose; a boolean for the channel, `{ sms: false }`, is its
 * marketing). Channel names are read in any case.
 */
const fromTraits = (
  consent: Consent,
  traits: JsonObject,
  dated: Pick<ConsentEntry, 'atMs' | 'stampedAtMs'>,
  implied: readonly string[],
): Consent => {
  const byChannel = asObject(traits['consent']);
  if (byChannel === null) return consent;
  const defaultSource = asString(traits['consentSource']) ?? 'identify';
  let next = consent;
  for (const [name, purposes] of Object.entries(byChannel)) {
    const channel = channelOf(name);
    // A yes or no for the whole channel (`{ sms: false }`, `{ email: "FALSE" }`, or
    // `{ email: { granted: false, source: "crm" } }`) is its marketing.
    const detail = asObject(purposes);
    const whole = detail === null ? asConsentAnswer(purposes) : null;
    const byPurpose =
      whole !== null
        ? { marketing: whole }
        : detail !== null && Object.hasOwn(detail, 'granted')
          ? { marketing: detail }
          : detail;
    if (channel === null || byPurpose === null) continue;
    // A source beside the purposes (`{ email: { marketing: true, source: "crm" } }`) is theirs.
    const channelSource = (detail && asString(detail['source'])) ?? defaultSource;
    for (const [name, value] of Object.entries(byPurpose)) {
      // Never a purpose: the words of a grant written beside the purposes.
      if (name === 'source' || name === 'granted') continue;
      const purpose = purposeOf(name);
      const detail = asObject(value);
      const granted = asConsentAnswer(detail === null ? value : detail['granted']);
      if (granted === null) continue;
      const source = (detail && asString(detail['source'])) ?? channelSource;
      next = setConsent(next, channel, purpose, { granted, ...dated, source }, implied);
    }
  }
  return next;
};

/**
 * The consent after an event: identify traits, `Consent Updated { channel, purpose, granted,
 * source }`, `Unsubscribed` (withdraws marketing on its channel, email by default) and spam
 * complaints (withdraw email marketing). A withdrawal whose channel is `all`, or is not one
 * Herald knows (`newsletter`, a typo), withdraws on every channel: an opt-out is never dropped
 * for being written oddly. A grant must name a channel.
 */
export const updateConsent = (
  consent: Consent,
  event: HeraldEvent,
  complaintEvents: readonly string[],
  impliedSources: readonly string[],
): Consent => {
  // Dated when it happened, never after Herald heard of it: a source whose clock runs ahead
  // (ingest accepts up to `maxFutureHours`) must not date a grant past a withdrawal that comes
  // after it, which would then lose to it for good.
  const atMs = Math.min(event.timestampMs, event.receivedAtMs);
  const dated = event.timestampMs > atMs ? { atMs, stampedAtMs: event.timestampMs } : { atMs };
  if (event.type === 'identify') return fromTraits(consent, event.traits, dated, impliedSources);
  if (event.type !== 'track' || event.name === null) return consent;
  const props = event.properties;
  const named = asString(pick(props, 'channel')) ?? 'email';
  const channel = channelOf(named);
  const source = asString(pick(props, 'source')) ?? event.name;
  const spread = channel === null ? { everyChannel: true as const } : {};
  const withdraw = (purpose: string) =>
    (channel === null ? channels : [channel]).reduce(
      (next, c) =>
        setConsent(next, c, purpose, {
          granted: false,
          ...dated,
          source,
          explicit: true,
          ...spread,
        }),
      consent,
    );
  if (event.name === 'Consent Updated') {
    const granted = asConsentAnswer(pick(props, 'granted'));
    const purpose = purposeOf(asString(pick(props, 'purpose')) ?? 'marketing');
    if (granted === false) return withdraw(purpose);
    return granted === null || channel === null
      ? consent
      : setConsent(consent, channel, purpose, { granted, ...dated, source, explicit: true });
  }
  if (event.name === 'Unsubscribed')
    return withdraw(purposeOf(asString(pick(props, 'purpose')) ?? 'marketing'));
  if (complaintEvents.includes(event.name)) {
    return setConsent(consent, 'email', 'marketing', {
      granted: false,
      ...dated,
      source,
      explicit: true,
    });
  }
  return consent;
};
