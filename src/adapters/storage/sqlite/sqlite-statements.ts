import type BetterSqlite3 from 'better-sqlite3';

/** Prepared statements for the ingest hot path (prepared once, reused for every batch). */
export const createSqliteStatements = (db: BetterSqlite3.Database) => ({
  getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
  setMeta: db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ),
  maxSeq: db.prepare('SELECT MAX(seq) AS seq FROM events'),
  customersAfter: db.prepare('SELECT DISTINCT customer_id FROM events WHERE seq > ?'),
  messageAt: db.prepare('SELECT source_id, message_id FROM events WHERE seq = ?'),
  recentMessages: db.prepare(
    'SELECT seq, source_id, message_id FROM events ORDER BY seq DESC LIMIT ?',
  ),
  begin: db.prepare('BEGIN IMMEDIATE'),
  commit: db.prepare('COMMIT'),
  rollback: db.prepare('ROLLBACK'),
  ping: db.prepare('SELECT 1'),
  findLink: db.prepare('SELECT customer_id FROM identities WHERE key = ?'),
  addLink: db.prepare(
    'INSERT INTO identities (key, customer_id, linked_at_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING',
  ),
  insertEvent: db.prepare(
    `INSERT INTO events (source_id, message_id, customer_id, type, name, user_id, anonymous_id,
       timestamp_ms, received_at_ms, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  insertOrder: db.prepare(
    `INSERT INTO orders (order_id, customer_id, placed_at_ms, total_cents) VALUES (?, ?, ?, ?)
     ON CONFLICT (order_id) DO NOTHING`,
  ),
  loadProfile: db.prepare('SELECT state FROM profiles WHERE customer_id = ?'),
  saveProfile: db.prepare(
    `INSERT INTO profiles (customer_id, user_id, state, lifecycle_stage, churn_risk,
       engagement_score, ltv_cents, vip, last_active_at_ms, updated_at_ms)
     VALUES (@customer_id, @user_id, @state, @lifecycle_stage, @churn_risk,
       @engagement_score, @ltv_cents, @vip, @last_active_at_ms, @updated_at_ms)
     ON CONFLICT (customer_id) DO UPDATE SET user_id = excluded.user_id, state = excluded.state,
       lifecycle_stage = excluded.lifecycle_stage,
       churn_risk = excluded.churn_risk, engagement_score = excluded.engagement_score,
       ltv_cents = excluded.ltv_cents, vip = excluded.vip,
       last_active_at_ms = excluded.last_active_at_ms, updated_at_ms = excluded.updated_at_ms`,
  ),
  moveEvents: db.prepare('UPDATE events SET customer_id = ? WHERE customer_id = ?'),
  moveOrders: db.prepare('UPDATE orders SET customer_id = ? WHERE customer_id = ?'),
  moveLinks: db.prepare('UPDATE identities SET customer_id = ? WHERE customer_id = ?'),
  deleteProfile: db.prepare('DELETE FROM profiles WHERE customer_id = ?'),
  customerEvents: db.prepare(
    'SELECT * FROM events WHERE customer_id = ? ORDER BY timestamp_ms, seq',
  ),
});

export type SqliteStatements = ReturnType<typeof createSqliteStatements>;
