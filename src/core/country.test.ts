import { describe, expect, it } from 'vitest';
import { countryCode, countryOfZone } from './country.js';

describe('countryCode', () => {
  it('reads codes and names as sources write them', () => {
    const cases: [string, string | null][] = [
      ['DE', 'DE'],
      [' de ', 'DE'],
      ['DEU', 'DE'],
      ['Germany', 'DE'],
      ['Deutschland', 'DE'],
      ['Allemagne', 'DE'],
      ['united states', 'US'],
      ['United States of America', 'US'],
      ['USA', 'US'],
      ['UK', 'GB'],
      ['United Kingdom', 'GB'],
      ['EL', 'GR'],
      ['Réunion', 'RE'],
      ['reunion', 'RE'],
      ['Czech Republic', 'CZ'],
      ['Polska', 'PL'],
    ];
    for (const [text, code] of cases) expect([text, countryCode(text)]).toEqual([text, code]);
  });

  it('gives null for blank text and for what names no country', () => {
    for (const text of [null, '', '  ', 'Atlantis', 'XX', 'ZZZ', 'Europe'])
      expect(countryCode(text)).toBeNull();
  });
});

describe('countryOfZone', () => {
  const eu = ['DE', 'ES', 'PT', 'FR', 'GP', 'CY', 'AX', 'FI'];

  it('names the listed country a zone is in, however the zone is spelled', () => {
    expect(countryOfZone('Europe/Berlin', eu)).toBe('DE');
    expect(countryOfZone(' europe/busingen ', eu)).toBe('DE');
    expect(countryOfZone('Atlantic/Canary', eu)).toBe('ES');
    expect(countryOfZone('Atlantic/Azores', eu)).toBe('PT');
    expect(countryOfZone('America/Guadeloupe', eu)).toBe('GP');
    expect(countryOfZone('Europe/Nicosia', eu)).toBe('CY');
    expect(countryOfZone('Europe/Mariehamn', eu)).toBe('AX');
  });

  it('gives null for zones of other countries, of none, and for what is no zone', () => {
    for (const zone of ['Europe/London', 'America/New_York', 'UTC', 'Etc/GMT+1', 'Berlin', ''])
      expect(countryOfZone(zone, eu)).toBeNull();
    expect(countryOfZone(null, eu)).toBeNull();
    expect(countryOfZone('Europe/Berlin', ['DEU', 'ZZ'])).toBeNull();
  });
});
