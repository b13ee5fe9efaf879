import { describe, expect, it } from 'vitest';
import { smsSegments } from './sms-segments.js';

describe('smsSegments', () => {
  it('counts GSM-7 septets, the extension table twice, 160 in one segment and 153 split', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(smsSegments('a'.repeat(306))).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(smsSegments('a'.repeat(307))).toEqual({ encoding: 'GSM-7', segments: 3 });
    // 80 euro signs are 160 septets; one more character splits it.
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1 });
    expect(smsSegments(`${'€'.repeat(80)}a`)).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(smsSegments('')).toEqual({ encoding: 'GSM-7', segments: 1 });
    // An escape pair is never cut between two segments.
    expect(smsSegments(`${'a'.repeat(152)}€${'a'.repeat(152)}`)).toEqual({
      encoding: 'GSM-7',
      segments: 3,
    });
  });

  it('sends a text with any other character as UCS-2: 70 units in one segment, 67 split', () => {
    expect(smsSegments(`Анна${'a'.repeat(66)}`)).toEqual({ encoding: 'UCS-2', segments: 1 });
    expect(smsSegments(`Анна${'a'.repeat(67)}`)).toEqual({ encoding: 'UCS-2', segments: 2 });
    // A character outside the BMP takes two units.
    expect(smsSegments(`😀${'a'.repeat(68)}`)).toEqual({ encoding: 'UCS-2', segments: 1 });
    expect(smsSegments(`😀${'a'.repeat(69)}`)).toEqual({ encoding: 'UCS-2', segments: 2 });
    // Nor a surrogate pair.
    expect(smsSegments(`${'Ж'.repeat(66)}😀${'Ж'.repeat(66)}`)).toEqual({
      encoding: 'UCS-2',
      segments: 3,
    });
  });
});
