import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { quietHoursSchema, resolveTimezone, type QuietHours } from './quiet-hours.js';

const q = { ...(Value.Default(quietHoursSchema, {}) as QuietHours), defaultTimezone: 'UTC' };
const at = (country: string | null, timezone: string | null) =>
  resolveTimezone({ country, region: null, city: null, timezone }, q);

describe('resolveTimezone', () => {
  it('takes the profile’s zone when Intl knows it', () => {
    expect(at('US', 'America/Los_Angeles')).toEqual({
      timezone: 'America/Los_Angeles',
      source: 'profile',
    });
  });

  it('falls back to the country, read as sources write it, for a zone Intl does not know', () => {
    // `Berlin time` would count as UTC: 22:00 in Berlin would pass as 21:00 (20:00 in summer).
    expect(at('Germany', 'Berlin time')).toEqual({ timezone: 'Europe/Berlin', source: 'country' });
    expect(at('DE', 'GMT+25')).toEqual({ timezone: 'Europe/Berlin', source: 'country' });
    // ICU knows some abbreviations: `PST` is Los Angeles.
    expect(at('US', 'PST')).toEqual({ timezone: 'PST', source: 'profile' });
    expect(at('UK', ' ')).toEqual({ timezone: 'Europe/London', source: 'country' });
    expect(at('Atlantis', 'Mars/Olympus_Mons')).toEqual({ timezone: 'UTC', source: 'default' });
  });
});
