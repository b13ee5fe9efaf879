import type { CustomerId } from '../../../core/ids.js';
import type { ProfileRow } from '../../../ports/store.js';
import { toProfileColumns } from '../shared/tables.js';
import type { SqliteStatements } from './sqlite-statements.js';

/**
 * Profiles of the embedded mode, written behind their events. Events commit synchronously (they
 * are the durable record); profile rows are flushed in batches with a watermark — the highest
 * event seq every flushed profile reflects. After a crash, the customers with events past the
 * watermark are `behind` and are rebuilt from their events before Herald serves. Writing each
 * profile once per flush rather than once per batch is most of the embedded ingest speed.
 */
export interface ProfileWriteBehind {
  /** The newest committed row: pending (null when deleted), cached, or undefined if unknown. */
  get(id: CustomerId): ProfileRow | null | undefined;
  /** Applies a committed transaction's profile changes and the highest event seq it stored. */
  commit(changes: ReadonlyMap<CustomerId, ProfileRow | null>, maxSeq: number): void;
  readonly pending: number;
  behind(): CustomerId[];
  /**
   * Writes up to `maxRows` pending rows in one transaction, continuing the flush in progress or
   * starting one; true once that flush is complete and the watermark is written. Small steps
   * let ingest run between them.
   */
  flushStep(maxRows: number): boolean;
}

export const createProfileWriteBehind = (
  s: SqliteStatements,
  options: { cacheSize: number },
): ProfileWriteBehind => {
  const cache = new Map<CustomerId, ProfileRow>();
  const dirty = new Map<CustomerId, ProfileRow | null>();
  let watermark = (s.getMeta.get('profiles_seq') as { value: number } | undefined)?.value ?? 0;
  let maxSeq = (s.maxSeq.get() as { seq: number | null }).seq ?? 0;
  let flushing: { ids: CustomerId[]; next: number; target: number } | null = null;
  const behind = new Set(
    (s.customersAfter.all(watermark) as { customer_id: CustomerId }[]).map((r) => r.customer_id),
  );
  const remember = (id: CustomerId, row: ProfileRow | null) => {
    cache.delete(id);
    if (row === null || options.cacheSize === 0) return;
    cache.set(id, row);
    if (cache.size <= options.cacheSize) return;
    // The least recently used tenth goes in one pass. Evicting one entry at a time from the
    // front is quadratic in V8: a Map's iterator steps over every deleted slot before the first
    // live one, and those pile up at the front until the table is rebuilt (measured: about 6 %
    // of the CPU time of an import of 1,000,000 events over 100,000 customers).
    let excess = cache.size - Math.max(1, Math.floor(options.cacheSize * 0.9));
    for (const key of cache.keys()) {
      if (excess <= 0) break;
      cache.delete(key);
      excess -= 1;
    }
  };
  return {
    get(id) {
      const pending = dirty.get(id);
      return pending !== undefined ? pending : cache.get(id);
    },
    commit(changes, seq) {
      for (const [id, row] of changes) {
        dirty.set(id, row);
        remember(id, row);
        behind.delete(id);
      }
      maxSeq = Math.max(maxSeq, seq);
    },
    get pending() {
      return dirty.size;
    },
    behind: () => [...behind],
    flushStep(maxRows) {
      if (flushing === null) {
        const target = behind.size === 0 ? maxSeq : watermark;
        if (dirty.size === 0 && target === watermark) return true;
        flushing = { ids: [...dirty.keys()], next: 0, target };
      }
      const run = flushing;
      const end = Math.min(run.ids.length, run.next + maxRows);
      const written: [CustomerId, ProfileRow | null][] = [];
      s.begin.run();
      try {
        for (let i = run.next; i < end; i += 1) {
          const id = run.ids[i];
          const row = id === undefined ? undefined : dirty.get(id);
          if (id === undefined || row === undefined) continue;
          if (row === null) s.deleteProfile.run(id);
          else s.saveProfile.run(toProfileColumns(row));
          written.push([id, row]);
        }
        if (end === run.ids.length) s.setMeta.run('profiles_seq', run.target);
        s.commit.run();
      } catch (error) {
        s.rollback.run();
        flushing = null;
        throw error;
      }
      // A row changed again since this flush began stays pending for the next one.
      for (const [id, row] of written) if (dirty.get(id) === row) dirty.delete(id);
      run.next = end;
      if (end < run.ids.length) return false;
      watermark = run.target;
      flushing = null;
      return true;
    },
  };
};
