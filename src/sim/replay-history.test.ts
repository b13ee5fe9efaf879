import { describe, expect, it } from 'vitest';
import { lastSweepBeforeMs } from './replay-history.js';

const at = (text: string) => Date.parse(text);

describe('lastSweepBeforeMs', () => {
  it('is the same day’s sweep once its hour has passed', () => {
    expect(lastSweepBeforeMs(at('2026-06-01T10:00:00Z'), 6)).toBe(at('2026-06-01T06:00:00Z'));
  });

  it('is the day before’s sweep before the hour', () => {
    expect(lastSweepBeforeMs(at('2026-06-01T00:00:00Z'), 6)).toBe(at('2026-05-31T06:00:00Z'));
  });

  it('leaves a sweep at the window’s first instant to the window', () => {
    expect(lastSweepBeforeMs(at('2026-06-01T06:00:00Z'), 6)).toBe(at('2026-05-31T06:00:00Z'));
    expect(lastSweepBeforeMs(at('2026-06-01T00:00:00Z'), 0)).toBe(at('2026-05-31T00:00:00Z'));
  });
});
