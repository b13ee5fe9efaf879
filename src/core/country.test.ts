import { describe, expect, it } from 'vitest';
import { countryCode } from './country.js';

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
