import type { Incentive } from '../../core/decision.js';
import type { JsonObject } from '../../core/event.js';
import type { CustomerId } from '../../core/ids.js';
import type { WhatsAppCall } from '../../core/message.js';
import type { Channel, ProfileState } from '../../core/profile.js';
import type { QuietHours } from '../../core/quiet-hours.js';
import type { ModerationFinding } from '../../ports/content-moderator.js';
import type { GuardPolicy } from './policy.js';

/** Caps, quiet hours and marketing consent apply to marketing only; the class is recorded. */
export type MessageClass = 'marketing' | 'transactional';

/** The rendered message, once the render stage has produced it. */
export interface MessageContent {
  subject: string | null;
  /** The email's preview line, shown in the inbox after the subject. */
  preheader?: string | null;
  body: string;
  /** The HTML part, when the email has one. */
  html?: string | null;
  from: string | null;
  replyTo: string | null;
  /** The sender's physical postal address in the footer (CAN-SPAM). */
  footerAddress: string | null;
  unsubscribeUrl: string | null;
  /** WhatsApp: the approved template, language and variables sent in place of the body. */
  whatsapp?: WhatsAppCall;
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
  /** When the message is to leave; quiet hours are judged at this moment. */
  sendAtMs: number;
  /** The one-off campaign the message belongs to, for its budget cap. */
  campaignId: string | null;
}

// Findings are defined once, by the moderator port that produces them.
export type { ModerationFinding, Severity } from '../../ports/content-moderator.js';

/** The moderator's answer, or the error it failed with (which blocks: fail closed). */
export type ModerationOutcome =
  | { ok: true; moderator: string; findings: ModerationFinding[] }
  | { ok: false; moderator: string; error: string };

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
    /** Marketing messages (any channel but web) in the last 24 hours. */
    campaignsToday: number;
    /** Marketing messages ever sent, to tell a new customer from a disengaged one. */
    marketingTotal: number;
    /**
     * When the latest marketing message (any channel but web) left or is to leave, for the
     * customer's cadence; absent where no cadence is read.
     */
    lastMarketingAtMs?: number | null;
  };
  /** Local quiet hours (shared with the decide stage's scheduling). */
  quietHours: QuietHours;
  /**
   * Delivery results of the sending domain the message would leave from, over the
   * reputation window; null before anything was sent from it.
   */
  sendingDomain: { domain: string; sent: number; bounced: number; complained: number } | null;
  /** The campaign's budget and what its messages already committed, in major units. */
  campaignBudget: { budget: number | null; spent: number } | null;
  /** The content moderator's answer for generated copy; null when the copy is not generated. */
  moderation: ModerationOutcome | null;
  /** Brand and tone scores in [0, 1] of generated copy (the content stage's), else null. */
  brandScores?: { brand: number; tone: number } | null;
  /**
   * When an identity this customer is known by (user id, anonymous id, email, phone) was last
   * erased on request, or null: the person was forgotten and has been named again since.
   */
  erasedAtMs: number | null;
  /**
   * When the customer's email address last opted out of marketing on any customer record (a
   * message's unsubscribe link, a complaint), or null; read for email only.
   */
  addressOptedOutAtMs?: number | null;
  /**
   * When the customer's phone number texted STOP on any customer record, unless a START from the
   * number lifted it since, or null; read for SMS only.
   */
  numberStoppedAtMs?: number | null;
  /**
   * The hard bounces of the customer's email address on every customer record that has it (a
   * guest checkout and an account), or null when none are kept; read for email only.
   */
  addressHardBounces?: number | null;
  /**
   * The hosts the message's links may lead to besides `links.allowedHosts`: those its template
   * names and the shop's and Herald's own (`Renderer.linkHostsOf`).
   */
  linkHosts: ReadonlySet<string>;
  nowMs: number;
}

/** `hold`: not now (quiet hours) — the message waits, it is not dropped. */
export type Outcome = 'pass' | 'hold' | 'review' | 'block';

/** One guardrail's judgement, with a machine-readable code and the figures it used. */
export interface Verdict {
  guardrail: string;
  outcome: Outcome;
  /** `ok`, `frequency_capped`, `no_consent`, … — stable, for reporting. */
  code: string;
  reason: string;
  figures: JsonObject;
  /** For `hold`: the moment the message may leave. */
  holdUntilMs?: number;
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

/** A `hold` verdict: the message waits until `holdUntilMs`, then is judged again. */
export const hold = (
  guardrail: string,
  code: string,
  reason: string,
  holdUntilMs: number,
  figures: JsonObject = {},
): Verdict => ({ guardrail, outcome: 'hold', code, reason, figures, holdUntilMs });
