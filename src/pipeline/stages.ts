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
import type { ComputedProfile, ProfileState } from '../core/profile.js';
import { applyTriggerPlan, type OnDecided, type TriggerPlanner } from './decide/index.js';
import { guardAndRecord, withdrawMessages, type GuardDeps } from './guard-and-record.js';
import { attributeConversions, creditExperimentOutcomes } from './track-messages.js';
import {
  deriveComputed,
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
 * profile ─▶ decide and track: the triggers a recorded batch raises, the conversions its
 * orders make of earlier messages, and the experiment outcomes they add to, stored in the same
 * transaction.
 */
export const planDecisionsOnRecord =
  (planner: TriggerPlanner, attributionWindowMs: number): OnRecorded =>
  async (tx, changes, nowMs) => {
    await applyTriggerPlan(tx, planner(changes, nowMs), nowMs);
    await attributeConversions(tx, changes, attributionWindowMs, nowMs);
    await creditExperimentOutcomes(tx, changes);
  };

/** The profile stage's figures, for the decide stage (which may not import it). */
export const profileFiguresOf =
  (policy: ProfilePolicy) =>
  (state: ProfileState, nowMs: number): ComputedProfile =>
    deriveComputed(state, nowMs, policy);

/** decide ─▶ guard ─▶ record: in the transaction that stores the decisions. */
export const guardOnDecided =
  (deps: GuardDeps): OnDecided =>
  async (tx, batch, nowMs) => {
    await guardAndRecord(tx, deps, batch.decisions, batch.profiles, nowMs);
    await withdrawMessages(tx, batch.cancelled, nowMs);
  };
