import type { ContentModerator } from '../../ports/content-moderator.js';
import type { ModerationOutcome } from './guard-types.js';

/**
 * Asks `moderator` about `texts` and never rejects: an error, or no answer within `timeoutMs`
 * (the moderator's request is then aborted), becomes `{ ok: false }`, which the content-safety
 * guardrail blocks on.
 */
export const moderate = async (
  moderator: ContentModerator,
  texts: readonly string[],
  timeoutMs: number,
): Promise<ModerationOutcome> => {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A moderator that ignores its signal must not hold the message up: the timeout wins the race.
  const timedOut = new Promise<ModerationOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      resolve({ ok: false, moderator: moderator.name, error: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
  });
  const answered = (async (): Promise<ModerationOutcome> => {
    try {
      const findings = await moderator.moderate(texts, controller.signal);
      return { ok: true, moderator: moderator.name, findings };
    } catch (error) {
      return {
        ok: false,
        moderator: moderator.name,
        error: error instanceof Error ? error.message : String(error),
      };
    }
  })();
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
};
