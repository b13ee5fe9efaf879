import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContentModerator, ModerationFinding } from '../../ports/content-moderator.js';
import { moderate } from './moderate.js';

const finding: ModerationFinding = { category: 'harassment', severity: 'low', score: 0.3 };

const scripted = (answer: (signal: AbortSignal) => Promise<ModerationFinding[]>) => {
  const seen: { texts: readonly string[]; signal: AbortSignal }[] = [];
  const moderator: ContentModerator = {
    name: 'scripted',
    moderate: (texts, signal) => {
      seen.push({ texts, signal });
      return answer(signal);
    },
  };
  return { moderator, seen };
};

describe('moderate', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands the texts over and returns the findings', async () => {
    const { moderator, seen } = scripted(() => Promise.resolve([finding]));
    await expect(moderate(moderator, ['subject', 'body'], 1000)).resolves.toEqual({
      ok: true,
      moderator: 'scripted',
      findings: [finding],
    });
    expect(seen[0]?.texts).toEqual(['subject', 'body']);
  });

  it('turns a rejection, or a throw, into a failed outcome', async () => {
    const rejecting = scripted(() => Promise.reject(new Error('status 500')));
    await expect(moderate(rejecting.moderator, ['x'], 1000)).resolves.toEqual({
      ok: false,
      moderator: 'scripted',
      error: 'status 500',
    });
    const throwing: ContentModerator = {
      name: 'broken',
      moderate: () => {
        throw new Error('not configured');
      },
    };
    await expect(moderate(throwing, ['x'], 1000)).resolves.toMatchObject({
      ok: false,
      error: 'not configured',
    });
  });

  it('gives up after the timeout, aborts the request, even if the moderator ignores it', async () => {
    const { moderator, seen } = scripted(() => new Promise<ModerationFinding[]>(() => undefined));
    const outcome = moderate(moderator, ['x'], 2000);
    await vi.advanceTimersByTimeAsync(1999);
    expect(seen[0]?.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(outcome).resolves.toEqual({
      ok: false,
      moderator: 'scripted',
      error: 'timed out after 2000 ms',
    });
    expect(seen[0]?.signal.aborted).toBe(true);
  });

  it('answers in time without being cut short', async () => {
    const { moderator } = scripted(
      () =>
        new Promise((resolve) =>
          setTimeout(() => {
            resolve([finding]);
          }, 500),
        ),
    );
    const outcome = moderate(moderator, ['x'], 2000);
    await vi.advanceTimersByTimeAsync(500);
    await expect(outcome).resolves.toMatchObject({ ok: true, findings: [finding] });
    expect(vi.getTimerCount()).toBe(0);
  });
});
