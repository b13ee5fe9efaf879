/** How bad a finding is; `none` means the moderator looked and found nothing of the kind. */
export type Severity = 'none' | 'low' | 'medium' | 'high';

/** The kinds of unsafe content Herald screens generated copy for. */
export type ModerationCategory = 'hate' | 'violence' | 'self-harm' | 'sexual' | 'harassment';

export const moderationCategories: readonly ModerationCategory[] = [
  'hate',
  'violence',
  'self-harm',
  'sexual',
  'harassment',
];

/** Severities in increasing order, for "at least this severe" comparisons. */
export const severityRank: Readonly<Record<Severity, number>> = {
  none: 0,
  low: 1,
  medium: 2,
  high: 3,
};

/** What a content moderator found in a message's text. */
export interface ModerationFinding {
  category: ModerationCategory;
  severity: Severity;
  /** The moderator's own score in [0, 1], where it gives one. */
  score: number;
}

/** Screens text for unsafe content before generated copy is sent. */
export interface ContentModerator {
  readonly name: string;
  /**
   * Resolves with at most one finding per category — the worst across all `texts` — and
   * rejects when the moderator could not judge (network, quota, malformed answer, `signal`
   * aborted); a rejection must never be read as "nothing found".
   */
  moderate(texts: readonly string[], signal: AbortSignal): Promise<ModerationFinding[]>;
}
