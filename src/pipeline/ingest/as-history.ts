import type { JsonObject } from '../../core/event.js';
import { isoTimeMs } from '../../core/time.js';

/** A field a call left out, or left blank: no time, as an export's blanks are read. */
export const isBlank = (value: unknown): boolean =>
  value === undefined || value === null || value === '';

/**
 * A Segment call from an export is history (every line of `herald import events`, and a call on
 * the API that carries the `receivedAt` only an export has): its `timestamp` is final — Segment corrected it
 * for the device's clock when it received the call — so its `sentAt` must not correct it
 * again against the import's clock, which would move years of events to the moment of the
 * import. A call with only `originalTimestamp` gets Segment's correction with its own
 * `sentAt` and `receivedAt`; `sentAt` and `receivedAt` themselves are left out.
 */
export const asHistory = (call: JsonObject): JsonObject => {
  const { sentAt, receivedAt, ...rest } = call;
  if (!isBlank(rest['timestamp'])) return rest;
  // Without a device time, the call happened when Segment received it, or else when it was
  // sent: never at the import (parsing would take its own receipt time).
  if (isBlank(rest['originalTimestamp'])) {
    const at = isBlank(receivedAt) ? sentAt : receivedAt;
    return at === undefined || isBlank(at) ? rest : { ...rest, timestamp: at };
  }
  // Read as the API reads times (ISO 8601, UTC without a zone); anything else is left for the
  // check to refuse, with its line.
  const times = [rest['originalTimestamp'], sentAt, receivedAt].map((t) =>
    typeof t === 'string' ? isoTimeMs(t) : Number.NaN,
  );
  const [original = Number.NaN, sent = Number.NaN, received = Number.NaN] = times;
  return times.every(Number.isFinite)
    ? { ...rest, timestamp: new Date(received - (sent - original)).toISOString() }
    : rest;
};
