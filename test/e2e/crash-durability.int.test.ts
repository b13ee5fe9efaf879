import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import type { CustomerId } from '../../src/core/ids.js';
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
    const child = spawn(process.execPath, ['bin/herald.js', 'serve'], {
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

  it('settles an import killed part-way at the next start, with the triggers its events owe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-crash-import-'));
    dirs.push(dir);
    const file = join(dir, 'herald.db');
    const events = join(dir, 'events.ndjson');
    // Recent events, so that what they trigger is owed: carts, and an order now and then.
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i += 1)
      lines.push(
        JSON.stringify({
          type: 'track',
          userId: `k${i % 3000}`,
          event: i % 10 === 9 ? 'Order Completed' : 'Product Added',
          properties:
            i % 10 === 9
              ? { order_id: `ko${i}`, total: 20 }
              : { product_id: `p${i % 40}`, price: 5 },
          messageId: `k-${i}`,
          timestamp: new Date(now - 20 * 60_000 + i).toISOString(),
        }),
      );
    writeFileSync(events, `${lines.join('\n')}\n`);
    const child = spawn(
      process.execPath,
      ['bin/herald.js', 'import', 'events', events, '--batch-size', '200'],
      {
        env: { ...process.env, HERALD_DATABASE_URL: `sqlite:${file}`, HERALD_LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => {
        resolve(signal);
      }),
    );
    // Killed once a few batches are stored: their profiles are left behind until the end.
    const storedSoFar = () => {
      try {
        const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
        try {
          return (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
        } finally {
          db.close();
        }
      } catch {
        return 0; // not made yet
      }
    };
    while (storedSoFar() < 2000 && child.exitCode === null)
      await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const db = new BetterSqlite3(file, { readonly: true });
    const orders = db
      .prepare(
        "SELECT customer_id, message_id FROM events WHERE name = 'Order Completed' ORDER BY seq",
      )
      .all() as { customer_id: string; message_id: string }[];
    const storedCount = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    const unsettled = db
      .prepare("SELECT value FROM settings WHERE key = 'profiles.unsettled_load'")
      .get() as { value: string } | undefined;
    db.close();
    // Part of the file, not settled.
    expect(storedCount).toBeLessThan(lines.length);
    expect(unsettled?.value).toMatch(/afterSeq/);
    expect(orders.length).toBeGreaterThan(0);

    const services = await createServices(
      loadConfig({ HERALD_DATABASE_URL: `sqlite:${file}` }, null),
      { logger: silentLogger },
    );
    try {
      expect(await services.store.profilesBehind()).toEqual([]);
      const missing: string[] = [];
      for (const { customer_id: id, message_id: messageId } of orders) {
        const work = await services.store.listWork(id as CustomerId, 1000);
        if (!work.some((w) => w.key === `${id}|event|import-events|${messageId}`))
          missing.push(messageId);
      }
      expect(missing).toEqual([]);
      let counted = 0;
      for (const id of await services.store.listCustomerIds(null, 10_000))
        counted += (await services.store.getProfile(id))?.state.eventCount ?? 0;
      expect(counted).toBe(storedCount);
    } finally {
      await services.close();
    }
  }, 60_000);
});
