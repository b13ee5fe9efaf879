import type { HeraldEvent, StoredEvent } from '../core/event.js';
import type { CustomerId } from '../core/ids.js';
import type { ComputedProfile, ProfileState } from '../core/profile.js';
import type { DecideReads, DecideTx } from './decide-store.js';
import type { ModelStore } from './model-store.js';
import type { RecordReads, RecordTx } from './record-store.js';
import type { ContentStore } from './content-store.js';
import type { ExperimentReads, ExperimentTx } from './experiment-store.js';

/** An identity key: `a:<anonymousId>` or `u:<userId>` (a user id merged by `alias`). */
export type IdentityKey = `a:${string}` | `u:${string}`;

export interface IdentityLink {
  key: IdentityKey;
  customerId: CustomerId;
  linkedAtMs: number;
}

export interface EventDraft extends HeraldEvent {
  customerId: CustomerId;
}

export interface OrderDraft {
  orderId: string;
  customerId: CustomerId;
  placedAtMs: number;
  totalCents: number;
}

/** A profile as stored: its facts; the figures are derived from them when read. */
export interface StoredProfile {
  customerId: CustomerId;
  state: ProfileState;
}

/** A profile to save: its facts and the figures its indexed columns hold. */
export interface ProfileRow extends StoredProfile {
  computed: ComputedProfile;
}

/** What the ingest unit of work may do inside its one transaction. */
export interface IngestTx {
  /**
   * Serialises concurrent transactions that name any of these keys (identity keys, customer
   * ids) until this transaction ends.
   */
  lock(keys: readonly string[]): Promise<void>;
  findLinks(keys: readonly IdentityKey[]): Promise<Map<IdentityKey, CustomerId>>;
  /** Adds links that do not exist yet; an existing link is never overwritten. */
  addLinks(links: readonly IdentityLink[]): Promise<void>;
  /** Stores events; `true` where the event is new, `false` where its messageId was seen. */
  insertEvents(events: readonly EventDraft[]): Promise<boolean[]>;
  /**
   * `true` where an event of the same source and messageId is stored already, as
   * `insertEvents` would find it (so it would store nothing): read before identities are
   * linked, which a retried event must not change either.
   */
  storedAlready(events: readonly Pick<EventDraft, 'sourceId' | 'messageId'>[]): Promise<boolean[]>;
  /** Records orders; `true` where the order id is new. */
  insertOrders(orders: readonly OrderDraft[]): Promise<boolean[]>;
  /**
   * The seq of the last event stored (0 when there is none). A boundary between what was stored
   * before and after only where one writer stores events in turn (the embedded store); on
   * PostgreSQL concurrent transactions take seqs before they commit.
   */
  lastEventSeq(): Promise<number>;
  /** The customer each recorded order id belongs to now; ids never recorded are absent. */
  orderOwners(orderIds: readonly string[]): Promise<Map<string, CustomerId>>;
  loadProfiles(ids: readonly CustomerId[]): Promise<Map<CustomerId, ProfileState>>;
  /**
   * Those of `ids` that have a profile now, without reading it: whether a customer listed
   * before the transaction (a campaign's audience) was erased or merged away since.
   */
  presentCustomers(ids: readonly CustomerId[]): Promise<Set<CustomerId>>;
  saveProfiles(rows: readonly ProfileRow[]): Promise<void>;
  /**
   * Moves every event, order and link of `from` to `to` and deletes `from`'s profile; true
   * when `from` had any history to move.
   */
  mergeCustomer(from: CustomerId, to: CustomerId): Promise<boolean>;
  /**
   * Each customer's events in the order they happened, in one read; a customer with none is
   * absent from the map.
   */
  loadEventsOf(ids: readonly CustomerId[]): Promise<Map<CustomerId, StoredEvent[]>>;
  /**
   * Where a profile may lag its events (the embedded store): leaves these customers' profiles
   * as they are, reported behind (`Store.profilesBehind`, across a crash too) until a later
   * transaction saves them. A bulk load stores its events this way and rebuilds each profile
   * once at its end. Absent where every transaction must save the profiles it changes.
   */
  leaveBehind?(ids: Iterable<CustomerId>): void;
}

/** One customer's events in the order they happened. */
export interface CustomerHistory {
  customerId: CustomerId;
  events: StoredEvent[];
}

/** Everything one transaction may do: record events and profiles, and decide. */
export interface StoreTx extends IngestTx, DecideTx, RecordTx, ExperimentTx {
  lock(keys: readonly string[]): Promise<void>;
}

/** Where a scan of all events in time order stands. */
export interface EventCursor {
  timestampMs: number;
  seq: number;
}

/**
 * Where another connection can open a store's database to read it, as plain data a thread can
 * be given: the file, or the server and the schema.
 */
export type ReadSource =
  { driver: 'sqlite'; file: string } | { driver: 'postgres'; url: string; schema?: string };

/** Herald's durable storage; every adapter passes the same contract suite. */
export interface Store extends DecideReads, ModelStore, RecordReads, ContentStore, ExperimentReads {
  readonly driver: 'sqlite' | 'postgres';
  /**
   * Where a thread of its own can read this database (a long scan on a second core); null for a
   * database no other connection can see (SQLite in memory).
   */
  readonly readSource: ReadSource | null;
  /** Runs `work` in one transaction: all of it commits, or none of it. */
  transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Events in time order (then arrival order) after `after`, for replays. */
  scanEvents(after: EventCursor | null, limit: number): Promise<StoredEvent[]>;
  /** Resolves a user id (or an alias of one) to its customer id. */
  resolveUserId(userId: string): Promise<CustomerId | undefined>;
  /** Resolves an anonymous id (a visitor's, before or after they identified) to its customer. */
  resolveAnonymousId(anonymousId: string): Promise<CustomerId | undefined>;
  getProfile(id: CustomerId): Promise<StoredProfile | undefined>;
  /** Newest first. */
  listEvents(id: CustomerId, limit: number): Promise<StoredEvent[]>;
  /** A customer's events oldest first (by time, then arrival), after `after`: a page of all. */
  eventsOfCustomer(
    id: CustomerId,
    after: EventCursor | null,
    limit: number,
  ): Promise<StoredEvent[]>;
  /** Customer ids in ascending order after `afterId`, for sweeps that page through everyone. */
  listCustomerIds(afterId: CustomerId | null, limit: number): Promise<CustomerId[]>;
  counts(): Promise<{ events: number; profiles: number }>;
  /**
   * Customers whose stored profile may miss events (after a crash, where profiles are written
   * behind the events); they must be rebuilt from their events before anything reads them.
   */
  profilesBehind(): Promise<CustomerId[]>;
  /**
   * For rebuilding most of the table's profiles at once (a bulk load's settle): the events of
   * every customer in `wanted`, customer by customer in id order — the order of SQLite's
   * text comparison, which is JavaScript's for ids without characters from U+D800 up — each
   * customer's in time order, as `loadEventsOf` gives them, read in one pass as the store stood
   * when the first was read. Null where it would cost more than reading customers by id: when
   * the events after `afterSeq` (the load's) are under half the table, and on stores without
   * such a scan. Only for a store with one writer, where nothing else changes events meanwhile.
   */
  scanHistories?(
    afterSeq: number,
    wanted: ReadonlySet<CustomerId>,
  ): Promise<AsyncIterable<CustomerHistory> | null>;
  /**
   * After an erasure has committed: makes what it deleted unreadable in the database's own files
   * where the database allows it (SQLite: the write-ahead log, which still holds the pages as
   * they were, is copied back and emptied; deleted rows are zeroed as they go). Never fails
   * nor waits for another connection: a log a reader holds is tried again each second, ten
   * times, then left to be overwritten as it is reused.
   */
  purgeErased(): Promise<void>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Whether a store's error refuses the data it was given — PostgreSQL's SQLSTATE classes 22 (data
 * exceptions: a NUL in text, a value out of range) and 23 (integrity: a CHECK, a unique key);
 * SQLite's constraint, type, range and size errors — rather than the write failing (a connection
 * lost, a statement timeout, a failover): asked again with the same data, it answers the same.
 */
export const refusesData = (error: unknown): boolean => {
  const code =
    typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return (
    typeof code === 'string' &&
    (/^2[23][0-9A-Z]{3}$/.test(code) || /^SQLITE_(?:CONSTRAINT|MISMATCH|RANGE|TOOBIG)/.test(code))
  );
};
