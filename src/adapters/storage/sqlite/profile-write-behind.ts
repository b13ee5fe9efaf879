import type { CustomerId } from '../../../core/ids.js';
import type { ProfileState } from '../../../core/profile.js';
import type { ProfileRow, StoredProfile } from '../../../ports/store.js';
import { toProfileColumns, type ProfilesTable } from '../shared/tables.js';
import type { SqliteStatements } from './sqlite-statements.js';

/**
 * Profiles of the embedded mode, written behind their events. Events commit synchronously (they
 * are the durable record); profile rows are flushed in batches with a watermark — the highest
 * event seq every flushed profile reflects. After a crash, the customers with events past the
 * watermark are `behind` and are rebuilt from their events before Herald serves. Writing each
 * profile once per flush rather than once per batch is most of the embedded ingest speed.
 *
 * Memory: at most `cacheSize` profiles stay parsed (between commits). A changed profile that
 * leaves the parsed cache before it is flushed is kept as its row's column values (its state as
 * JSON text: about 1 KB against about 2 KB parsed, with its figures), so a flush can wait for more
 * changed customers than the cache holds without reading any of them back from the table.
 */
export interface ProfileWriteBehind {
  /** The newest committed profile: pending (null when deleted), cached, or undefined if unknown. */
  get(id: CustomerId): StoredProfile | null | undefined;
  /** Applies a committed transaction's profile changes and the highest event seq it stored. */
  commit(changes: ReadonlyMap<CustomerId, ProfileRow | null>, maxSeq: number): void;
  /**
   * Reports these customers behind until a committed transaction saves their rows: the
   * watermark waits for them, so after a crash they are rebuilt from their events.
   */
  leaveBehind(ids: Iterable<CustomerId>): void;
  /** Changed profiles not yet written. */
  readonly pending: number;
  /** The bytes of state the changed profiles waiting packed hold (outside the JavaScript heap). */
  readonly pendingBytes: number;
  behind(): CustomerId[];
  /**
   * Writes up to `maxRows` pending rows in one transaction, continuing the flush in progress or
   * starting one; true once that flush is complete and the watermark is written. Small steps
   * let ingest run between them.
   */
  flushStep(maxRows: number): boolean;
}

/**
 * A profile row's column values with its state as UTF-8 bytes in a buffer of its own: outside
 * the JavaScript heap, so waiting rows neither grow the heap the collector marks and sizes its
 * next collection by, nor share a pooled slab that one live row would keep whole.
 */
type PackedColumns = Omit<ProfilesTable, 'state'> & { state: Buffer };

/**
 * A row's columns with its state in another form, written out field by field: V8 (Node 20)
 * copies an object literal that opens with a spread through a slow path, about a microsecond
 * a property, and an import packs a profile per event.
 */
const withState = <S>(c: Omit<ProfilesTable, 'state'>, state: S) => ({
  customer_id: c.customer_id,
  user_id: c.user_id,
  state,
  lifecycle_stage: c.lifecycle_stage,
  churn_risk: c.churn_risk,
  engagement_score: c.engagement_score,
  ltv_cents: c.ltv_cents,
  vip: c.vip,
  last_active_at_ms: c.last_active_at_ms,
  updated_at_ms: c.updated_at_ms,
});

const pack = (row: ProfileRow): PackedColumns => {
  const columns = toProfileColumns(row);
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(columns.state));
  bytes.write(columns.state);
  return withState(columns, bytes);
};

/** A pending change: the parsed row while it is cached, packed after, or a deletion. */
type Pending = ProfileRow | PackedColumns | null;

const isPacked = (p: ProfileRow | PackedColumns): p is PackedColumns =>
  p.state instanceof Uint8Array;

export const createProfileWriteBehind = (
  s: SqliteStatements,
  options: {
    cacheSize: number;
    /**
     * Write each flush in customer-id order (a bulk load). The primary-key index is then
     * visited in order, and the rows a flush first writes get their rowids in that order, so
     * later flushes find them in order too: each page changes once per flush rather than once
     * per row on it. Not for the server, whose flushes run in small steps between requests:
     * sorting 50,000 ids takes 20–30 ms in one step.
     */
    ordered?: boolean;
  },
): ProfileWriteBehind => {
  const cache = new Map<CustomerId, StoredProfile>();
  const dirty = new Map<CustomerId, Pending>();
  let packedBytes = 0;
  const bytesOf = (p: Pending | undefined) =>
    p === undefined || p === null || !isPacked(p) ? 0 : p.state.byteLength;
  /** Every change to `dirty` goes through these two, so `packedBytes` stays its sum. */
  const setDirty = (id: CustomerId, pending: Pending) => {
    packedBytes += bytesOf(pending) - bytesOf(dirty.get(id));
    dirty.set(id, pending);
  };
  const clearDirty = (id: CustomerId) => {
    packedBytes -= bytesOf(dirty.get(id));
    dirty.delete(id);
  };
  let watermark = (s.getMeta.get('profiles_seq') as { value: number } | undefined)?.value ?? 0;
  let maxSeq = (s.maxSeq.get() as { seq: number | null }).seq ?? 0;
  let flushing: { ids: CustomerId[]; next: number; target: number } | null = null;
  const behind = new Set(
    (s.customersAfter.all(watermark) as { customer_id: CustomerId }[]).map((r) => r.customer_id),
  );
  const trim = () => {
    if (cache.size <= options.cacheSize) return;
    // The least recently used tenth goes in one pass. Evicting one entry at a time from the
    // front is quadratic in V8: a Map's iterator steps over every deleted slot before the first
    // live one, and those pile up at the front until the table is rebuilt (measured: about 6 %
    // of the CPU time of an import of 1,000,000 events over 100,000 customers).
    let excess = cache.size - Math.max(1, Math.floor(options.cacheSize * 0.9));
    for (const [key, evicted] of cache) {
      if (excess <= 0) break;
      cache.delete(key);
      excess -= 1;
      // A change not yet written stays pending, packed: the parsed copy can go.
      const pending = dirty.get(key);
      if (pending === evicted) setDirty(key, pack(pending));
    }
  };
  const remember = (id: CustomerId, profile: StoredProfile | null) => {
    cache.delete(id);
    if (profile === null || options.cacheSize === 0) {
      const pending = dirty.get(id);
      if (pending !== undefined && pending !== null && !isPacked(pending))
        setDirty(id, pack(pending));
      return;
    }
    cache.set(id, profile);
    trim();
  };
  return {
    get(id) {
      const pending = dirty.get(id);
      if (pending === null) return null;
      const cached = cache.get(id);
      if (cached !== undefined || pending === undefined) return cached;
      if (!isPacked(pending)) return pending;
      // Pending packed only: parsed again and cached (the change stays pending as it is).
      const profile = {
        customerId: id,
        state: JSON.parse(pending.state.toString()) as ProfileState,
      };
      if (options.cacheSize > 0) {
        cache.set(id, profile);
        trim();
      }
      return profile;
    },
    commit(changes, seq) {
      for (const [id, row] of changes) {
        setDirty(id, row);
        remember(id, row);
        behind.delete(id);
      }
      maxSeq = Math.max(maxSeq, seq);
    },
    leaveBehind(ids) {
      for (const id of ids) behind.add(id);
    },
    get pending() {
      return dirty.size;
    },
    get pendingBytes() {
      return packedBytes;
    },
    behind: () => [...behind],
    flushStep(maxRows) {
      if (flushing === null) {
        const target = behind.size === 0 ? maxSeq : watermark;
        if (dirty.size === 0 && target === watermark) return true;
        const ids = [...dirty.keys()];
        if (options.ordered === true) ids.sort();
        flushing = { ids, next: 0, target };
      }
      const run = flushing;
      const end = Math.min(run.ids.length, run.next + maxRows);
      const written: [CustomerId, Pending][] = [];
      s.begin.run();
      try {
        for (let i = run.next; i < end; i += 1) {
          const id = run.ids[i];
          const pending = id === undefined ? undefined : dirty.get(id);
          if (id === undefined || pending === undefined) continue;
          if (pending === null) s.deleteProfile.run(id);
          else
            s.saveProfile.run(
              isPacked(pending)
                ? withState(pending, pending.state.toString())
                : toProfileColumns(pending),
            );
          written.push([id, pending]);
        }
        if (end === run.ids.length) s.setMeta.run('profiles_seq', run.target);
        s.commit.run();
      } catch (error) {
        flushing = null;
        // SQLite may have rolled back by itself (a full disk): the first error is the one to tell.
        try {
          s.rollback.run();
        } catch {
          // no transaction left to roll back
        }
        throw error;
      }
      // A row changed again since this flush began stays pending for the next one.
      for (const [id, pending] of written) if (dirty.get(id) === pending) clearDirty(id);
      run.next = end;
      if (end < run.ids.length) return false;
      watermark = run.target;
      flushing = null;
      return true;
    },
  };
};
