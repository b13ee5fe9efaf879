// The stage order: event ─▶ ingest ─▶ profile (─▶ decide ─▶ … in later stages).
// This file is the only place that hands one stage's output to the next.
import type { EventType, HeraldEvent } from '../core/event.js';
import type { Store } from '../ports/store.js';
import {
  parseRequest,
  type IngestLimits,
  type ParsedRequest,
  type RequestContext,
} from './ingest/index.js';
import { recordEvents, type ProfilePolicy, type RecordOutcome } from './profile/index.js';

export interface PipelineDeps {
  store: Store;
  limits: IngestLimits;
  policy: ProfilePolicy;
}

export interface IngestOutcome extends RecordOutcome {
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
  const outcome = await recordEvents(deps.store, parsed.events, deps.policy, context.receivedAtMs);
  return { ...outcome, parsed };
};

/** Records events that were already validated (bulk import). */
export const ingestEvents = (
  deps: PipelineDeps,
  events: readonly HeraldEvent[],
  nowMs: number,
): Promise<RecordOutcome> => recordEvents(deps.store, events, deps.policy, nowMs);
