import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.js';

const until = async (done: () => boolean, what: string) => {
  for (let i = 0; i < 500; i += 1) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('the background WAL checkpointer', () => {
  const dirs: string[] = [];
  const open: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const writer = () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-wal-'));
    dirs.push(dir);
    const file = join(dir, 'db.sqlite');
    const db = new BetterSqlite3(file);
    db.pragma('journal_mode = WAL');
    // The writer never checkpoints by itself: whatever reaches the file was copied by the thread.
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    open.push(db);
    return { db, file };
  };
  /** A checkpointer on `file` that asks for a restart past 500 frames, closed after the test. */
  const checkpointerOn = (file: string, intervalMs: number): WalCheckpointer => {
    const checkpointer = startWalCheckpointer({
      file,
      intervalMs,
      restartFrames: 500,
      onStopped: () => undefined,
    });
    open.push(checkpointer);
    return checkpointer;
  };
  const fill = (db: BetterSqlite3.Database, from: number, rows: number) => {
    const insert = db.prepare('INSERT INTO t (id, body) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = from; i < from + rows; i += 1) insert.run(i, 'x'.repeat(1000));
    })();
  };

  /**
   * Small transactions back to back, as a busy writer commits, asking after each until the
   * checkpointer asks for a restart; returns the rows written in all.
   */
  const writeUntilAsked = async (
    db: BetterSqlite3.Database,
    checkpointer: WalCheckpointer,
    from: number,
  ): Promise<number> => {
    let rows = from;
    for (let i = 0; i < 200_000; i += 1) {
      fill(db, rows, 2);
      rows += 2;
      if (checkpointer.restartDue()) return rows;
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    throw new Error('the checkpointer never asked for a restart');
  };
  const checkpoint = (db: BetterSqlite3.Database) =>
    db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
  /** The writer's own checkpoint at a restart, retried while the thread's pass holds it off. */
  const checkpointAll = async (db: BetterSqlite3.Database) => {
    let [row] = checkpoint(db);
    while (row !== undefined && (row.log === -1 || row.checkpointed < row.log)) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      [row] = checkpoint(db);
    }
  };

  it('copies committed pages into the database file while the writer goes on, and lets the log restart', async () => {
    const { db, file } = writer();
    fill(db, 0, 5000);
    expect(statSync(file).size).toBeLessThan(100_000);
    const errors: Error[] = [];
    const checkpointer: WalCheckpointer = startWalCheckpointer({
      file,
      intervalMs: 5,
      restartFrames: 1_000_000,
      onStopped: (error) => errors.push(error),
    });
    open.push(checkpointer);
    await until(
      () => checkpointer.stats.logFrames > 1000 && checkpointer.stats.behindFrames === 0,
      'a complete pass',
    );
    expect(statSync(file).size).toBeGreaterThan(5_000_000);
    // A later write starts the log again from its beginning (once no pass is copying at that
    // moment): the log no longer holds 5,000 rows.
    let next = 5000;
    // 5,000 rows are there; each write below adds one more, numbered 5001 upwards.
    await until(() => {
      fill(db, (next += 1), 1);
      return checkpointer.stats.logFrames < 20;
    }, 'the log to restart');
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: next });
    expect(errors).toEqual([]);
  });

  it('asks a writer that never pauses to let the log start over, once it is past the limit', async () => {
    const { db, file } = writer();
    const checkpointer = checkpointerOn(file, 1);
    const rows = await writeUntilAsked(db, checkpointer, 0);
    expect(checkpointer.stats.logFrames).toBeGreaterThanOrEqual(500);
    // The writer copies what the thread has not (retrying while the thread's own pass runs)…
    await checkpointAll(db);
    // … and its next transaction starts the log over from the beginning.
    fill(db, rows, 2);
    expect(checkpoint(db)[0]?.log).toBeLessThan(10);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: rows + 2 });
  });

  it('copies every committed frame when asked, so the next transaction starts the log over', async () => {
    const { db, file } = writer();
    // Passes far apart: only the one asked for runs in between.
    const checkpointer = checkpointerOn(file, 60_000);
    fill(db, 0, 2000);
    // All of it in the log, nothing copied yet.
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(2_000_000);
    expect(statSync(file).size).toBeLessThan(100_000);
    expect(await checkpointer.catchUp()).toBe(true);
    expect(checkpointer.stats.behindFrames).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(2_000_000);
    fill(db, 2000, 2);
    expect(checkpoint(db)[0]?.log).toBeLessThan(10);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 2002 });
  });

  it('never asks again on the length of a log that has already started over', async () => {
    const { db, file } = writer();
    // Passes far apart, so none runs between the writer's transaction and its question.
    const checkpointer = checkpointerOn(file, 50);
    let rows = await writeUntilAsked(db, checkpointer, 0);
    // Nor while the catch-up it asked for has not answered (transactions queued before it).
    fill(db, rows, 2);
    rows += 2;
    expect(checkpointer.restartDue()).toBe(false);
    expect(await checkpointer.catchUp()).toBe(true);
    // A pass before the writer's next transaction still sees the whole old log, copied.
    const passes = checkpointer.stats.passes;
    await until(() => checkpointer.stats.passes > passes, 'a pass before the restart');
    expect(checkpointer.stats.logFrames).toBeGreaterThanOrEqual(500);
    // The next transaction starts the log over: those figures are no reason to ask again.
    fill(db, rows, 2);
    rows += 2;
    expect(checkpointer.restartDue()).toBe(false);
    expect(checkpointer.restartDue()).toBe(false);
    // Nor are those of the passes after it, of a log far under the limit.
    const after = checkpointer.stats.passes;
    await until(() => checkpointer.stats.passes > after + 1, 'passes after the restart');
    expect(checkpointer.stats.logFrames).toBeLessThan(500);
    expect(checkpointer.restartDue()).toBe(false);
    // Once the new log passes the limit, it asks again.
    rows = await writeUntilAsked(db, checkpointer, rows);
    expect(checkpointer.stats.logFrames).toBeGreaterThanOrEqual(500);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: rows });
  });

  it('copies ahead of a restart without standing for it: it asks no second time before the catch-up', async () => {
    const { db, file } = writer();
    const checkpointer = checkpointerOn(file, 20);
    let rows = await writeUntilAsked(db, checkpointer, 0);
    // Copied ahead, into the database file, while the writer goes on.
    expect(await checkpointer.copyAhead()).toBe(true);
    expect(checkpointer.stats.behindFrames).toBe(0);
    // Had it counted as the catch-up, the first commit after it would have been taken for the
    // one that started the log over, and a log past the limit again would ask a second time
    // while the first restart is still on its way.
    const passes = checkpointer.stats.passes;
    for (
      let i = 0;
      checkpointer.stats.logFrames < 500 || checkpointer.stats.passes < passes + 2;
      i += 1
    ) {
      if (i === 100_000) throw new Error('the log never grew past the limit again');
      fill(db, rows, 2);
      rows += 2;
      expect(checkpointer.restartDue()).toBe(false);
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // The catch-up copies what was written since, and the next transaction starts over.
    expect(await checkpointer.catchUp()).toBe(true);
    fill(db, rows, 2);
    rows += 2;
    expect(checkpoint(db)[0]?.log).toBeLessThan(10);
    expect(checkpointer.restartDue()).toBe(false);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: rows });
  });

  it('says when it cannot work, so the writer takes checkpoints back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-wal-'));
    dirs.push(dir);
    const errors: Error[] = [];
    const checkpointer = startWalCheckpointer({
      file: join(dir, 'missing.sqlite'),
      intervalMs: 5,
      restartFrames: 100,
      onStopped: (error) => errors.push(error),
    });
    open.push(checkpointer);
    await until(() => errors.length > 0, 'the failure');
    expect(String(errors[0])).toMatch(
      /checkpoint thread stopped: .*(SQLITE_CANTOPEN|does not exist)/,
    );
    // Asked to catch up, it says it did not, so the writer checkpoints by itself.
    expect(await checkpointer.catchUp()).toBe(false);
  });
});
