import type { FieldProblem } from '../../core/errors.js';
import type { EventType, HeraldEvent, JsonObject } from '../../core/event.js';
import type { SourceId } from '../../core/ids.js';
import type { IngestLimits } from './ingest-limits.js';
import { contextSizesOf, parseEvent } from './parse-event.js';

/** An event the request carried that Herald did not accept, and why. */
export interface RejectedEvent {
  index: number;
  messageId: string | null;
  problems: FieldProblem[];
}

export interface ParsedRequest {
  events: HeraldEvent[];
  rejected: RejectedEvent[];
  /** Problems with the request itself (not one event); when present, nothing is accepted. */
  problems: FieldProblem[];
  /** Set when the problem is the request's size as stored (an HTTP 413, not a 400). */
  tooLarge?: true;
}

/**
 * How many times the batch size limit the batch's `context` may come to, copied into each of
 * its events: a 480 KB request of 5,000 tiny events under a 31 KB context stored 155 MB.
 */
export const CONTEXT_COPIES_LIMIT = 4;

export interface RequestContext {
  sourceId: SourceId;
  receivedAtMs: number;
  newMessageId: () => string;
  /** For a verified source: whether a signature vouches for a user id (see `EventEnvelope`). */
  verifyUser?: (userId: string, signature: unknown) => boolean;
}

const messageIdOf = (raw: unknown): string | null => {
  const id = typeof raw === 'object' && raw !== null ? (raw as JsonObject)['messageId'] : undefined;
  return typeof id === 'string' ? id : null;
};

/**
 * Splits a tracking request into valid events and rejected ones. `route` is the call's type
 * for `/v1/<type>` and `batch` for `/v1/batch`. Batch semantics: every valid event is accepted
 * even when others in the same batch are not; each rejected one is reported with its index.
 */
export const parseRequest = (
  body: unknown,
  route: EventType | 'batch',
  context: RequestContext,
  limits: IngestLimits,
): ParsedRequest => {
  const base = {
    sourceId: context.sourceId,
    receivedAtMs: context.receivedAtMs,
    newMessageId: context.newMessageId,
    ...(context.verifyUser === undefined ? {} : { verifyUser: context.verifyUser }),
  };
  if (route !== 'batch') {
    const result = parseEvent(
      body,
      { ...base, type: route, sentAt: undefined, context: null, path: '' },
      limits,
    );
    return result.ok
      ? { events: [result.value.event], rejected: [], problems: [] }
      : {
          events: [],
          rejected: [{ index: 0, messageId: messageIdOf(body), problems: result.error }],
          problems: [],
        };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      events: [],
      rejected: [],
      problems: [{ path: '', message: 'must be a JSON object with a "batch" array' }],
    };
  }
  const envelope = body as JsonObject;
  const batch = envelope['batch'];
  if (!Array.isArray(batch)) {
    return {
      events: [],
      rejected: [],
      problems: [{ path: '/batch', message: 'must be an array of events' }],
    };
  }
  if (batch.length === 0) {
    return { events: [], rejected: [], problems: [{ path: '/batch', message: 'is empty' }] };
  }
  const batchContext = envelope['context'];
  const batchContextObject =
    typeof batchContext === 'object' && batchContext !== null ? (batchContext as JsonObject) : null;
  const contextSizes = batchContextObject === null ? null : contextSizesOf(batchContextObject);
  // Every event stores the batch's context under its own: counted for each, whatever each
  // overrides, before any is read.
  const copied = (contextSizes?.total ?? 0) * batch.length;
  const maxCopied = limits.maxBatchBytes * CONTEXT_COPIES_LIMIT;
  if (copied > maxCopied)
    return {
      events: [],
      rejected: [],
      problems: [
        {
          path: '/context',
          message: `the batch's context (${String(contextSizes?.total)} bytes), stored with each of its ${String(batch.length)} events, comes to ${String(copied)} bytes; the limit is ${String(maxCopied)} bytes (${String(CONTEXT_COPIES_LIMIT)} × the batch limit): send fewer events a batch, or a smaller context`,
        },
      ],
      tooLarge: true,
    };
  const shared = {
    ...base,
    type: null,
    sentAt: envelope['sentAt'],
    context: batchContextObject,
    ...(contextSizes === null ? {} : { contextSizes }),
  };
  const events: HeraldEvent[] = [];
  const rejected: RejectedEvent[] = [];
  batch.forEach((raw: unknown, index) => {
    const result = parseEvent(raw, { path: `/batch/${index}`, ...shared }, limits);
    if (result.ok) events.push(result.value.event);
    else rejected.push({ index, messageId: messageIdOf(raw), problems: result.error });
  });
  return { events, rejected, problems: [] };
};
