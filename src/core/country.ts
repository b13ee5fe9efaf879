import { createRequire } from 'node:module';
// The library without its Node entry, which loads and registers all of its 80 or so languages.
import countries from 'i18n-iso-countries/index.js';

// The languages sources write country names in: English, and those of the larger EU markets.
const LOCALES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt', 'pl'];
const load = createRequire(import.meta.url);
for (const locale of LOCALES)
  countries.registerLocale(load(`i18n-iso-countries/langs/${locale}.json`) as countries.LocaleData);

// Codes in use that ISO 3166-1 reserves for something else or does not have.
const ALIASES: Readonly<Record<string, string>> = { UK: 'GB', EL: 'GR', HOLLAND: 'NL' };

const cache = new Map<string, string | null>();

/**
 * A country as ISO 3166-1 alpha-2 (`DE`), from how sources write it: an alpha-2 or alpha-3
 * code in any case (`de`, `DEU`), `UK` and the EU's `EL`, or a name in English, German, French,
 * Spanish, Italian, Dutch, Portuguese or Polish (`Germany`, `Deutschland`, `United States`),
 * accents and case aside. Null for blank text and for text that names no country it knows —
 * which the guardrails treat as a country whose rules they cannot rule out.
 */
export const countryCode = (text: string | null): string | null => {
  if (text === null) return null;
  const key = text.trim();
  if (key === '') return null;
  let code = cache.get(key);
  if (code === undefined) {
    const upper = key.toUpperCase();
    const aliased = ALIASES[upper] ?? upper;
    code =
      /^[A-Z]{2}$/.test(aliased) && countries.isValid(aliased)
        ? aliased
        : /^[A-Z]{3}$/.test(upper) && countries.alpha3ToAlpha2(upper) !== undefined
          ? (countries.alpha3ToAlpha2(upper) ?? null)
          : (LOCALES.map(
              (l) => countries.getSimpleAlpha2Code(key, l) ?? countries.getAlpha2Code(key, l),
            ).find((c) => c !== undefined) ?? null);
    if (cache.size > 10_000) cache.clear();
    cache.set(key, code);
  }
  return code;
};

/**
 * The IANA zones a country's people live in (`DE` → Europe/Berlin, Europe/Busingen), from
 * the runtime's own CLDR data (`Intl.Locale`), by the names `canonicalZone` gives; none for
 * text that is no region code.
 */
export const zonesOf = (code: string): readonly string[] => {
  let locale: Intl.Locale & { getTimeZones?: () => string[] | undefined; timeZones?: string[] };
  try {
    locale = new Intl.Locale(`und-${code}`);
  } catch {
    return []; // not a region code
  }
  // Node 20 has the getter; the standard as it stands has the method.
  return locale.getTimeZones?.() ?? locale.timeZones ?? [];
};

const canonical = new Map<string, string | null>();

/**
 * A zone as the runtime names it (`europe/kyiv` → Europe/Kiev), or null when it knows none.
 * Remembered: a formatter is made to find out, tens of microseconds, and the guard asks for every
 * message to a customer of no country.
 */
export const canonicalZone = (zone: string): string | null => {
  let known = canonical.get(zone);
  if (known === undefined) {
    try {
      known = new Intl.DateTimeFormat('en', { timeZone: zone.trim() }).resolvedOptions().timeZone;
    } catch {
      known = null;
    }
    if (canonical.size > 10_000) canonical.clear();
    canonical.set(zone, known);
  }
  return known;
};

const zoneCountries = new WeakMap<readonly string[], Map<string, string>>();

/**
 * Which of `countries` (ISO alpha-2 codes) a timezone is in, or null: where a customer is when
 * their profile names a zone but no country (`Europe/Berlin` → `DE`). A zone shared by no
 * country (`UTC`), or unknown, gives null.
 */
export const countryOfZone = (zone: string | null, countries: readonly string[]): string | null => {
  if (zone === null) return null;
  const canonical = canonicalZone(zone);
  if (canonical === null) return null;
  let byZone = zoneCountries.get(countries);
  if (byZone === undefined) {
    byZone = new Map();
    for (const code of countries) for (const z of zonesOf(code)) byZone.set(z, code);
    zoneCountries.set(countries, byZone);
  }
  return byZone.get(canonical) ?? null;
};
