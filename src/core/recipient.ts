import { domainToASCII, domainToUnicode } from 'node:url';
import type { Channel, ConsentEntry, Device, ProfileState } from './profile.js';

// One plain address: no list separators (`,` `;`), quotes, brackets or display-name syntax.
// Mail libraries split `john,smith@gmail.com` into two recipients, one of them a stranger who
// would get the customer's copy, offer code and unsubscribe link.
const NOT_IN_AN_ADDRESS = /[\s<>,;:"()[\]\\]/;

/**
 * Whether `text` is one address shaped as `^[^F@]+@[^F@]+\.[^F@]+$` reads it, for `notIn` the
 * characters F: a local part, one `@`, and a domain with a `.` that has something before and
 * after it — in one pass. The pattern tried every dot of the domain against the rest: an
 * identify's 32 KB `email` of dots took two seconds, before 2026-12-07.
 */
export const isAddressShaped = (text: string, notIn: RegExp): boolean => {
  const at = text.indexOf('@');
  if (at <= 0 || text.includes('@', at + 1) || notIn.test(text)) return false;
  const domain = text.slice(at + 1);
  return domain.lastIndexOf('.', domain.length - 2) >= 1;
};

/**
 * The longest address mail carries (RFC 5321: a path of 256 octets, its brackets included). A
 * longer one reaches nobody, and as a message's recipient it is past what PostgreSQL's index
 * on it holds: its write failed, and held up every delivery after it.
 */
export const MAX_EMAIL_CHARS = 254;

/** The most digits a phone number has (E.164): a longer one reaches no phone. */
export const MAX_PHONE_DIGITS = 15;

// Characters no mailbox name holds, which mail libraries drop or map before sending: controls,
// soft hyphens, zero-width and direction marks. `an\u0001a@…` went out to `ana@…`.
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;

/**
 * An email address as Herald compares, suppresses and sends to it: trimmed, the local part in
 * lower case, the domain as the mail library will send to it (IDNA: `ｅｘａｍｐｌｅ.com` is
 * `example.com`, `bücher.de` is `xn--bcher-kva.de`). Null for text that is not one plain address,
 * or that hides characters a reader cannot see: an address that unsubscribed must not come back
 * spelled with one (it was mailed again as `ana@ｅｘａｍｐｌｅ.com`).
 */
export const normaliseEmail = (raw: string): string | null => {
  const trimmed = raw.trim();
  if (
    trimmed.length > MAX_EMAIL_CHARS ||
    !isAddressShaped(trimmed, NOT_IN_AN_ADDRESS) ||
    INVISIBLE.test(trimmed)
  )
    return null;
  const at = trimmed.lastIndexOf('@');
  const local = trimmed.slice(0, at).toLowerCase();
  const written = trimmed.slice(at + 1).toLowerCase();
  // Most domains are plain already, and IDNA leaves them as they are: asked only of the others
  // (it took about 0.4 µs an address, and the channel choice asks for every decision).
  if (PLAIN_DOMAIN.test(written) && !written.includes('xn--')) return `${local}@${written}`;
  const domain = domainToASCII(written);
  if (domain === '') return null;
  const address = `${local}@${domain}`;
  return address.length <= MAX_EMAIL_CHARS && isAddressShaped(address, NOT_IN_AN_ADDRESS)
    ? address
    : null;
};

// Labels of lower-case letters, digits and hyphens, the last beginning with a letter (so it is not
// read as an IPv4 number, decimal or `0x`): a domain IDNA maps to itself, unless a label is
// punycode (`xn--`), which IDNA checks.
const PLAIN_DOMAIN = /^(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*$/;

/** `+` and digits only; a number without `+` is taken as given (providers reject what is wrong). */
export const normalisePhone = (raw: string): string => {
  const trimmed = raw.trim();
  const digits = trimmed.replace(/[^\d]/g, '');
  return trimmed.startsWith('+') || trimmed.startsWith('00')
    ? `+${trimmed.startsWith('00') ? digits.slice(2) : digits}`
    : digits;
};

/**
 * The country calling code at the start of an international number's digits (no `+`). E.164's
 * codes are prefix-free: 1 (North America) and 7 (Russia, Kazakhstan), the two-digit codes
 * below, and three digits for every other — so one number has one national form.
 */
export const COUNTRY_CALLING_CODE =
  /^(?:[17]|2[07]|3[0-469]|4[013-9]|5[1-8]|6[0-6]|8[1246]|9[0-58]|\d{3})/;

/**
 * How an address is compared and kept (opt-outs, bounces, the recipient's own address in copy):
 * as it is sent to (`normaliseEmail`); text that is no address, trimmed and in lower case.
 */
export const emailKey = (raw: string): string => normaliseEmail(raw) ?? raw.trim().toLowerCase();

/**
 * The ways one address may be written where Herald keeps text as it came (an identify's traits,
 * a message's recipient, an erasure's identities): in lower case as given, as it is sent to, and
 * with its domain in Unicode (`jo@xn--bcher-kva.de` is written `jo@bücher.de` too).
 */
export const emailSpellings = (raw: string): string[] => {
  const given = raw.trim().toLowerCase();
  const sent = emailKey(raw);
  const at = sent.lastIndexOf('@');
  const unicode = at < 0 ? sent : `${sent.slice(0, at)}@${domainToUnicode(sent.slice(at + 1))}`;
  return [...new Set([given, sent, unicode].filter((form) => form !== ''))];
};

/** Whether two texts name one email address: in any case, or as sent to. */
export const sameEmail = (a: string, b: string): boolean =>
  a.trim().toLowerCase() === b.trim().toLowerCase() || emailKey(a) === emailKey(b);

/**
 * The spellings one number may be kept under (`normalisePhone`'s output): itself and, for an
 * international number, the same with and without a trunk `0` after the code, its digits
 * without `+`, and its national number with and without a trunk `0` (`+14155550123`:
 * `+104155550123`, `14155550123`, `4155550123`, `04155550123`). A national number alone names
 * no country: it is only itself.
 */
export const phoneForms = (normalised: string): string[] => {
  const parts = internationalParts(normalised);
  if (parts === null) return normalised === '' ? [] : [normalised];
  const { code, national } = parts;
  return [
    ...new Set([
      normalised,
      `+${code}${national}`,
      // The trunk `0` written after the code, as `+44 (0)20 …` is.
      `+${code}0${national}`,
      `${code}${national}`,
      national,
      `0${national}`,
    ]),
  ];
};

/**
 * An international number's country calling code and national digits, without the trunk `0`
 * some write after the code (`+44 (0)20 7946 0000`); null for a number without `+`.
 */
export const internationalParts = (
  normalised: string,
): { code: string; national: string } | null => {
  if (!/^\+\d{4,16}$/.test(normalised)) return null;
  const international = normalised.slice(1);
  const code = COUNTRY_CALLING_CODE.exec(international)?.[0] ?? '';
  const rest = international.slice(code.length);
  return { code, national: rest.startsWith('0') ? rest.slice(1) : rest };
};

/**
 * Whether two numbers (as `normalisePhone` writes them) may be the same phone: equal; two
 * international numbers of one country code with the same national digits (`+44 20 7946 0000`
 * and `+44 (0)20 7946 0000`) — never two country codes, though `+14155550123` and
 * `+444155550123` share their national digits; or one national and a spelling of the other,
 * international one (`4155550123` or `04155550123` and `+14155550123`). A national number
 * names no country, so it may match numbers of several; two national ones must be equal.
 */
export const samePhone = (a: string, b: string): boolean => {
  if (a === b) return true;
  const pa = internationalParts(a);
  const pb = internationalParts(b);
  if (pa !== null && pb !== null) return pa.code === pb.code && pa.national === pb.national;
  if (pa === null && pb === null) return false;
  const [international, national] = pa === null ? [b, a] : [a, b];
  return phoneForms(international).includes(national);
};

export interface Recipient {
  to: string;
  platform?: 'ios' | 'android' | 'web';
}

/** A string that says something, trimmed; null for anything else (an empty or blank trait). */
export const textOf = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : null;

/**
 * Whether the number opted in by writing to us itself (an SMS START reply, recorded as a grant
 * with source `sms-reply`) after `sinceMs`: to marketing (one who had opted out) or to the
 * channel's texts (one who had not, and so is given no marketing consent by it). The reply is
 * looked for in the fact held and in the one kept beside it: identify traits restating consent
 * later (a CRM's nightly sync) change what consent holds, not that the number wrote.
 */
const numberOptedInAfter = (given: Record<string, ConsentEntry> | undefined, sinceMs: number) =>
  [given?.['marketing'], given?.['transactional']].some((entry) =>
    [entry, entry?.other].some(
      (fact) => fact?.granted === true && fact.source === 'sms-reply' && fact.atMs > sinceMs,
    ),
  );

/**
 * The customer's phone for SMS or WhatsApp, unless a provider said it cannot receive there and
 * the number has not opted in since by writing to us itself (an SMS START reply: a carrier also
 * answers "cannot receive" for a number that texted STOP). Judged on facts that keep their
 * times, so the answer does not depend on the order events arrived in.
 */
const reachablePhone = (state: ProfileState, channel: 'sms' | 'whatsapp'): string | null => {
  const phone = textOf(state.traits['phone']);
  if (phone === null) return null;
  const to = normalisePhone(phone);
  if (to.replace('+', '').length > MAX_PHONE_DIGITS) return null;
  const failed = state.unreachable?.[channel];
  if (failed?.to !== to) return to;
  return numberOptedInAfter(state.consent[channel], failed.atMs) ? to : null;
};

/**
 * Where a message for this channel goes: the `email` trait, the `phone` trait (SMS and
 * WhatsApp, unless that number failed for good there), the most recently seen push device, or
 * — web content — the customer itself. Null when the profile has none.
 */
export const recipientOf = (state: ProfileState, channel: Channel): Recipient | null => {
  switch (channel) {
    case 'email': {
      const email = state.traits['email'];
      const to = typeof email === 'string' ? normaliseEmail(email) : null;
      return to === null ? null : { to };
    }
    case 'sms':
    case 'whatsapp': {
      const to = reachablePhone(state, channel);
      return to === null ? null : { to };
    }
    case 'push': {
      // The most recently seen (the first of equals), without copying the list.
      let device: Device | undefined;
      for (const d of state.devices ?? [])
        if (device === undefined || d.seenAtMs > device.seenAtMs) device = d;
      return device === undefined ? null : { to: device.token, platform: device.platform };
    }
    case 'web':
      return { to: state.customerId };
  }
};

/**
 * The profile without the push devices another customer has registered since (`owners`: the
 * customer each token belongs to now, `device_tokens`, or `''` for one an erased customer held
 * that nobody holds since): one app install signed out of this
 * account and into another keeps its token, and this customer's pushes must not reach it.
 * `recipientOf` then picks their most recent device of their own, if any. The same profile
 * when nothing is dropped.
 */
export const withOwnDevices = (
  state: ProfileState,
  owners: ReadonlyMap<string, string>,
): ProfileState => {
  const devices = state.devices;
  if (devices === undefined) return state;
  const own = devices.filter((d) => (owners.get(d.token) ?? state.customerId) === state.customerId);
  return own.length === devices.length ? state : { ...state, devices: own };
};

/**
 * Whether `recipientOf` finds someone, without building the recipient: channel choice asks it of
 * every channel of every message proposed.
 */
export const hasRecipient = (state: ProfileState, channel: Channel): boolean => {
  switch (channel) {
    case 'email': {
      const email = state.traits['email'];
      return typeof email === 'string' && normaliseEmail(email) !== null;
    }
    case 'sms':
    case 'whatsapp':
      return reachablePhone(state, channel) !== null;
    case 'push':
      return (state.devices?.length ?? 0) > 0;
    case 'web':
      return true;
  }
};
