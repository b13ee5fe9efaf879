import { describe, expect, it } from 'vitest';
import { findPii, isSamePhone, passesLuhn } from './find-pii.js';

const kinds = (text: string) => findPii(text).map((m) => `${m.kind}:${m.normalised}`);

describe('findPii', () => {
  it('finds a card number that passes the Luhn check, grouped or not', () => {
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(passesLuhn('4111111111111112')).toBe(false);
    expect(kinds('Card 4111 1111 1111 1111 on file')).toEqual(['card:4111111111111111']);
    expect(kinds('Card 5500-0000-0000-0004')).toEqual(['card:5500000000000004']);
    expect(kinds('Ref 4111 1111 1111 1112')).toEqual([]);
  });

  it('finds a card number run together with other numbers', () => {
    // With its expiry date (20 digits in all) or after a quantity (17 digits failing the check).
    expect(kinds('Card 4111 1111 1111 1111 12/28 on file')).toEqual(['card:4111111111111111']);
    expect(kinds('Qty 2 4111-1111-1111-1111')).toEqual(['card:4111111111111111']);
    expect(kinds('Cards 4111 1111 1111 1111 5500 0000 0000 0004')).toEqual([
      'card:4111111111111111',
      'card:5500000000000004',
    ]);
    // Numbers that fail the check stay unflagged however they are cut.
    expect(kinds('Ref 4111 1111 1111 1112 12/28')).toEqual([]);
    expect(kinds('Order 1234 5678 9012 3456')).toEqual([]);
  });

  it('finds phone numbers in international and national formats from 9 digits', () => {
    expect(kinds('Call +49 30 1234567 today')).toEqual(['phone:49301234567']);
    expect(kinds('Call +49 (0)30 1234567')).toEqual(['phone:49301234567']);
    expect(kinds('Call (555) 555-0100')).toEqual(['phone:5555550100']);
    expect(kinds('Ruf an: 030/1234567')).toEqual(['phone:0301234567']);
    expect(kinds('Code 12345678')).toEqual([]);
    // Joined by hyphens other than the ASCII one.
    expect(kinds('Call Jane on 555\u2010123\u20104567 today')).toEqual(['phone:5551234567']);
    expect(kinds('Call Jane on (555)123\u20114567')).toEqual(['phone:5551234567']);
    expect(kinds('Card 4111\u20121111\u20121111\u20121111')).toEqual(['card:4111111111111111']);
    // Not ranges of dates, prices or years, set with en dashes.
    expect(kinds('Our sale runs 01.06.\u201315.06.2026 in every store')).toEqual([]);
    expect(kinds('Jackets now 129.90\u2013249.90 in all sizes')).toEqual([]);
    expect(kinds('New season 2025\u20132026 \u00B7 120 styles')).toEqual([]);
  });

  it('finds e-mail addresses, in lower case', () => {
    expect(kinds('Write to Grace.H@Example.org.')).toEqual(['email:grace.h@example.org']);
  });

  it('finds numbers written with an extension, other dashes, or digits of another script', () => {
    expect(kinds('Call Bob on 555-867-5309x204.')).toEqual(['phone:5558675309']);
    expect(kinds('Call Bob: +1 555 867 5309ext12')).toEqual(['phone:15558675309']);
    expect(kinds('Call Bob on 555\u2014867\u20145309.')).toEqual(['phone:5558675309']);
    expect(kinds('Your card 4111\u20131111\u20131111\u20131111 is on file.')).toEqual([
      'card:4111111111111111',
    ]);
    expect(kinds('Card 4111_1111_1111_1111 on file.')).toEqual(['card:4111111111111111']);
    // A range of prices written with the en dash is still no number, nor a list of years.
    expect(kinds('From 129.90\u2013249.90 this week')).toEqual([]);
    expect(kinds('Voted best shop in 2023, 2024, 2025, 2026 and counting!')).toEqual([]);
    expect(kinds('Editions 2017, 2018, 2019, 2020.')).toEqual([]);
    expect(kinds('Amex 3782\u2013822463\u201310005 on file')).toEqual(['card:378282246310005']);
    expect(kinds('Diners 3056\u2013930902\u20135904 on file')).toEqual(['card:30569309025904']);
  });

  it('finds an address with a space after its @', () => {
    expect(kinds('Write to bob.smith@ gmail.com')).toEqual(['email:bob.smith@gmail.com']);
    expect(kinds('Meet us @ the store')).toEqual([]);
  });

  it('does not read dates, times, prices or link ids as phone numbers', () => {
    expect(kinds('Sale ends 03.06.2026 10:00, from €1.299,00')).toEqual([]);
    expect(kinds('See https://shop.example.com/p/1234567890123')).toEqual([]);
  });
});

describe('isSamePhone', () => {
  it('matches a number with its national form and nothing else', () => {
    expect(isSamePhone('49301234567', '0301234567')).toBe(true);
    expect(isSamePhone('15555550100', '5555550100')).toBe(true);
    expect(isSamePhone('15555550100', '5555550101')).toBe(false);
  });

  it('matches a short national form exactly, not by its ending', () => {
    // Vienna: +43 1 2345678 has an 8-digit national number.
    expect(isSamePhone('4312345678', '012345678')).toBe(true);
    expect(isSamePhone('012345678', '4312345678')).toBe(true);
    expect(isSamePhone('004312345678', '4312345678')).toBe(true);
    expect(isSamePhone('0301234567', '301234567')).toBe(true);
    // Strangers whose numbers end with the same digits: Graz-area 031 2345678 (+43 31 2345678)
    // and the same digits in Germany.
    expect(isSamePhone('4312345678', '0312345678')).toBe(false);
    expect(isSamePhone('4312345678', '4912345678')).toBe(false);
    expect(isSamePhone('4312345678', '02345678')).toBe(false);
  });
});
