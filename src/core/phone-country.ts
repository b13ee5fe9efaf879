import type * as PhoneNumbers from 'libphonenumber-js/min';
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
export const placeOfPhone = (raw: unknown): { country: string | null; sharing: string[] } => {
  if (typeof raw !== 'string') return { country: null, sharing: [] };
  const phone = normalisePhone(raw);
  if (!phone.startsWith('+')) return { country: null, sharing: [] };
  const parsed = phoneNumbers().parsePhoneNumberFromString(phone);
  if (parsed === undefined) return { country: null, sharing: [] };
  return {
    country: parsed.country ?? null,
    sharing: countriesByCallingCode().get(parsed.countryCallingCode) ?? [],
  };
};
