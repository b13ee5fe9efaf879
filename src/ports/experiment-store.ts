import type { CustomerId } from '../core/ids.js';
import type { Channel } from '../core/profile.js';

/**
 * A customer's place in an experiment: the arm, recorded when the message that carries it is
 * made (so the holdout, which gets no message, is recorded the same way as everyone else), the
 * moment it actually reached them (the exposure), and the orders that followed it within the
 * outcome window. One row per experiment and customer: the first assignment counts.
 */
export interface ExperimentUnit {
  experimentId: string;
  customerId: CustomerId;
  arm: string;
  /** The message (decision) that assigned it. */
  messageId: string;
  /** The customer's segment when assigned, for per-segment results. */
  segment: string;
  channel: Channel;
  assignedAtMs: number;
  /** Orders placed after this moment no longer count toward the unit's outcome. */
  windowEndsMs: number;
}

/** What the experiment stage writes inside a store transaction. */
export interface ExperimentTx {
  /** Records assignments; a customer already in the experiment keeps the first one. */
  assignUnits(units: readonly ExperimentUnit[]): Promise<void>;
  /** The arm each of these customers holds in the experiment, for those who hold one. */
  armsOf(
    experimentId: string,
    customerIds: readonly CustomerId[],
  ): Promise<Map<CustomerId, string>>;
  /**
   * Adds each order to the outcome of every unit of its customer whose window holds the order's
   * moment (assigned before it, window not yet ended); returns how many credits that made (a
   * unit that two orders fall into counts twice).
   */
  creditOrders(
    orders: readonly { customerId: CustomerId; atMs: number; revenueCents: number }[],
  ): Promise<number>;
  /** Stores a test's learnings (one per strategy, segment, channel and metric; replaced). */
  saveLearnings(learnings: readonly Learning[]): Promise<void>;
}

/**
 * Sums over an experiment's units, per arm, whether the message reached the customer, and `by`
 * (the segment, or the assignment day).
 */
export interface UnitTotals {
  arm: string;
  exposed: boolean;
  /**
   * Whether the units' windows (from exposure once exposed, else from assignment) had closed
   * by the time asked about: every order counted.
   */
  matured: boolean;
  /**
   * Whether every unit assigned up to these units' assignment has its exposure decided: none
   * assigned by then waits, unexposed, with its message still queued, in review or being sent.
   * The sample-ratio check counts settled units, so that a variant whose messages leave later
   * (a review, quiet hours) is not taken for one that lost its traffic.
   */
  settled: boolean;
  /** The segment, or the UTC day (ms at midnight) of assignment. */
  key: string | number;
  /** Summed by segment and day (`segment-day`): the UTC day (ms at midnight) of assignment. */
  day?: number;
  units: number;
  /** Units with at least one order in their window. */
  converted: number;
  revenueCents: number;
  /** Σ revenue² (cents²), for the variance of revenue per unit. */
  revenueSquares: number;
  /**
   * The same three over the window from exposure (0 for units never exposed): the orders that
   * followed the message, not those placed while it waited to leave.
   */
  exposedConverted: number;
  exposedRevenueCents: number;
  exposedRevenueSquares: number;
}

/** A finished test's lesson: how a strategy did against control, for a segment and channel. */
export interface Learning {
  experimentId: string;
  strategy: string;
  segment: string;
  channel: string;
  metric: string;
  /** Relative lift over control, with its interval. */
  lift: number;
  lower: number;
  upper: number;
  /** The always-valid p-value that allowed the promotion. */
  p: number;
  units: number;
  createdAtMs: number;
}

export interface ExperimentSummary {
  experimentId: string;
  units: number;
  exposed: number;
  firstAssignedAtMs: number;
  lastAssignedAtMs: number;
}

/** The sums the KPIs are computed from, for messages and orders in a time range. */
export interface KpiTotals {
  /** Messages handed to a provider in the range, per channel and agent, and what followed. */
  touches: {
    channel: string;
    agent: string;
    sent: number;
    opened: number;
    clicked: number;
    complained: number;
    /** Messages credited with at least one order (last touch). */
    converted: number;
    orders: number;
    revenueCents: number;
  }[];
  /** Messages made in the range, by status (queued, blocked, held-out, review, …). */
  made: Record<string, number>;
  /**
   * Orders placed in the range and their value, net of those their customer cancelled since;
   * `cancelled` counts those.
   */
  orders: { count: number; revenueCents: number; cancelled: number };
  /**
   * Every known customer now — identified (a user id) or who ordered; not an anonymous visitor
   * who only browsed —: by lifecycle stage, and the lifetime value of those who ordered.
   */
  customers: { total: number; byStage: Record<string, number>; ordering: number; ltvCents: number };
}

/** Cart-recovery messages sent in a range, and how many carts came back within the window. */
export interface CartRecoveries {
  sent: number;
  /**
   * Of those, the messages whose customer ordered within the window after it was sent (an
   * order cancelled since does not count).
   */
  recovered: number;
  /** The value of those orders, each order once (two messages before it count it once). */
  revenueCents: number;
}

/** Reads of the experiment tables. */
export interface ExperimentReads {
  kpiTotals(fromMs: number, toMs: number): Promise<KpiTotals>;
  /**
   * Spam complaints recorded in [fromMs, toMs), whenever their messages were sent (a
   * complaint about last week's message counts when it comes).
   */
  complaintsReceived(fromMs: number, toMs: number): Promise<number>;
  /** The cart agent's messages sent in [fromMs, toMs), and the orders within `windowMs` of each. */
  cartRecoveries(fromMs: number, toMs: number, windowMs: number): Promise<CartRecoveries>;
  /**
   * The experiment's units summed by segment, by UTC day of assignment, or by both
   * (`segment-day`: `key` the segment, `day` the day).
   */
  unitTotals(
    experimentId: string,
    by: 'segment' | 'day' | 'segment-day',
    nowMs: number,
  ): Promise<UnitTotals[]>;
  listExperiments(): Promise<ExperimentSummary[]>;
  /** Of these experiments, those that assigned a unit at or after `fromMs` and before `toMs`. */
  experimentsAssignedIn(
    experimentIds: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<string[]>;
  /** Learnings, newest first, optionally for one segment and channel. */
  listLearnings(query: { segment?: string; channel?: string }): Promise<Learning[]>;
  /** The customer's experiment assignments (an access request's), oldest first. */
  unitsOfCustomer(
    customerId: CustomerId,
  ): Promise<(ExperimentUnit & { exposedAtMs: number | null })[]>;
}
