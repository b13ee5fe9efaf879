import { describe, expect, it } from 'vitest';
import { createRecentMessages, type RecentMessages } from './recent-messages.js';

/** Every row remembered under the message's key, in the order they are tried. */
const rowsOf = (recent: RecentMessages, sourceId: string, messageId: string): number[] => {
  const rows: number[] = [];
  recent.anyRow(sourceId, messageId, (seq) => {
    rows.push(seq);
    return false;
  });
  return rows;
};
/** The one row remembered under the message's key, if any. */
const find = (recent: RecentMessages, sourceId: string, messageId: string) => {
  const rows = rowsOf(recent, sourceId, messageId);
  if (rows.length > 1) throw new Error(`${String(rows.length)} rows for ${messageId}`);
  return rows[0];
};

describe('recent messages window', () => {
  it('finds the row of a remembered message and nothing for others', () => {
    const recent = createRecentMessages(10);
    recent.remember('web', 'm1', 7);
    expect(find(recent, 'web', 'm1')).toBe(7);
    expect(find(recent, 'web', 'm2')).toBeUndefined();
    expect(find(recent, 'app', 'm1')).toBeUndefined();
  });

  it('always remembers at least the latest `capacity` messages, forgetting the oldest first', () => {
    const recent = createRecentMessages(4);
    for (let i = 1; i <= 9; i += 1) recent.remember('s', `m${i}`, i);
    // Generations of 4: {m1..m4} were forgotten when {m5..m8} filled and m9 started a new one.
    expect([1, 2, 3, 4].map((i) => find(recent, 's', `m${i}`))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect([5, 6, 7, 8, 9].map((i) => find(recent, 's', `m${i}`))).toEqual([5, 6, 7, 8, 9]);
    expect(recent.size).toBe(5);
  });

  it('tells apart source and message boundaries', () => {
    const recent = createRecentMessages(10);
    recent.remember('ab', 'c', 1);
    expect(find(recent, 'a', 'bc')).toBeUndefined();
  });

  it('keeps every key through the table doubling many times over', () => {
    const recent = createRecentMessages(200_000);
    for (let i = 0; i < 100_000; i += 1) recent.remember('web', `msg-${i}`, i + 1);
    expect(recent.size).toBe(100_000);
    let found = 0;
    let wrong = 0;
    for (let i = 0; i < 100_000; i += 1) {
      const seq = find(recent, 'web', `msg-${i}`);
      if (seq === i + 1) found += 1;
      else wrong += 1;
    }
    expect({ found, wrong }).toEqual({ found: 100_000, wrong: 0 });
    let strays = 0;
    for (let i = 100_000; i < 200_000; i += 1)
      if (find(recent, 'web', `msg-${i}`) !== undefined) strays += 1;
    expect(strays).toBe(0);
  });

  it('tries every row remembered under a key, and stops at the one that holds the message', () => {
    const recent = createRecentMessages(10);
    recent.remember('web', 'm1', 3);
    recent.remember('web', 'm1', 9);
    expect(rowsOf(recent, 'web', 'm1')).toEqual([3, 9]);
    expect(recent.size).toBe(2);
    const tried: number[] = [];
    expect(recent.anyRow('web', 'm1', (seq) => (tried.push(seq), seq === 3))).toBe(true);
    expect(tried).toEqual([3]);
  });

  it('keeps the row of a message whose key a later message shares', () => {
    // Two message ids with the same 52-bit key for the source "web".
    const [first, second] = ['msg-164885-A', 'msg-367492-\u06d2'];
    const recent = createRecentMessages(10_000);
    recent.remember('web', first, 1);
    expect(rowsOf(recent, 'web', second)).toEqual([1]);
    recent.remember('web', second, 2);
    expect(rowsOf(recent, 'web', first)).toEqual([1, 2]);
    // Through a doubling of the table too.
    for (let i = 0; i < 2_000; i += 1) recent.remember('app', `n${String(i)}`, 10 + i);
    expect(rowsOf(recent, 'web', first)).toEqual([1, 2]);
  });
});
