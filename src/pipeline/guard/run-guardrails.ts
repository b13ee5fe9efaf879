import type { Guardrail, GuardContext, GuardMessage, Outcome, Verdict } from './guard-types.js';
import { verdict } from './guard-types.js';
import { brandGuardrail } from './guardrails/brand.js';
import { complianceGuardrail } from './guardrails/compliance.js';
import { consentGuardrail } from './guardrails/consent.js';
import { financialGuardrail } from './guardrails/financial.js';
import { rateGuardrail, spamGuardrail } from './guardrails/spam.js';
import type { GuardPolicy } from './policy.js';

export const defaultGuardrails: readonly Guardrail[] = [
  consentGuardrail,
  complianceGuardrail,
  spamGuardrail,
  rateGuardrail,
  brandGuardrail,
  financialGuardrail,
];

export interface GuardResult {
  /** The worst outcome of all: block over review over pass. */
  outcome: Outcome;
  verdicts: Verdict[];
}

const rank: Record<Outcome, number> = { pass: 0, review: 1, block: 2 };

/**
 * Runs every guardrail on a message. A guardrail that throws, or returns no verdict, blocks
 * the message (fail closed) with its error as the reason; the others still run, so every
 * problem is reported at once.
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
      if (found.length === 0) throw new Error('returned no verdict');
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
  return { outcome, verdicts };
};
