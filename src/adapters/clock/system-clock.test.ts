import { describe, expect, it } from 'vitest';
import { createVirtualClock } from './virtual-clock.js';
import { uuidV7Source } from './system-clock.js';

describe('uuidV7Source', () => {
  it('makes RFC 9562 version-7 UUIDs carrying the clock time', () => {
    const clock = createVirtualClock(Date.UTC(2026, 10, 25, 12));
    const id = uuidV7Source(clock).next();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(clock.nowMs());
  });

  it('sorts ids made later after ids made earlier, and never repeats one', () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const source = uuidV7Source(clock);
    const ids: string[] = [];
    for (let i = 0; i < 5000; i += 1) {
      if (i % 100 === 0) clock.advance(1);
      ids.push(source.next());
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 100; i < ids.length; i += 100)
      expect((ids[i] ?? '') > (ids[i - 1] ?? '')).toBe(true);
  });
});
