import type * as PhoneNumbers from 'libphonenumber-js/min';
import { keptIn } from './kept.js';
import { onFirstUse } from './on-first-use.js';
import { normalisePhone } from './recipient.js';

// libphonenumber-js with its smallest metadata (enough to place a number in its country),
// loaded when a profile without a country first asks.
const phoneNumbers = onFirstUse<typeof PhoneNumbers>('libphonenumber-js/min');

let byCallingCode: Map<string, string[]> | undefined;

/** Every country (ISO 3166-1 alpha-2) under each calling code: `44` → GB, GG, IM, JE. */
const countriesByCallingCode = (): Map<string, string[]> => {
  if (byCallingCode !== undefined) return byCallingCode;
  const lib = phoneNumbers();
  const map = new Map<string, string[]>();
  for (const country of lib.getCountries()) {
    const code = lib.getCountryCallingCode(country);
    map.set(code, [...(map.get(code) ?? []), country]);
  }
  return (byCallingCode = map);
};

/**
 * Where an international number (`+49 151 …`, `0049 151 …`) is, for a profile that states no
 * country: the country its digits belong to, when the number tells (`+1 212 …` is the US,
 * `+1 416 …` Canada), and every country sharing its calling code (`+44` is the UK, Guernsey,
 * Jersey and the Isle of Man). Empty for text that is no number written internationally (a
 * national number names no country).
 */
export const placeOfPhone = (raw: unknown): PhonePlace => {
  if (typeof raw !== 'string') return NOWHERE;
  // Parsed once a number (about 16 µs a parse): the guard and the hand-off ask of every message.
  return keptIn(places, raw, () => placeOf(raw));
};

interface PhonePlace {
  country: string | null;
  sharing: readonly string[];
}

const NOWHERE: PhonePlace = { country: null, sharing: [] };

const places = new Map<string, PhonePlace>();

const placeOf = (raw: string): PhonePlace => {
  const phone = normalisePhone(raw);
  if (!phone.startsWith('+')) return NOWHERE;
  const parsed = phoneNumbers().parsePhoneNumberFromString(phone);
  if (parsed === undefined) return NOWHERE;
  return {
    country: parsed.country ?? null,
    sharing: countriesByCallingCode().get(parsed.countryCallingCode) ?? [],
  };
};
