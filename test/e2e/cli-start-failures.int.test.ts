import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decisionAgents } from '../../src/core/decision.js';
import { testDatabaseUrl } from '../support/stores.js';
import { runHerald, type CliOutcome } from '../support/run-cli.js';

const TIMEOUT_MS = 60_000;

/** Runs `herald ARGS` in `cwd` with only the HERALD_ variables given. */
const herald = (
  cwd: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = TIMEOUT_MS / 2,
): Promise<CliOutcome> => runHerald(args, { cwd, env, timeoutMs, ownEnvOnly: true });

const noStack = /^\s+at /m;

describe('herald commands that cannot start', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-start-failures-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const sqliteEnv = (name: string) => ({ HERALD_DATABASE_URL: `sqlite:${join(dir, name)}` });

  it(
    'SQLite: a failed migration says why, exits, and leaves nothing applied for the next run',
    async () => {
      const file = join(dir, 'conflict.db');
      const pre = new BetterSqlite3(file);
      // Migration 0001 creates this table after others: it fails half-way through.
      pre.exec('CREATE TABLE identities (x INTEGER)');
      pre.close();
      const first = await herald(dir, ['migrate'], sqliteEnv('conflict.db'), 20_000);
      expect(first.code).toBe(69);
      expect(first.stderr).toBe(
        'herald: database migration 0001-events-profiles failed: table "identities" already exists\n',
      );
      const db = new BetterSqlite3(file);
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'events'")
        .all();
      db.exec('DROP TABLE identities');
      db.close();
      // Rolled back: the tables created before the failing statement are gone with it.
      expect(tables).toEqual([]);
      // Released: the next command opens the file, and the migration now applies.
      const second = await herald(dir, ['migrate'], sqliteEnv('conflict.db'), 20_000);
      expect(second).toMatchObject({ code: 0, stdout: 'database is up to date (sqlite)\n' });
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a sweep interval longer than a timer can wait, naming the variable',
    async () => {
      const out = await herald(dir, ['serve'], {
        ...sqliteEnv('sweep.db'),
        HERALD_PORT: '0',
        HERALD_SWEEP_INTERVAL_MINUTES: '43200',
      });
      expect(out.code).toBe(78);
      expect(out.stderr).toMatch(
        /\/profile\/sweepIntervalMinutes: .*35791.*\(HERALD_SWEEP_INTERVAL_MINUTES\)/,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a tag it does not know in the config file, saying where and never the value',
    async () => {
      const sub = join(dir, 'tagged');
      mkdirSync(sub);
      writeFileSync(
        join(sub, 'herald.config.yaml'),
        'admin:\n  token: !vault s3cr3t-admin-token-value-XYZ\n',
      );
      const out = await herald(sub, ['migrate'], sqliteEnv('tagged.db'));
      expect(out.code).toBe(78);
      expect(out.stderr).toContain('a tag Herald does not know at line 2, column 10');
      expect(out.stderr + out.stdout).not.toContain('s3cr3t');
      expect(out.stderr).not.toMatch(/warning/i);
    },
    TIMEOUT_MS,
  );

  it(
    'says in one line, exit 78, that HERALD_CONFIG names a directory',
    async () => {
      const conf = join(dir, 'conf.d');
      mkdirSync(conf);
      const out = await herald(dir, ['migrate'], { ...sqliteEnv('x.db'), HERALD_CONFIG: conf });
      expect(out.code).toBe(78);
      expect(out.stderr).toBe(
        `herald: cannot read the config file ${conf}: it is a directory, not a file\n`,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a backtest transaction on a day the calendar does not have, naming its line',
    async () => {
      const rows = Array.from(
        { length: 40 },
        (_, i) =>
          `c${String(i % 8)},2025-0${String(1 + (i % 9))}-1${String(i % 10)},${String(10 + i)}`,
      );
      writeFileSync(
        join(dir, 'tx.csv'),
        ['customer_id,date,value', ...rows, 'c1,2025-02-30,40', ''].join('\n'),
      );
      const out = await herald(
        dir,
        ['models', 'backtest', '--transactions', 'tx.csv', '--split', '2025-06-01'],
        sqliteEnv('x.db'),
      );
      expect(out.code).toBe(65);
      expect(out.stderr).toBe(
        'herald: tx.csv line 42: "2025-02-30" is not a date (ISO-8601, e.g. 2025-01-31, or YYYYMMDD)\n',
      );
    },
    TIMEOUT_MS,
  );

  it(
    'refuses an agent decisions are not made by, listing those they are',
    async () => {
      const out = await herald(dir, ['decisions', 'list', '--agent', 'carts'], sqliteEnv('x.db'));
      expect(out.code).toBe(65);
      expect(out.stderr).toBe(
        `herald: --agent carts: not an agent (one of ${decisionAgents.join(', ')})\n`,
      );
      const ok = await herald(dir, ['decisions', 'list', '--agent', 'cart'], sqliteEnv('x.db'));
      expect(ok).toMatchObject({ code: 0, stdout: '' });
      expect(ok.stderr).not.toMatch(noStack);
    },
    TIMEOUT_MS,
  );
});

describe.skipIf(testDatabaseUrl === undefined)('herald migrate on PostgreSQL when it fails', () => {
  const url = testDatabaseUrl ?? '';
  const schema = `start_fail_${String(process.pid)}_${Date.now().toString(36)}`;
  const missing = `${schema}_missing`;
  const env = {
    HERALD_DATABASE_URL: url,
    HERALD_WRITE_KEYS: 'web=a-write-key-of-some-length',
    HERALD_ADMIN_TOKEN: 'an-admin-token-long-enough-to-pass',
  };
  const sql = async (text: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  afterEach(async () => {
    await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  it(
    'names the migration and the reason, and ends its connections at once',
    async () => {
      await sql(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.events (x int)`);
      const out = await herald(tmpdir(), ['migrate'], {
        ...env,
        PGOPTIONS: `-c search_path=${schema}`,
      });
      expect(out.code).toBe(69);
      expect(out.stderr).toBe(
        'herald: database migration 0001-events-profiles failed: relation "events" already exists\n',
      );
      // Without ending the pool the process waited for its idle timeout (10 s) before exiting.
      expect(out.elapsedMs).toBeLessThan(8000);
    },
    TIMEOUT_MS,
  );

  it(
    'says so when the search path names no schema that exists',
    async () => {
      const out = await herald(tmpdir(), ['migrate'], {
        ...env,
        PGOPTIONS: `-c search_path=${missing}`,
      });
      expect(out.code).toBe(69);
      expect(out.stderr).toBe(
        `herald: no schema to work in: none of the connection's search_path (${missing}) exists; create the schema or point the search path at one that does\n`,
      );
    },
    TIMEOUT_MS,
  );
});
