// In: a message about to leave (channel, class, incentive, rendered content) and what is known
// of its recipient. Out: pass, review or block, with every guardrail's verdict — fail closed.
export { guardPolicySchema, type GuardPolicy } from './policy.js';
export { runGuardrails, defaultGuardrails, type GuardResult } from './run-guardrails.js';
export type {
  GuardContext,
  GuardMessage,
  Guardrail,
  MessageClass,
  MessageContent,
  Outcome,
  Verdict,
} from './guard-types.js';
