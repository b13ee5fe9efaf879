import type { HeraldEvent, JsonObject } from '../../core/event.js';
import { channels, type Channel, type Consent, type ConsentEntry } from '../../core/profile.js';
import { asBoolean, asObject, asString, pick } from './read-props.js';

const isChannel = (value: string): value is Channel => (channels as string[]).includes(value);

const isWithdrawal = (e: ConsentEntry) => e.explicit === true && !e.granted;
const isTraitGrant = (e: ConsentEntry) => e.explicit !== true && e.granted;

/**
 * Whether a consent fact replaces the one held: a withdrawal the customer made (an unsubscribe,
 * a complaint, `Consent Updated` false) outranks a grant in identify traits whatever their times
 * — integrations resend every trait, stale consent included — and is undone only by a newer
 * `Consent Updated` granting again. Otherwise the newer fact wins. Either way the outcome does
 * not depend on the order the two arrive in.
 */
const replaces = (entry: ConsentEntry, current: ConsentEntry): boolean => {
  if (isWithdrawal(current) && isTraitGrant(entry)) return false;
  if (isWithdrawal(entry) && isTraitGrant(current)) return true;
  return entry.atMs >= current.atMs;
};

/** Sets one consent fact unless the fact held for the same channel and purpose outranks it. */
const setConsent = (
  consent: Consent,
  channel: Channel,
  purpose: string,
  entry: ConsentEntry,
): Consent => {
  const current = consent[channel]?.[purpose];
  if (current !== undefined && !replaces(entry, current)) return consent;
  return { ...consent, [channel]: { ...consent[channel], [purpose]: entry } };
};

/**
 * Consent from identify traits shaped `consent: { email: { marketing: true } }` (a boolean or
 * `{ granted, source }` per purpose).
 */
const fromTraits = (consent: Consent, traits: JsonObject, atMs: number): Consent => {
  const byChannel = asObject(traits['consent']);
  if (byChannel === null) return consent;
  const defaultSource = asString(traits['consentSource']) ?? 'identify';
  let next = consent;
  for (const [channel, purposes] of Object.entries(byChannel)) {
    const byPurpose = asObject(purposes);
    if (!isChannel(channel) || byPurpose === null) continue;
    for (const [purpose, value] of Object.entries(byPurpose)) {
      const detail = asObject(value);
      const granted = asBoolean(detail === null ? value : detail['granted']);
      if (granted === null) continue;
      const source = (detail && asString(detail['source'])) ?? defaultSource;
      next = setConsent(next, channel, purpose, { granted, atMs, source });
    }
  }
  return next;
};

/**
 * The consent after an event: identify traits, `Consent Updated { channel, purpose, granted,
 * source }`, `Unsubscribed` (withdraws marketing on its channel, email by default) and spam
 * complaints (withdraw email marketing).
 */
export const updateConsent = (
  consent: Consent,
  event: HeraldEvent,
  complaintEvents: readonly string[],
): Consent => {
  const atMs = event.timestampMs;
  if (event.type === 'identify') return fromTraits(consent, event.traits, atMs);
  if (event.type !== 'track' || event.name === null) return consent;
  const props = event.properties;
  const channel = asString(pick(props, 'channel')) ?? 'email';
  if (!isChannel(channel)) return consent;
  const source = asString(pick(props, 'source')) ?? event.name;
  if (event.name === 'Consent Updated') {
    const granted = asBoolean(pick(props, 'granted'));
    const purpose = asString(pick(props, 'purpose')) ?? 'marketing';
    return granted === null
      ? consent
      : setConsent(consent, channel, purpose, { granted, atMs, source, explicit: true });
  }
  if (event.name === 'Unsubscribed') {
    const purpose = asString(pick(props, 'purpose')) ?? 'marketing';
    return setConsent(consent, channel, purpose, {
      granted: false,
      atMs,
      source,
      explicit: true,
    });
  }
  if (complaintEvents.includes(event.name)) {
    return setConsent(consent, 'email', 'marketing', {
      granted: false,
      atMs,
      source,
      explicit: true,
    });
  }
  return consent;
};
