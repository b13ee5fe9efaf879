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

  it('always remembers at least the latest `capacity` messages, forgetting the oldest first', () => {
    const recent = createRecentMessages(4);
    for (let i = 1; i <= 9; i += 1) recent.remember('s', `m${i}`, i);
    // Generations of 4: {m1..m4} were forgotten when {m5..m8} filled and m9 started a new one.
    expect([1, 2, 3, 4].map((i) => recent.find('s', `m${i}`))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect([5, 6, 7, 8, 9].map((i) => recent.find('s', `m${i}`))).toEqual([5, 6, 7, 8, 9]);
    expect(recent.size).toBe(5);
  });

  it('tells apart source and message boundaries', () => {
    const recent = createRecentMessages(10);
    recent.remember('ab', 'c', 1);
    expect(recent.find('a', 'bc')).toBeUndefined();
  });

  it('keeps every key through the table doubling many times over', () => {
    const recent = createRecentMessages(200_000);
    for (let i = 0; i < 100_000; i += 1) recent.remember('web', `msg-${i}`, i + 1);
    expect(recent.size).toBe(100_000);
    let found = 0;
    let wrong = 0;
    for (let i = 0; i < 100_000; i += 1) {
      const seq = recent.find('web', `msg-${i}`);
      if (seq === i + 1) found += 1;
      else wrong += 1;
    }
    expect({ found, wrong }).toEqual({ found: 100_000, wrong: 0 });
    let strays = 0;
    for (let i = 100_000; i < 200_000; i += 1)
      if (recent.find('web', `msg-${i}`) !== undefined) strays += 1;
    expect(strays).toBe(0);
  });

  it('points a message remembered again at its newest row', () => {
    const recent = createRecentMessages(10);
    recent.remember('web', 'm1', 3);
    recent.remember('web', 'm1', 9);
    expect(recent.find('web', 'm1')).toBe(9);
    expect(recent.size).toBe(1);
  });
});
