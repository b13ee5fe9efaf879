import type { Guardrail, GuardContext, GuardMessage, Outcome, Verdict } from './guard-types.js';
import { verdict } from './guard-types.js';
import { brandGuardrail } from './guardrails/brand.js';
import { budgetGuardrail } from './guardrails/budget.js';
import { complianceGuardrail } from './guardrails/compliance.js';
import { consentGuardrail } from './guardrails/consent.js';
import { contentSafetyGuardrail } from './guardrails/content-safety.js';
import { financialGuardrail } from './guardrails/financial.js';
import { linksGuardrail } from './guardrails/links.js';
import { quietHoursGuardrail } from './guardrails/quiet-hours.js';
import { reputationGuardrail } from './guardrails/reputation.js';
import { rateGuardrail, spamGuardrail } from './guardrails/spam.js';
import type { GuardPolicy } from './policy.js';

export const defaultGuardrails: readonly Guardrail[] = [
  consentGuardrail,
  complianceGuardrail,
  linksGuardrail,
  spamGuardrail,
  rateGuardrail,
  brandGuardrail,
  financialGuardrail,
  quietHoursGuardrail,
  reputationGuardrail,
  budgetGuardrail,
  contentSafetyGuardrail,
];

export interface GuardResult {
  /** The worst outcome of all: block over review over hold over pass. */
  outcome: Outcome;
  verdicts: Verdict[];
  /** The latest moment any `hold` verdict asks to wait for; null when nothing holds. */
  holdUntilMs: number | null;
}

// A message to review waits for a person anyway, and a blocked one never leaves: both
// outrank a hold, which only delays a message that would otherwise go.
const rank: Record<Outcome, number> = { pass: 0, hold: 1, review: 2, block: 3 };

const checkVerdicts = (found: readonly Verdict[]): void => {
  if (found.length === 0) throw new Error('returned no verdict');
  for (const v of found)
    if (v.outcome === 'hold' && (v.holdUntilMs === undefined || !Number.isFinite(v.holdUntilMs)))
      throw new Error(`held (${v.code}) without a moment to hold until`);
};

/**
 * Runs every guardrail on a message. A guardrail that throws, returns no verdict or holds
 * without a moment blocks the message (fail closed) with its error as the reason; the others
 * still run, so every problem is reported at once.
 */
export const runGuardrails = (
  message: GuardMessage,
  context: GuardContext,
  policy: GuardPolicy,
  guardrails: readonly Guardrail[] = defaultGuardrails,
): GuardResult => {
  const verdicts: Verdict[] = [];
  for (const guardrail of guardrails) {
    try {
      const found = guardrail.check(message, context, policy);
      checkVerdicts(found);
      verdicts.push(...found);
    } catch (error) {
      verdicts.push(
        verdict(
          guardrail.name,
          'block',
          'guardrail_failed',
          `guardrail ${guardrail.name} failed: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }
  }
  const outcome = verdicts.reduce<Outcome>(
    (worst, v) => (rank[v.outcome] > rank[worst] ? v.outcome : worst),
    'pass',
  );
  const holdUntilMs = verdicts.reduce<number | null>(
    (latest, v) =>
      v.outcome === 'hold' &&
      v.holdUntilMs !== undefined &&
      (latest === null || v.holdUntilMs > latest)
        ? v.holdUntilMs
        : latest,
    null,
  );
  return { outcome, verdicts, holdUntilMs };
};
