import type { JsonObject } from './event.js';
import type { CustomerId } from './ids.js';
import type { Channel } from './profile.js';

/** Why the decide stage looked at a customer: an event, a timer or a schedule. */
export type Trigger =
  | { kind: 'cart-abandoned'; cartUpdatedAtMs: number }
  | { kind: 'signed-up' }
  | { kind: 'order-placed'; orderCount: number; revenue: number }
  | { kind: 'stage-changed'; from: string | null; to: string }
  | { kind: 'segment-changed'; from: string | null; to: string }
  | { kind: 'custom-event'; name: string; properties: JsonObject }
  | { kind: 'inactive'; days: number }
  | { kind: 'birthday' }
  | { kind: 'anniversary'; years: number }
  | { kind: 'journey-step'; journeyId: string; version: number; stepId: string }
  | { kind: 'win-back-wave'; wave: number; startedAtMs: number }
  | {
      kind: 'event';
      name: string;
      messageId: string;
      properties: JsonObject;
      /** `Order Completed`: which order of the customer's this was. */
      orderNumber?: number;
      /**
       * Set when the customer had held that many orders before (an order cancelled and
       * replaced): the order reaches no milestone.
       */
      reachedBefore?: true;
      /**
       * Set (to the event's time) for an event that arrived too late to act on: it only ends
       * the journeys it exits that were entered at or before it.
       */
      lateAtMs?: number;
    }
  | {
      kind: 'profile-changed';
      /**
       * The stage and segment before the change, as the ingest saw them: what the worker
       * compares with when it has no marks of its own for the customer (its first look).
       */
      from?: { stage: string; segment: string | null };
    }
  | { kind: 'campaign'; campaign: Campaign }
  /** A send asked for through `POST /v1/sends`, by the token's holder. */
  | { kind: 'api'; by: string };

/** A campaign's id: lower-case letters, digits and `-`, up to 64 characters (API and CLI alike). */
export const CAMPAIGN_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$';

/** A one-off campaign to a segment (or everyone), fanned out as one work item per customer. */
export interface Campaign {
  id: string;
  template: string;
  channels: Channel[];
  /** Only customers in this segment when the message is decided; null for everyone. */
  segment: string | null;
  incentive: { percent: number; validHours: number } | null;
  sendAtMs: number;
  /** What the campaign may spend on sending (major units); it pauses at the cap. */
  budget?: number | null;
  /** Percent of its audience held out of the campaign (a baseline), chosen by hash. */
  holdoutPercent?: number;
  /** Variants are split within each RFM segment separately (stratified assignment). */
  stratify?: boolean;
  /**
   * Written variants competing in the campaign's experiment (kept once, in the settings under
   * `creative:<campaign id>`); each customer is assigned one by hash when the message is made.
   */
  variantIds?: string[];
  /**
   * When the first of those variants' cited documents expires (`validUntilMs`): send-time
   * optimisation never moves a message past it, where the guard would block it as
   * `content_expired`. Absent when none expires (or without written variants).
   */
  copyValidUntilMs?: number;
}

/** A variant of generated copy, with the documents it cites. */
export interface CreativeVariant {
  id: string;
  strategy: string;
  tone: string;
  subject: string;
  preheader: string;
  body: string;
  cta: string;
  citations: string[];
  generator: string;
  /** The content moderator's answer when the variant was written (the guard reads it). */
  moderation: { ok: boolean; moderator: string; findings?: unknown[]; error?: string };
  /** Brand and tone consistency in [0, 1] when it was written. */
  scores: { brand: number; tone: number };
  /**
   * When the first of its cited documents expires (null: none does): its claims may not go out
   * after that. Absent in variants written before it was kept.
   */
  validUntilMs?: number | null;
  /**
   * The version of each cited document it was written from: once another is in force (or none
   * is: withdrawn, expired), its claims stand on copy nobody approved now. Absent in variants
   * written before it was kept.
   */
  sources?: { id: string; version: string }[];
  /**
   * Its share of the campaign's traffic against the others' (absent: 1): a strategy that won
   * for the segment before gets `content.learnedTrafficWeight`.
   */
  weight?: number;
}

export type TriggerKind = Trigger['kind'];

/**
 * The longest an offer's code may stay valid: a year and a day. Beyond it an expiry is no
 * business offer, and past JavaScript's last date it is no date at all (a worker round that
 * wrote it would fail).
 */
export const MAX_CODE_VALID_HOURS = 366 * 24;

export interface Incentive {
  kind: 'percent-off' | 'amount-off' | 'free-shipping';
  percent: number | null;
  amount: number | null;
  code: string;
  expiresAtMs: number;
}

/**
 * `scheduled`: for the next stages to carry out at `scheduledForMs`; `skipped`: an agent chose
 * not to act (low confidence, no channel), with the reasons; `escalated`: handed to a person
 * instead of an automated message; `cancelled`: a later event made it moot before it was due.
 */
export type DecisionStatus = 'scheduled' | 'skipped' | 'escalated' | 'cancelled';

/** An agent's proposal that lost arbitration to the decision it is recorded with. */
export interface Alternative {
  agent: string;
  action: string;
  priority: number;
  expectedValue: number;
  /** Why it lost. */
  reason: string;
  /**
   * Why its agent proposed it, as a decision's `reasons`; absent on decisions stored before
   * 2026-12-05, when arbitration kept only the reason it lost.
   */
  reasons?: string[];
}

/** A score a decision used, and what made it: a trained model's registry version, or the rules. */
export interface UsedScore {
  value: number;
  source: 'rules' | 'model';
  /** The registry version when `source` is `model`; null for the rules. */
  modelVersion: number | null;
}

/**
 * A customer's probability that the next message on each channel is credited with an order,
 * under a trained conversion model (their own record shrunk toward the channel's).
 */
export interface ConversionView {
  modelVersion: number;
  byChannel: Partial<Record<Channel, number>>;
}

/** The scores behind a decision (the lifecycle stage, segment and journey conditions read them). */
export interface DecisionScores {
  churnRisk: UsedScore;
  /** The conversion probability its expected value used (its first channel), when a model had one. */
  conversion?: { channel: Channel; probability: number; modelVersion: number };
}

/**
 * The agents that make decisions: every proposal names one of these (the type holds them to
 * it), and `GET /v1/decisions?agent=` takes exactly these, so a misspelt filter is refused
 * rather than answered with an empty list.
 */
export const decisionAgents = [
  'api',
  'campaign',
  'cart',
  'custom',
  'journey',
  'lifecycle',
  'milestone',
  'win-back',
] as const;
export type DecisionAgent = (typeof decisionAgents)[number];

/** One decision: what to say to whom, on which channels, when, and why. */
export interface Decision {
  id: string;
  customerId: CustomerId;
  agent: string;
  trigger: Trigger;
  action: string;
  /** In order of preference; the first one the customer can receive comes first. */
  channels: Channel[];
  /** The template (or content) the message is rendered from. */
  template: string | null;
  incentive: Incentive | null;
  scheduledForMs: number;
  confidence: number;
  reasons: string[];
  journey: { id: string; version: number; stepId: string } | null;
  /** Set when the message has variants for the experiment stage to assign. */
  experiment: { slot: string; variants: string[] } | null;
  status: DecisionStatus;
  priority: number;
  expectedValue: number;
  alternatives: Alternative[];
  /** Agent-specific figures (cart products, win-back tier, segment …). */
  details: JsonObject;
  /**
   * The scores the agents saw and which model made each; absent on decisions that read none
   * (sends asked for through the API) and on those recorded before scores were stamped.
   */
  scores?: DecisionScores;
  /**
   * Set on a message about the customer's open cart that is not the cart agent's own offer (a
   * step of a journey entered when a cart was abandoned, such as the cart reminder): like the
   * offer, it may go only while the cart holds what it held when the message was made.
   */
  aboutCart?: true;
  createdAtMs: number;
}
