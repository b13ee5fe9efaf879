import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import type { AuditEntry } from '../../src/core/audit.js';
import { toCustomerId } from '../../src/core/ids.js';
import { appendAudit, hashEntry } from '../../src/pipeline/record/index.js';
import { silentLogger } from '../../src/ports/logger.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories, type StoreFactory } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const KEY = 'audit-key-for-the-tests-0123456789abcdef';
const OTHER_KEY = 'another-audit-key-for-the-tests-0123456789';
const TIMEOUT_MS = 60_000;

interface Verified {
  ok: boolean;
  entries?: number;
  lastHash?: string;
  brokenAtSeq?: number;
  uncheckedFromSeq?: number;
  reason?: string;
}

type Database = Awaited<ReturnType<StoreFactory['make']>>;

/**
 * Herald on a database already made, opened again as a restart with other settings would:
 * `make` reopens it with the configured audit key, and closing leaves it for the next start.
 */
const restartsOn = (factory: StoreFactory, db: Database): StoreFactory => ({
  name: factory.name,
  available: true,
  make: async (options = {}) => ({
    store: await db.reopen({ auditKey: options.auditKey ?? null }),
    raw: db.raw,
    reopen: db.reopen,
    cleanup: () => Promise.resolve(),
  }),
});

const verify = async (herald: TestHerald): Promise<Verified> =>
  (await adminCall(herald, 'GET', '/v1/audit/verify')).json<Verified>();

/** A customer with an email address, and an API send to them: one audit entry (or more). */
const sendTo = async (herald: TestHerald, userId: string) => {
  const clock = herald.services.clock;
  await ingestCall(herald, clock, 'identify', {
    userId,
    traits: { email: `${userId}@example.com` },
  });
  return adminCall(herald, 'POST', '/v1/sends', {
    userId,
    channel: 'email',
    template: 'welcome-1',
  });
};

/**
 * What someone who may insert into the database (Herald's own role may), but does not hold the
 * key, can add without touching a trigger: a review "rita approved it, overriding the
 * guardrails", chained to the last entry. `hashOf` makes its hash.
 */
const forgeApproval = async (
  herald: TestHerald,
  hashOf: (prevHash: string, entry: Omit<AuditEntry, 'prevHash' | 'hash'>) => string,
) => {
  const entries = await herald.services.store.scanAudit(0, 10_000);
  const last = entries[entries.length - 1];
  if (last === undefined) throw new Error('no audit entry to forge after');
  const forged = {
    seq: last.seq + 1,
    atMs: last.atMs + 1,
    kind: 'review',
    subject: last.subject,
    data: JSON.stringify({ decisionId: 'd-forged', action: 'approve', by: 'rita', override: true }),
  };
  await herald.raw(
    `INSERT INTO audit_log (seq, at_ms, kind, subject, data, prev_hash, hash)
     VALUES (${String(forged.seq)}, ${String(forged.atMs)}, 'review', '${last.subject ?? ''}',
       '${forged.data}', '${last.hash}', '${hashOf(last.hash, forged)}')`,
  );
  return forged.seq;
};

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`the audit key (${factory.name})`, () => {
    it(
      'breaks the chain at an entry appended with insert rights after sealed ones',
      async () => {
        const herald = await startHerald(factory, {
          clock: createVirtualClock(T0),
          env: { HERALD_AUDIT_KEY: KEY },
        });
        try {
          await sendTo(herald, 'u1');
          const before = await verify(herald);
          expect(before).toMatchObject({ ok: true });
          expect(before.lastHash).toMatch(/^k1:[0-9a-f]{64}$/);
          // Correctly chained with plain SHA-256, as the chain was before the key.
          const forgedSeq = await forgeApproval(herald, hashEntry);
          expect(await verify(herald)).toEqual({
            ok: false,
            brokenAtSeq: forgedSeq,
            reason: 'not sealed with the audit key, after sealed entries',
          });
          // Herald goes on appending sealed entries after it; the forged one stays named.
          expect((await sendTo(herald, 'u2')).statusCode).toBe(201);
          expect(await verify(herald)).toMatchObject({ ok: false, brokenAtSeq: forgedSeq });
        } finally {
          await herald.close();
        }
      },
      TIMEOUT_MS,
    );

    it(
      'breaks the chain at an entry with a seal not made with the key',
      async () => {
        const herald = await startHerald(factory, {
          clock: createVirtualClock(T0),
          env: { HERALD_AUDIT_KEY: KEY },
        });
        try {
          await sendTo(herald, 'u1');
          const forgedSeq = await forgeApproval(herald, (prev, e) => `k1:${hashEntry(prev, e)}`);
          expect(await verify(herald)).toEqual({
            ok: false,
            brokenAtSeq: forgedSeq,
            reason:
              'its seal does not match its content under the audit key (altered, or sealed with another key)',
          });
        } finally {
          await herald.close();
        }
      },
      TIMEOUT_MS,
    );

    it(
      'keeps a chain begun without the key verifying, and needs the key for its sealed entries',
      async () => {
        const db = await factory.make();
        const on = restartsOn(factory, db);
        const clock = createVirtualClock(T0);
        try {
          const plain = await startHerald(on, { clock });
          await sendTo(plain, 'u1');
          const unsealed = await verify(plain);
          expect(unsealed).toMatchObject({ ok: true });
          expect(unsealed.lastHash).toMatch(/^[0-9a-f]{64}$/);
          await plain.close();

          const sealed = await startHerald(on, { clock, env: { HERALD_AUDIT_KEY: KEY } });
          await sendTo(sealed, 'u2');
          const mixed = await verify(sealed);
          expect(mixed).toMatchObject({ ok: true });
          expect(mixed.entries).toBeGreaterThan(unsealed.entries ?? 0);
          expect(mixed.lastHash).toMatch(/^k1:/);
          await sealed.close();

          const keyless = await startHerald(on, { clock });
          expect(await verify(keyless)).toEqual({
            ok: false,
            uncheckedFromSeq: (unsealed.entries ?? 0) + 1,
            reason:
              'sealed with the audit key, which is not configured: set HERALD_AUDIT_KEY to verify this entry and those after it',
          });
          // Nor does it append: a plain entry after sealed ones would break the chain for good.
          const refused = await sendTo(keyless, 'u3');
          expect(refused.statusCode).toBe(500);
          expect(refused.json<{ error: { message: string } }>().error.message).toMatch(
            /audit log is sealed .* HERALD_AUDIT_KEY/,
          );
          expect(await keyless.services.store.scanAudit(0, 10_000)).toHaveLength(
            mixed.entries ?? 0,
          );
          await keyless.close();

          // Rotation is not supported: under another key the entries sealed before fail.
          const rotated = await startHerald(on, { clock, env: { HERALD_AUDIT_KEY: OTHER_KEY } });
          expect(await verify(rotated)).toMatchObject({
            ok: false,
            brokenAtSeq: (unsealed.entries ?? 0) + 1,
          });
          await rotated.close();
        } finally {
          await db.cleanup();
        }
      },
      TIMEOUT_MS,
    );
  });
}

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

describe('herald audit verify with the audit key', () => {
  let dir: string;
  let url: string;
  const herald = (env: Record<string, string>, ...args: string[]) =>
    run(process.execPath, [join(root, 'bin/herald.js'), ...args], {
      cwd: dir,
      env: { ...process.env, HERALD_DATABASE_URL: url, HERALD_LOG_LEVEL: 'silent', ...env },
    });
  const fails = (env: Record<string, string>, ...args: string[]) =>
    herald(env, 'audit', 'verify', ...args).then(
      () => null,
      (error: unknown) => error as { code: number; stderr: string },
    );
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-audit-key-'));
    url = `sqlite:${join(dir, 'herald.db')}`;
    const services = await createServices(
      loadConfig({ HERALD_DATABASE_URL: url, HERALD_AUDIT_KEY: KEY }, null),
      { logger: silentLogger },
    );
    await services.store.transaction((tx) =>
      appendAudit(
        tx,
        Array.from({ length: 3 }, (_, i) => ({
          kind: 'decision',
          customerId: toCustomerId('ann'),
          atMs: T0 + i,
          data: { decisionId: `d${String(i)}`, status: 'queued' },
        })),
        T0,
      ),
    );
    await services.close();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'passes a sealed chain with the key, exits 78 without it and 1 after a forged entry',
    async () => {
      const ok = await herald({ HERALD_AUDIT_KEY: KEY }, 'audit', 'verify');
      expect(ok.stdout).toMatch(/^audit chain holds: 3 entries verified/);
      const last = /^last entry: (3:k1:[0-9a-f]{64})$/m.exec(ok.stdout)?.[1] ?? '';
      expect(last).not.toBe('');
      expect(
        (await herald({ HERALD_AUDIT_KEY: KEY }, 'audit', 'verify', '--expect', last)).stdout,
      ).toMatch(/entry 3 is the one expected/);

      const keyless = await fails({});
      expect(keyless?.code).toBe(78);
      expect(keyless?.stderr).toMatch(
        /audit chain not verified at entry 1: sealed with the audit key, which is not configured: set HERALD_AUDIT_KEY/,
      );
      expect(keyless?.stderr).not.toMatch(/holds/);

      // Inserted as Herald's own role may, no trigger touched.
      const db = new BetterSqlite3(join(dir, 'herald.db'));
      const head = db.prepare('SELECT * FROM audit_log WHERE seq = 3').get() as {
        subject: string;
        hash: string;
      };
      const forged = {
        seq: 4,
        atMs: T0 + 3,
        kind: 'review',
        subject: head.subject,
        data: '{"decisionId":"d2","action":"approve","by":"rita","override":true}',
      };
      db.prepare(
        `INSERT INTO audit_log (seq, at_ms, kind, subject, data, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        forged.seq,
        forged.atMs,
        forged.kind,
        forged.subject,
        forged.data,
        head.hash,
        hashEntry(head.hash, forged),
      );
      db.close();
      const broken = await fails({ HERALD_AUDIT_KEY: KEY });
      expect(broken?.code).toBe(1);
      expect(broken?.stderr).toMatch(
        /audit chain broken at entry 4: not sealed with the audit key, after sealed entries/,
      );
    },
    TIMEOUT_MS,
  );
});
