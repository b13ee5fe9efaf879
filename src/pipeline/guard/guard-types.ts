import type { Incentive } from '../../core/decision.js';
import type { JsonObject } from '../../core/event.js';
import type { CustomerId } from '../../core/ids.js';
import type { Channel, ProfileState } from '../../core/profile.js';
import type { GuardPolicy } from './policy.js';

/** Caps, quiet hours and marketing consent apply to marketing only; the class is recorded. */
export type MessageClass = 'marketing' | 'transactional';

/** The rendered message, once the render stage has produced it. */
export interface MessageContent {
  subject: string | null;
  body: string;
  from: string | null;
  replyTo: string | null;
  /** The sender's physical postal address in the footer (CAN-SPAM). */
  footerAddress: string | null;
  unsubscribeUrl: string | null;
}

/** One message about to leave: what the guardrails judge. */
export interface GuardMessage {
  decisionId: string;
  customerId: CustomerId;
  agent: string;
  channel: Channel;
  class: MessageClass;
  template: string | null;
  /** What the message is about, for topic preferences (`promotions`, `product-updates` …). */
  topic: string | null;
  incentive: Incentive | null;
  content: MessageContent | null;
  /** Copy written by a language model (or the offline composer) rather than a person. */
  generated: boolean;
}

/** What the guardrails know besides the message: the profile and what was already sent. */
export interface GuardContext {
  profile: ProfileState;
  /** In [0, 1], as the profile stage computes it at `nowMs`. */
  engagementScore: number;
  /** Historical lifetime value, major units. */
  ltv: number;
  history: {
    /** Marketing messages per channel in the frequency-cap window. */
    marketingInWindow: Partial<Record<Channel, number>>;
    /** Campaign messages (any channel) in the last 24 hours. */
    campaignsToday: number;
    /** Marketing messages ever sent, to tell a new customer from a disengaged one. */
    marketingTotal: number;
  };
  nowMs: number;
}

export type Outcome = 'pass' | 'review' | 'block';

/** One guardrail's judgement, with a machine-readable code and the figures it used. */
export interface Verdict {
  guardrail: string;
  outcome: Outcome;
  /** `ok`, `frequency_capped`, `no_consent`, … — stable, for reporting. */
  code: string;
  reason: string;
  figures: JsonObject;
}

/** A rule every applicable message passes through; pure, and may throw (which blocks). */
export interface Guardrail {
  name: string;
  check(message: GuardMessage, context: GuardContext, policy: GuardPolicy): Verdict[];
}

export const pass = (guardrail: string, reason: string, figures: JsonObject = {}): Verdict => ({
  guardrail,
  outcome: 'pass',
  code: 'ok',
  reason,
  figures,
});

export const verdict = (
  guardrail: string,
  outcome: Outcome,
  code: string,
  reason: string,
  figures: JsonObject = {},
): Verdict => ({ guardrail, outcome, code, reason, figures });
