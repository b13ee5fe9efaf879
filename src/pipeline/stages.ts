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
import type { ComputedProfile, LiveChurnModel, ProfileState } from '../core/profile.js';
import { applyTriggerPlan, type OnDecided, type TriggerPlanner } from './decide/index.js';
import { guardAndRecord, withdrawMessages, type GuardDeps } from './guard-and-record.js';
import { attributeConversions } from './track-messages.js';
import {
  deriveComputed,
  scoreChurn,
  type EventRecorder,
  type OnRecorded,
  type ProfilePolicy,
  type RecordedBatch,
} from './profile/index.js';

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
 * profile ─▶ decide and track: the triggers a recorded batch raises, and the conversions its
 * orders make of earlier messages, stored in the same transaction.
 */
export const planDecisionsOnRecord =
  (planner: TriggerPlanner, attributionWindowMs: number): OnRecorded =>
  async (tx, changes, nowMs) => {
    await applyTriggerPlan(tx, planner(changes, nowMs), nowMs);
    await attributeConversions(tx, changes, attributionWindowMs, nowMs);
  };

/** The profile stage's figures, for the decide stage (which may not import it). */
export const profileFiguresOf =
  (policy: ProfilePolicy, churnModel?: LiveChurnModel) =>
  (state: ProfileState, nowMs: number): ComputedProfile =>
    deriveComputed(state, nowMs, policy, churnModel);

/**
 * profile ─▶ predict: the rule-based churn score of order facts (imported orders carry no
 * engagement, so it sees engagement 0), for the predict stage to compare its models with.
 */
export const ruleChurnScoreOf =
  (policy: ProfilePolicy) =>
  (f: { daysSinceLastOrder: number; orders: number; totalValue: number }): number =>
    scoreChurn(
      {
        daysSinceActive: f.daysSinceLastOrder,
        orderCount: f.orders,
        monetary: f.totalValue,
        engagementScore: 0,
      },
      policy.churn,
    );

/** decide ─▶ guard ─▶ record: in the transaction that stores the decisions. */
export const guardOnDecided =
  (deps: GuardDeps): OnDecided =>
  async (tx, batch, nowMs) => {
    await guardAndRecord(tx, deps, batch.decisions, batch.profiles, nowMs);
    await withdrawMessages(tx, batch.cancelled, nowMs);
  };
