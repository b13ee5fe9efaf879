import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { toCustomerId } from '../../src/core/ids.js';
import { appendAudit } from '../../src/pipeline/record/index.js';
import { silentLogger } from '../../src/ports/logger.js';
import { aTrack } from '../support/builders.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const TIMEOUT_MS = 60_000;

describe('herald audit verify and export', () => {
  let dir: string;
  let url: string;
  const herald = (...args: string[]) =>
    run(process.execPath, [join(root, 'bin/herald.js'), ...args], {
      cwd: dir,
      env: { ...process.env, HERALD_DATABASE_URL: url, HERALD_LOG_LEVEL: 'silent' },
    });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-audit-cli-'));
    url = `sqlite:${join(dir, 'herald.db')}`;
    const services = await createServices(loadConfig({ HERALD_DATABASE_URL: url }, null), {
      logger: silentLogger,
    });
    await services.recorder.record(
      [
        aTrack({
          type: 'identify',
          name: null,
          userId: 'ann',
          traits: { email: 'ann@example.com' },
        }),
      ],
      1_700_000_000_000,
    );
    await services.store.transaction(async (tx) => {
      await tx.pseudonymsOf([toCustomerId('ann')], 0);
      return appendAudit(
        tx,
        Array.from({ length: 5 }, (_, i) => ({
          kind: 'decision',
          customerId: toCustomerId(i % 2 === 0 ? 'ann' : 'bob'),
          atMs: 1_700_000_000_000 + i,
          data: { decisionId: `d${i}`, status: 'queued' },
        })),
        1_700_000_000_000,
      );
    });
    await services.close();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // Runs before the tampering test: vitest keeps the order within a file.
  it(
    "exports a customer's trail by user id, with nobody else's entries",
    async () => {
      const { stdout } = await herald('audit', 'export', '--customer', 'ann');
      const trail = JSON.parse(stdout) as {
        customerId: string;
        audit: { data: { decisionId: string } }[];
      };
      expect(trail.customerId).toBe('ann');
      expect(trail.audit.map((e) => e.data.decisionId)).toEqual(['d0', 'd2', 'd4']);
      const unknown = await herald('audit', 'export', '--customer', 'nobody').then(
        () => null,
        (error: unknown) => error as { code: number; stderr: string },
      );
      expect(unknown?.code).toBe(66);
      expect(unknown?.stderr).toMatch(/no customer with userId "nobody"/);
    },
    TIMEOUT_MS,
  );
  it(
    'exits 0 when the chain holds, 1 when it was cut back past a kept entry or an entry changed',
    async () => {
      const ok = await herald('audit', 'verify');
      expect(ok.stdout).toMatch(/^audit chain holds: 5 entries verified/);
      const last = /^last entry: (5:[0-9a-f]{64})$/m.exec(ok.stdout)?.[1] ?? '';
      expect((await herald('audit', 'verify', '--expect', last)).stdout).toMatch(
        /entry 5 is the one expected/,
      );
      const fails = (...args: string[]) =>
        herald('audit', 'verify', ...args).then(
          () => null,
          (error: unknown) => error as { code: number; stderr: string },
        );
      // The last entry deleted by someone who can drop the guard: the shorter chain holds,
      // the entry kept from before says what is missing.
      const db = new BetterSqlite3(join(dir, 'herald.db'));
      db.exec('DROP TRIGGER audit_log_no_delete');
      db.exec('DELETE FROM audit_log WHERE seq = 5');
      expect((await herald('audit', 'verify')).stdout).toMatch(/holds: 4 entries/);
      expect((await fails('--expect', last))?.stderr).toMatch(
        /audit chain cut: entry 5 is gone \(the chain ends at 4\)/,
      );
      expect((await fails('--expect', `4:${'0'.repeat(64)}`))?.stderr).toMatch(
        /audit chain rewritten: entry 4 is not the one expected/,
      );
      expect((await fails('--expect', 'latest'))?.code).toBe(65);
      db.exec('DROP TRIGGER audit_log_no_update');
      db.exec(`UPDATE audit_log SET data = '{"decisionId":"d3","status":"sent"}' WHERE seq = 4`);
      db.close();
      const broken = await herald('audit', 'verify').then(
        () => null,
        (error: unknown) => error as { code: number; stderr: string },
      );
      expect(broken?.code).toBe(1);
      expect(broken?.stderr).toMatch(
        /audit chain broken at entry 4: its content does not match its hash/,
      );
    },
    TIMEOUT_MS,
  );
  it(
    'names an entry numbered below the first, and serves it to nobody',
    async () => {
      const db = new BetterSqlite3(join(dir, 'herald.db'));
      db.exec(`UPDATE audit_log SET data = '{"decisionId":"d3","status":"queued"}' WHERE seq = 4`);
      expect((await herald('audit', 'verify')).stdout).toMatch(/holds: 4 entries/);
      const subject = (
        db.prepare('SELECT subject FROM audit_log WHERE seq = 1').get() as { subject: string }
      ).subject;
      db.exec('DROP TRIGGER audit_log_no_replace');
      db.prepare(
        `INSERT INTO audit_log (seq, at_ms, kind, subject, data, prev_hash, hash)
         VALUES (0, 0, 'review', ?, '{"decisionId":"forged","action":"approve"}', ?, ?)`,
      ).run(subject, '0'.repeat(64), '0'.repeat(64));
      db.close();
      const broken = await herald('audit', 'verify').then(
        () => null,
        (error: unknown) => error as { code: number; stderr: string },
      );
      expect(broken?.code).toBe(1);
      expect(broken?.stderr).toMatch(
        /audit chain broken at entry 0: numbered before the first entry/,
      );
      const { stdout } = await herald('audit', 'export', '--customer', 'ann');
      const trail = JSON.parse(stdout) as { audit: { data: { decisionId: string } }[] };
      expect(trail.audit.map((e) => e.data.decisionId)).toEqual(['d0', 'd2']);
    },
    TIMEOUT_MS,
  );
});
