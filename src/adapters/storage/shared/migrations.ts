import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { ERASURE_KEY, keptIdentityHash, optOutIdentity } from '../../../core/kept-identity.js';

export type Dialect = 'sqlite' | 'postgres';

/** The schema Herald's tables are in: where the search path finds `events` (PostgreSQL). */
const homeSchemaOf = async (db: Kysely<unknown>): Promise<string> => {
  const { rows } = await sql<{ schema: string }>`
    SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = to_regclass('events')`.execute(db);
  const schema = rows[0]?.schema;
  if (schema === undefined) throw new Error('no events table on the search path');
  return schema;
};

/** The names of a table's columns (in Herald's schema, on PostgreSQL). */
const columnsOf = async (
  db: Kysely<unknown>,
  dialect: Dialect,
  table: string,
): Promise<string[]> => {
  const { rows } = await (
    dialect === 'postgres'
      ? sql<{ name: string }>`SELECT column_name AS name FROM information_schema.columns
          WHERE table_name = ${table} AND table_schema = ${await homeSchemaOf(db)}`
      : sql<{ name: string }>`SELECT name FROM pragma_table_info(${table})`
  ).execute(db);
  return rows.map((r) => r.name);
};

/** Profiles a backfill reads at a time. */
const BACKFILL_PAGE = 1000;

/** Versioned schema changes, applied in name order; the same list for both databases. */
const migrations = (dialect: Dialect): Record<string, Migration> => ({
  '0001-events-profiles': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const real = dialect === 'postgres' ? 'double precision' : 'real';
      await db.schema
        .createTable('events')
        .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('user_id', 'text')
        .addColumn('anonymous_id', 'text')
        .addColumn('timestamp_ms', big, (c) => c.notNull())
        .addColumn('received_at_ms', big, (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .$call((t) =>
          // SQLite de-duplicates through a window of recent message ids in memory instead: a
          // unique index over random ids halves its ingest speed (see docs/architecture.md).
          dialect === 'postgres'
            ? t.addUniqueConstraint('events_source_message_unique', ['source_id', 'message_id'])
            : t,
        )
        .execute();
      await db.schema
        .createIndex('events_customer_time')
        .on('events')
        .columns(['customer_id', 'timestamp_ms'])
        .execute();
      await db.schema
        .createTable('identities')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('linked_at_ms', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('identities_customer')
        .on('identities')
        .column('customer_id')
        .execute();
      await db.schema
        .createTable('orders')
        .addColumn('order_id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('placed_at_ms', big, (c) => c.notNull())
        .addColumn('total_cents', big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('orders_customer').on('orders').column('customer_id').execute();
      await db.schema
        .createTable('profiles')
        .addColumn('customer_id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('computed', 'text', (c) => c.notNull())
        .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
        .addColumn('churn_risk', real, (c) => c.notNull())
        .addColumn('engagement_score', real, (c) => c.notNull())
        .addColumn('ltv_cents', big, (c) => c.notNull())
        .addColumn('vip', 'integer', (c) => c.notNull())
        .addColumn('last_active_at_ms', big)
        .addColumn('updated_at_ms', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('profiles_stage')
        .on('profiles')
        .column('lifecycle_stage')
        .execute();
      await db.schema.createIndex('profiles_user').on('profiles').column('user_id').execute();
    },
  },
  // The computed figures are derived from the state whenever they are read; the indexed
  // columns (lifecycle stage, churn risk, …) keep what queries need. Writing them again as JSON
  // cost a third of every profile write.
  '0002-profiles-drop-computed-json': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('profiles').dropColumn('computed').execute();
    },
  },
  '0003-decide': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const real = dialect === 'postgres' ? 'double precision' : 'real';
      await db.schema
        .createTable('work')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('key', 'text', (c) => c.notNull().unique())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('due_at_ms', big, (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('note', 'text')
        .addColumn('updated_at_ms', big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('work_due').on('work').columns(['status', 'due_at_ms']).execute();
      await db.schema.createIndex('work_customer').on('work').column('customer_id').execute();
      await db.schema
        .createTable('decisions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('agent', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('journey_id', 'text')
        .addColumn('confidence', real, (c) => c.notNull())
        .addColumn('scheduled_for_ms', big, (c) => c.notNull())
        .addColumn('created_at_ms', big, (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('decisions_customer')
        .on('decisions')
        .columns(['customer_id', 'created_at_ms'])
        .execute();
      await db.schema
        .createIndex('decisions_agent')
        .on('decisions')
        .columns(['agent', 'created_at_ms'])
        .execute();
      await db.schema
        .createIndex('decisions_created')
        .on('decisions')
        .columns(['created_at_ms', 'id'])
        .execute();
      await db.schema
        .createTable('memberships')
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('journey_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('step_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('entered_at_ms', big, (c) => c.notNull())
        .addColumn('updated_at_ms', big, (c) => c.notNull())
        .addColumn('entries', 'integer', (c) => c.notNull())
        .addColumn('exit_reason', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('memberships_pk', ['customer_id', 'journey_id'])
        .execute();
      await db.schema
        .createTable('customer_marks')
        .addColumn('customer_id', 'text', (c) => c.primaryKey())
        .addColumn('segment', 'text')
        .addColumn('stage', 'text')
        .addColumn('updated_at_ms', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('journey_versions')
        .addColumn('journey_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('journey_versions_pk', ['journey_id', 'version'])
        .execute();
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0004-models': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      await db.schema
        .createTable('models')
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('trained_at_ms', big, (c) => c.notNull())
        .addColumn('window_end_ms', big, (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0005-guard-record': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const real = dialect === 'postgres' ? 'double precision' : 'real';
      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('class', 'text', (c) => c.notNull())
        .addColumn('campaign_id', 'text')
        .addColumn('sending_domain', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('send_at_ms', big, (c) => c.notNull())
        .addColumn('created_at_ms', big, (c) => c.notNull())
        .addColumn('updated_at_ms', big, (c) => c.notNull())
        .addColumn('review_expires_at_ms', big)
        .addColumn('cost', real, (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('messages_customer')
        .on('messages')
        .columns(['customer_id', 'send_at_ms'])
        .execute();
      await db.schema
        .createIndex('messages_status')
        .on('messages')
        .columns(['status', 'send_at_ms'])
        .execute();
      await db.schema
        .createIndex('messages_campaign')
        .on('messages')
        .columns(['campaign_id'])
        .where(sql.ref('campaign_id'), 'is not', null)
        .execute();
      await db.schema
        .createIndex('messages_domain')
        .on('messages')
        .columns(['sending_domain', 'status', 'send_at_ms'])
        .where(sql.ref('sending_domain'), 'is not', null)
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', big, (c) => c.primaryKey())
        .addColumn('at_ms', big, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_log_subject')
        .on('audit_log')
        .columns(['subject', 'seq'])
        .execute();
      // Append-only: the database itself refuses to change or remove an entry.
      if (dialect === 'postgres') {
        await sql`CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$`.execute(db);
        await sql`CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
          FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(db);
        await sql`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
          FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`.execute(db);
      } else {
        for (const op of ['UPDATE', 'DELETE'])
          await sql
            .raw(
              `CREATE TRIGGER audit_log_no_${op.toLowerCase()} BEFORE ${op} ON audit_log
               BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: ${op} refused'); END`,
            )
            .execute(db);
      }
      await db.schema
        .createTable('subjects')
        .addColumn('customer_id', 'text', (c) => c.primaryKey())
        .addColumn('pseudonym', 'text', (c) => c.notNull().unique())
        .addColumn('created_at_ms', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('idempotency')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('response', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', big, (c) => c.notNull())
        .execute();
    },
  },
  // Delivery: the dispatcher's lease and attempts on each outbox row, where it went, the
  // provider's id, captured messages, and the shared rate-limit buckets.
  '0006-deliver': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const real = dialect === 'postgres' ? 'double precision' : 'real';
      await db.schema
        .alterTable('messages')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('messages').addColumn('lease_until_ms', big).execute();
      await db.schema.alterTable('messages').addColumn('recipient', 'text').execute();
      await db.schema.alterTable('messages').addColumn('provider', 'text').execute();
      await db.schema.alterTable('messages').addColumn('provider_id', 'text').execute();
      await db.schema.alterTable('messages').addColumn('sent_at_ms', big).execute();
      await db.schema
        .createIndex('messages_lease')
        .on('messages')
        .columns(['lease_until_ms'])
        .where(sql.ref('status'), '=', 'sending')
        .execute();
      await db.schema
        .createIndex('messages_recipient')
        .on('messages')
        .columns(['recipient', 'sent_at_ms'])
        .where(sql.ref('recipient'), 'is not', null)
        .execute();
      await db.schema
        .createIndex('messages_provider_id')
        .on('messages')
        .columns(['provider_id'])
        .where(sql.ref('provider_id'), 'is not', null)
        .execute();
      await db.schema
        .createTable('captured')
        .addColumn('message_id', 'text', (c) => c.primaryKey())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('captured_at_ms', big, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('rate_buckets')
        .addColumn('provider', 'text', (c) => c.primaryKey())
        .addColumn('tokens', real, (c) => c.notNull())
        .addColumn('updated_at_ms', big, (c) => c.notNull())
        .execute();
    },
  },
  // Conversions: an order linked to the messages that preceded it.
  '0007-conversions': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      await db.schema
        .createTable('conversions')
        .addColumn('order_id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('decision_id', 'text', (c) => c.notNull())
        .addColumn('revenue_cents', big, (c) => c.notNull())
        .addColumn('at_ms', big, (c) => c.notNull())
        .addColumn('touches', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('conversions_decision')
        .on('conversions')
        .column('decision_id')
        .execute();
      await db.schema
        .createIndex('conversions_customer')
        .on('conversions')
        .columns(['customer_id', 'at_ms'])
        .execute();
    },
  },
  // The approved content library: every version of every document is kept.
  '0008-content': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      await db.schema
        .createTable('content_documents')
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('imported_at_ms', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('content_documents_pk', ['id', 'version'])
        .execute();
    },
  },
  // Experiments: every customer assigned to an experiment's arm (a campaign's variants and
  // holdout, the global holdout), when the message reached them, and the orders that followed
  // within the outcome window; and what finished tests taught.
  '0009-experiments': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const real = dialect === 'postgres' ? 'double precision' : 'real';
      await db.schema
        .createTable('experiment_units')
        .addColumn('experiment_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('arm', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('segment', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('assigned_at_ms', big, (c) => c.notNull())
        .addColumn('window_ends_ms', big, (c) => c.notNull())
        .addColumn('exposed_at_ms', big)
        .addColumn('orders', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('revenue_cents', big, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('experiment_units_pk', ['experiment_id', 'customer_id'])
        .execute();
      // Results sum an experiment's units by arm, segment and day from this index alone.
      await db.schema
        .createIndex('experiment_units_results')
        .on('experiment_units')
        .columns([
          'experiment_id',
          'arm',
          'segment',
          'exposed_at_ms',
          'orders',
          'revenue_cents',
          'assigned_at_ms',
        ])
        .execute();
      await db.schema
        .createIndex('experiment_units_customer')
        .on('experiment_units')
        .columns(['customer_id', 'assigned_at_ms'])
        .execute();
      await db.schema
        .createIndex('experiment_units_message')
        .on('experiment_units')
        .column('message_id')
        .execute();
      await db.schema
        .createTable('learnings')
        .addColumn('experiment_id', 'text', (c) => c.notNull())
        .addColumn('strategy', 'text', (c) => c.notNull())
        .addColumn('segment', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('lift', real, (c) => c.notNull())
        .addColumn('lower', real, (c) => c.notNull())
        .addColumn('upper', real, (c) => c.notNull())
        .addColumn('p', real, (c) => c.notNull())
        .addColumn('units', big, (c) => c.notNull())
        .addColumn('created_at_ms', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('learnings_pk', [
          'experiment_id',
          'strategy',
          'segment',
          'channel',
          'metric',
        ])
        .execute();
      // KPIs: a message's first open and click, and reads of messages and orders by time.
      await db.schema.alterTable('messages').addColumn('opened_at_ms', big).execute();
      await db.schema.alterTable('messages').addColumn('clicked_at_ms', big).execute();
      await db.schema
        .createIndex('messages_sent')
        .on('messages')
        .column('sent_at_ms')
        .where(sql.ref('sent_at_ms'), 'is not', null)
        .execute();
      await db.schema.createIndex('orders_placed').on('orders').column('placed_at_ms').execute();
    },
  },
  // A campaign's committed spend (the budget guardrail sums it for every batch of a capped
  // campaign) read from the index (on SQLite without visiting each message's row). The new
  // index is built before the old one goes, each step safe to repeat: SQLite ran migrations
  // without a transaction when this was written (a database migrated then may have stopped
  // midway), so an interrupted start must be able to run this again.
  '0010-campaign-spend': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('messages_campaign_spend')
        .ifNotExists()
        .on('messages')
        .columns(['campaign_id', 'status', 'cost'])
        .where(sql.ref('campaign_id'), 'is not', null)
        .execute();
      await db.schema.dropIndex('messages_campaign').ifExists().execute();
    },
  },
  // A customer's orders by time (the recovered-cart KPI looks for one within a window after
  // each cart message); it serves every lookup by customer the old index did. Built before the
  // old one goes, each step safe to repeat (see 0010).
  '0011-orders-by-customer-time': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('orders_customer_time')
        .ifNotExists()
        .on('orders')
        .columns(['customer_id', 'placed_at_ms'])
        .execute();
      await db.schema.dropIndex('orders_customer').ifExists().execute();
    },
  },
  // A customer merged into another hands over their audit pseudonym too, so a customer may hold
  // several (erasure unlinks them all, an export reads the trail of each): keyed by pseudonym
  // now. The rows move from `subjects`, which goes; each step safe to repeat (see 0010).
  '0012-pseudonyms': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      // On PostgreSQL, beside the tables already there: a new table would otherwise go to the
      // first schema of the search path, which may be an empty one ahead of Herald's.
      const home = dialect === 'postgres' ? db.withSchema(await homeSchemaOf(db)) : db;
      await home.schema
        .createTable('pseudonyms')
        .ifNotExists()
        .addColumn('pseudonym', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', big, (c) => c.notNull())
        .execute();
      await home.schema
        .createIndex('pseudonyms_customer')
        .ifNotExists()
        .on('pseudonyms')
        .columns(['customer_id', 'created_at_ms'])
        .execute();
      // The table the unqualified name below resolves to (on PostgreSQL, in Herald's schema).
      const { rows } = await (
        dialect === 'postgres'
          ? sql<{ found: number }>`SELECT 1 AS found WHERE to_regclass('subjects') IS NOT NULL`
          : sql<{ found: number }>`SELECT 1 AS found FROM sqlite_master
              WHERE type = 'table' AND name = 'subjects'`
      ).execute(db);
      if (rows.length === 0) return;
      await sql`INSERT INTO ${sql.table('pseudonyms')} (pseudonym, customer_id, created_at_ms)
        SELECT pseudonym, customer_id, created_at_ms FROM subjects WHERE true
        ON CONFLICT (pseudonym) DO NOTHING`.execute(home);
      await db.schema.dropTable('subjects').execute();
    },
  },
  // The test among the exposed counts the orders that followed the message, not those placed
  // while it waited for review, quiet hours or a rate limit: each unit also keeps the orders in
  // a window of the same length from its exposure. Units exposed before take the orders of
  // their assignment window (what the test counted until now). The results index gains the
  // columns the results read, built before the old one goes; each step safe to repeat (see
  // 0010).
  '0013-exposure-windows': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const columns = await columnsOf(db, dialect, 'experiment_units');
      // Each column on its own, so an interrupted run (SQLite migrated without a transaction
      // when this was written) finishes what it began; the backfill runs every time the migration does — it is a
      // plain copy, and nothing credits orders before the migration is recorded as done.
      for (const [column, type] of [
        ['exposed_orders', 'integer'],
        ['exposed_revenue_cents', big],
      ] as const) {
        if (columns.includes(column)) continue;
        await db.schema
          .alterTable('experiment_units')
          .addColumn(column, type, (c) => c.notNull().defaultTo(0))
          .execute();
      }
      await sql`UPDATE experiment_units
          SET exposed_orders = orders, exposed_revenue_cents = revenue_cents
          WHERE exposed_at_ms IS NOT NULL`.execute(db);
      await db.schema
        .createIndex('experiment_units_totals')
        .ifNotExists()
        .on('experiment_units')
        .columns([
          'experiment_id',
          'arm',
          'segment',
          'exposed_at_ms',
          'orders',
          'revenue_cents',
          'exposed_orders',
          'exposed_revenue_cents',
          'assigned_at_ms',
          'window_ends_ms',
        ])
        .execute();
      await db.schema.dropIndex('experiment_units_results').ifExists().execute();
    },
  },
  // What an erasure leaves: a keyed hash of each identity it removed (user id, anonymous id,
  // email, phone) and when, so that the same person seen again gets no marketing until they opt
  // in anew (docs/guardrails.md, "Data-subject rights"). No customer id, no plain identity.
  '0014-erased-identities': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const home = dialect === 'postgres' ? db.withSchema(await homeSchemaOf(db)) : db;
      await home.schema
        .createTable('erased_identities')
        .ifNotExists()
        .addColumn('key_hash', 'text', (c) => c.primaryKey())
        .addColumn('erased_at_ms', big, (c) => c.notNull())
        .execute();
    },
  },
  // On SQLite, `INSERT OR REPLACE` deletes the row it replaces without firing delete triggers
  // (unless recursive triggers are on, which they are not by default): an entry could be
  // rewritten past the update and delete guards. An entry may only be added after the last.
  // PostgreSQL has no REPLACE; its upsert fires the update guard.
  '0015-audit-append-only-inserts': {
    async up(db: Kysely<unknown>) {
      if (dialect !== 'sqlite') return;
      await sql`CREATE TRIGGER IF NOT EXISTS audit_log_no_replace BEFORE INSERT ON audit_log
        WHEN NEW.seq <= (SELECT max(seq) FROM audit_log)
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: an entry goes after the last'); END`.execute(
        db,
      );
    },
  },
  // A stored answer to an API send is the customer's data too (the caller's key may even name
  // them): it names its customer, so that an erasure deletes it. Safe to repeat (see 0010).
  '0016-idempotency-customer': {
    async up(db: Kysely<unknown>) {
      const columns = await columnsOf(db, dialect, 'idempotency');
      if (!columns.includes('customer_id'))
        await db.schema.alterTable('idempotency').addColumn('customer_id', 'text').execute();
      await db.schema
        .createIndex('idempotency_customer')
        .ifNotExists()
        .on('idempotency')
        .column('customer_id')
        .execute();
    },
  },
  // Orders cancelled by the customer who placed them (an `Order Cancelled` naming the order's
  // id), so that the KPIs' orders and revenue and the carts recovered leave them out. Those
  // cancelled before this migration are read from their customers' profiles (the latest 200
  // cancelled ids each keeps). Safe to repeat (see 0010).
  '0017-orders-cancelled': {
    async up(db: Kysely<unknown>) {
      const columns = await columnsOf(db, dialect, 'orders');
      if (!columns.includes('cancelled'))
        await db.schema
          .alterTable('orders')
          .addColumn('cancelled', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      // Profiles read as text, a page at a time, and parsed here: PostgreSQL's jsonb refuses
      // some JSON a state may hold (a \u0000 escape).
      let after = '';
      for (;;) {
        const { rows } = await sql<{ customer_id: string; state: string }>`
          SELECT customer_id, state FROM profiles
          WHERE customer_id > ${after} AND state LIKE ${'%"cancelledIds":[%'}
          ORDER BY customer_id LIMIT ${BACKFILL_PAGE}`.execute(db);
        for (const { customer_id: customerId, state } of rows) {
          const listed = (JSON.parse(state) as { orders?: { cancelledIds?: unknown } }).orders
            ?.cancelledIds;
          const ids = Array.isArray(listed)
            ? listed.filter((id): id is string => typeof id === 'string')
            : [];
          if (ids.length > 0)
            await sql`UPDATE orders SET cancelled = 1
              WHERE customer_id = ${customerId} AND cancelled = 0
                AND order_id IN (${sql.join(ids)})`.execute(db);
        }
        const last = rows.at(-1);
        if (last === undefined || rows.length < BACKFILL_PAGE) break;
        after = last.customer_id;
      }
    },
  },
  // An email address's hard bounces, on every customer record that has it (a guest checkout and
  // an account): a keyed hash of the address, as its opt-out is kept (0014), how many and the
  // latest. No customer id, no plain address (docs/guardrails.md, "Data-subject rights").
  '0018-address-bounces': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const home = dialect === 'postgres' ? db.withSchema(await homeSchemaOf(db)) : db;
      await home.schema
        .createTable('address_bounces')
        .ifNotExists()
        .addColumn('key_hash', 'text', (c) => c.primaryKey())
        .addColumn('hard_bounces', 'integer', (c) => c.notNull())
        .addColumn('last_at_ms', big, (c) => c.notNull())
        .execute();
    },
  },
  // Inbound webhooks acted on, by the provider's id (Twilio's MessageSid): a captured, signed
  // request replayed later is known again whatever the events' de-duplication still holds.
  '0019-inbound-webhooks': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const home = dialect === 'postgres' ? db.withSchema(await homeSchemaOf(db)) : db;
      await home.schema
        .createTable('inbound_webhooks')
        .ifNotExists()
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('received_at_ms', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('inbound_webhooks_pk', ['provider', 'id'])
        .execute();
    },
  },
  // Which customer each push token belongs to: the one whose events carried it most recently
  // (by the events' times). One app install signed out of one account and into another keeps
  // its token; the earlier customer's profile still lists it, and their pushes must not reach
  // the device someone else now uses (docs/deliver.md, "Push"). Filled from the profiles' device
  // lists, newer wins. Safe to repeat (see 0010).
  '0020-device-tokens': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const home = dialect === 'postgres' ? db.withSchema(await homeSchemaOf(db)) : db;
      await home.schema
        .createTable('device_tokens')
        .ifNotExists()
        .addColumn('token', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('seen_at_ms', big, (c) => c.notNull())
        .execute();
      await home.schema
        .createIndex('device_tokens_customer')
        .ifNotExists()
        .on('device_tokens')
        .column('customer_id')
        .execute();
      let after = '';
      for (;;) {
        const { rows } = await sql<{ customer_id: string; state: string }>`
          SELECT customer_id, state FROM profiles
          WHERE customer_id > ${after} AND state LIKE ${'%"devices":[%'}
          ORDER BY customer_id LIMIT ${BACKFILL_PAGE}`.execute(db);
        for (const { customer_id: customerId, state } of rows) {
          const listed = (JSON.parse(state) as { devices?: unknown }).devices;
          for (const device of Array.isArray(listed) ? (listed as unknown[]) : []) {
            const { token, seenAtMs } = (device ?? {}) as { token?: unknown; seenAtMs?: unknown };
            if (typeof token !== 'string' || typeof seenAtMs !== 'number') continue;
            await sql`INSERT INTO device_tokens (token, customer_id, seen_at_ms)
              VALUES (${token}, ${customerId}, ${seenAtMs})
              ON CONFLICT (token) DO UPDATE
                SET customer_id = excluded.customer_id, seen_at_ms = excluded.seen_at_ms
                WHERE excluded.seen_at_ms > device_tokens.seen_at_ms`.execute(db);
          }
        }
        const last = rows.at(-1);
        if (last === undefined || rows.length < BACKFILL_PAGE) break;
        after = last.customer_id;
      }
    },
  },
  // When each customer's latest dormant (win-back) path started, so that history arriving for
  // the time before it (a second source's import) starts no second path for the same period of
  // inactivity. Null for paths started before it: they end as they would have. Safe to repeat
  // (see 0010).
  '0021-dormant-paths': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const columns = await columnsOf(db, dialect, 'customer_marks');
      if (!columns.includes('dormant_path_at_ms'))
        await db.schema.alterTable('customer_marks').addColumn('dormant_path_at_ms', big).execute();
    },
  },
  // What campaigns spent on messages to customers since erased: the messages go with their
  // customer, the money they cost stays counted against the campaign's budget. Safe to repeat
  // (see 0010).
  '0022-erased-spend': {
    async up(db: Kysely<unknown>) {
      const real = dialect === 'postgres' ? 'double precision' : 'real';
      const home = dialect === 'postgres' ? db.withSchema(await homeSchemaOf(db)) : db;
      await home.schema
        .createTable('erased_spend')
        .ifNotExists()
        .addColumn('campaign_id', 'text', (c) => c.primaryKey())
        .addColumn('cost', real, (c) => c.notNull())
        .execute();
    },
  },
  // The delivery outcomes of messages to customers since erased, with nothing of the customer:
  // the sending domain's bounce and complaint rates keep counting them. Safe to repeat (see
  // 0010).
  '0023-erased-deliveries': {
    async up(db: Kysely<unknown>) {
      const big = dialect === 'postgres' ? 'bigint' : 'integer';
      const home = dialect === 'postgres' ? db.withSchema(await homeSchemaOf(db)) : db;
      await home.schema
        .createTable('erased_deliveries')
        .ifNotExists()
        .addColumn('sending_domain', 'text', (c) => c.notNull())
        .addColumn('send_at_ms', big, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .execute();
      await home.schema
        .createIndex('erased_deliveries_domain')
        .ifNotExists()
        .on('erased_deliveries')
        .columns(['sending_domain', 'send_at_ms'])
        .execute();
    },
  },
  // The hard bounces profiles counted before they were kept by address (0018 made the table
  // empty): each profile's own count and latest bounce, under its address's keyed hash, summed
  // over the records that share the address. An address already in the table was counted live
  // since then and is left as it is (counting the profiles again would count it twice).
  '0024-address-bounces-backfill': {
    async up(db: Kysely<unknown>) {
      const byHash = new Map<string, { count: number; atMs: number }>();
      let key: string | null = null;
      let after = '';
      for (;;) {
        const { rows } = await sql<{ customer_id: string; state: string }>`
          SELECT customer_id, state FROM profiles
          WHERE customer_id > ${after} AND state LIKE ${'%"hardBounces":%'}
          ORDER BY customer_id LIMIT ${BACKFILL_PAGE}`.execute(db);
        for (const { state } of rows) {
          const { email, traits } = JSON.parse(state) as {
            email?: { hardBounces?: unknown; lastBounceAtMs?: unknown };
            traits?: { email?: unknown };
          };
          const count = email?.hardBounces;
          const address = traits?.email;
          if (typeof count !== 'number' || !(count > 0)) continue;
          if (typeof address !== 'string' || address.trim() === '') continue;
          key ??= await erasureKeyOf(db);
          const hash = keptIdentityHash(key, optOutIdentity(address));
          const atMs = typeof email?.lastBounceAtMs === 'number' ? email.lastBounceAtMs : 0;
          const known = byHash.get(hash);
          byHash.set(hash, {
            count: (known?.count ?? 0) + count,
            atMs: Math.max(known?.atMs ?? 0, atMs),
          });
        }
        const last = rows.at(-1);
        if (last === undefined || rows.length < BACKFILL_PAGE) break;
        after = last.customer_id;
      }
      for (const [hash, { count, atMs }] of byHash)
        await sql`INSERT INTO address_bounces (key_hash, hard_bounces, last_at_ms)
          VALUES (${hash}, ${count}, ${atMs}) ON CONFLICT (key_hash) DO NOTHING`.execute(db);
    },
  },
  // A message's first delivery report, as its first open and click are kept: the audit trail
  // notes each once. Run again (a schema rolled back in a test), it finds the column there.
  '0025-delivered-at': {
    async up(db: Kysely<unknown>) {
      if ((await columnsOf(db, dialect, 'messages')).includes('delivered_at_ms')) return;
      await db.schema
        .alterTable('messages')
        .addColumn('delivered_at_ms', dialect === 'postgres' ? 'bigint' : 'integer')
        .execute();
    },
  },
});

/** The key kept identities are hashed with (`ERASURE_KEY`), made now if none was yet. */
const erasureKeyOf = async (db: Kysely<unknown>): Promise<string> => {
  const { rows } = await sql<{ value: string }>`
    SELECT value FROM settings WHERE key = ${ERASURE_KEY}`.execute(db);
  const made = rows[0]?.value;
  if (made !== undefined) return made;
  const key = randomBytes(32).toString('base64url');
  await sql`INSERT INTO settings (key, value) VALUES (${ERASURE_KEY}, ${key})`.execute(db);
  return key;
};

export const migrationProvider = (dialect: Dialect): MigrationProvider => ({
  getMigrations: () => Promise.resolve(migrations(dialect)),
});
