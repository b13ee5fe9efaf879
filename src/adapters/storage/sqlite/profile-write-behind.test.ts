import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { toCustomerId, type CustomerId } from '../../../core/ids.js';
import type { ComputedProfile } from '../../../core/profile.js';
import { emptyProfile } from '../../../pipeline/profile/index.js';
import type { ProfileRow } from '../../../ports/store.js';
import { runMigrations } from '../shared/run-migrations.js';
import { createProfileWriteBehind } from './profile-write-behind.js';
import { createSqliteStatements } from './sqlite-statements.js';

// Only the figures the profile table keeps in columns.
const computed = {
  lifecycleStage: 'new',
  churnRisk: 0,
  engagementScore: 0,
  ltv: 0,
  vip: false,
  computedAtMs: 0,
} as unknown as ComputedProfile;

const row = (id: string, note: string): ProfileRow => ({
  customerId: toCustomerId(id),
  state: { ...emptyProfile(toCustomerId(id), 0), traits: { note } },
  computed,
});
const bytesOf = (r: ProfileRow) => Buffer.byteLength(JSON.stringify(r.state));

describe('profiles written behind', () => {
  const open: Kysely<unknown>[] = [];
  afterEach(async () => {
    for (const db of open.splice(0)) await db.destroy();
  });
  const statements = async () => {
    const sqlite = new BetterSqlite3(':memory:');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
    open.push(db);
    await runMigrations(db, 'sqlite');
    return { s: createSqliteStatements(sqlite), sqlite };
  };
  const changes = (...entries: [string, ProfileRow | null][]) =>
    new Map(entries.map(([id, r]) => [toCustomerId(id), r] as [CustomerId, ProfileRow | null]));

  it('counts the bytes waiting packed through replacements, deletions and a flush that overlaps a change', async () => {
    const { s, sqlite } = await statements();
    // No parsed cache: every change waits packed from its commit.
    const profiles = createProfileWriteBehind(s, { cacheSize: 0 });
    const a1 = row('a', 'x');
    const a2 = row('a', 'y'.repeat(500));
    const b = row('b', 'z'.repeat(100));
    profiles.commit(changes(['a', a1]), 1);
    expect(profiles.pendingBytes).toBe(bytesOf(a1));
    // A newer change replaces the waiting one: its bytes, not both.
    profiles.commit(changes(['a', a2], ['b', b]), 2);
    expect(profiles.pendingBytes).toBe(bytesOf(a2) + bytesOf(b));
    // A deletion waits too, and holds no state.
    profiles.commit(changes(['b', null]), 3);
    expect(profiles.pendingBytes).toBe(bytesOf(a2));
    expect(profiles.pending).toBe(2);
    // A flush in steps of one row: `a` is written, then changes again before the flush ends.
    expect(profiles.flushStep(1)).toBe(false);
    expect(profiles.pendingBytes).toBe(0);
    const a3 = row('a', 'w'.repeat(50));
    profiles.commit(changes(['a', a3]), 4);
    expect(profiles.pendingBytes).toBe(bytesOf(a3));
    expect(profiles.flushStep(1)).toBe(true);
    // The change made during the flush is still waiting, and counted; the next flush writes it.
    expect(profiles.pendingBytes).toBe(bytesOf(a3));
    while (!profiles.flushStep(10) || profiles.pending > 0);
    expect(profiles.pendingBytes).toBe(0);
    const stored = sqlite.prepare('SELECT customer_id, state FROM profiles').all() as {
      customer_id: string;
      state: string;
    }[];
    expect(stored.map((r) => [r.customer_id, r.state])).toEqual([['a', JSON.stringify(a3.state)]]);
  });

  it('writes an ordered flush in customer-id order', async () => {
    const { s, sqlite } = await statements();
    const profiles = createProfileWriteBehind(s, { cacheSize: 0, ordered: true });
    profiles.commit(changes(['c', row('c', '')], ['a', row('a', '')], ['b', row('b', '')]), 1);
    while (!profiles.flushStep(10) || profiles.pending > 0);
    const byRowid = sqlite.prepare('SELECT customer_id FROM profiles ORDER BY rowid').all() as {
      customer_id: string;
    }[];
    expect(byRowid.map((r) => r.customer_id)).toEqual(['a', 'b', 'c']);
  });
});
