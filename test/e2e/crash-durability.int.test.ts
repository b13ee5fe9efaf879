import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { silentLogger } from '../../src/ports/logger.js';

const writeKey = 'crash-test-write-key';

describe('durability of acknowledged events', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every event answered with 200 when the process is killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
    dirs.push(dir);
    const file = join(dir, 'herald.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      env: {
        ...process.env,
        HERALD_DATABASE_URL: `sqlite:${file}`,
        HERALD_PORT: '0',
        HERALD_WRITE_KEYS: writeKey,
        HERALD_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => {
        resolve(signal);
      }),
    );
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; address?: string };
        if (entry.msg === 'herald listening' && entry.address !== undefined) resolve(entry.address);
      });
      child.on('exit', () => {
        reject(new Error('herald exited before listening'));
      });
    });

    const acknowledged: string[] = [];
    const send = async (n: number) => {
      const batch = Array.from({ length: 50 }, (_, i) => ({
        type: 'track',
        userId: `c${i % 7}`,
        event: 'Email Opened',
        messageId: `b${n}-e${i}`,
      }));
      const res = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
        },
        body: JSON.stringify({ batch }),
      });
      if (res.status === 200) acknowledged.push(...batch.map((e) => e.messageId));
    };
    // Sequential batches, then a burst in flight when the kill lands right after an answer.
    for (let n = 0; n < 10; n += 1) await send(n);
    const burst = Array.from({ length: 20 }, (_, n) => send(100 + n).catch(() => undefined));
    await Promise.race(burst);
    child.kill('SIGKILL');
    await Promise.all(burst);
    expect(await exited).toBe('SIGKILL');

    const db = new BetterSqlite3(file, { readonly: true });
    const stored = new Set(
      (db.prepare('SELECT message_id FROM events').all() as { message_id: string }[]).map(
        (r) => r.message_id,
      ),
    );
    const flushed = db
      .prepare("SELECT COALESCE(SUM(json_extract(state, '$.eventCount')), 0) AS n FROM profiles")
      .get() as { n: number };
    db.close();
    expect(flushed.n).toBeLessThan(stored.size);
    expect(acknowledged.length).toBeGreaterThanOrEqual(550);
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);

    // Profiles are written behind their events; opening the file again rebuilds the ones the
    // kill left behind, so they count exactly what is stored.
    const services = await createServices(
      loadConfig({ HERALD_DATABASE_URL: `sqlite:${file}` }, null),
      { logger: silentLogger },
    );
    let counted = 0;
    for (const id of await services.store.listCustomerIds(null, 100)) {
      counted += (await services.store.getProfile(id))?.state.eventCount ?? 0;
    }
    await services.close();
    expect(counted).toBe(stored.size);
  });
});
