// The stage order: event ─▶ ingest ─▶ profile ─▶ decide ─▶ render ─▶ guard ─▶ record (─▶ deliver).
// This file (with guard-and-record.ts beside it) is the only place that hands one stage's
// output to the next.
import type { EventType, HeraldEvent } from '../core/event.js';
import {
  parseRequest,
  type IngestLimits,
  type ParsedRequest,
  type RequestContext,
} from './ingest/index.js';
import type {
  ComputedProfile,
  LiveChurnModel,
  ProfileChange,
  ProfileState,
} from '../core/profile.js';
import { applyTriggerPlan, type OnDecided, type TriggerPlanner } from './decide/index.js';
import {
  guardAndRecord,
  withdrawnMessages,
  withdrawRepeatedCampaigns,
  type GuardDeps,
} from './guard-and-record.js';
import {
  attributeConversions,
  creditExperimentOutcomes,
  markCancelledOrders,
  withdrawCancelledConversions,
} from './track-messages.js';
import type { CustomerId } from '../core/ids.js';
import { emailKey } from '../core/recipient.js';
import type { Store, StoreTx } from '../ports/store.js';
import type { ActivityFacts } from './predict/index.js';
import { rememberAddressBounces } from './erased-identities.js';
import {
  deriveComputed,
  isHardBounce,
  replayHistory,
  scoreChurn,
  type EventRecorder,
  type OnRecorded,
  type ProfilePolicy,
  type RecordedBatch,
} from './profile/index.js';
import { Stamps, stampOf } from './profile/stamps.js';

export interface PipelineDeps {
  recorder: EventRecorder;
  limits: IngestLimits;
}

export interface IngestOutcome extends RecordedBatch {
  parsed: ParsedRequest;
}

/** Validates a tracking request and records every valid event it carries, durably. */
export const ingestRequest = async (
  deps: PipelineDeps,
  body: unknown,
  route: EventType | 'batch',
  context: RequestContext,
): Promise<IngestOutcome> => {
  const parsed = parseRequest(body, route, context, deps.limits);
  const outcome = await deps.recorder.record(parsed.events, context.receivedAtMs);
  return { ...outcome, parsed };
};

/** Records events that were already validated (bulk import). */
export const ingestEvents = (
  deps: PipelineDeps,
  events: readonly HeraldEvent[],
  nowMs: number,
): Promise<RecordedBatch> => deps.recorder.record(events, nowMs);

/**
 * ingest ─▶ profile after a bulk import: rebuilds the profiles its batches left behind their
 * events, once each, with their triggers planned; returns how many were written.
 */
export const settleImportedProfiles = (
  deps: PipelineDeps,
  nowMs: number,
  onProgress?: (done: number, total: number) => void,
): Promise<number> => deps.recorder.settle(nowMs, onProgress);

/** The email address a set of traits names, or null. */
const emailIn = (traits: Readonly<Record<string, unknown>> | undefined): string | null => {
  const address = traits?.['email'];
  return typeof address === 'string' && address.trim() !== '' ? address : null;
};

/**
 * The hard bounces new in each change, each against the email address the record had when it
 * bounced (its traits before the change, then each identify in the change's time order that
 * changes the address as the profile does — one dated before the address held, arriving late,
 * does not; one not known by then is the address it ends with): what the guard counts on every
 * record of the address. A batch holding the bounces of a mistyped address and the identify
 * correcting it counts them against the mistyped one, not the corrected. A change hands each
 * event on once (a live batch, a merge's or a bulk load's settle), so each bounce is counted once.
 */
export const addressBouncesIn = (
  changes: readonly ProfileChange[],
): { address: string; count: number; atMs: number }[] =>
  changes.flatMap((change) => {
    // Most changes hold no bounce: they pay for one scan.
    if (!change.events.some(isHardBounce)) return [];
    const byAddress = new Map<string, { address: string; count: number; atMs: number }>();
    const last = emailIn(change.after.traits);
    let current = emailIn(change.before?.traits);
    // When the address held was set, as the profile dates it: an identify older than that
    // (queued offline, backfilled) changes nothing.
    const stamps = new Stamps(change.before?.setAtMs);
    const dated = change.events.map((event) => ({ event, ...stampOf(event) }));
    const inOrder = dated.sort((a, b) => a.atMs - b.atMs || a.stampedAtMs - b.stampedAtMs);
    for (const { event, atMs, stampedAtMs } of inOrder) {
      if (
        event.type === 'identify' &&
        'email' in event.traits &&
        stamps.take('traits.email', atMs, stampedAtMs)
      )
        current = emailIn(event.traits) ?? current;
      if (!isHardBounce(event)) continue;
      const address = current ?? last;
      if (address === null) continue;
      const key = emailKey(address);
      const counted = byAddress.get(key) ?? { address, count: 0, atMs: Number.NEGATIVE_INFINITY };
      byAddress.set(key, {
        address: counted.address,
        count: counted.count + 1,
        atMs: Math.max(counted.atMs, event.timestampMs),
      });
    }
    return [...byAddress.values()];
  });

/**
 * profile ─▶ decide, guard and track: the triggers a recorded batch raises, the hard bounces it
 * adds to each email address (on every record of it), the conversions its orders make of
 * earlier messages, and the experiment outcomes they add to (and the conversions of orders
 * cancelled since, withdrawn, the orders marked cancelled), stored in the same transaction.
 */
export const planDecisionsOnRecord =
  (
    plannerFor: (tx: Pick<StoreTx, 'journeyVersionsBeyond'>) => Promise<TriggerPlanner>,
    attributionWindowMs: number,
  ): OnRecorded =>
  async (tx, changes, nowMs) => {
    await rememberAddressBounces(tx, addressBouncesIn(changes));
    // The planner for the journey versions stored now (`followJourneyVersions`).
    await applyTriggerPlan(tx, (await plannerFor(tx))(changes, nowMs), nowMs);
    await attributeConversions(tx, changes, attributionWindowMs, nowMs);
    await creditExperimentOutcomes(tx, changes);
    await withdrawCancelledConversions(tx, changes, nowMs);
    await markCancelledOrders(tx, changes);
    // Two records made one person: a campaign reaches them once, and never if held out of it.
    await withdrawRepeatedCampaigns(
      tx,
      changes.flatMap((c) => (c.merged === true ? [c.customerId] : [])),
      nowMs,
    );
  };

/** The profile stage's figures, for the decide stage (which may not import it). */
export const profileFiguresOf =
  (policy: ProfilePolicy, churnModel?: LiveChurnModel) =>
  (state: ProfileState, nowMs: number): ComputedProfile =>
    deriveComputed(state, nowMs, policy, churnModel);

/**
 * profile ─▶ predict: the rule-based churn score of a customer's churn features — days since
 * they last acted, orders, spend and engagement as the profile had them at the cutoff (without
 * their events: the last order, and engagement 0) — for the predict stage to compare with.
 */
export const ruleChurnScoreOf =
  (policy: ProfilePolicy) =>
  (f: {
    daysSinceActive: number;
    orders: number;
    totalValue: number;
    engagementScore: number;
  }): number =>
    scoreChurn(
      {
        daysSinceActive: f.daysSinceActive,
        orderCount: f.orders,
        monetary: f.totalValue,
        engagementScore: f.engagementScore,
      },
      policy.churn,
    );

/**
 * profile ─▶ predict: what each customer's profile said of their activity at each of `cutoffsMs`
 * (engagement score, days since they last acted, open cart), replayed from their events before
 * it — the point-in-time figures the churn classifier learns from. Null where the customer had
 * no event yet. One read of a customer's events serves every cutoff.
 */
export const activityHistoryOf =
  (store: Pick<Store, 'listCustomerIds' | 'listEvents'>, policy: ProfilePolicy) =>
  async (cutoffsMs: readonly number[]): Promise<Map<string, (ActivityFacts | null)[]>> => {
    const out = new Map<string, (ActivityFacts | null)[]>();
    let after: CustomerId | null = null;
    for (;;) {
      const ids = await store.listCustomerIds(after, 500);
      const last = ids.at(-1);
      if (last === undefined) return out;
      for (const id of ids) {
        // Newest first from the store: oldest first to replay.
        const events = (await store.listEvents(id, Number.MAX_SAFE_INTEGER)).reverse();
        out.set(
          id,
          cutoffsMs.map((cutoffMs) => {
            const state = replayHistory(
              id,
              events.filter((e) => e.timestampMs < cutoffMs),
              policy,
            );
            if (state === null) return null;
            const figures = deriveComputed(state, cutoffMs, policy);
            return {
              engagementScore: figures.engagementScore,
              daysSinceActive: figures.daysSinceActive,
              cartValue: figures.cart?.value ?? 0,
              responsesByChannel: state.responses?.byChannel ?? {},
            };
          }),
        );
      }
      after = last;
    }
  };

/**
 * decide ─▶ guard ─▶ record: in the transaction that stores the decisions. What the round
 * cancelled (decisions of earlier rounds) is withdrawn first, so the messages it judges are not
 * counted against caps, cadence and budgets by messages that will never leave: an order that
 * cancels the queued cart reminder is thanked by the first-order message the same round makes.
 */
export const guardOnDecided =
  (deps: GuardDeps): OnDecided =>
  async (tx, batch, nowMs) => {
    // Their audit entries are appended with the round's own, after the budgets' locks.
    const withdrawn = await withdrawnMessages(tx, batch.cancelled, nowMs);
    await guardAndRecord(tx, deps, batch.decisions, batch.profiles, nowMs, {
      auditFirst: withdrawn,
    });
  };
