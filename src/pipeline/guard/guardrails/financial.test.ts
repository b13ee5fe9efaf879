import { describe, expect, it } from 'vitest';
import { aContent } from '../test-builders.js';
import { visibleCopy } from './visible-copy.js';
import { discountInCopy } from './financial.js';

const stated = (body: string, html: string | null = null) =>
  discountInCopy(aContent({ subject: 'Hello', preheader: null, body, html }));

describe('discountInCopy', () => {
  it.each([
    ['Take 60% off every winter boot', 60],
    ['40 percent discount on boots', 40],
    ['a 12,5 per cent rebate', 12.5],
    ['save 30 pct today', 30],
    ['Save up to 45% this week', 45],
    ['take an extra 35% off', 35],
    ['get an additional 22 percent', 22],
    ['prices reduced by 40 per cent', 40],
    ['a discount of 33% for you', 33],
    ['up to 70-percent', null],
    ['20% of our customers came back', null],
    ['1234% off', null],
    ['10% off, then save 25%, and 30% of shoppers agree', 25],
    ['save\n50\u00A0%', 50],
    ['nothing here', null],
  ])('reads %j as %j', (body, expected) => {
    expect(stated(body)).toBe(expected);
  });

  it('reads the HTML part as a reader sees it', () => {
    expect(stated('', '<p>Take <b>40</b>% off</p>')).toBe(40);
  });
});

describe('visibleCopy', () => {
  it('follows a part of the copy that changed after it was read', () => {
    const content = aContent({ subject: 'Hi', body: 'Take 10% off' });
    expect(discountInCopy(content)).toBe(10);
    content.body = 'Take 60% off';
    expect(visibleCopy(content)).toContain('Take 60% off');
    expect(discountInCopy(content)).toBe(60);
    content.html = '<p>Take <b>70</b>% off</p>';
    expect(discountInCopy(content)).toBe(70);
  });
});
