import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createPostgresStore } from '../../src/adapters/storage/postgres/create-postgres-store.js';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { createServer } from '../../src/http/create-server.js';
import { toCustomerId } from '../../src/core/ids.js';
import { DAY_MS } from '../../src/core/time.js';
import { sendNow } from '../../src/pipeline/act-on-messages.js';
import { recordMessageResult } from '../../src/pipeline/track-messages.js';
import { silentLogger } from '../../src/ports/logger.js';
import { aTrack } from '../support/builders.js';
import { startSmtpServer } from '../support/smtp-server.js';
import { sharedTestSchema, testDatabaseUrl } from '../support/stores.js';
import { hashLockKey, lockClassesOf } from '../../src/adapters/storage/postgres/hash-lock-key.js';
import { testSender } from '../support/start-herald.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const MESSAGES = 200;

describe.skipIf(testDatabaseUrl === undefined)('two dispatchers sharing PostgreSQL', () => {
  const { schema, opened } = sharedTestSchema('herald_dispatch');

  /** Herald's services on the shared schema, as one process of several would run them. */
  const open = async (
    clock: ReturnType<typeof createVirtualClock>,
    options: { smtpPort?: number; fileText?: string | null; poolSize?: number } = {},
  ) => {
    const store = await createPostgresStore({
      url: testDatabaseUrl ?? '',
      poolSize: options.poolSize ?? 4,
      schema,
    });
    const config = loadConfig(
      {
        HERALD_DATABASE_URL: testDatabaseUrl ?? '',
        HERALD_WRITE_KEYS: 'test-write-key-0001',
        HERALD_ADMIN_TOKEN: 'test-admin-token-0001',
        ...testSender,
        ...(options.smtpPort === undefined
          ? {}
          : { HERALD_SMTP_URL: `smtp://127.0.0.1:${String(options.smtpPort)}` }),
      },
      options.fileText ?? null,
    );
    const services = await createServices(config, { store, clock, logger: silentLogger });
    opened.push(services);
    return services;
  };

  it('send every message exactly once, and share one rate limit', async () => {
    const smtp = await startSmtpServer(5000, 2);
    await smtp.adapter.close();
    const clock = createVirtualClock(T0);
    try {
      // 150 a second between them: one virtual second lets 150 of the 200 go.
      const limits = 'deliver:\n  batchSize: 40\n  rateLimits:\n    smtp: { perSecond: 150 }\n';
      const a = await open(clock, { smtpPort: smtp.port, fileText: limits, poolSize: 6 });
      const b = await open(clock, { smtpPort: smtp.port, fileText: limits, poolSize: 6 });
      await a.recorder.record(
        Array.from({ length: MESSAGES }, (_, i) =>
          aTrack({
            type: 'identify',
            name: null,
            userId: `p${i}`,
            traits: { email: `p${i}@example.com` },
          }),
        ),
        T0,
      );
      for (let i = 0; i < MESSAGES; i += 1)
        await sendNow(
          a.store,
          a.guard,
          {
            customerId: toCustomerId(`p${i}`),
            channel: 'email',
            template: 'welcome-1',
            data: {},
            by: 'test',
            idempotencyKey: null,
          },
          () => a.ids.next(),
          T0,
        );
      await Promise.all([a.dispatcher.runDue(), b.dispatcher.runDue()]);
      expect(smtp.messages.length).toBe(150);
      clock.set(T0 + 1000);
      await Promise.all([a.dispatcher.runDue(), b.dispatcher.runDue()]);
      const ids = smtp.messages.map((m) => /^Message-ID: (<[^>]+>)/m.exec(m)?.[1] ?? '');
      expect(ids.length).toBe(MESSAGES);
      expect(new Set(ids).size).toBe(MESSAGES);
      const sent = await a.store.listMessages({ status: 'sent', limit: 1000 });
      expect(sent).toHaveLength(MESSAGES);
    } finally {
      await smtp.stop();
    }
  }, 60_000);

  it("keeps a campaign's budget cap when two workers judge it at once", async () => {
    const clock = createVirtualClock(T0);
    // Each worker round takes 6 customers: the two rounds judge different halves.
    const rounds = { fileText: 'decide:\n  worker:\n    batchSize: 6\n' };
    const a = await open(clock, rounds);
    const b = await open(clock, rounds);
    await a.recorder.record(
      Array.from({ length: 12 }, (_, i) =>
        aTrack({ type: 'identify', name: null, userId: `b${i}`, traits: { email: `b${i}@x.io` } }),
      ),
      T0,
    );
    const created = await createServer(a).inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer test-admin-token-0001',
      },
      // An email costs 0.001 by default: room for six of the twelve.
      payload: JSON.stringify({
        id: 'spring',
        template: 'upsell',
        channels: ['email'],
        budget: 0.006,
      }),
    });
    expect(created.statusCode).toBe(202);
    await Promise.all([a.worker.runDue(), b.worker.runDue()]);
    const messages = await a.store.listMessages({ limit: 100 });
    expect(messages).toHaveLength(12);
    expect(messages.filter((m) => m.status === 'queued')).toHaveLength(6);
    expect(
      messages.filter((m) => m.status === 'blocked' && m.reasonCode === 'budget_exhausted'),
    ).toHaveLength(6);
  }, 60_000);

  it("writes a send back under its customer's lock, as an order for them is recorded", async () => {
    const smtp = await startSmtpServer(5000, 2);
    await smtp.adapter.close();
    const clock = createVirtualClock(T0);
    const services = await open(clock, { smtpPort: smtp.port });
    const { store } = services;
    const userId = 'lock-1';
    const { customers } = lockClassesOf(schema);
    const holder = new pg.Client({ connectionString: testDatabaseUrl });
    await holder.connect();
    try {
      await services.recorder.record(
        [aTrack({ type: 'identify', name: null, userId, traits: { email: 'l@example.com' } })],
        T0,
      );
      const { answer } = await sendNow(
        store,
        services.guard,
        {
          customerId: toCustomerId(userId),
          channel: 'email',
          template: 'welcome-1',
          data: {},
          by: 'test',
          idempotencyKey: null,
        },
        () => services.ids.next(),
        T0,
      );
      /**
       * Runs `work` while another transaction holds the customer's lock (as recording an order
       * for them does): true when it waited for the lock (seen in pg_locks) before finishing.
       */
      const waitsForTheLock = async <T>(work: () => Promise<T>): Promise<[boolean, T]> => {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock($1, $2)', [
          customers,
          hashLockKey(userId),
        ]);
        const state = { finished: false };
        const running = work().finally(() => {
          state.finished = true;
        });
        let waited = false;
        while (!state.finished && !waited) {
          const { rows } = await holder.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
               AND classid = ($1::int)::oid AND objid = ($2::int)::oid`,
            [customers, hashLockKey(userId)],
          );
          waited = Number(rows[0]?.n) > 0;
          if (!waited) await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const finishedFirst = state.finished;
        await holder.query('COMMIT');
        return [waited && !finishedFirst, await running];
      };
      const [waited, dispatched] = await waitsForTheLock(() => services.dispatcher.runDue());
      expect(waited).toBe(true);
      expect(dispatched).toBe(1);
      expect(smtp.messages).toHaveLength(1);
      // A provider's report that an attempt which seemed to fail went through waits too.
      await holder.query(
        `UPDATE ${schema}.messages SET status = 'queued', sent_at_ms = NULL WHERE id = $1`,
        [answer.decisionId],
      );
      const message = await store.getMessage(answer.decisionId);
      if (message === undefined) throw new Error('no message');
      const deps = {
        store,
        emit: () => Promise.resolve(),
        attributionWindowMs: 7 * DAY_MS,
        maxAttempts: 5,
      };
      const [reportWaited] = await waitsForTheLock(() =>
        recordMessageResult(deps, message, { kind: 'accepted', providerId: 'p-1' }, T0, T0),
      );
      expect(reportWaited).toBe(true);
      expect((await store.getMessage(answer.decisionId))?.status).toBe('sent');
    } finally {
      await holder.end();
      await smtp.stop();
    }
  }, 60_000);
});
