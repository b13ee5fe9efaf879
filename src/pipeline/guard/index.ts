// In: a message about to leave (channel, class, send moment, incentive, rendered content) and
// what is known of its recipient. Out: pass, hold, review or block, with every verdict — fail closed.
export { guardPolicySchema, type GuardPolicy } from './policy.js';
export { runGuardrails, defaultGuardrails, type GuardResult } from './run-guardrails.js';
export { moderate } from './moderate.js';
export type {
  GuardContext,
  GuardMessage,
  Guardrail,
  MessageClass,
  MessageContent,
  ModerationFinding,
  ModerationOutcome,
  Outcome,
  Severity,
  Verdict,
} from './guard-types.js';
export {
  checkAtHandOff,
  checkReputationAtHandOff,
  checkTimingAtHandOff,
  DOMAIN_PAUSED_HOLD_MS,
  type AddressFactsAtHandOff,
  type HandOffHold,
  type Timing,
} from './hand-off.js';
export type { DomainResults } from './guardrails/reputation.js';
export { messageCost } from './guardrails/budget.js';
export { pass } from './guard-types.js';
