import type { HeraldEvent } from '../../core/event.js';

/**
 * When each trait, preference and location field was last set: keys `traits.<key>`,
 * `preferences.<key>` and `location.<field>`, each the setting event's time as `stampOf` dates
 * it; and, under `stamped.<key>`, the event's own stamp where it is later than that time (the
 * event was stamped after Herald received it), to weigh values dated alike.
 */
export type SetTimes = Record<string, number>;

/** Where a key's own stamp is kept, when it is later than the key's time. */
const STAMPED = 'stamped.';

/**
 * When an event's facts date from: its timestamp, but never after Herald received it. Ingest
 * accepts timestamps up to `ingest.maxFutureHours` ahead, and a source whose clock runs ahead
 * would otherwise date a value past the changes sent after it, which could then not replace it
 * for up to that long. Facts dated alike that way are weighed by `stampedAtMs`, the event's own
 * stamp, as a replay (in stamp order) orders them. As consent dates its facts.
 */
export const stampOf = (event: HeraldEvent): { atMs: number; stampedAtMs: number } => ({
  atMs: Math.min(event.timestampMs, event.receivedAtMs),
  stampedAtMs: event.timestampMs,
});

/**
 * The set-times of one event's application: a value is taken only from an event no older than
 * the one that set the value held (by `stampOf`'s time, then by its stamp), so a profile does not
 * depend on the order its events arrive in — a late `identify` from a device that was offline
 * cannot put back an address changed since, and a rebuild (events in stamp order) gives what the
 * live updates gave. A field with no time (a profile stored before times were kept) takes any
 * value, as before. The times are copied on the first write; the held ones are never changed.
 */
export class Stamps {
  private copied = false;

  constructor(public times: SetTimes | undefined) {}

  /** Whether a value was ever set under `key` (with a time). */
  has(key: string): boolean {
    return this.times?.[key] !== undefined;
  }

  /**
   * Whether a value dated `atMs` (stamped `stampedAtMs`, when later) replaces the one held under
   * `key`, noting its time if so. A full tie goes to the value being applied.
   */
  take(key: string, atMs: number, stampedAtMs: number = atMs): boolean {
    const held = this.times?.[key];
    if (held !== undefined && held > atMs) return false;
    const heldStamp = held === atMs ? (this.times?.[STAMPED + key] ?? held) : undefined;
    if (heldStamp !== undefined && heldStamp > stampedAtMs) return false;
    if (heldStamp === stampedAtMs) return true;
    if (!this.copied) {
      this.times = { ...this.times };
      this.copied = true;
    }
    const times = this.times as SetTimes;
    times[key] = atMs;
    if (stampedAtMs > atMs) times[STAMPED + key] = stampedAtMs;
    else if (times[STAMPED + key] !== undefined) Reflect.deleteProperty(times, STAMPED + key);
    return true;
  }
}
