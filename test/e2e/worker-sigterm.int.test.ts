import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runHerald } from '../support/run-cli.js';

const CUSTOMERS = 3000;
const BATCH = 100;

// A stop is graceful when it ends the round in progress, not the whole backlog: an orchestrator
// sends SIGTERM and, a few seconds later, SIGKILL — in the middle of a send.
describe('herald worker asked to stop in the middle of a campaign', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('stops after the round in progress and leaves the rest for the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-worker-stop-'));
    dirs.push(dir);
    const file = join(dir, 'herald.db');
    writeFileSync(
      join(dir, 'herald.config.yaml'),
      `decide:\n  quietHours:\n    startHour: 0\n    endHour: 0\n  worker:\n    batchSize: ${String(BATCH)}\n`,
    );
    const env = {
      HERALD_DATABASE_URL: `sqlite:${file}`,
      HERALD_CONFIG: join(dir, 'herald.config.yaml'),
      HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
      HERALD_PUBLIC_URL: 'https://herald.example.com',
    };
    const signedUp = new Date(Date.now() - 40 * 86_400_000).toISOString();
    writeFileSync(
      join(dir, 'customers.ndjson'),
      Array.from({ length: CUSTOMERS }, (_, i) =>
        JSON.stringify({
          type: 'identify',
          userId: `u${String(i)}`,
          messageId: `i-${String(i)}`,
          timestamp: signedUp,
          traits: { email: `u${String(i)}@example.com`, country: 'US' },
        }),
      ).join('\n'),
    );
    const cli = async (args: string[]) => {
      const outcome = await runHerald(args, { cwd: dir, env, timeoutMs: 60_000 });
      expect(outcome.code, outcome.stderr).toBe(0);
    };
    await cli(['import', 'events', join(dir, 'customers.ndjson')]);
    await cli(['campaigns', 'send', '--id', 'blast', '--template', 'welcome-1']);
    const db = new BetterSqlite3(file, { readonly: true });
    const decisions = () =>
      (db.prepare('SELECT COUNT(*) AS n FROM decisions').get() as { n: number }).n;
    try {
      const worker = spawn(
        process.execPath,
        [resolve(import.meta.dirname, '../../bin/herald.js'), 'worker'],
        { cwd: dir, env: { ...process.env, ...env, HERALD_LOG_LEVEL: 'silent' }, stdio: 'ignore' },
      );
      const exited = new Promise<number | null>((done) => worker.once('exit', done));
      for (let i = 0; i < 3000 && decisions() < 3 * BATCH; i += 1)
        await new Promise((done) => setTimeout(done, 10));
      const atStop = decisions();
      expect(atStop).toBeGreaterThanOrEqual(3 * BATCH);
      worker.kill('SIGTERM');
      expect(await exited).toBe(0);
      // The round in progress (and those run while this process got round to sending the
      // signal: a few on a loaded machine), not the 2,700 left.
      expect(decisions() - atStop).toBeLessThanOrEqual(10 * BATCH);
      // The rest is there for the next start.
      const rest = spawn(
        process.execPath,
        [resolve(import.meta.dirname, '../../bin/herald.js'), 'worker'],
        { cwd: dir, env: { ...process.env, ...env, HERALD_LOG_LEVEL: 'silent' }, stdio: 'ignore' },
      );
      const restExited = new Promise<number | null>((done) => rest.once('exit', done));
      for (let i = 0; i < 6000 && decisions() < CUSTOMERS; i += 1)
        await new Promise((done) => setTimeout(done, 10));
      rest.kill('SIGTERM');
      expect(await restExited).toBe(0);
      expect(decisions()).toBe(CUSTOMERS);
    } finally {
      db.close();
    }
  }, 120_000);
});
