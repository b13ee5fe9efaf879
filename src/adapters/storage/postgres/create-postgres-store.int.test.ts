import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../../../../test/support/stores.js';
import { toCustomerId } from '../../../core/ids.js';
import { Value } from '@sinclair/typebox/value';
import {
  deriveComputed,
  emptyProfile,
  profilePolicySchema,
  type ProfilePolicy,
} from '../../../pipeline/profile/index.js';
import { createPostgresStore } from './create-postgres-store.js';

const policy = Value.Default(profilePolicySchema, {}) as ProfilePolicy;
const stamp = `${String(process.pid)}_${Date.now().toString(36)}`;
const schemas = [`herald_a_${stamp}`, `herald_b_${stamp}`, `herald_c_${stamp}`];

const withClient = async <T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

describe.skipIf(testDatabaseUrl === undefined)('PostgreSQL store schemas', () => {
  const url = testDatabaseUrl ?? '';
  afterEach(async () => {
    await withClient(url, async (client) => {
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    });
  });

  it('survives the server ending a connection a transaction holds, and works on after', async () => {
    const [schema] = schemas as [string];
    const heard: string[] = [];
    // Named, so that only this store's connection is ended (other suites share the server).
    const name = `herald_ended_${stamp}`;
    const store = await createPostgresStore({
      url: `${url}${url.includes('?') ? '&' : '?'}application_name=${name}`,
      poolSize: 2,
      schema,
      onPoolError: (error) => heard.push(error.message),
    });
    try {
      // A DBA's pg_terminate_backend (or a failover) while the transaction holds its connection:
      // unheard, the client's 'error' event would end this process.
      const ended = store.transaction(async (tx) => {
        await tx.getSetting('link_secret');
        await withClient(url, (client) =>
          client.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1 AND state LIKE 'idle in transaction%'`,
            [name],
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        return tx.getSetting('link_secret');
      });
      await expect(ended).rejects.toThrow();
      expect(heard.join(' ')).toMatch(/terminat/);
      // The broken connection was discarded: the next transactions get working ones.
      for (let i = 0; i < 3; i += 1)
        await expect(
          store.transaction((tx) => tx.getSetting('link_secret')),
        ).resolves.not.toThrow();
    } finally {
      await store.close();
    }
  });

  it('migrates the schema its search path names, beside another Herald in another schema', async () => {
    const [first, second] = schemas as [string, string];
    await (await createPostgresStore({ url, poolSize: 2, schema: first })).close();
    await withClient(url, (client) => client.query(`CREATE SCHEMA ${second}`));
    // The second Herald is pointed at its schema by the connection's options only.
    const viaPath = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${second}`)}`;
    const store = await createPostgresStore({ url: viaPath, poolSize: 2 });
    try {
      await store.ping();
      const tables = await withClient(url, async (client) =>
        (
          await client.query<{ table_schema: string }>(
            `SELECT table_schema FROM information_schema.tables
             WHERE table_name = 'herald_migrations' AND table_schema = ANY($1) ORDER BY 1`,
            [schemas],
          )
        ).rows.map((r) => r.table_schema),
      );
      expect(tables).toEqual([first, second].sort());
    } finally {
      await store.close();
    }
  });

  it('keeps an installation in its schema when an empty one comes ahead of it in the path', async () => {
    const [installed, , ahead] = schemas as [string, string, string];
    const store = await createPostgresStore({ url, poolSize: 2, schema: installed });
    await store.transaction((tx) => tx.setSetting('kept', 'yes'));
    await store.close();
    // Installed before migration 0012: the tables it, 0014 and 0018 add must go where the
    // others are.
    await withClient(url, (client) =>
      client.query(`SET search_path = ${installed};
        DROP TABLE pseudonyms;
        DROP TABLE erased_identities;
        DROP TABLE address_bounces;
        CREATE TABLE subjects (customer_id text PRIMARY KEY, pseudonym text NOT NULL UNIQUE,
          created_at_ms bigint NOT NULL);
        INSERT INTO subjects VALUES ('ann', 's_ann', 1);
        DELETE FROM herald_migrations WHERE name >= '0012'`),
    );
    // As a schema named after the role appears ahead of `public` in `"$user", public`.
    await withClient(url, (client) => client.query(`CREATE SCHEMA ${ahead}`));
    const path = encodeURIComponent(`-c search_path=${ahead},${installed}`);
    const reopened = await createPostgresStore({
      url: `${url}${url.includes('?') ? '&' : '?'}options=${path}`,
      poolSize: 2,
    });
    try {
      expect(await reopened.transaction((tx) => tx.getSetting('kept'))).toBe('yes');
      expect(await reopened.pseudonymsOfCustomer(toCustomerId('ann'))).toEqual(['s_ann']);
      const tablesAhead = await withClient(url, async (client) =>
        Number(
          (
            await client.query<{ n: string }>(
              'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = $1',
              [ahead],
            )
          ).rows[0]?.n,
        ),
      );
      expect(tablesAhead).toBe(0);
    } finally {
      await reopened.close();
    }
  });

  it('marks the orders profiles count cancelled when migration 0017 runs on an older database', async () => {
    const schema = schemas[2] ?? '';
    const store = await createPostgresStore({ url, poolSize: 2, schema });
    const order = (orderId: string, customerId: string) => ({
      orderId,
      customerId: toCustomerId(customerId),
      placedAtMs: 1,
      totalCents: 100,
    });
    const profile = (customerId: string, cancelledIds: string[]) => ({
      customerId: toCustomerId(customerId),
      state: {
        ...emptyProfile(toCustomerId(customerId), 1),
        orders: { ...emptyProfile(toCustomerId(customerId), 1).orders, cancelledIds },
      },
      computed: deriveComputed(emptyProfile(toCustomerId(customerId), 1), 1, policy),
    });
    // As before 0017: the profiles know which orders were cancelled, the table does not.
    await store.transaction(async (tx) => {
      await tx.insertOrders([order('o1', 'ann'), order('o2', 'ann'), order('o3', 'cy')]);
      // A state PostgreSQL's jsonb would refuse (a \u0000 escape) is read all the same.
      const odd = profile('cy', ['o3']);
      await tx.saveProfiles([
        profile('ann', ['o1']),
        profile('bob', ['o2']),
        { ...odd, state: { ...odd.state, traits: { note: 'a\u0000b' } } },
      ]);
    });
    await store.close();
    await withClient(url, (client) =>
      client.query(
        `UPDATE ${schema}.orders SET cancelled = 0;
         DELETE FROM ${schema}.herald_migrations WHERE name >= '0017-orders-cancelled'`,
      ),
    );
    await (await createPostgresStore({ url, poolSize: 2, schema })).close();
    const flags = await withClient(
      url,
      async (client) =>
        (
          await client.query<{ order_id: string; cancelled: number }>(
            `SELECT order_id, cancelled FROM ${schema}.orders ORDER BY order_id`,
          )
        ).rows,
    );
    expect(flags).toEqual([
      { order_id: 'o1', cancelled: 1 },
      { order_id: 'o2', cancelled: 0 },
      { order_id: 'o3', cancelled: 1 },
    ]);
  });

  it('starts while another session creates and drops schemas in the same database', async () => {
    const churned = `herald_churn_${stamp}`;
    const churn = new pg.Client({ connectionString: url });
    await churn.connect();
    const running = { stopped: false };
    // Another application (or another Herald's tests) coming and going beside this one.
    const churning = (async () => {
      while (!running.stopped) {
        await churn.query(
          `CREATE SCHEMA IF NOT EXISTS ${churned}; CREATE TABLE IF NOT EXISTS ${churned}.t (id serial PRIMARY KEY, a int, b text)`,
        );
        await churn.query(`DROP SCHEMA ${churned} CASCADE`);
      }
    })();
    const failures: string[] = [];
    try {
      for (let n = 0; n < 8; n += 1) {
        const schema = schemas[n % schemas.length] ?? '';
        await createPostgresStore({ url, poolSize: 2, schema })
          .then((store) => store.close())
          .catch((error: unknown) => {
            const cause = (error as { cause?: Error }).cause;
            failures.push(`${String(error)}: ${cause?.message ?? ''}`);
          });
        await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      }
    } finally {
      running.stopped = true;
      await churning;
      await churn.query(`DROP SCHEMA IF EXISTS ${churned} CASCADE`);
      await churn.end();
    }
    expect(failures).toEqual([]);
  });

  it("never waits for, nor passes over, another schema's Herald holding a customer or the audit chain", async () => {
    const [first, second] = schemas as [string, string];
    const a = await createPostgresStore({ url, poolSize: 2, schema: first });
    const b = await createPostgresStore({ url, poolSize: 2, schema: second });
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      let holding = (): void => undefined;
      const holds = new Promise<void>((resolve) => (holding = resolve));
      // The first Herald ingests customer c1 and appends to its audit chain, and holds both.
      const first$ = a.transaction(async (tx) => {
        await tx.lock(['c1']);
        await tx.lockAuditHead();
        holding();
        await held;
      });
      await holds;
      const waited = new Promise<string>((resolve) => {
        setTimeout(() => {
          resolve('still waiting after 10 s');
        }, 10_000).unref();
      });
      const seen = await Promise.race([
        b.transaction(async (tx) => {
          const locked = [...(await tx.tryLockCustomers([toCustomerId('c1')]))];
          await tx.lock(['c1']);
          await tx.lockAuditHead();
          return locked;
        }),
        waited,
      ]);
      expect(seen).toEqual(['c1']);
      release();
      await first$;
    } finally {
      release();
      await a.close();
      await b.close();
    }
  });
});
