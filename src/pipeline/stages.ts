// The stage order: event ─▶ ingest ─▶ profile (─▶ decide ─▶ … in later stages).
// This file is the only place that hands one stage's output to the next.
import type { EventType, HeraldEvent } from '../core/event.js';
import {
  parseRequest,
  type IngestLimits,
  type ParsedRequest,
  type RequestContext,
} from './ingest/index.js';
import type { EventRecorder, RecordedBatch } from './profile/index.js';

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
