import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { toCustomerId } from '../../src/core/ids.js';
import { sendNow } from '../../src/pipeline/act-on-messages.js';
import { silentLogger } from '../../src/ports/logger.js';
import { aTrack } from '../support/builders.js';
import { startSmtpServer } from '../support/smtp-server.js';
import { testSender } from '../support/start-herald.js';

const root = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const MESSAGES = 300;
const TIMEOUT_MS = 120_000;

const waitFor = async (what: string, done: () => boolean, timeoutMs: number) => {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/**
 * A dispatcher in a child process is SIGKILLed in the middle of a batch and started again;
 * the receiving side counts what arrived.
 */
describe('a dispatcher killed mid-batch', () => {
  let dir: string;
  let env: Record<string, string>;
  let child: ChildProcess | null = null;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-dispatch-crash-'));
    // Claims come back two seconds after their dispatcher died. No quiet hours: the emails are
    // marketing, and between 21:00 and 08:00 UTC they would otherwise be held until morning.
    writeFileSync(
      join(dir, 'herald.config.yaml'),
      'deliver:\n  leaseSeconds: 2\n  timeoutSeconds: 1\n  pollMs: 50\n' +
        'decide:\n  quietHours:\n    startHour: 0\n    endHour: 0\n',
    );
    env = {
      ...process.env,
      HERALD_DATABASE_URL: `sqlite:${join(dir, 'herald.db')}`,
      HERALD_CONFIG: join(dir, 'herald.config.yaml'),
      HERALD_LOG_LEVEL: 'silent',
      ...testSender,
    };
  });
  afterEach(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Customers, each with one queued email, recorded before any dispatcher runs. */
  const queue = async (extraEnv: Record<string, string>) => {
    const services = await createServices(
      loadConfig({ ...env, ...extraEnv }, readFileSync(join(dir, 'herald.config.yaml'), 'utf8')),
      {
        logger: silentLogger,
      },
    );
    const t = services.clock.nowMs();
    await services.recorder.record(
      Array.from({ length: MESSAGES }, (_, i) =>
        aTrack({
          type: 'identify',
          name: null,
          userId: `u${i}`,
          traits: { email: `u${i}@example.com` },
        }),
      ),
      t,
    );
    for (let i = 0; i < MESSAGES; i += 1)
      await sendNow(
        services.store,
        services.guard,
        {
          customerId: toCustomerId(`u${i}`),
          channel: 'email',
          template: 'welcome-1',
          data: {},
          by: 'test',
          idempotencyKey: null,
        },
        () => services.ids.next(),
        t,
      );
    await services.close();
  };
  const startWorker = (extraEnv: Record<string, string>) => {
    child = spawn(process.execPath, ['bin/herald.js', 'worker'], {
      cwd: root,
      env: { ...env, ...extraEnv },
      stdio: 'ignore',
    });
    return child;
  };

  it(
    'SMTP: every message arrives, and only those in the crash window can arrive twice',
    async () => {
      const smtp = await startSmtpServer(5000, 8);
      await smtp.adapter.close();
      const smtpEnv = { HERALD_SMTP_URL: `smtp://127.0.0.1:${String(smtp.port)}` };
      try {
        await queue(smtpEnv);
        startWorker(smtpEnv);
        await waitFor('a third of the batch', () => smtp.messages.length >= MESSAGES / 3, 60_000);
        child?.kill('SIGKILL');
        const atKill = smtp.messages.length;
        expect(atKill).toBeLessThan(MESSAGES);
        startWorker(smtpEnv);
        const ids = () =>
          new Set(smtp.messages.map((m) => /^Message-ID: (<[^>]+>)/m.exec(m)?.[1] ?? m));
        await waitFor('every message', () => ids().size >= MESSAGES, 60_000);
        await new Promise((r) => setTimeout(r, 500));
        const duplicates = smtp.messages.length - ids().size;
        // SMTP takes no idempotency key: what the relay accepted and was not yet written back
        // can go twice — at most the pool's connections' worth (10) in one write.
        expect(ids().size).toBe(MESSAGES);
        expect(duplicates).toBeLessThanOrEqual(10);
        console.log(
          `SMTP crash test: ${String(atKill)} delivered at the kill, ${String(duplicates)} delivered twice`,
        );
      } finally {
        await smtp.stop();
      }
    },
    TIMEOUT_MS,
  );

  it(
    'capture (idempotent by message id): every message is kept exactly once',
    async () => {
      await queue({});
      startWorker({});
      const db = new BetterSqlite3(join(dir, 'herald.db'), { readonly: true });
      const captured = () =>
        (db.prepare('SELECT COUNT(*) AS n FROM captured').get() as { n: number }).n;
      try {
        await waitFor('some captured', () => captured() >= 50, 60_000);
        child?.kill('SIGKILL');
        startWorker({});
        await waitFor(
          'every message sent',
          () =>
            (
              db.prepare("SELECT COUNT(*) AS n FROM messages WHERE status = 'sent'").get() as {
                n: number;
              }
            ).n === MESSAGES,
          60_000,
        );
        expect(captured()).toBe(MESSAGES);
        // What the capture channel kept, as `herald messages` shows it (the worker stopped:
        // the embedded database is one process's at a time).
        const worker = child;
        if (worker !== null) {
          const exited = new Promise((resolve) => worker.once('exit', resolve));
          worker.kill('SIGTERM');
          await exited;
          child = null;
        }
        const list = await run(
          process.execPath,
          ['bin/herald.js', 'messages', 'list', '--status', 'sent', '--limit', '5'],
          { cwd: root, env },
        );
        expect(list.stdout.trim().split('\n')).toHaveLength(5);
        const id = list.stdout.split(/\s+/)[0] ?? '';
        const shown = JSON.parse(
          (
            await run(process.execPath, ['bin/herald.js', 'messages', 'show', id], {
              cwd: root,
              env,
            })
          ).stdout,
        ) as { provider: string; status: string };
        expect(shown).toMatchObject({ provider: 'capture', status: 'sent' });
      } finally {
        db.close();
      }
    },
    TIMEOUT_MS,
  );
});
