/**
 * When each trait, preference and location field was last set, by the timestamp of the event
 * that set it: keys `traits.<key>`, `preferences.<key>` and `location.<field>`.
 */
export type SetTimes = Record<string, number>;

/**
 * The set-times of one event's application: a value is taken only from an event no older than
 * the one that set the value held, so a profile does not depend on the order its events arrive
 * in — a late `identify` from a device that was offline cannot put back an address changed
 * since, and a rebuild (events in time order) gives what the live updates gave. A field with no
 * time (a profile stored before times were kept) takes any value, as before. The times are
 * copied on the first write; the held ones are never changed.
 */
export class Stamps {
  private copied = false;

  constructor(public times: SetTimes | undefined) {}

  /** Whether a value was ever set under `key` (with a time). */
  has(key: string): boolean {
    return this.times?.[key] !== undefined;
  }

  /** Whether a value set at `atMs` replaces the one held under `key` (noting the time if so). */
  take(key: string, atMs: number): boolean {
    const held = this.times?.[key];
    if (held !== undefined && held > atMs) return false;
    if (held === atMs) return true;
    if (!this.copied) {
      this.times = { ...this.times };
      this.copied = true;
    }
    (this.times as SetTimes)[key] = atMs;
    return true;
  }
}
