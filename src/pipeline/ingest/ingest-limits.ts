/** Limits from the Segment HTTP tracking API, configurable under `ingest:`. */
export interface IngestLimits {
  /** Largest serialised event (Segment: 32 KB). */
  maxEventBytes: number;
  /** Largest request body after decompression (Segment: 500 KB). */
  maxBatchBytes: number;
  /** How far past the server clock a corrected timestamp may be. */
  maxFutureMs: number;
  /** The earliest timestamp accepted. */
  earliestTimestampMs: number;
}
