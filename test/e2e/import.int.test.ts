import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../src/app/create-services.js';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { loadConfig } from '../../src/app/load-config.js';
import { importFile } from '../../src/cli/commands/import-file.js';
import { toMessageId, type CustomerId } from '../../src/core/ids.js';
import type { CustomerView } from '../../src/pipeline/decide/proposal.js';
import { evaluateCondition } from '../../src/pipeline/decide/journeys/evaluate-condition.js';
import type { Membership } from '../../src/ports/decide-store.js';
import { unfinishedLoad } from '../../src/pipeline/profile/index.js';
import { aTrack, anIdentify } from '../../src/pipeline/profile/test-builders.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { CustomerHistory } from '../../src/ports/store.js';
import { sharedDataDir } from '../support/shared-data.js';

const run = promisify(execFile);
const sink = { write: () => true } as unknown as NodeJS.WritableStream;

describe('herald import', () => {
  let dir: string;
  let services: Services;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-import-'));
    services = await createServices(
      loadConfig({ HERALD_DATABASE_URL: `sqlite:${join(dir, 'h.db')}` }, null),
      { logger: silentLogger },
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
  const profile = async (id: string) => (await services.store.getProfile(id as CustomerId))?.state;

  it('imports customers from CSV as identify calls and reports bad rows by line', async () => {
    const path = file(
      'customers.csv',
      'customer_id,email,age,zip\nc1,a@x.io,34,02134\n,nobody@x.io,20,1\nc2,b@x.io,41,99999\n',
    );
    const summary = await importFile(
      services,
      'customers',
      path,
      { map: ['userId=customer_id'], batchSize: '1000' },
      sink,
    );
    expect(summary).toMatchObject({ lines: 4, accepted: 2, stored: 2, rejected: 1 });
    expect(summary.errors).toEqual([
      {
        line: 3,
        problems: [{ path: 'line 3/userId', message: 'the customer_id cell is empty' }],
      },
    ]);
    expect((await profile('c1'))?.traits).toEqual({ email: 'a@x.io', age: 34, zip: '02134' });
  });

  it('imports orders with a column mapping, and a second import stores nothing twice', async () => {
    const path = file(
      'orders.csv',
      'buyer,order,amount,day\nc1,o1,10.50,20240105\nc1,o2,4.50,20240107\nc2,o3,abc,20240107\n',
    );
    const options = {
      map: ['userId=buyer', 'orderId=order', 'total=amount', 'timestamp=day'],
      batchSize: '2',
    };
    const first = await importFile(services, 'orders', path, options, sink);
    expect(first).toMatchObject({ accepted: 2, stored: 2, rejected: 1 });
    expect(first.errors[0]).toMatchObject({ line: 4, problems: [{ path: 'line 4/total' }] });
    expect((await profile('c1'))?.orders).toMatchObject({
      count: 2,
      revenueCents: 1500,
      lastAtMs: Date.UTC(2024, 0, 7),
    });
    const again = await importFile(services, 'orders', path, options, sink);
    expect(again).toMatchObject({ stored: 0, duplicates: 2 });
    expect((await profile('c1'))?.orders.count).toBe(2);
  });

  it('imports NDJSON events with the API’s validation and names each bad line', async () => {
    const lines = [
      JSON.stringify({
        type: 'track',
        userId: 'e1',
        event: 'Order Completed',
        properties: { order_id: 'x1', total: 3 },
        timestamp: '2025-01-01T00:00:00Z',
      }),
      '{"type": "track", "userId": ',
      JSON.stringify({ type: 'track', userId: 'e1', timestamp: '2024-01-01T00:00:00Z' }),
      '',
      JSON.stringify({
        type: 'identify',
        userId: 'e1',
        traits: { plan: 'pro' },
        timestamp: '2024-01-01T00:00:00Z',
      }),
    ];
    const summary = await importFile(
      services,
      'events',
      file('events.ndjson', lines.join('\n')),
      { batchSize: '1000' },
      sink,
    );
    expect(summary).toMatchObject({ lines: 5, accepted: 2, rejected: 2 });
    expect(summary.errors.map((e) => e.line)).toEqual([2, 3]);
    expect(summary.errors[0]?.problems[0]?.message).toMatch(/not valid JSON/);
    expect(summary.errors[1]?.problems[0]).toMatchObject({ path: 'line 3/event' });
    expect((await profile('e1'))?.traits).toEqual({ plan: 'pro' });
  });

  it('counts every rejection and keeps the first 100 in line order, however the batches fall', async () => {
    // Batches of 3 lines on the reading thread: rejections alone fill some of them.
    const good = (i: number) =>
      JSON.stringify({
        type: 'identify',
        userId: `r${String(i)}`,
        traits: { n: i },
        timestamp: '2024-01-01T00:00:00Z',
      });
    const lines = Array.from({ length: 250 }, (_, i) => (i % 5 === 4 ? good(i) : '{"type": 1}'));
    const summary = await importFile(
      services,
      'events',
      file('mostly-bad.ndjson', lines.join('\n')),
      { batchSize: '3' },
      sink,
    );
    expect(summary).toMatchObject({ lines: 250, accepted: 50, stored: 50, rejected: 200 });
    expect(summary.errors).toHaveLength(100);
    const badLines = lines.flatMap((_, i) => (i % 5 === 4 ? [] : [i + 1]));
    expect(summary.errors.map((e) => e.line)).toEqual(badLines.slice(0, 100));
    expect((await profile('r249'))?.traits).toEqual({ n: 249 });
  });

  it('stamps what it reads with the time of the services’ clock, as the API does', async () => {
    const at = Date.UTC(2024, 5, 1, 12);
    const clocked = await createServices(
      loadConfig({ HERALD_DATABASE_URL: `sqlite:${join(dir, 'clocked.db')}` }, null),
      { logger: silentLogger, clock: createVirtualClock(at) },
    );
    try {
      const line = (i: number) =>
        JSON.stringify({
          type: 'track',
          userId: 'ck',
          event: 'Product Viewed',
          timestamp: new Date(at - 60_000 + i).toISOString(),
        });
      const path = file('clocked.ndjson', [0, 1, 2, 3, 4].map(line).join('\n'));
      expect(await importFile(clocked, 'events', path, { batchSize: '2' }, sink)).toMatchObject({
        stored: 5,
      });
      const stored = await clocked.store.listEvents('ck' as CustomerId, 10);
      expect(stored.map((e) => e.receivedAtMs)).toEqual([at, at, at, at, at]);
    } finally {
      await clocked.close();
    }
  });

  it('reads an NDJSON file saved with a byte-order mark from its first line', async () => {
    const line = (userId: string) =>
      JSON.stringify({
        type: 'identify',
        userId,
        traits: { plan: 'pro' },
        timestamp: '2024-01-01T00:00:00Z',
      });
    const summary = await importFile(
      services,
      'events',
      file('bom.ndjson', `\uFEFF${line('bom1')}\n${line('bom2')}\n`),
      { batchSize: '1000' },
      sink,
    );
    expect(summary).toMatchObject({ lines: 2, accepted: 2, rejected: 0 });
    expect((await profile('bom1'))?.traits).toEqual({ plan: 'pro' });
  });

  it('keeps the time of each exported call: a sentAt does not move history to the import', async () => {
    const lines = [
      // A Segment export: timestamp already corrected, with sentAt and receivedAt beside it.
      {
        type: 'track',
        userId: 'h1',
        event: 'Order Completed',
        properties: { order_id: 'h-1', total: 50 },
        timestamp: '2021-03-01T10:00:00.000Z',
        originalTimestamp: '2021-03-01T09:59:58.000Z',
        sentAt: '2021-03-01T10:00:02.000Z',
        receivedAt: '2021-03-01T10:00:01.000Z',
      },
      // Only the device's time: corrected as Segment does, with the call's own clocks.
      {
        type: 'page',
        userId: 'h1',
        name: 'Home',
        originalTimestamp: '2021-03-02T10:00:00.000Z',
        sentAt: '2021-03-02T10:00:05.000Z',
        receivedAt: '2021-03-02T11:00:05.000Z',
      },
    ].map((l) => JSON.stringify(l));
    const summary = await importFile(
      services,
      'events',
      file('export.ndjson', lines.join('\n')),
      { batchSize: '1000' },
      sink,
    );
    expect(summary).toMatchObject({ accepted: 2, rejected: 0 });
    const times = (await services.store.listEvents('h1' as CustomerId, 10))
      .map((e) => new Date(e.timestampMs).toISOString())
      .sort();
    expect(times).toEqual(['2021-03-01T10:00:00.000Z', '2021-03-02T11:00:00.000Z']);
  });

  it('reads an exported call’s times as the API does: ISO 8601 only, UTC without a zone', async () => {
    const zone = process.env['TZ'];
    // Where the server runs must not move history.
    process.env['TZ'] = 'America/New_York';
    try {
      const call = (userId: string, originalTimestamp: string) =>
        JSON.stringify({
          type: 'page',
          userId,
          name: 'Home',
          originalTimestamp,
          sentAt: '2025-01-03T00:00:00Z',
          receivedAt: '2025-01-03T00:00:00Z',
        });
      const summary = await importFile(
        services,
        'events',
        file('zones.ndjson', [call('z1', '2025-01-02T00:00:00'), call('z2', '1')].join('\n')),
        { batchSize: '1000' },
        sink,
      );
      expect(summary).toMatchObject({ accepted: 1, rejected: 1 });
      expect(summary.errors[0]).toMatchObject({ line: 2 });
      const [event] = await services.store.listEvents('z1' as CustomerId, 10);
      expect(new Date(event?.timestampMs ?? 0).toISOString()).toBe('2025-01-02T00:00:00.000Z');
    } finally {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    }
  });

  // Into an empty database, the settle reads every history in one sorted scan; beside a longer
  // history of others, customer by customer (Store.scanHistories).
  it.each([
    ['into an empty database', 0, false],
    ['beside a longer history of others', 6, false],
    // The sort needs temporary space; without it the settle reads customer by customer.
    ['into an empty database when the sorting scan fails', 0, true],
  ])(
    'as a bulk load %s, writes each profile once at the end, as the API would have left it',
    async (_, others, scanFails) => {
      const bulkUrl = `sqlite:${join(dir, 'bulk.db')}`;
      if (others > 0) {
        const earlier = await createServices(loadConfig({ HERALD_DATABASE_URL: bulkUrl }, null), {
          logger: silentLogger,
        });
        const visit = aTrack('Product Viewed', { product_id: 'p0' }, { userId: 'other' });
        await earlier.recorder.record(
          Array.from({ length: others }, (_, i) => ({
            ...visit,
            messageId: toMessageId(`other-${String(i)}`),
          })),
          Date.UTC(2025, 0, 1),
        );
        await earlier.close();
      }
      const events = [
        { type: 'page', anonymousId: 'v9', name: 'Home', timestamp: '2025-01-01T00:00:00Z' },
        {
          type: 'track',
          userId: 'b1',
          event: 'Product Added',
          properties: { product_id: 'p1', price: 12.5 },
          timestamp: '2025-01-01T00:01:00Z',
        },
        {
          type: 'identify',
          userId: 'b2',
          anonymousId: 'v9',
          traits: { email: 'b2@example.com' },
          timestamp: '2025-01-01T00:02:00Z',
        },
        {
          type: 'track',
          userId: 'b1',
          event: 'Order Completed',
          properties: { order_id: 'bo1', total: 12.5 },
          timestamp: '2025-01-01T00:03:00Z',
        },
        { type: 'track', userId: 'b2', event: 'Email Opened', timestamp: '2025-01-01T00:04:00Z' },
      ];
      const path = file('bulk.ndjson', events.map((e) => JSON.stringify(e)).join('\n'));
      const bulk = await createServices(loadConfig({ HERALD_DATABASE_URL: bulkUrl }, null), {
        logger: silentLogger,
        bulk: true,
      });
      let scanned = 0;
      if (scanFails)
        bulk.store.scanHistories = () => {
          scanned += 1;
          return Promise.resolve(
            (async function* (): AsyncGenerator<CustomerHistory> {
              // The sort runs when the first history is asked for, and fails there.
              await Promise.reject(new Error('database or disk is full'));
              yield* [];
            })(),
          );
        };
      try {
        // Two events a transaction: the merge and the order land in different ones.
        const summary = await importFile(bulk, 'events', path, { batchSize: '2' }, sink);
        expect(summary).toMatchObject({ accepted: 5, stored: 5, rejected: 0, profiles: 2 });
        const kept = await importFile(services, 'events', path, { batchSize: '2' }, sink);
        expect(kept.profiles).toBe(0);
        for (const id of ['b1', 'b2'] as CustomerId[]) {
          const state = (await bulk.store.getProfile(id))?.state;
          expect(state).toBeDefined();
          expect(state).toEqual(await profile(id));
        }
        expect((await bulk.store.getProfile('b1' as CustomerId))?.state.orders.count).toBe(1);
        expect((await bulk.store.getProfile('b2' as CustomerId))?.state.eventCount).toBe(3);
        expect(await bulk.store.profilesBehind()).toEqual([]);
        expect(scanned).toBe(scanFails ? 1 : 0);
      } finally {
        await bulk.close();
      }
    },
  );

  describe('an import that stopped before its end', () => {
    const t = Date.UTC(2026, 5, 1, 12);
    const minutes = (n: number) => n * 60_000;
    /**
     * A database with some history, then an import of three events that stops before it
     * settles, then a start at `restartAtMs`: what the customers' profiles and work are then.
     */
    const stopAndRestart = async (name: string, restartAtMs: number) => {
      const url = `sqlite:${join(dir, name)}`;
      const clock = createVirtualClock(t - minutes(60 * 24 * 10));
      const earlier = await createServices(loadConfig({ HERALD_DATABASE_URL: url }, null), {
        logger: silentLogger,
        clock,
      });
      const before = aTrack('Order Completed', { order_id: 'so0', total: 12 }, { userId: 's1' });
      await earlier.recorder.record(
        // History: long past when it arrived, so it plans nothing of its own.
        [{ ...before, timestampMs: clock.nowMs() - minutes(600), receivedAtMs: clock.nowMs() }],
        clock.nowMs(),
      );
      await earlier.close();

      clock.set(t);
      const events = [
        aTrack('Product Added', { product_id: 'p1', price: 30 }, { userId: 's1' }),
        aTrack('Order Completed', { order_id: 'so1', total: 30 }, { userId: 's1' }),
        aTrack('Product Added', { product_id: 'p2', price: 8 }, { userId: 's2' }),
      ].map((e, i) => ({
        ...e,
        messageId: toMessageId(`stop-${String(i)}`),
        timestampMs: t - minutes(1) + i,
        receivedAtMs: t,
      }));
      const bulk = await createServices(loadConfig({ HERALD_DATABASE_URL: url }, null), {
        logger: silentLogger,
        clock,
        bulk: true,
      });
      await bulk.recorder.record(events, t);
      await bulk.close(); // stopped before the settle

      clock.set(restartAtMs);
      const next = await createServices(loadConfig({ HERALD_DATABASE_URL: url }, null), {
        logger: silentLogger,
        clock,
      });
      try {
        // Work keys, an event that came too late to act on (it only ends journeys) marked.
        const work = async (id: string) =>
          (await next.store.listWork(id as CustomerId, 10))
            .map((w) =>
              w.trigger.kind === 'event' && w.trigger.lateAtMs !== undefined
                ? `${w.key} (late)`
                : w.key,
            )
            .sort();
        return {
          behind: await next.store.profilesBehind(),
          unfinished: await unfinishedLoad(next.store),
          s1: (await next.store.getProfile('s1' as CustomerId))?.state,
          s2: (await next.store.getProfile('s2' as CustomerId))?.state,
          s1Work: await work('s1'),
          s2Work: await work('s2'),
        };
      } finally {
        await next.close();
      }
    };

    it('is settled at the next start, with the triggers its events owe', async () => {
      const after = await stopAndRestart('soon.db', t + minutes(5));
      expect(after.behind).toEqual([]);
      expect(after.unfinished).toBeNull();
      expect(after.s1?.orders.count).toBe(2);
      expect(after.s2?.cart?.items).toHaveLength(1);
      expect(after.s1Work.filter((k) => k.includes('|event|') && !k.endsWith('(late)'))).toEqual([
        's1|event|test|stop-1',
      ]);
      expect(after.s2Work).toEqual(['s2|cart']);
    });

    it('judges its events when the next start comes, as events that arrive late', async () => {
      const after = await stopAndRestart('late.db', t + minutes(120));
      expect(after.behind).toEqual([]);
      expect(after.s1?.orders.count).toBe(2);
      // Its order, too late to act on, only ends the journeys it exits: s1 was known before.
      const late = after.s1Work.filter((k) => k.includes('|event|') || k.includes('|late-exit|'));
      expect(late).toHaveLength(1);
      expect(late[0]).toMatch(/^s1\|late-exit\|Order Completed\|\d+ \(late\)$/);
      expect(after.s2Work).toEqual([]);
    });
  });

  it('keeps identifiers, phone numbers and long digit strings exactly as the CSV has them', async () => {
    const path = file(
      'customers.csv',
      'customer_id,phone,loyalty_card,age\nc1,15551234567,12345678901234567890,34\n',
    );
    const summary = await importFile(services, 'customers', path, { batchSize: '1000' }, sink);
    expect(summary).toMatchObject({ accepted: 1, rejected: 0 });
    expect((await profile('c1'))?.traits).toEqual({
      phone: '15551234567',
      loyalty_card: '12345678901234567890',
      age: 34,
    });
  });

  it('leaves out empty cells: they erase no trait and make no amount of ""', async () => {
    const nowMs = services.clock.nowMs();
    await services.recorder.record(
      [
        anIdentify(
          { email: 'ada@example.com', phone: '+4915112345678' },
          { userId: 'ada', timestampMs: nowMs - 60_000, receivedAtMs: nowMs - 60_000 },
        ),
      ],
      nowMs,
    );
    const customers = file('customers.csv', 'user_id,email,phone,name\nada,ada@example.com,,Ada\n');
    expect(
      await importFile(services, 'customers', customers, { batchSize: '10' }, sink),
    ).toMatchObject({ accepted: 1, rejected: 0 });
    expect((await profile('ada'))?.traits).toMatchObject({
      phone: '+4915112345678',
      name: 'Ada',
    });
    const events = file(
      'events.csv',
      'user_id,event,timestamp,revenue,quantity\nada,Product Viewed,2024-01-01T00:00:00Z,,\n',
    );
    expect(await importFile(services, 'events', events, { batchSize: '10' }, sink)).toMatchObject({
      accepted: 1,
      rejected: 0,
    });
    const orders = file(
      'orders.csv',
      'user_id,order_id,total,value,date\nada,o1,10.00,,2024-01-01\n',
    );
    expect(await importFile(services, 'orders', orders, { batchSize: '10' }, sink)).toMatchObject({
      accepted: 1,
      rejected: 0,
    });
  });

  it('names the line a CSV row starts on, past cells over several lines and blank lines, and a short row’s empty cells', async () => {
    const path = file(
      'orders.csv',
      [
        'user_id,order_id,total,note,date',
        'u1,o1,abc,"a note',
        'over two',
        'more lines",2024-01-01',
        '',
        'u1,o2,xyz,plain,2024-01-02',
        'u1,o3,12.50',
        '',
      ].join('\n'),
    );
    const summary = await importFile(services, 'orders', path, { batchSize: '10' }, sink);
    expect(summary.errors.map((e) => e.line)).toEqual([2, 6, 7]);
    // A row short of cells the header names has them empty, not missing from the file.
    expect(summary.errors[2]?.problems).toEqual([
      { path: 'line 7/timestamp', message: 'the date cell is empty' },
    ]);
  });

  it('rejects, by line, rows of a file saved as Latin-1 instead of storing them garbled', async () => {
    const csv = join(dir, 'latin1.csv');
    writeFileSync(csv, Buffer.from('customer_id,name\nc1,Ana\nc2,Jos\xe9\n', 'latin1'));
    const summary = await importFile(services, 'customers', csv, { batchSize: '10' }, sink);
    expect(summary).toMatchObject({ accepted: 1, rejected: 1 });
    expect(summary.errors[0]?.line).toBe(3);
    expect(JSON.stringify(summary.errors[0]?.problems)).toMatch(/not UTF-8/);
    expect(await profile('c2')).toBeUndefined();
    const ndjson = join(dir, 'latin1.ndjson');
    writeFileSync(
      ndjson,
      Buffer.from(
        '{"type":"identify","userId":"n1","traits":{"name":"Jos\xe9"},"timestamp":"2024-01-01T00:00:00Z"}\n',
        'latin1',
      ),
    );
    const events = await importFile(services, 'events', ndjson, { batchSize: '10' }, sink);
    expect(events).toMatchObject({ accepted: 0, rejected: 1 });
  });

  it('imports a U+FFFD a UTF-8 file holds as written: only bytes that are not UTF-8 are refused', async () => {
    // Data that went through a lossy system once: the replacement character is in the text.
    const csv = join(dir, 'replaced.csv');
    writeFileSync(csv, 'customer_id,name\nr1,Jos\uFFFD\nr2,Ana\n', 'utf8');
    expect(await importFile(services, 'customers', csv, { batchSize: '10' }, sink)).toMatchObject({
      accepted: 2,
      rejected: 0,
    });
    expect((await profile('r1'))?.traits['name']).toBe('Jos\uFFFD');
    const ndjson = join(dir, 'replaced.ndjson');
    writeFileSync(
      ndjson,
      '{"type":"identify","userId":"r3","traits":{"name":"Jos\uFFFD"},"timestamp":"2024-01-01T00:00:00Z"}\n',
      'utf8',
    );
    expect(await importFile(services, 'events', ndjson, { batchSize: '10' }, sink)).toMatchObject({
      accepted: 1,
      rejected: 0,
    });
    // The same character beside a byte that is not UTF-8: the file is not UTF-8, and its
    // garbled line is refused as before.
    const mixed = join(dir, 'mixed.csv');
    writeFileSync(
      mixed,
      Buffer.concat([
        Buffer.from('customer_id,name\nr4,Jos\uFFFD\n', 'utf8'),
        Buffer.from('r5,Jos\xe9\n', 'latin1'),
      ]),
    );
    expect(await importFile(services, 'customers', mixed, { batchSize: '10' }, sink)).toMatchObject(
      { rejected: 2 },
    );
  });

  it('gives each CSV event row the call its type names, with its columns where they belong', async () => {
    const path = file(
      'events.csv',
      [
        'type,user_id,event,name,timestamp,email,plan,group_id,previous_id',
        'identify,bo,,,2024-01-01T00:00:00Z,bo@example.com,pro,,',
        'page,bo,,Pricing,2024-01-02T00:00:00Z,,,,',
        'group,bo,,,2024-01-03T00:00:00Z,,enterprise,g-1,',
        'alias,bo,,,2024-01-04T00:00:00Z,,,,visitor-9',
        'track,bo,Plan Chosen,,2024-01-05T00:00:00Z,,pro,,',
        '',
      ].join('\n'),
    );
    expect(await importFile(services, 'events', path, { batchSize: '10' }, sink)).toMatchObject({
      accepted: 5,
      rejected: 0,
    });
    expect((await profile('bo'))?.traits).toMatchObject({ email: 'bo@example.com', plan: 'pro' });
    const history = await services.store.transaction((tx) => tx.loadEventsOf(['bo' as CustomerId]));
    const stored = (history.get('bo' as CustomerId) ?? []).map((e) => [
      e.type,
      e.name,
      e.type === 'group' ? e.groupId : e.type === 'alias' ? e.previousId : null,
      e.type === 'page' ? e.properties : e.type === 'track' ? e.properties : e.traits,
    ]);
    expect(stored).toEqual([
      ['identify', null, null, { email: 'bo@example.com', plan: 'pro' }],
      ['page', 'Pricing', null, {}],
      ['group', null, 'g-1', { plan: 'enterprise' }],
      ['alias', null, 'visitor-9', {}],
      ['track', 'Plan Chosen', null, { plan: 'pro' }],
    ]);
  });

  it('rejects orders without their time instead of stamping them with the import’s', async () => {
    const path = file(
      'untimed.csv',
      'customer_id,order_id,total,Created at\nc1,o1,10,2025-01-01\n',
    );
    const summary = await importFile(services, 'orders', path, { batchSize: '1000' }, sink);
    expect(summary).toMatchObject({ accepted: 0, rejected: 1 });
    expect(summary.errors[0]?.problems).toEqual([
      {
        path: 'line 2/timestamp',
        message: 'no time column (map one with --map timestamp=COLUMN)',
      },
    ]);
    const mapped = await importFile(
      services,
      'orders',
      path,
      { batchSize: '1000', map: ['timestamp=Created at'] },
      sink,
    );
    expect(mapped).toMatchObject({ accepted: 1, rejected: 0 });
  });

  it('rejects order totals that are not plain non-negative decimals, by line and cell', async () => {
    const path = file(
      'orders.csv',
      'customer_id,order_id,total,date\nc1,o1,10,2025-01-01\nc1,o2,0x10,2025-01-01\nc1,o3,-30,2025-01-01\nc1,,5,2025-01-01\nc1,o5,,2025-01-01\n',
    );
    const summary = await importFile(services, 'orders', path, { batchSize: '1000' }, sink);
    expect(summary).toMatchObject({ accepted: 1, rejected: 4 });
    expect(summary.errors).toEqual([
      {
        line: 3,
        problems: [
          {
            path: 'line 3/total',
            message: expect.stringMatching(/^the total cell must be a decimal number/),
          },
        ],
      },
      {
        line: 4,
        problems: [
          {
            path: 'line 4/total',
            message: expect.stringMatching(/^the total cell must not be negative/),
          },
        ],
      },
      { line: 5, problems: [{ path: 'line 5/orderId', message: 'the order_id cell is empty' }] },
      { line: 6, problems: [{ path: 'line 6/total', message: 'the total cell is empty' }] },
    ]);
    expect((await profile('c1'))?.orders).toMatchObject({ count: 1, revenueCents: 1000 });
  });

  describe('a CSV with a quoting error', () => {
    const importCustomers = (text: string) =>
      importFile(services, 'customers', file('customers.csv', text), { batchSize: '1000' }, sink);

    it('writes the rows before a quote that is never closed and says where reading stopped', async () => {
      const summary = await importCustomers('id,name\nG1,Ann\nG2,Bo\nG3,Cy\nG4,"bad\nG5,Di\n');
      expect(summary).toMatchObject({ lines: 5, accepted: 3, stored: 3, rejected: 1 });
      expect(summary.errors).toEqual([
        {
          line: 5,
          problems: [
            {
              path: 'line 5',
              message: expect.stringMatching(/name cell opens a quote that is never closed/),
            },
          ],
        },
      ]);
      expect(summary.stopped).toEqual({
        line: 5,
        reason: expect.stringMatching(/never closed.*import the file again once it is fixed/),
      });
      expect((await services.store.counts()).profiles).toBe(3);
      expect((await profile('G3'))?.traits).toEqual({ name: 'Cy' });
    });

    it('counts blank lines when it says where the unclosed quote opened', async () => {
      const summary = await importCustomers('id,name\nG1,Ann\n\n\nG4,"bad\nG5,Di\n');
      expect(summary).toMatchObject({ accepted: 1, stopped: { line: 5 } });
    });

    it('stops at text after a closing quote, since the next row cannot be told apart', async () => {
      for (const bad of ['G2,"Bo"x', 'G2,"Bo" x']) {
        const summary = await importCustomers(`id,name\nG1,Ann\n${bad}\nG3,Cy\n`);
        expect(summary).toMatchObject({ accepted: 1, rejected: 1, stopped: { line: 3 } });
        expect(summary.errors[0]?.problems[0]?.message).toMatch(/Invalid Closing Quote/);
      }
      expect((await profile('G1'))?.traits).toEqual({ name: 'Ann' });
    });

    it('rejects a row with a stray quote inside a cell and reads on', async () => {
      const summary = await importCustomers('id,name\nG1,Ann\nG2,B"o\nG3,Cy\n');
      expect(summary).toMatchObject({ lines: 4, accepted: 2, rejected: 1, stopped: null });
      expect(summary.errors).toEqual([
        {
          line: 3,
          problems: [{ path: 'line 3', message: expect.stringMatching(/Invalid Opening Quote/) }],
        },
      ]);
      expect((await profile('G3'))?.traits).toEqual({ name: 'Cy' });
    });

    it('rejects a row with two stray quotes once', async () => {
      const summary = await importCustomers('id,name\nG1,Ann\nG2,Bo "B" Lee\nG3,Cy\n');
      // csv-parse reports each quote: counted as two, the summary read 2 + 2 of 3 rows.
      expect(summary).toMatchObject({ lines: 4, accepted: 2, rejected: 1 });
      expect(summary.errors.map((e) => e.line)).toEqual([3]);
    });
  });

  it('stops before any row when --map names a column the CSV header does not have', async () => {
    const path = file('c.csv', 'customer_id,email,signup_date\nc1,a@x.io,2021-03-04T00:00:00Z\n');
    for (const map of [
      ['userId=customer_id', 'timestamp=signupdate'],
      ['userId=customerid', 'timestamp=signup_date'],
    ])
      await expect(
        importFile(services, 'customers', path, { map, batchSize: '1000' }, sink),
      ).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(
      importFile(
        services,
        'customers',
        path,
        {
          map: ['userId=customer_id', 'timestamp=signupdate', 'anonymousId=visitor'],
          batchSize: '1000',
        },
        sink,
      ),
    ).rejects.toMatchObject({
      message: `--map timestamp=signupdate, --map anonymousId=visitor: ${path} has no column "signupdate", "visitor"; its columns are "customer_id", "email", "signup_date" (did you mean "signup_date" for "signupdate"?)`,
    });
    // Neither an optional field (timed at the import) nor a required one (every row rejected).
    expect((await services.store.counts()).profiles).toBe(0);
    const orders = file('o.csv', 'customer_id,order_id,amount,date\nc1,o1,10,2025-01-01\n');
    await expect(
      importFile(
        services,
        'orders',
        orders,
        { map: ['total=total_amount'], batchSize: '1000' },
        sink,
      ),
    ).rejects.toMatchObject({ message: expect.stringMatching(/has no column "total_amount"/) });
  });

  it('stores what a re-import under a corrected mapping makes, and only once', async () => {
    // signup_date is no column a time is looked for in: the first import times it now.
    const path = file('c.csv', 'customer_id,email,signup_date\nc1,a@x.io,2021-03-04T00:00:00Z\n');
    const options = (map: string[]) => ({ map: ['userId=customer_id', ...map], batchSize: '1000' });
    expect(await importFile(services, 'customers', path, options([]), sink)).toMatchObject({
      stored: 1,
    });
    const fixed = options(['timestamp=signup_date']);
    expect(await importFile(services, 'customers', path, fixed, sink)).toMatchObject({
      stored: 1,
      duplicates: 0,
    });
    expect((await profile('c1'))?.firstSeenAtMs).toBe(Date.parse('2021-03-04T00:00:00Z'));
    expect(await importFile(services, 'customers', path, fixed, sink)).toMatchObject({
      stored: 0,
      duplicates: 1,
    });
    const events = file(
      'e.csv',
      'user_id,event,date,local_date\nu1,Signed Up,2024-01-02T03:00:00Z,2024-01-01T22:00:00Z\n',
    );
    const load = (map: string[]) =>
      importFile(services, 'events', events, { map, batchSize: '1000' }, sink);
    expect(await load([])).toMatchObject({ stored: 1 });
    expect(await load(['timestamp=local_date'])).toMatchObject({ stored: 1, duplicates: 0 });
    expect(await load(['timestamp=local_date'])).toMatchObject({ stored: 0, duplicates: 1 });
  });

  it('names the allowed kinds for an unknown kind, and the file when it is missing', async () => {
    const path = file('c.csv', 'id,name\nk1,Kim\n');
    await expect(
      importFile(services, 'widgets', path, { batchSize: '1000' }, sink),
    ).rejects.toMatchObject({
      code: 'invalid-input',
      message: 'cannot import "widgets": the kinds are customers, orders, events',
    });
    const missing = join(dir, 'none.csv');
    await expect(
      importFile(services, 'events', missing, { batchSize: '1000' }, sink),
    ).rejects.toMatchObject({
      code: 'not-found',
      message: `no file ${missing}`,
    });
    await expect(
      importFile(services, 'events', dir, { format: 'csv', batchSize: '1000' }, sink),
    ).rejects.toMatchObject({
      code: 'invalid-input',
      message: `${dir} is not a file`,
    });
  });

  describe.skipIf(sharedDataDir === undefined)('on the real data sets', () => {
    const data = sharedDataDir ?? '';
    it('imports the 250 customers of the personalisation scenario', async () => {
      const summary = await importFile(
        services,
        'customers',
        join(data, 'personalization-scenario/customers.csv'),
        { map: ['userId=customer_id'], batchSize: '100' },
        sink,
      );
      expect(summary).toMatchObject({ accepted: 250, rejected: 0 });
      expect((await services.store.counts()).profiles).toBe(250);
      expect((await profile('C001'))?.traits).toMatchObject({
        tier: 'Gold',
        location: 'New York',
        age: 35,
      });
    });

    it('reads the money and rate columns as numbers in every row, 250.00 and 0.20 too', async () => {
      const path = join(data, 'personalization-scenario/customers.csv');
      await importFile(
        services,
        'customers',
        path,
        { map: ['userId=customer_id'], batchSize: '100' },
        sink,
      );
      const ids = readFileSync(path, 'utf8')
        .trim()
        .split(/\r?\n/)
        .slice(1)
        .map((line) => line.split(',')[0] ?? '');
      const columns = ['avg_order_value', 'historical_open_rate', 'historical_click_rate'];
      const text: string[] = [];
      for (const id of ids) {
        const traits = (await profile(id))?.traits ?? {};
        for (const c of columns) if (typeof traits[c] !== 'number') text.push(`${id}.${c}`);
      }
      expect({ customers: ids.length, text }).toEqual({ customers: 250, text: [] });
      const c001 = await profile('C001');
      expect(c001?.traits).toMatchObject({ avg_order_value: 250, historical_open_rate: 0.45 });
      // A journey's branch on the trait reads only the profile's traits.
      const view = { state: c001 } as CustomerView;
      const membership = { seenEvents: [] } as unknown as Membership;
      expect(
        evaluateCondition(
          { field: 'trait.avg_order_value', op: 'gt', value: 200 },
          view,
          membership,
        ),
      ).toBe(true);
    });

    it('imports CDNOW transactions as orders and sums them per customer', async () => {
      const rows = readFileSync(join(data, 'cdnow/CDNOW_master.txt'), 'utf8')
        .trim()
        .split(/\r?\n/)
        .slice(1, 2001)
        .map((l) => l.trim().split(/\s+/));
      const csv = ['customer,date,cds,dollars', ...rows.map((r) => r.join(','))].join('\n');
      // CDNOW has no order ids; the line number stands in for one.
      const withIds = csv
        .split('\n')
        .map((l, i) => (i === 0 ? `${l},order` : `${l},cdnow-${i}`))
        .join('\n');
      const summary = await importFile(
        services,
        'orders',
        file('cdnow.csv', withIds),
        { map: ['userId=customer', 'orderId=order', 'total=dollars'], batchSize: '500' },
        sink,
      );
      expect(summary).toMatchObject({ accepted: 2000, rejected: 0 });
      const expected = rows.filter((r) => r[0] === '00001');
      const first = await profile('00001');
      expect(first?.orders.count).toBe(expected.length);
      expect(first?.orders.revenueCents).toBe(
        expected.reduce((s, r) => s + Math.round(Number(r[3]) * 100), 0),
      );
    });
  });

  it('runs as a command: herald import prints the summary and herald migrate exits cleanly', async () => {
    const env = {
      ...process.env,
      HERALD_DATABASE_URL: `sqlite:${join(dir, 'cli.db')}`,
      HERALD_LOG_LEVEL: 'silent',
    };
    const migrate = await run(process.execPath, ['bin/herald.js', 'migrate'], {
      env,
    });
    expect(migrate.stdout).toMatch(/database is up to date \(sqlite\)/);
    const path = file('c.csv', 'id,name\nk1,Kim\n');
    const imported = await run(process.execPath, ['bin/herald.js', 'import', 'customers', path], {
      env,
    });
    expect(JSON.parse(imported.stdout)).toMatchObject({
      kind: 'customers',
      accepted: 1,
      rejected: 0,
    });
    const bad = run(
      process.execPath,
      ['bin/herald.js', 'import', 'customers', join(dir, 'c.txt')],
      { env },
    );
    await expect(bad).rejects.toMatchObject({
      code: 65,
      stderr: expect.stringMatching(/cannot tell the format/),
    });
    // A --format that is not one is blamed, not the file's name.
    const misnamed = run(
      process.execPath,
      ['bin/herald.js', 'import', 'customers', path, '--format', 'json'],
      { env },
    );
    await expect(misnamed).rejects.toMatchObject({
      code: 65,
      stderr: expect.stringMatching(
        /--format: "json" is not a format import reads; use csv or ndjson/,
      ),
    });
    const unmapped = run(
      process.execPath,
      ['bin/herald.js', 'import', 'customers', path, '--map', 'userId=uid'],
      { env },
    );
    await expect(unmapped).rejects.toMatchObject({
      code: 65,
      stderr: expect.stringMatching(
        /--map userId=uid: .* has no column "uid"; its columns are "id", "name"/,
      ),
    });
    // `--map` takes the words after it: the file last is the file, not a mapping.
    const mappedFirst = await run(
      process.execPath,
      ['bin/herald.js', 'import', 'customers', '--map', 'userId=id', path],
      { env },
    );
    expect(JSON.parse(mappedFirst.stdout)).toMatchObject({ accepted: 1, rejected: 0 });
    const fileless = run(
      process.execPath,
      ['bin/herald.js', 'import', 'customers', '--map', 'userId=id'],
      { env },
    );
    await expect(fileless).rejects.toMatchObject({
      code: 65,
      stderr: expect.stringMatching(/missing FILE: herald import KIND FILE/),
    });
  });
});
