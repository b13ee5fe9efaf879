import type { Decision } from '../../core/decision.js';
import type { MessageRecord, RecordedVerdict } from '../../core/message.js';

/** A moment as ISO text; null for one no calendar has (a decision gone wrong must still be told). */
const isoOf = (ms: number): string | null =>
  Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;

/**
 * A decision's audit entry in the requirements' shape: decision, agent, action, parameters,
 * every guardrail result, confidence, human override, execution status. It names the content
 * by its hash and carries no personal data, so it survives the customer's erasure.
 */
export const decisionAuditData = (
  decision: Decision,
  message: MessageRecord | null,
  verdicts: readonly RecordedVerdict[],
) => ({
  decisionId: decision.id,
  agent: decision.agent,
  action: decision.action,
  trigger: decision.trigger.kind,
  parameters: {
    channel: message?.channel ?? decision.channels[0] ?? null,
    template: decision.template,
    class: message?.class ?? null,
    topic: message?.topic ?? null,
    incentive:
      decision.incentive === null
        ? null
        : {
            kind: decision.incentive.kind,
            percent: decision.incentive.percent,
            amount: decision.incentive.amount,
            expiresAt: isoOf(decision.incentive.expiresAtMs),
          },
    scheduledFor: isoOf(decision.scheduledForMs),
    sendAt: message === null ? null : isoOf(message.sendAtMs),
    journey: decision.journey,
    campaignId: message?.campaignId ?? null,
    experiment: decision.experiment,
    variant: message?.variant ?? null,
  },
  confidence: decision.confidence,
  reasons: decision.reasons,
  guardrails: verdicts,
  override: null,
  status: message?.status ?? decision.status,
  reasonCode: message?.reasonCode ?? null,
  contentHash: message?.contentHash ?? null,
});

/** What changed on a message after it was recorded (review, cancellation, expiry, delivery). */
export const messageAuditData = (
  message: MessageRecord,
  change: {
    action: string;
    by: string | null;
    reason: string;
    override?: boolean;
    /** A reviewer's edit sent the message back to the queue (`return`). */
    edited?: boolean;
    /** Every verdict when the guardrails ran again (an approval); else the message's own. */
    verdicts?: readonly RecordedVerdict[];
  },
) => ({
  decisionId: message.id,
  action: change.action,
  by: change.by,
  reason: change.reason,
  override: change.override ?? false,
  ...(change.edited === true ? { edited: true } : {}),
  status: message.status,
  guardrails: change.verdicts ?? message.verdicts,
  contentHash: message.contentHash,
});
