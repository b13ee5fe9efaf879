import type {
  ContentModerator,
  ModerationCategory,
  ModerationFinding,
  Severity,
} from '../../ports/content-moderator.js';
import { moderationCategories, severityRank } from '../../ports/content-moderator.js';

export interface OpenAiModeratorOptions {
  apiKey: string;
  /** Default `https://api.openai.com/v1`; any server speaking the same API will do. */
  baseUrl?: string;
  /** Default `omni-moderation-latest`. */
  model?: string;
  /** Default 10 s; the request is aborted after it. */
  timeoutMs?: number;
}

/**
 * Scores to severities: from 0.9 `high`, from 0.5 `medium`, from 0.2 `low`. The scores are
 * the model's probability that the text belongs to the category; 0.5 is roughly where the
 * API itself starts flagging, and 0.2 records borderline copy without blocking it by default.
 */
export const severityOfScore = (score: number): Severity =>
  score >= 0.9 ? 'high' : score >= 0.5 ? 'medium' : score >= 0.2 ? 'low' : 'none';

// The API's categories and sub-categories (`hate/threatening`, `violence/graphic`,
// `self-harm/intent` …) fold into Herald's by the part before the slash. `illicit/violent`
// counts as violence; plain `illicit` (advice on wrongdoing) has no Herald category and is
// not reported.
const categoryOf = (key: string): ModerationCategory | null => {
  if (key === 'illicit/violent') return 'violence';
  const head = key.split('/')[0] ?? '';
  return (moderationCategories as readonly string[]).includes(head)
    ? (head as ModerationCategory)
    : null;
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The sub-categories the API flagging makes `high` whatever their score: sexual content involving
 * minors, and self-harm the writer intends or instructs. Any other the API flags (its
 * `categories`, set where its own per-category thresholds lie) is at least `medium`.
 */
const HIGH_WHEN_FLAGGED: ReadonlySet<string> = new Set([
  'sexual/minors',
  'self-harm/intent',
  'self-harm/instructions',
]);

/**
 * The findings in a Moderations API response body: per Herald category the highest score
 * over every input and sub-category, its severity the score's (`severityOfScore`) or, where the
 * API flagged a sub-category of it, at least `medium` — `high` for `HIGH_WHEN_FLAGGED` (before
 * 2026-12-07 only the scores were read, and copy the API flagged for sexual/minors at 0.35 went
 * out); kept when it reaches `low`. Throws on a body that is not in the documented shape, or
 * holds fewer results than inputs.
 */
export const toModerationFindings = (body: unknown, inputs: number): ModerationFinding[] => {
  const results = isRecord(body) ? body['results'] : undefined;
  if (!Array.isArray(results) || results.length !== inputs)
    throw new Error(`moderation response has no results for ${inputs} inputs`);
  const worst = new Map<ModerationCategory, number>();
  const flagged = new Map<ModerationCategory, Severity>();
  for (const result of results as unknown[]) {
    const scores = isRecord(result) ? result['category_scores'] : undefined;
    if (!isRecord(scores)) throw new Error('moderation result without category_scores');
    for (const [key, score] of Object.entries(scores)) {
      if (typeof score !== 'number' || !Number.isFinite(score))
        throw new Error(`moderation score for ${key} is not a number`);
      const category = categoryOf(key);
      if (category !== null && score > (worst.get(category) ?? -1)) worst.set(category, score);
    }
    // The API's own verdict per sub-category, where it gives one.
    const categories = isRecord(result) ? result['categories'] : undefined;
    if (isRecord(categories))
      for (const [key, on] of Object.entries(categories)) {
        const category = categoryOf(key);
        if (on !== true || category === null) continue;
        const floor: Severity = HIGH_WHEN_FLAGGED.has(key) ? 'high' : 'medium';
        if (severityRank[floor] > severityRank[flagged.get(category) ?? 'none'])
          flagged.set(category, floor);
      }
  }
  return moderationCategories.flatMap((category) => {
    const score = worst.get(category);
    const floor = flagged.get(category) ?? 'none';
    const scored = score === undefined ? 'none' : severityOfScore(score);
    const severity = severityRank[floor] > severityRank[scored] ? floor : scored;
    return severityRank[severity] > 0 ? [{ category, severity, score: score ?? 1 }] : [];
  });
};

/**
 * Moderation by the OpenAI Moderations API (`POST {baseUrl}/moderations`, all texts in one
 * request). Rejects on a non-2xx answer (naming the status), a malformed body, the timeout or
 * the caller's abort — never resolves with "nothing found" when it could not judge.
 */
export const createOpenAiModerator = (options: OpenAiModeratorOptions): ContentModerator => {
  const baseUrl = (options.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const model = options.model ?? 'omni-moderation-latest';
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: 'openai',
    async moderate(texts, signal) {
      if (texts.length === 0) return [];
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const response = await fetch(`${baseUrl}/moderations`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ model, input: texts }),
          signal: AbortSignal.any([signal, timeout]),
        });
        if (!response.ok) {
          // Release the connection; the error body is not needed (and may echo the input).
          await response.body?.cancel();
          throw new Error(
            `moderation API answered ${response.status} ${response.statusText}`.trim(),
          );
        }
        return toModerationFindings(await response.json(), texts.length);
      } catch (error) {
        if (timeout.aborted && !signal.aborted)
          throw new Error(`moderation API did not answer within ${timeoutMs} ms`, {
            cause: error,
          });
        throw error;
      }
    },
  };
};
