import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { importFile } from '../../src/cli/commands/import-file.js';
import type { CustomerId } from '../../src/core/ids.js';
import { deriveComputed } from '../../src/pipeline/profile/derive-computed.js';
import { silentLogger } from '../../src/ports/logger.js';

const sink = { write: () => true } as unknown as NodeJS.WritableStream;

/** What `herald import` makes of a row: its time, its customer, its line. */
describe('herald import, row by row', () => {
  let dir: string;
  let services: Services;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-import-rows-'));
    services = await createServices(
      loadConfig({ HERALD_DATABASE_URL: `sqlite:${join(dir, 'h.db')}` }, null),
      { logger: silentLogger, bulk: true },
    );
  });
  afterEach(async () => {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const load = (kind: string, path: string, map: string[] = []) =>
    importFile(services, kind, path, { map, batchSize: '1000' }, sink);
  const profile = async (id: string) => (await services.store.getProfile(id as CustomerId))?.state;

  describe('a customers row, timed by its created_at', () => {
    beforeEach(async () => {
      const calls = [
        { userId: 'c1', traits: { email: 'old@x.io', plan: 'free' } },
        { userId: 'c2', traits: { email: 'same@x.io' } },
      ].map((c) => JSON.stringify({ type: 'identify', ...c, timestamp: '2025-06-01T10:00:00Z' }));
      expect(await load('events', file('app.ndjson', calls.join('\n')))).toMatchObject({
        stored: 2,
      });
    });

    it('says which rows a later identify outranks, instead of leaving them silently', async () => {
      const csv = file(
        'customers.csv',
        'customer_id,email,plan,created_at\nc1,new@x.io,pro,2020-01-15\nc2,same@x.io,pro,2020-01-15\nc3,c3@x.io,pro,2020-01-15\n',
      );
      const summary = await load('customers', csv);
      expect(summary).toMatchObject({ accepted: 3, stored: 3, outranked: 1 });
      // c2's later identify set its email as the row has it: nothing of the row is lost.
      expect(summary.outrankedRows).toEqual([
        { userId: 'c1', timestamp: '2020-01-15T00:00:00.000Z', traits: ['email', 'plan'] },
      ]);
      expect((await profile('c1'))?.traits).toMatchObject({ email: 'old@x.io', plan: 'free' });
      expect((await profile('c2'))?.traits).toMatchObject({ email: 'same@x.io', plan: 'pro' });
    });

    it('leaves a customer known only from the file as old as their signup, not active today', async () => {
      const csv = file('customers.csv', 'customer_id,email,created_at\nc3,c3@x.io,2020-01-15\n');
      expect(await load('customers', csv)).toMatchObject({ stored: 1, outranked: 0 });
      const state = await profile('c3');
      const signup = Date.parse('2020-01-15T00:00:00Z');
      expect(state).toMatchObject({
        signedUpAtMs: signup,
        firstSeenAtMs: signup,
        lastSeenAtMs: signup,
        lastActiveAtMs: null,
      });
      if (state === undefined) throw new Error('no profile for c3');
      const computed = deriveComputed(state, services.clock.nowMs(), services.config.profilePolicy);
      expect(computed.lifecycleStage).toBe('churned');
      expect(computed.engagementScore).toBe(0);
    });

    it('times a row by the column --map timestamp= names: a newer export wins', async () => {
      const csv = file(
        'customers.csv',
        'customer_id,email,plan,created_at,updated_at\nc1,new@x.io,pro,2020-01-15,2025-07-01\n',
      );
      const summary = await load('customers', csv, ['timestamp=updated_at']);
      expect(summary).toMatchObject({ stored: 1, outranked: 0, outrankedRows: [] });
      const state = await profile('c1');
      expect(state?.traits).toMatchObject({ email: 'new@x.io', plan: 'pro' });
      expect(state?.signedUpAtMs).toBe(Date.parse('2020-01-15T00:00:00Z'));
    });
  });

  it('rejects an NDJSON customer without the time --map timestamp= names, not timing it now', async () => {
    const lines = [
      { customer_id: 'n1', email: 'n1@x.io', updated_at: '2025-07-01T00:00:00Z' },
      { customer_id: 'n2', email: 'n2@x.io' },
    ].map((l) => JSON.stringify(l));
    const path = file('customers.ndjson', lines.join('\n'));
    const summary = await load('customers', path, ['timestamp=updated_at']);
    expect(summary).toMatchObject({ accepted: 1, rejected: 1 });
    expect(summary.errors).toEqual([
      {
        line: 2,
        problems: [
          {
            path: 'line 2/timestamp',
            message: 'no updated_at cell in this row (from --map timestamp=updated_at)',
          },
        ],
      },
    ]);
    expect((await profile('n1'))?.lastSeenAtMs).toBe(Date.parse('2025-07-01T00:00:00Z'));
    expect(await profile('n2')).toBeUndefined();
  });

  it('does not file an order under a customer named after its order id', async () => {
    const csv = file(
      'orders.csv',
      'id,email,total,date\n1001,ann@x.io,10.50,2025-06-01\n1002,bob@x.io,20.00,2025-06-02\n',
    );
    const refused = await load('orders', csv);
    expect(refused).toMatchObject({ accepted: 0, rejected: 2 });
    expect(refused.errors[0]).toEqual({
      line: 2,
      problems: [
        { path: 'line 2/userId', message: 'no user id column (map one with --map userId=COLUMN)' },
      ],
    });
    expect(await profile('1001')).toBeUndefined();
    expect(await load('orders', csv, ['userId=email'])).toMatchObject({ stored: 2 });
    expect((await profile('ann@x.io'))?.orders).toMatchObject({ count: 1, revenueCents: 1050 });
    expect(await profile('1001')).toBeUndefined();
  });

  it('counts every purchase of identical rows, and stores nothing again when imported again', async () => {
    // As in CDNOW: one customer buying the same amount twice on a day, then another amount.
    const csv = file(
      'purchases.csv',
      'userId,timestamp,event,total\n00002,19970112,Order Completed,12.00\n' +
        '00002,19970112,Order Completed,12.00\n00002,19970112,Order Completed,77.00\n',
    );
    expect(await load('events', csv)).toMatchObject({ accepted: 3, stored: 3, duplicates: 0 });
    expect((await profile('00002'))?.orders).toMatchObject({ count: 3, revenueCents: 10100 });
    expect(await load('events', csv)).toMatchObject({ accepted: 3, stored: 0, duplicates: 3 });
    expect((await profile('00002'))?.orders).toMatchObject({ count: 3, revenueCents: 10100 });
  });

  it('stores an order id another customer also names as their event, and a long one hashed', async () => {
    const long = 'x'.repeat(250);
    const csv = file(
      'orders.csv',
      `customer_id,order_id,total,date\nu2,o3,5,2026-01-05\nu3,o3,7,2026-01-06\nu4,${long},9,2026-01-07\n`,
    );
    expect(await load('orders', csv)).toMatchObject({ accepted: 3, stored: 3, rejected: 0 });
    // u3's event is kept (seen that day), the order stays u2's: the first to name it.
    expect((await profile('u3'))?.lastSeenAtMs).toBe(Date.parse('2026-01-06T00:00:00Z'));
    expect((await profile('u2'))?.orders).toMatchObject({ count: 1, revenueCents: 500 });
    expect((await profile('u4'))?.orders).toMatchObject({ count: 1, revenueCents: 900 });
    expect(await load('orders', csv)).toMatchObject({ stored: 0, duplicates: 3 });
  });

  it('rejects a row with more cells than the header names, keeping the one with trailing empty cells', async () => {
    const csv = file(
      'orders.csv',
      'customer_id,order_id,date,total\nc1,o1,2026-01-05,1,234.50\nc2,o2,2026-01-05,99.00,,\nc3,o3,2026-01-05,"1,234.50"\n',
    );
    const summary = await load('orders', csv);
    expect(summary).toMatchObject({ accepted: 1, rejected: 2 });
    expect(summary.errors.map((e) => e.line)).toEqual([2, 4]);
    expect(summary.errors[0]?.problems[0]?.message).toMatch(
      /^has 5 cells, the header names 4: .*must be inside quotes/,
    );
    // The quoted one is read whole, and refused for what it is (a thousands separator).
    expect(summary.errors[1]?.problems[0]?.message).toMatch(/must be a decimal number/);
  });

  it('stops before any row when the header names a column twice or is not UTF-8', async () => {
    const twice = file('twice.csv', 'customer_id,email,email,phone\nc1,a@x.com,,555\n');
    await expect(load('customers', twice)).rejects.toThrow(
      /the header names "email" more than once/,
    );
    // A stray quote in a row read with the header hid the header from the checks.
    const strayBelow = file(
      'stray.csv',
      'customer_id,email,name,email\nc1,a@x.com,Ann,\nc2,b@x.com,Bo "B" Lee,\n',
    );
    await expect(load('customers', strayBelow)).rejects.toThrow(
      /the header names "email" more than once/,
    );
    const latin1 = join(dir, 'latin1.csv');
    writeFileSync(latin1, Buffer.from('customer_id,pr\xe9nom,city\nc2,Ann,Lyon\n', 'latin1'));
    await expect(load('customers', latin1)).rejects.toThrow(
      /the header holds bytes that are not UTF-8/,
    );
    expect(await profile('c1')).toBeUndefined();
    expect(await profile('c2')).toBeUndefined();
  });

  it("reads a header's blank trailing names as no column, and refuses a value under one", async () => {
    const csv = file('blank.csv', 'customer_id,email,,\nc1,a@x.com,,\nc2,b@x.com,,VIP\n');
    const summary = await load('customers', csv);
    expect(summary).toMatchObject({ accepted: 1, rejected: 1 });
    expect(summary.errors[0]).toMatchObject({
      line: 3,
      problems: [{ message: 'has a value in column 4, which the header gives no name' }],
    });
    expect((await profile('c1'))?.traits).toEqual({ email: 'a@x.com' });
  });

  it('takes an NDJSON identify call as the customer it describes, and refuses another call', async () => {
    const lines = [
      {
        type: 'identify',
        userId: 'u1',
        traits: { email: 'a@x.com', plan: 'pro' },
        timestamp: '2026-01-05T00:00:00Z',
      },
      { type: 'track', userId: 'u2', event: 'Order Completed' },
      { userId: 'u3', type: 'business', email: 'c@x.com' },
    ].map((l) => JSON.stringify(l));
    const summary = await load('customers', file('customers.ndjson', lines.join('\n')));
    expect(summary).toMatchObject({ accepted: 2, rejected: 1 });
    expect(summary.errors.map((e) => e.problems[0]?.message)).toEqual([
      expect.stringMatching(/^a "track" call is no customer: .*herald import events/),
    ]);
    expect((await profile('u1'))?.traits).toEqual({ email: 'a@x.com', plan: 'pro' });
    // A type that is no call is the customer's.
    expect((await profile('u3'))?.traits).toEqual({ type: 'business', email: 'c@x.com' });
  });

  it('names the line a row starts on past quoted cells with CRLFs', async () => {
    const csv = file(
      'customers.csv',
      'customer_id,email,note\r\nc1,a@x.io,"line one\r\nline two"\r\nc2,b@x.io,"first\r\nsecond\r\nthird"\r\n,nobody@x.io,x\r\nc4,d@x.io,y\r\n',
    );
    const summary = await load('customers', csv);
    expect(summary).toMatchObject({ lines: 8, accepted: 3, rejected: 1 });
    expect(summary.errors).toEqual([
      { line: 7, problems: [{ path: 'line 7/userId', message: 'the customer_id cell is empty' }] },
    ]);
  });

  it('rejects NDJSON orders and calls without a time instead of dating them today', async () => {
    const orders = file('orders.ndjson', '{"customer_id":"c9","order_id":"o9","total":12.5}\n');
    expect(await load('orders', orders)).toMatchObject({
      accepted: 0,
      errors: [
        {
          line: 1,
          problems: [
            {
              path: 'line 1/timestamp',
              message: 'no time column (map one with --map timestamp=COLUMN)',
            },
          ],
        },
      ],
    });
    const call = { type: 'track', userId: 'u1', event: 'Product Viewed' };
    const lines = [
      call,
      { ...call, receivedAt: '2024-03-01T10:00:01.000Z', sentAt: '2024-03-01T10:00:02.000Z' },
      { ...call, sentAt: '2024-03-02T10:00:00.000Z' },
    ].map((l) => JSON.stringify(l));
    const summary = await load('events', file('events.ndjson', lines.join('\n')));
    expect(summary).toMatchObject({ accepted: 2, rejected: 1 });
    expect(summary.errors[0]).toMatchObject({
      line: 1,
      problems: [{ path: 'line 1/timestamp', message: expect.stringMatching(/^no time: /) }],
    });
    const stored = await services.store.listEvents('u1' as CustomerId, 10);
    expect(stored.map((e) => new Date(e.timestampMs).toISOString()).sort()).toEqual([
      '2024-03-01T10:00:01.000Z',
      '2024-03-02T10:00:00.000Z',
    ]);
  });
});
