// In: a Segment tracking request body (one call or a batch) and where it came from.
// Out: validated, clock-corrected events, and the rejected ones with the field at fault.
export {
  parseRequest,
  type ParsedRequest,
  type RejectedEvent,
  type RequestContext,
} from './parse-request.js';
export { parseEvent, correctTimestamp } from './parse-event.js';
export { asHistory } from './as-history.js';
export type { IngestLimits } from './ingest-limits.js';
