import { Kysely } from 'kysely';
import { NamesOnlyPostgresDialect } from './names-only-dialect.js';
import type pg from 'pg';
import { onFirstUse } from '../../../core/on-first-use.js';
import type { AuditKey } from '../../../core/audit.js';
import { AppError, isAppError } from '../../../core/errors.js';
import type { CustomerId } from '../../../core/ids.js';
import type { ProfileState } from '../../../core/profile.js';
import type { IdentityKey, StoreTx, Store } from '../../../ports/store.js';
import { createDecideReads } from '../shared/create-decide-reads.js';
import { createReads } from '../shared/create-reads.js';
import { createModelStore } from '../shared/create-model-store.js';
import { createPostgresDecideTx } from './create-postgres-decide-tx.js';
import { createRecordReads } from '../shared/create-record-reads.js';
import { createContentStore } from '../shared/create-content-store.js';
import { createRecordTx } from '../shared/create-record-tx.js';
import { createExperimentReads, createExperimentTx } from '../shared/create-experiment-store.js';
import { postgresRunner } from '../shared/sql-runner.js';
import { runMigrations } from '../shared/run-migrations.js';
import { eventBodyJson } from '../../../core/event.js';
import { groupByCustomer } from '../../../core/group-by-customer.js';
import { toProfileColumns, toStoredEvent, type Database, type EventRow } from '../shared/tables.js';
import { hashLockKey, lockClassesOf, type LockClasses } from './hash-lock-key.js';

export interface PostgresOptions {
  url: string;
  poolSize: number;
  /** A schema to work in (created if missing); tests use one each. */
  schema?: string;
  /** Told when an idle pooled connection fails (the pool replaces it). */
  onPoolError?: (error: Error) => void;
  /** Seals new audit entries (`HERALD_AUDIT_KEY`); none: they are plain SHA-256. */
  auditKey?: AuditKey | null;
}

const driver = onFirstUse<typeof pg>('pg');

// pg returns int8 and numeric as strings by default; every bigint Herald stores fits a double.
const bigintsAsNumbers = (): pg.TypeOverrides => {
  const { TypeOverrides, types: builtin } = driver();
  const types = new TypeOverrides();
  types.setTypeParser(builtin.builtins.INT8, Number);
  types.setTypeParser(builtin.builtins.NUMERIC, Number);
  return types;
};

const retryable = new Set(['40P01', '40001']); // deadlock detected, serialization failure

/** Marks the first occurrence of each key that the database reported as inserted. */
const firstInserted = (keys: readonly string[], inserted: ReadonlySet<string>): boolean[] => {
  const seen = new Set<string>();
  return keys.map((key) => {
    const isNew = inserted.has(key) && !seen.has(key);
    seen.add(key);
    return isNew;
  });
};

const createTx = (
  client: pg.PoolClient,
  auditKey: AuditKey | null,
  locks: LockClasses,
): StoreTx => ({
  ...createPostgresDecideTx(client, locks),
  ...createRecordTx(postgresRunner(client), auditKey, locks.audit),
  ...createExperimentTx(postgresRunner(client)),
  async lock(keys) {
    const hashes = [...new Set(keys.map(hashLockKey))].sort((a, b) => a - b);
    if (hashes.length === 0) return;
    await client.query(
      'SELECT pg_advisory_xact_lock($2, k) FROM unnest($1::int[]) WITH ORDINALITY AS t(k, i) ORDER BY i',
      [hashes, locks.customers],
    );
  },
  async findLinks(keys) {
    const found = new Map<IdentityKey, CustomerId>();
    if (keys.length === 0) return found;
    const { rows } = await client.query<{ key: IdentityKey; customer_id: CustomerId }>(
      'SELECT key, customer_id FROM identities WHERE key = ANY($1::text[])',
      [keys],
    );
    for (const row of rows) found.set(row.key, row.customer_id);
    return found;
  },
  async addLinks(links) {
    if (links.length === 0) return;
    await client.query(
      `INSERT INTO identities (key, customer_id, linked_at_ms)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT (key) DO NOTHING`,
      [links.map((l) => l.key), links.map((l) => l.customerId), links.map((l) => l.linkedAtMs)],
    );
  },
  async insertEvents(events) {
    if (events.length === 0) return [];
    const { rows } = await client.query<{ source_id: string; message_id: string }>(
      `INSERT INTO events (source_id, message_id, customer_id, type, name, user_id, anonymous_id,
         timestamp_ms, received_at_ms, body)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7::text[], $8::bigint[], $9::bigint[], $10::text[])
       ON CONFLICT (source_id, message_id) DO NOTHING RETURNING source_id, message_id`,
      [
        events.map((e) => e.sourceId),
        events.map((e) => e.messageId),
        events.map((e) => e.customerId),
        events.map((e) => e.type),
        events.map((e) => e.name),
        events.map((e) => e.userId),
        events.map((e) => e.anonymousId),
        events.map((e) => e.timestampMs),
        events.map((e) => e.receivedAtMs),
        events.map(eventBodyJson),
      ],
    );
    const inserted = new Set(rows.map((r) => `${r.source_id}\u0001${r.message_id}`));
    return firstInserted(
      events.map((e) => `${e.sourceId}\u0001${e.messageId}`),
      inserted,
    );
  },
  async storedAlready(events) {
    if (events.length === 0) return [];
    const { rows } = await client.query<{ source_id: string; message_id: string }>(
      `SELECT e.source_id, e.message_id FROM events e
       JOIN unnest($1::text[], $2::text[]) AS k(source_id, message_id)
         ON e.source_id = k.source_id AND e.message_id = k.message_id`,
      [events.map((e) => e.sourceId), events.map((e) => e.messageId)],
    );
    const stored = new Set(rows.map((r) => `${r.source_id}\u0001${r.message_id}`));
    return events.map((e) => stored.has(`${e.sourceId}\u0001${e.messageId}`));
  },
  async lastEventSeq() {
    const { rows } = await client.query<{ seq: string }>(
      'SELECT coalesce(max(seq), 0) AS seq FROM events',
    );
    return Number(rows[0]?.seq ?? 0);
  },
  async orderOwners(orderIds) {
    if (orderIds.length === 0) return new Map();
    const { rows } = await client.query<{ order_id: string; customer_id: CustomerId }>(
      'SELECT order_id, customer_id FROM orders WHERE order_id = ANY($1)',
      [orderIds],
    );
    return new Map(rows.map((r) => [r.order_id, r.customer_id]));
  },
  async insertOrders(orders) {
    if (orders.length === 0) return [];
    const { rows } = await client.query<{ order_id: string }>(
      `INSERT INTO orders (order_id, customer_id, placed_at_ms, total_cents)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
       ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [
        orders.map((o) => o.orderId),
        orders.map((o) => o.customerId),
        orders.map((o) => o.placedAtMs),
        orders.map((o) => o.totalCents),
      ],
    );
    return firstInserted(
      orders.map((o) => o.orderId),
      new Set(rows.map((r) => r.order_id)),
    );
  },
  async loadProfiles(ids) {
    const found = new Map<CustomerId, ProfileState>();
    if (ids.length === 0) return found;
    const { rows } = await client.query<{ customer_id: CustomerId; state: string }>(
      'SELECT customer_id, state FROM profiles WHERE customer_id = ANY($1::text[])',
      [ids],
    );
    for (const row of rows) found.set(row.customer_id, JSON.parse(row.state) as ProfileState);
    return found;
  },
  async presentCustomers(ids) {
    if (ids.length === 0) return new Set();
    const { rows } = await client.query<{ customer_id: CustomerId }>(
      'SELECT customer_id FROM profiles WHERE customer_id = ANY($1::text[])',
      [ids],
    );
    return new Set(rows.map((r) => r.customer_id));
  },
  async saveProfiles(rows) {
    if (rows.length === 0) return;
    const cols = rows.map(toProfileColumns);
    await client.query(
      `INSERT INTO profiles (customer_id, user_id, state, lifecycle_stage, churn_risk,
         engagement_score, ltv_cents, vip, last_active_at_ms, updated_at_ms)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
         $5::float8[], $6::float8[], $7::bigint[], $8::int[], $9::bigint[], $10::bigint[])
       ON CONFLICT (customer_id) DO UPDATE SET user_id = excluded.user_id, state = excluded.state,
         lifecycle_stage = excluded.lifecycle_stage,
         churn_risk = excluded.churn_risk, engagement_score = excluded.engagement_score,
         ltv_cents = excluded.ltv_cents, vip = excluded.vip,
         last_active_at_ms = excluded.last_active_at_ms, updated_at_ms = excluded.updated_at_ms`,
      [
        cols.map((c) => c.customer_id),
        cols.map((c) => c.user_id),
        cols.map((c) => c.state),
        cols.map((c) => c.lifecycle_stage),
        cols.map((c) => c.churn_risk),
        cols.map((c) => c.engagement_score),
        cols.map((c) => c.ltv_cents),
        cols.map((c) => c.vip),
        cols.map((c) => c.last_active_at_ms),
        cols.map((c) => c.updated_at_ms),
      ],
    );
  },
  async mergeCustomer(from, to) {
    const moved = await client.query('UPDATE events SET customer_id = $1 WHERE customer_id = $2', [
      to,
      from,
    ]);
    await client.query('UPDATE orders SET customer_id = $1 WHERE customer_id = $2', [to, from]);
    await client.query('UPDATE identities SET customer_id = $1 WHERE customer_id = $2', [to, from]);
    await client.query('DELETE FROM profiles WHERE customer_id = $1', [from]);
    return (moved.rowCount ?? 0) > 0;
  },
  async loadEventsOf(ids) {
    const { rows } = await client.query<EventRow>(
      'SELECT * FROM events WHERE customer_id = ANY($1) ORDER BY customer_id, timestamp_ms, seq',
      [ids],
    );
    return groupByCustomer(rows.map(toStoredEvent));
  },
});

/**
 * Where the migrations' bookkeeping is, for a connection given no schema of its own: the first
 * schema of its search path (a role's default, PGOPTIONS, the URL's options) that holds
 * Herald's tables already — so an installation keeps its schema when one named after the role
 * appears ahead of it — else the first that exists, where new tables go. A schema outside the
 * search path, another Herald's, is never taken for this one's.
 */
const migrationSchemaOf = async (pool: pg.Pool): Promise<string> => {
  const { rows } = await pool.query<{ schema: string | null; path: string }>(
    `SELECT current_setting('search_path') AS path, COALESCE(
       (SELECT s FROM unnest(current_schemas(false)) WITH ORDINALITY AS p(s, i)
        WHERE EXISTS (SELECT 1 FROM information_schema.tables
                      WHERE table_schema = p.s AND table_name = 'herald_migrations')
        ORDER BY i LIMIT 1),
       current_schema()) AS schema`,
  );
  const schema = rows[0]?.schema ?? null;
  // No schema to create tables in: said so, rather than left to the migrator, which would look
  // for its bookkeeping in any schema and fail on another Herald's.
  if (schema === null)
    throw new AppError(
      'unavailable',
      `no schema to work in: none of the connection's search_path (${rows[0]?.path ?? ''}) exists; create the schema or point the search path at one that does`,
    );
  return schema;
};

/** Where a connection URL points — host, port and database, no credentials — for messages. */
const whereOf = (url: string): string => {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port === '' ? '5432' : u.port}${u.pathname}`;
  } catch {
    return 'the configured URL (it does not parse)';
  }
};

/**
 * A database's message with the connection URL, and its password, taken out: drivers do not
 * repeat them, but a message that did would put them on stderr and in logs.
 */
const withoutUrl = (text: string, url: string): string => {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // A URL that does not parse has no password to find; the whole of it is still taken out.
  }
  let out = text.split(url).join(whereOf(url));
  if (password !== '') out = out.split(password).join('***');
  return out;
};

/** A pool of connections to `url`, numbers as Herald reads them, in `schema` when given. */
export const createPool = (url: string, max: number, schema: string | undefined): pg.Pool =>
  new (driver().Pool)({
    connectionString: url,
    max,
    types: bigintsAsNumbers(),
    connectionTimeoutMillis: 10_000,
    // A peer that stops answering (a partition, a frozen host) is found by TCP's probes rather
    // than never: a query on its connection then fails instead of waiting for good.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });

/** Connects to PostgreSQL (a pool shared by every request) and applies pending migrations. */
export const createPostgresStore = async (options: PostgresOptions): Promise<Store> => {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema))
    throw new Error(`invalid schema name ${schema}`);
  const pool = createPool(options.url, options.poolSize, schema);
  // A connection the server ends while it is checked out (a restart, a failover,
  // pg_terminate_backend) emits 'error' on its client, where the pool listens only while it is
  // idle: unheard, that event ends the process. Heard, the query in flight fails, its
  // transaction rejects, and the broken client is discarded when it is released.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      options.onPoolError?.(error);
    });
  });
  // A server that cannot be reached, a role or database it does not have: the database being
  // unavailable, said in one line (where, never the password, and why), not a driver's stack.
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new AppError(
      'unavailable',
      `cannot connect to PostgreSQL at ${whereOf(options.url)}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const db = new Kysely<Database>({ dialect: new NamesOnlyPostgresDialect({ pool }) });
  let locks: LockClasses;
  try {
    if (schema !== undefined)
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((error: unknown) => {
        // Two processes starting together both find no schema and both create it: PostgreSQL
        // refuses the second with a duplicate name (23505), though the schema is there to use.
        if ((error as { code?: unknown }).code !== '23505') throw error;
      });
    const home = schema ?? (await migrationSchemaOf(pool));
    await runMigrations(db as Kysely<unknown>, 'postgres', home, (text) =>
      withoutUrl(text, options.url),
    );
    locks = lockClassesOf(home);
  } catch (error) {
    // The pool is ended now: left to its idle timeout it would hold the process (and its
    // connections) for seconds after the error is reported.
    await pool.end().catch(() => undefined);
    if (isAppError(error)) throw error;
    throw new AppError(
      'unavailable',
      `cannot prepare the PostgreSQL database at ${whereOf(options.url)}: ${withoutUrl(error instanceof Error ? error.message : String(error), options.url)}`,
      { cause: error },
    );
  }

  // An idle connection that the server drops (restart, failover, timeout) is discarded by the
  // pool; without a listener its 'error' would end the process.
  pool.on('error', (error) => {
    options.onPoolError?.(error);
  });

  /** One attempt: its own connection, released before any retry. */
  const attempt = async <T>(work: (tx: StoreTx) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(createTx(client, options.auditKey ?? null, locks));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is discarded, not handed to the next caller.
      await client.query('ROLLBACK').catch((failed: unknown) => {
        broken = failed instanceof Error ? failed : new Error(String(failed));
      });
      throw error;
    } finally {
      client.release(broken);
    }
  };
  const ingest = async <T>(work: (tx: StoreTx) => Promise<T>): Promise<T> => {
    for (let tries = 1; ; tries += 1) {
      try {
        return await attempt(work);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === undefined || !retryable.has(code) || tries >= 4) throw error;
      }
    }
  };

  return {
    driver: 'postgres',
    readSource: {
      driver: 'postgres',
      url: options.url,
      ...(schema === undefined ? {} : { schema }),
    },
    ...createReads(db),
    ...createDecideReads(db),
    ...createModelStore(db),
    ...createRecordReads(db),
    ...createExperimentReads(db, 'postgres'),
    ...createContentStore(db),
    transaction: (work) => ingest(work),
    // Profiles are written in the same transaction as their events: never behind.
    profilesBehind: () => Promise.resolve([]),
    // Deleted rows stay in the table's files until VACUUM reuses their space (autovacuum
    // does, soon after a deletion): nothing to do here (docs/guardrails.md, "Erasure").
    purgeErased: () => Promise.resolve(),
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => db.destroy(),
  };
};
