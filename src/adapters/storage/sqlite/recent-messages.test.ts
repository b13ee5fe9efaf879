import { describe, expect, it } from 'vitest';
import { createRecentMessages } from './recent-messages.js';

describe('recent messages window', () => {
  it('finds the row of a remembered message and nothing for others', () => {
    const recent = createRecentMessages(10);
    recent.remember('web', 'm1', 7);
    expect(recent.find('web', 'm1')).toBe(7);
    expect(recent.find('web', 'm2')).toBeUndefined();
    expect(recent.find('app', 'm1')).toBeUndefined();
  });

  it('keeps between half and all of its capacity, forgetting the oldest first', () => {
    const recent = createRecentMessages(4);
    for (let i = 1; i <= 5; i += 1) recent.remember('s', `m${i}`, i);
    // Generations of 2: {m1,m2} were forgotten when {m3,m4} filled and m5 started a new one.
    expect(recent.find('s', 'm1')).toBeUndefined();
    expect(recent.find('s', 'm2')).toBeUndefined();
    expect([3, 4, 5].map((i) => recent.find('s', `m${i}`))).toEqual([3, 4, 5]);
    expect(recent.size).toBe(3);
  });

  it('tells apart source and message boundaries', () => {
    const recent = createRecentMessages(10);
    recent.remember('ab', 'c', 1);
    expect(recent.find('a', 'bc')).toBeUndefined();
  });
});
