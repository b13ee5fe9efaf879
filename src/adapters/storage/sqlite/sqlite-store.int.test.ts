import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Value } from '@sinclair/typebox/value';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toCustomerId, toMessageId, toSourceId } from '../../../core/ids.js';
import type { HeraldEvent } from '../../../core/event.js';
import {
  catchUpProfiles,
  profilePolicySchema,
  recordEvents,
  type ProfilePolicy,
} from '../../../pipeline/profile/index.js';
import type { Store } from '../../../ports/store.js';
import { createSqliteStore, type SqliteOptions } from './create-sqlite-store.js';
import { scanHistories } from './scan-histories.js';

const policy = Value.Default(profilePolicySchema, {}) as ProfilePolicy;
const t0 = Date.UTC(2026, 0, 1);
const event = (messageId: string, userId = 'u1'): HeraldEvent => ({
  messageId: toMessageId(messageId),
  sourceId: toSourceId('web'),
  type: 'track',
  userId,
  anonymousId: null,
  previousId: null,
  groupId: null,
  name: 'Email Opened',
  properties: {},
  traits: {},
  context: {},
  timestampMs: t0,
  receivedAtMs: t0,
});

describe('embedded SQLite store', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-sqlite-'));
    file = join(dir, 'h.db');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (
    options: Pick<
      SqliteOptions,
      | 'dedupWindow'
      | 'profileFlushMs'
      | 'profileCacheSize'
      | 'pendingBytesLimit'
      | 'bulk'
      | 'purgeRetryMs'
      | 'onPurgeWaiting'
    > = {},
  ) => createSqliteStore({ file, synchronous: 'normal', ...options });

  it('says in one line, as unavailable, that a path cannot hold the database', async () => {
    writeFileSync(join(dir, 'a-file'), '');
    const where = join(dir, 'a-file', 'h.db');
    await expect(createSqliteStore({ file: where, synchronous: 'normal' })).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(new RegExp(`^cannot open the SQLite database ${where}: `)),
    });
  });

  it('still recognises a retried message after a restart', async () => {
    const first = await open();
    await recordEvents(first, [event('m1'), event('m2')], policy, t0);
    await first.close();
    const again = await open();
    expect((await recordEvents(again, [event('m2'), event('m3')], policy, t0)).isNew).toEqual([
      false,
      true,
    ]);
    await again.close();
  });

  it('stores a message again once it has left the de-duplication window, as documented', async () => {
    const store = await open({ dedupWindow: 1000 });
    await recordEvents(store, [event('old')], policy, t0);
    await recordEvents(
      store,
      // Two generations of 1,000 later, "old" is out of the window.
      Array.from({ length: 2000 }, (_, i) => event(`n${i}`, `c${i % 100}`)),
      policy,
      t0,
    );
    expect((await recordEvents(store, [event('old')], policy, t0)).isNew).toEqual([true]);
    // The latest 1,000 are always in it.
    expect((await recordEvents(store, [event('n1000', 'c0')], policy, t0)).isNew).toEqual([false]);
    await store.close();
  });

  it('leaves no byte of an erased customer in its files', async () => {
    let store = await open();
    const identify = (messageId: string, userId: string, email: string): HeraldEvent => ({
      ...event(messageId, userId),
      type: 'identify',
      name: null,
      traits: { email, firstName: 'Zelda' },
    });
    // Others share the pages; the customer's profile is rewritten a few times before it goes.
    await recordEvents(
      store,
      Array.from({ length: 20 }, (_, i) => identify(`o${i}`, `other-${i}`, `o${i}@example.com`)),
      policy,
      t0,
    );
    for (let i = 0; i < 5; i += 1) {
      await recordEvents(
        store,
        [identify(`z${i}`, 'u-zelda', 'zelda.quarksmith@example.org')],
        policy,
        t0,
      );
      // Closed to write the profile out each time.
      await store.close();
      store = await open();
    }
    await store.transaction((tx) => tx.eraseCustomer(toCustomerId('u-zelda')));
    await store.purgeErased();
    const files = () =>
      readdirSync(dir)
        .map((name) => readFileSync(join(dir, name)).toString('latin1'))
        .join('');
    expect(files()).toContain('o7@example.com');
    expect(files()).not.toContain('zelda.quarksmith');
    expect(files()).not.toContain('u-zelda');
    await store.close();
    expect(files()).not.toContain('zelda.quarksmith');
  });

  /**
   * Erases a customer (and asks for the log to be emptied) while another connection reading the
   * file (a backup tool, the sqlite3 shell) holds the log; returns that reader, still reading.
   */
  const eraseWhileRead = async (store: Store) => {
    await recordEvents(store, [event('m1', 'u-gone'), event('m2', 'u-kept')], policy, t0);
    const reader = new BetterSqlite3(file, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM events').get();
    await store.transaction((tx) => tx.eraseCustomer(toCustomerId('u-gone')));
    await store.purgeErased();
    return reader;
  };

  it('empties the log after an erasure once a reader that held it lets go, not waiting for it', async () => {
    const store = await open();
    const reader = await eraseWhileRead(store);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
    reader.exec('COMMIT');
    reader.close();
    // Tried again a second later, with nobody in the log any more.
    while (statSync(`${file}-wal`).size > 0) await new Promise((r) => setTimeout(r, 100));
    await store.close();
  });

  it('keeps trying to empty the log after an erasure for as long as a reader holds it', async () => {
    let waiting = 0;
    const store = await open({
      purgeRetryMs: 5,
      onPurgeWaiting: () => {
        waiting += 1;
      },
    });
    const reader = await eraseWhileRead(store);
    // Held through the first ten attempts: it says so, and goes on trying.
    while (waiting === 0) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
    reader.exec('COMMIT');
    reader.close();
    while (statSync(`${file}-wal`).size > 0) await new Promise((r) => setTimeout(r, 20));
    expect(waiting).toBe(1);
    await store.close();
  });

  it('serves a profile before it is flushed, and keeps it through a clean close', async () => {
    const store = await open({ profileFlushMs: 600_000 });
    await recordEvents(store, [event('m1')], policy, t0);
    expect((await store.getProfile(toCustomerId('u1')))?.state.eventCount).toBe(1);
    expect(await store.resolveUserId('u1')).toBe('u1');
    await store.close();
    const reopened = await open();
    expect(await reopened.profilesBehind()).toEqual([]);
    expect((await reopened.getProfile(toCustomerId('u1')))?.state.eventCount).toBe(1);
    await reopened.close();
  });

  it('serves and writes a changed profile that left the parsed cache before its flush', async () => {
    const store = await open({ profileFlushMs: 600_000, profileCacheSize: 2 });
    // Five customers through a cache of two: most changes wait as text, not as parsed rows.
    await recordEvents(
      store,
      ['a', 'b', 'c', 'd', 'e'].map((u) => event(`m-${u}`, u)),
      policy,
      t0,
    );
    expect((await store.getProfile(toCustomerId('a')))?.state.eventCount).toBe(1);
    // A customer pending as text takes a second event on top of the first.
    await recordEvents(store, [event('m-a2', 'a'), event('m-b2', 'b')], policy, t0 + 1000);
    expect((await store.getProfile(toCustomerId('a')))?.state.eventCount).toBe(2);
    await store.close();
    const onDisk = new BetterSqlite3(file, { readonly: true });
    const counts = onDisk
      .prepare('SELECT customer_id, state FROM profiles ORDER BY customer_id')
      .all()
      .map((r) => {
        const row = r as { customer_id: string; state: string };
        return [row.customer_id, (JSON.parse(row.state) as { eventCount: number }).eventCount];
      });
    onDisk.close();
    expect(counts).toEqual([
      ['a', 2],
      ['b', 2],
      ['c', 1],
      ['d', 1],
      ['e', 1],
    ]);
  });

  it('deletes a merged-away profile that was waiting packed, and keeps it deleted', async () => {
    const store = await open({ profileFlushMs: 600_000, profileCacheSize: 1 });
    await recordEvents(store, [{ ...event('a1'), userId: null, anonymousId: 'dev' }], policy, t0);
    // Two more customers push anon:dev out of the parsed cache: its change waits packed.
    await recordEvents(store, [event('x1', 'x'), event('y1', 'y')], policy, t0);
    await recordEvents(
      store,
      [{ ...event('i1', 'ada'), type: 'identify', anonymousId: 'dev' }],
      policy,
      t0,
    );
    expect(await store.getProfile(toCustomerId('anon:dev'))).toBeUndefined();
    await store.close();
    const reopened = await open();
    expect(await reopened.listCustomerIds(null, 10)).toEqual(['ada', 'x', 'y']);
    expect((await reopened.getProfile(toCustomerId('ada')))?.state.eventCount).toBe(2);
    await reopened.close();
  });

  it('in bulk, writes profiles only at the pending limit and at close', async () => {
    const store = await open({ bulk: true, profileCacheSize: 0, profileFlushMs: 10 });
    const rowsOnDisk = () => {
      const db = new BetterSqlite3(file, { readonly: true });
      const { n } = db.prepare('SELECT COUNT(*) AS n FROM profiles').get() as { n: number };
      db.close();
      return n;
    };
    // 1,999 customers: under the limit of 2,000 (the floor with no cache), so nothing is written,
    // however long it waits (no flush interval in bulk).
    const first = Array.from({ length: 1999 }, (_, i) => event(`p${i}`, `c${i}`));
    await recordEvents(store, first, policy, t0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(rowsOnDisk()).toBe(0);
    expect((await store.getProfile(toCustomerId('c7')))?.state.eventCount).toBe(1);
    await recordEvents(store, [event('p1999', 'c1999'), event('p2000', 'c2000')], policy, t0);
    expect(rowsOnDisk()).toBe(2001);
    await recordEvents(store, [event('p2001', 'c7')], policy, t0);
    expect(rowsOnDisk()).toBe(2001);
    await store.close();
    const reopened = await open();
    expect(await reopened.profilesBehind()).toEqual([]);
    expect((await reopened.getProfile(toCustomerId('c7')))?.state.eventCount).toBe(2);
    await reopened.close();
  });

  it('flushes once the profiles waiting packed hold the byte limit, however few they are', async () => {
    // No parsed cache: every changed profile waits packed from its first commit.
    const store = await open({ bulk: true, profileCacheSize: 0, pendingBytesLimit: 8 * 1024 });
    const rowsOnDisk = () =>
      inspect((db) => (db.prepare('SELECT COUNT(*) AS n FROM profiles').get() as { n: number }).n);
    // A few profiles of about 500 bytes each: under 8 KiB and far under the count limit (2,000).
    await recordEvents(
      store,
      Array.from({ length: 4 }, (_, i) => event(`a${i}`, `c${i}`)),
      policy,
      t0,
    );
    expect(rowsOnDisk()).toBe(0);
    // Thirty more pass 8 KiB: everything pending is written in that batch's flush.
    await recordEvents(
      store,
      Array.from({ length: 30 }, (_, i) => event(`b${i}`, `c${i + 4}`)),
      policy,
      t0,
    );
    expect(rowsOnDisk()).toBe(34);
    await store.close();
  });

  /** Reads the file on a connection of its own, as another process would. */
  const inspect = <T>(read: (db: BetterSqlite3.Database) => T): T => {
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  };
  /** The columns of the events-by-customer index as the file has it; none when it is absent. */
  const customerIndex = () =>
    inspect(
      (db) =>
        db
          .prepare("SELECT name FROM pragma_index_info('events_customer_time') ORDER BY seqno")
          .all() as { name: string }[],
    ).map((c) => c.name);
  const indexed = ['customer_id', 'timestamp_ms'];
  /** A customer's events, newest first, by message id. */
  const eventsOf = async (store: Store, id: string) =>
    (await store.listEvents(toCustomerId(id), 10)).map((e) => e.messageId);

  it('in bulk into an empty database, builds the events-by-customer index once, at close', async () => {
    const store = await open({ bulk: true });
    expect(customerIndex()).toEqual([]);
    await recordEvents(store, [event('m1'), event('m2', 'u2'), event('m3')], policy, t0);
    expect(customerIndex()).toEqual([]);
    await store.close();
    expect(customerIndex()).toEqual(indexed);
    const reopened = await open();
    expect(await eventsOf(reopened, 'u1')).toEqual(['m3', 'm1']);
    await reopened.close();
  });

  it("in bulk, builds the deferred index before a merge moves a customer's events", async () => {
    const store = await open({ bulk: true });
    const anonymous = { ...event('a1'), userId: null, anonymousId: 'dev' };
    await recordEvents(store, [anonymous, event('x1', 'x')], policy, t0);
    expect(customerIndex()).toEqual([]);
    await recordEvents(
      store,
      [{ ...event('i1', 'ada'), type: 'identify', anonymousId: 'dev' }],
      policy,
      t0,
    );
    expect(customerIndex()).toEqual(indexed);
    await store.close();
    const reopened = await open();
    expect(await reopened.listCustomerIds(null, 10)).toEqual(['ada', 'x']);
    expect(await eventsOf(reopened, 'ada')).toEqual(['i1', 'a1']);
    await reopened.close();
  });

  it('in bulk, a merge that rolls back leaves the index to be built at close', async () => {
    const store = await open({ bulk: true });
    await recordEvents(store, [event('m1', 'a'), event('m2', 'b')], policy, t0);
    await expect(
      store.transaction(async (tx) => {
        await tx.mergeCustomer(toCustomerId('a'), toCustomerId('b'));
        throw new Error('the batch failed');
      }),
    ).rejects.toThrow('the batch failed');
    expect(customerIndex()).toEqual([]);
    await store.close();
    expect(customerIndex()).toEqual(indexed);
  });

  it('builds the index on open after an interrupted bulk load, and keeps it in bulk over events', async () => {
    const store = await open({ bulk: true });
    await recordEvents(store, [event('m1')], policy, t0);
    rmSync(`${file}.writer-lock`); // the kill
    expect(customerIndex()).toEqual([]);
    const afterCrash = await open();
    expect(customerIndex()).toEqual(indexed);
    await afterCrash.close();
    // The table holds events now: a bulk writer keeps the index as it goes.
    const bulkAgain = await open({ bulk: true });
    expect(customerIndex()).toEqual(indexed);
    await recordEvents(bulkAgain, [event('m2')], policy, t0);
    expect(customerIndex()).toEqual(indexed);
    await bulkAgain.close();
  });

  it('never builds the index unless a bulk load of its own left it out', async () => {
    await (await open()).close();
    // As a later migration replacing the index would leave it.
    const db = new BetterSqlite3(file);
    db.exec('DROP INDEX events_customer_time');
    db.close();
    await (await open()).close();
    expect(customerIndex()).toEqual([]);
    // Nor does a bulk load into the empty table, at open or at close.
    const store = await open({ bulk: true });
    await recordEvents(store, [event('m1')], policy, t0);
    await store.close();
    expect(customerIndex()).toEqual([]);
  });

  const pageSize = () => inspect((db) => db.pragma('page_size', { simple: true }) as number);

  it('makes a new database with 8 KiB pages', async () => {
    const store = await open();
    await recordEvents(store, [event('m1')], policy, t0);
    await store.close();
    expect(pageSize()).toBe(8192);
  });

  it('keeps the page size of a database made before, and its data', async () => {
    const made = new BetterSqlite3(file);
    made.pragma('page_size = 4096');
    made.pragma('journal_mode = WAL');
    made.exec('CREATE TABLE kept (v TEXT)');
    made.exec("INSERT INTO kept VALUES ('there')");
    made.close();
    const store = await open();
    await recordEvents(store, [event('m1')], policy, t0);
    await store.close();
    expect(pageSize()).toBe(4096);
    expect(inspect((db) => db.prepare('SELECT v FROM kept').all())).toEqual([{ v: 'there' }]);
    expect(inspect((db) => db.prepare('SELECT COUNT(*) AS n FROM events').get())).toEqual({ n: 1 });
  });

  it('refuses a second process on the same file', async () => {
    const store = await open();
    await expect(open()).rejects.toThrow(/in use by another Herald process/);
    await store.close();
  });

  it('refuses a second process that reaches the same file through a symbolic link', async () => {
    const store = await open();
    const linkedDir = join(dir, 'linked');
    symlinkSync(dir, linkedDir);
    symlinkSync(file, join(dir, 'link.db'));
    try {
      for (const path of [join(linkedDir, 'h.db'), join(dir, 'link.db')])
        await expect(createSqliteStore({ file: path, synchronous: 'normal' })).rejects.toThrow(
          /in use by another Herald process/,
        );
    } finally {
      await store.close();
    }
  });

  it('rebuilds the profiles a crash left behind their events', async () => {
    const store = await open({ profileFlushMs: 600_000 });
    await recordEvents(store, [event('m1'), event('m2', 'u2')], policy, t0);
    await store.counts(); // flushes: u1 and u2 are on disk with one event each
    await recordEvents(store, [event('m3'), event('m4')], policy, t0);
    // Simulate the kill: drop the lock as a dead process would leave it, without closing.
    rmSync(`${file}.writer-lock`);
    const afterCrash = await open();
    expect(await afterCrash.profilesBehind()).toEqual(['u1']);
    expect(await catchUpProfiles(afterCrash, policy, t0)).toBe(1);
    expect(await afterCrash.profilesBehind()).toEqual([]);
    expect((await afterCrash.getProfile(toCustomerId('u1')))?.state.eventCount).toBe(3);
    expect((await afterCrash.getProfile(toCustomerId('u2')))?.state.eventCount).toBe(1);
    await afterCrash.close();
  });

  it('keeps a merge through a crash: the merged-away profile does not come back', async () => {
    const store = await open({ profileFlushMs: 600_000 });
    const anonymous = { ...event('a1'), userId: null, anonymousId: 'dev' };
    await recordEvents(store, [anonymous], policy, t0);
    await store.counts(); // flushes anon:dev to disk
    await recordEvents(
      store,
      [{ ...event('i1', 'ada'), type: 'identify', anonymousId: 'dev' }],
      policy,
      t0,
    );
    rmSync(`${file}.writer-lock`); // the kill
    const afterCrash = await open();
    await catchUpProfiles(afterCrash, policy, t0);
    expect(await afterCrash.listCustomerIds(null, 10)).toEqual(['ada']);
    expect((await afterCrash.getProfile(toCustomerId('ada')))?.state.eventCount).toBe(2);
    await afterCrash.close();
  });

  it('marks the orders profiles count cancelled when migration 0017 runs on an older database', async () => {
    const store = await open();
    const track = (messageId: string, userId: string, name: string, orderId: string) => ({
      ...event(messageId, userId),
      name,
      properties: { order_id: orderId, total: 20 },
    });
    // Recorded without the track stage, as before 0017: the profiles know, the table does not.
    await recordEvents(
      store,
      [
        track('m1', 'ann', 'Order Completed', 'o1'),
        track('m2', 'ann', 'Order Completed', 'o2'),
        track('m3', 'ann', 'Order Cancelled', 'o1'),
        track('m4', 'bob', 'Order Cancelled', 'o2'), // not his
        track('m5', 'cy', 'Order Cancelled', 'o3'), // before the order
        track('m6', 'cy', 'Order Completed', 'o3'),
      ],
      policy,
      t0,
    );
    await store.close();
    const flags = () => {
      const db = new BetterSqlite3(file);
      try {
        return db.prepare('SELECT order_id, cancelled FROM orders ORDER BY order_id').all();
      } finally {
        db.close();
      }
    };
    expect(flags()).toEqual([
      { order_id: 'o1', cancelled: 0 },
      { order_id: 'o2', cancelled: 0 },
      { order_id: 'o3', cancelled: 0 },
    ]);
    const db = new BetterSqlite3(file);
    // With those after it, which run again (the migrator takes none out of order).
    db.prepare("DELETE FROM herald_migrations WHERE name >= '0017-orders-cancelled'").run();
    db.close();
    await (await open()).close();
    expect(flags()).toEqual([
      { order_id: 'o1', cancelled: 1 },
      { order_id: 'o2', cancelled: 0 },
      { order_id: 'o3', cancelled: 1 },
    ]);
  });

  describe('scanning every history at once', () => {
    /** Events of three customers, out of id and time order, and a merge that empties one. */
    const stored = async (store: Store) => {
      const at = (e: HeraldEvent, minutes: number) => ({
        ...e,
        timestampMs: t0 + minutes * 60_000,
      });
      await recordEvents(
        store,
        [at(event('c1', 'cy'), 5), at(event('c2', 'ab'), 9), at(event('c3', 'cy'), 1)],
        policy,
        t0,
      );
      await recordEvents(store, [at(event('c4', 'ab'), 2), at(event('c5', 'mz'), 3)], policy, t0);
    };
    const everyone = new Set(['ab', 'cy', 'mz', 'zz'].map(toCustomerId));
    const all = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
      const list: T[] = [];
      for await (const item of items) list.push(item);
      return list;
    };
    const scanned = async (store: Store, afterSeq: number) => {
      const scan = await store.scanHistories?.(afterSeq, everyone);
      return scan === null || scan === undefined
        ? null
        : (await all(scan)).map((h) => ({ id: h.customerId, seqs: h.events.map((e) => e.seq) }));
    };

    it('reads each customer asked for in id order, their events as loadEventsOf gives them', async () => {
      const store = await open();
      await stored(store);
      const byIndex = await store.transaction((tx) =>
        tx.loadEventsOf(['ab', 'cy'].map(toCustomerId)),
      );
      const scan = await store.scanHistories?.(0, new Set(['ab', 'cy'].map(toCustomerId)));
      expect(scan).not.toBeNull();
      const histories = scan === null || scan === undefined ? [] : await all(scan);
      expect(histories.map((h) => h.customerId)).toEqual(['ab', 'cy']);
      for (const h of histories) expect(h.events).toEqual(byIndex.get(h.customerId));
      expect(histories.map((h) => h.events.map((e) => e.messageId))).toEqual([
        ['c4', 'c2'],
        ['c3', 'c1'],
      ]);
      await store.close();
    });

    it('declines when the events after the mark are under half the table, or in memory', async () => {
      const store = await open();
      await stored(store);
      expect(await scanned(store, 2)).toHaveLength(3); // 3 of 5 events after seq 2
      expect(await scanned(store, 3)).toBeNull(); // 2 of 5
      expect(await scanned(store, 5)).toBeNull(); // none
      await store.close();
      const inMemory = await createSqliteStore({ file: ':memory:', synchronous: 'normal' });
      await stored(inMemory);
      expect(await scanned(inMemory, 0)).toBeNull();
      await inMemory.close();
    });

    it('hands over many customers in chunks, ahead of the reader, as loadEventsOf gives them', async () => {
      const store = await open();
      // 12,000 events of 1,200 customers: several of the scan thread's chunks (about 500 rows each).
      const ids = Array.from({ length: 1200 }, (_, i) => `k${String(i).padStart(4, '0')}`);
      for (let round = 0; round < 10; round += 1)
        await recordEvents(
          store,
          ids.map((id, i) => ({
            ...event(`${id}-${round}`, id),
            timestampMs: t0 + ((round * 7 + i) % 10) * 60_000,
          })),
          policy,
          t0,
        );
      const wanted = new Set(ids.filter((_, i) => i % 3 !== 1).map(toCustomerId));
      const scan = await store.scanHistories?.(0, wanted);
      if (scan === null || scan === undefined) throw new Error('no scan');
      const histories = await all(scan);
      expect(histories.map((h) => h.customerId)).toEqual([...wanted].sort());
      const byIndex = await store.transaction((tx) => tx.loadEventsOf([...wanted]));
      for (const h of histories) expect(h.events).toEqual(byIndex.get(h.customerId));
      expect(histories.reduce((n, h) => n + h.events.length, 0)).toBe(wanted.size * 10);
      await store.close();
    });

    it('stops its thread when the reader stops early, and fails where the sort cannot run', async () => {
      const store = await open();
      await stored(store);
      const scan = await store.scanHistories?.(0, everyone);
      if (scan === null || scan === undefined) throw new Error('no scan');
      for await (const history of scan) {
        expect(history.customerId).toBe('ab');
        break;
      }
      // The store goes on (the thread held no lock), and closes.
      await recordEvents(store, [event('c6', 'cy')], policy, t0);
      await store.close();
      const notHerald = join(dir, 'other.db');
      new BetterSqlite3(notHerald).exec('CREATE TABLE t (x)').close();
      await expect(all(scanHistories(notHerald, everyone))).rejects.toThrow(
        /^scanning the events failed: no such table: events/,
      );
    });

    it('sees the table as it was at its first row, whatever is written meanwhile', async () => {
      const store = await open();
      await stored(store);
      const scan = await store.scanHistories?.(0, everyone);
      if (scan === null || scan === undefined) throw new Error('no scan');
      const rows = scan[Symbol.asyncIterator]();
      expect((await rows.next()).value?.customerId).toBe('ab');
      await recordEvents(store, [event('c6', 'cy'), event('c7', 'zz')], policy, t0);
      const rest = await all({ [Symbol.asyncIterator]: () => rows });
      expect(rest.map((h) => [h.customerId, h.events.length])).toEqual([
        ['cy', 2],
        ['mz', 1],
      ]);
      await store.close();
    });
  });
});
