import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createPostgresStore } from '../../src/adapters/storage/postgres/create-postgres-store.js';
import { hashLockKey, lockClassesOf } from '../../src/adapters/storage/postgres/hash-lock-key.js';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import type { Decision } from '../../src/core/decision.js';
import { toCustomerId } from '../../src/core/ids.js';
import { sendNow } from '../../src/pipeline/act-on-messages.js';
import { guardOnDecided } from '../../src/pipeline/stages.js';
import { silentLogger } from '../../src/ports/logger.js';
import { aDecision, aTrack } from '../support/builders.js';
import { testSender } from '../support/start-herald.js';
import { sharedTestSchema, testDatabaseUrl } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);

describe.skipIf(testDatabaseUrl === undefined)('lock order on PostgreSQL', () => {
  const { schema, opened } = sharedTestSchema('herald_lock_order');

  it("takes a campaign budget's lock before the audit chain's, in a round that also withdraws messages", async () => {
    const clock = createVirtualClock(T0);
    const store = await createPostgresStore({ url: testDatabaseUrl ?? '', poolSize: 4, schema });
    const config = loadConfig(
      {
        HERALD_DATABASE_URL: testDatabaseUrl ?? '',
        HERALD_WRITE_KEYS: 'test-write-key-0001',
        HERALD_ADMIN_TOKEN: 'test-admin-token-0001',
        ...testSender,
      },
      null,
    );
    const services = await createServices(config, { store, clock, logger: silentLogger });
    opened.push(services);
    const customer = toCustomerId('u1');
    await services.recorder.record(
      [aTrack({ type: 'identify', name: null, userId: 'u1', traits: { email: 'u1@x.io' } })],
      T0,
    );
    // A queued message of u1, which the round withdraws (a journey exit cancelled its decision).
    const { answer: queued } = await sendNow(
      store,
      services.guard,
      {
        customerId: customer,
        channel: 'email',
        template: 'welcome-1',
        data: {},
        by: 'test',
        idempotencyKey: null,
      },
      () => services.ids.next(),
      T0,
    );
    const campaign = {
      id: 'spring',
      segment: null,
      template: 'upsell',
      channels: ['email'],
      incentive: null,
      budget: 100,
      holdoutPercent: 0,
      variants: null,
    } as unknown as Extract<Decision['trigger'], { kind: 'campaign' }>['campaign'];
    const decision = aDecision({
      id: 'd-spring-u1',
      customerId: customer,
      agent: 'campaign',
      trigger: { kind: 'campaign', campaign },
      scheduledForMs: T0,
      createdAtMs: T0,
    });

    // Another round (another worker, a review's approval) holds the campaign's budget lock,
    // and will append its audit entries before it commits.
    const { customers, audit } = lockClassesOf(schema);
    const other = new pg.Client({ connectionString: testDatabaseUrl });
    await other.connect();
    let runs = 0;
    try {
      await other.query(`SET statement_timeout = 10000`);
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock($1, $2)', [
        customers,
        hashLockKey('campaign-budget:spring'),
      ]);
      const round = store.transaction(async (tx) => {
        runs += 1;
        await tx.insertDecisions([decision]);
        await guardOnDecided(services.guard)(
          tx,
          {
            decisions: [decision],
            cancelled: [{ decisionIds: [queued.decisionId], reason: 'exited the journey' }],
            profiles: await tx.loadProfiles([customer]),
          },
          T0,
        );
      });
      // The round waits for the budget's lock...
      for (let waiting = false; !waiting;) {
        const { rows } = await other.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
        );
        waiting = Number(rows[0]?.n) > 0;
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // ...holding no audit lock the other round needs: it appends and commits, and the round
      // goes on. Taken the other way round, PostgreSQL aborts one of the two (deadlock, 40P01)
      // and the store runs the whole round again.
      await other.query('SELECT pg_advisory_xact_lock($1, 0)', [audit]);
      await other.query('COMMIT');
      await round;
    } finally {
      await other.end();
    }
    expect(runs).toBe(1);
    expect((await store.getMessage(queued.decisionId))?.status).toBe('cancelled');
    expect((await store.getMessage(decision.id))?.status).toBe('queued');
    const kinds = (await store.scanAudit(0, 100)).map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(['cancel', 'decision']);
  }, 60_000);
});
