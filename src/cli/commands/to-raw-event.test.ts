import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../core/event.js';
import { isImportKind, toRawEvent, type FieldMapping, type ImportKind } from './to-raw-event.js';

const hash = (text: string) => `h${String(text.length)}`;

const convert = (
  kind: ImportKind,
  row: JsonObject,
  options: { map?: FieldMapping; format?: 'csv' | 'ndjson' } = {},
) => toRawEvent(kind, row, options.map ?? {}, hash, options.format ?? 'csv');

const traitsOf = (row: JsonObject, format: 'csv' | 'ndjson' = 'csv') => {
  const raw = convert('customers', { customer_id: 'c1', ...row }, { format });
  return raw.ok ? raw.value['traits'] : raw.error;
};

const problemsOf = (kind: ImportKind, row: JsonObject, map: FieldMapping = {}) => {
  const raw = convert(kind, row, { map });
  return raw.ok ? [] : raw.error;
};

const anOrder = (overrides: JsonObject = {}): JsonObject => ({
  customer_id: 'c1',
  order_id: 'o1',
  total: '10.50',
  order_date: '2025-01-01',
  ...overrides,
});

describe('isImportKind', () => {
  it('accepts the three kinds and nothing else', () => {
    expect(['customers', 'orders', 'events', 'widgets', ''].map(isImportKind)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});

describe('toRawEvent on CSV cells', () => {
  it('reads a number only when it is a decimal written as a number is', () => {
    expect(
      traitsOf({ age: '34', score: '-2.5', number_of_cds: '3', zip: '02134', price: '10.50' }),
    ).toEqual({ age: 34, score: -2.5, number_of_cds: 3, zip: '02134', price: 10.5 });
    expect(
      traitsOf({ big: '1e3', hex: '0x10', plus: '+1', dot: '.5', point: '10.', grouped: '1,000' }),
    ).toEqual({
      big: '1e3',
      hex: '0x10',
      plus: '+1',
      dot: '.5',
      point: '10.',
      grouped: '1,000',
    });
    expect(traitsOf({ padded: '00.5', minus: '-', negativeZeroPadded: '-01' })).toEqual({
      padded: '00.5',
      minus: '-',
      negativeZeroPadded: '-01',
    });
  });

  it('reads a date written YYYYMMDD in a date’s column as that date, not as a number', () => {
    // As the time column reads it: a created_at of 20260105 as a number would be a signup in
    // January 1970, in milliseconds.
    const raw = convert('customers', { customer_id: 'c1', created_at: '20260105' });
    expect(raw.ok && raw.value).toMatchObject({
      timestamp: '2026-01-05T00:00:00Z',
      traits: { created_at: '2026-01-05T00:00:00Z' },
    });
    expect(
      traitsOf({ signupDate: '20250301', birthday: '19900215', last_order_at: '1767225600000' }),
    ).toEqual({
      signupDate: '2025-03-01T00:00:00Z',
      birthday: '1990-02-15T00:00:00Z',
      // Not eight digits: a time in milliseconds, read as before.
      last_order_at: 1767225600000,
    });
    // Eight digits in a column named for no date stay a number, as do a duration's; an
    // identifier's stay text, and so do those in a date's column that make no day.
    expect(
      traitsOf({
        points: '20260105',
        watch_time_ms: '12345678',
        watch_time: '12345678',
        signup_time: '20240115',
        time_slot_id: '12345678',
        created_at: '20261399',
      }),
    ).toEqual({
      points: 20260105,
      watch_time_ms: 12345678,
      watch_time: 12345678,
      signup_time: '2024-01-15T00:00:00Z',
      time_slot_id: '12345678',
      created_at: '20261399',
    });
  });

  it('reads a money or rate column as numbers throughout, trailing zeros or not', () => {
    // As in the personalisation data: 250.00 and 0.20 beside 0.45. Read as text, they would
    // never match a journey condition such as `avg_order_value gt 200`.
    const rows = [
      { avg_order_value: '250.00', historical_open_rate: '0.45' },
      { avg_order_value: '75.00', historical_open_rate: '0.20' },
      { avg_order_value: '0', historical_open_rate: '0.0' },
    ].map((row) => traitsOf(row));
    expect(rows).toEqual([
      { avg_order_value: 250, historical_open_rate: 0.45 },
      { avg_order_value: 75, historical_open_rate: 0.2 },
      { avg_order_value: 0, historical_open_rate: 0 },
    ]);
  });

  it('reads a cell of tens of thousands of zeros as the number it is', () => {
    // `/0+$/` tried each zero against the rest: 32,000 digits took over a second (not timed).
    expect(
      traitsOf({ long: `0.${'0'.repeat(40_000)}1`, round: `1.${'0'.repeat(40_000)}` }),
    ).toEqual({ long: `0.${'0'.repeat(40_000)}1`, round: 1 });
  });

  it('keeps digits that a number cannot hold exactly as text', () => {
    expect(
      traitsOf({
        points: '12345678901234567890',
        sixteen: '1234567890123456',
        fifteen: '123456789012345',
        fraction: '0.1234567890123456',
        // Trailing zeros of a fraction are formatting, not digits a number must hold.
        zeros: '1234567890123.4500',
      }),
    ).toEqual({
      points: '12345678901234567890',
      sixteen: '1234567890123456',
      fifteen: 123456789012345,
      fraction: '0.1234567890123456',
      zeros: 1234567890123.45,
    });
  });

  it('keeps identifiers and contact details as text even when they are digits', () => {
    expect(
      traitsOf({
        phone: '15551234567',
        mobilePhone: '15551234568',
        loyalty_card: '1234567890',
        store_id: '42',
        postCode: '10115',
        'Account Number': '7',
      }),
    ).toEqual({
      phone: '15551234567',
      mobilePhone: '15551234568',
      loyalty_card: '1234567890',
      store_id: '42',
      postCode: '10115',
      'Account Number': '7',
    });
  });

  it('reads true and false as booleans', () => {
    expect(traitsOf({ vip: 'true', churned: 'false', note: 'yes' })).toEqual({
      vip: true,
      churned: false,
      note: 'yes',
    });
  });

  it('leaves NDJSON values as the file typed them', () => {
    expect(traitsOf({ phone: '15551234567', age: '34', vip: 'true' }, 'ndjson')).toEqual({
      phone: '15551234567',
      age: '34',
      vip: 'true',
    });
  });
});

describe('toRawEvent on missing values', () => {
  it('names the empty cell when the column exists', () => {
    expect(problemsOf('orders', anOrder({ order_id: '', total: '' }))).toEqual([
      { path: '/orderId', message: 'the order_id cell is empty' },
      { path: '/total', message: 'the total cell is empty' },
    ]);
    expect(problemsOf('customers', { customer_id: '', email: 'a@x.io' })).toEqual([
      { path: '/userId', message: 'the customer_id cell is empty' },
    ]);
  });

  it('asks for a mapping only when no column matches', () => {
    expect(problemsOf('orders', { customer_id: 'c1', invoice: 'i1', amount_due: '3' })).toEqual([
      { path: '/orderId', message: 'no order id column (map one with --map orderId=COLUMN)' },
      { path: '/total', message: 'no order total column (map one with --map total=COLUMN)' },
      // Without its time an order would be stamped with the moment of the import.
      { path: '/timestamp', message: 'no time column (map one with --map timestamp=COLUMN)' },
    ]);
    expect(problemsOf('events', { customer_id: 'c1', event: 'Signed Up' })).toEqual([
      { path: '/timestamp', message: 'no time column (map one with --map timestamp=COLUMN)' },
    ]);
  });

  it('keeps a customer’s created_at as a trait, the signup date, and as the call’s time', () => {
    const raw = convert('customers', { customer_id: 'c1', created_at: '2024-05-01' });
    expect(raw.ok && raw.value).toMatchObject({
      traits: { created_at: '2024-05-01' },
      timestamp: '2024-05-01',
    });
  });

  it('times a customer by the column --map timestamp= names, created_at kept as a trait', () => {
    const raw = convert(
      'customers',
      { customer_id: 'c1', created_at: '2020-01-15', updated_at: '2025-07-01' },
      { map: { timestamp: 'updated_at' } },
    );
    expect(raw.ok && raw.value).toMatchObject({
      traits: { created_at: '2020-01-15', updated_at: '2025-07-01' },
      timestamp: '2025-07-01',
    });
  });

  it('names a mapped column the row does not have', () => {
    expect(problemsOf('orders', anOrder(), { total: 'amount' })).toEqual([
      { path: '/total', message: 'no amount cell in this row (from --map total=amount)' },
    ]);
  });

  it('rejects a customer without the time --map timestamp= names, in CSV and NDJSON', () => {
    const map = { timestamp: 'updated_at' };
    expect(problemsOf('customers', { customer_id: 'c1', updated_at: '' }, map)).toEqual([
      { path: '/timestamp', message: 'the updated_at cell is empty' },
    ]);
    for (const line of [{ customer_id: 'c1' }, { customer_id: 'c1', updated_at: null }]) {
      const raw = convert('customers', line, { map, format: 'ndjson' });
      expect(!raw.ok && raw.error.map((p) => p.path)).toEqual(['/timestamp']);
    }
    const missingBoth = convert('customers', { email: 'a@x.io' }, { map, format: 'ndjson' });
    expect(!missingBoth.ok && missingBoth.error).toEqual([
      { path: '/userId', message: 'no user id column (map one with --map userId=COLUMN)' },
      {
        path: '/timestamp',
        message: 'no updated_at cell in this row (from --map timestamp=updated_at)',
      },
    ]);
  });

  it('leaves out an empty timestamp instead of sending it', () => {
    const raw = convert('customers', { customer_id: 'c1', created_at: '' });
    expect(raw.ok && raw.value).toMatchObject({ userId: 'c1', traits: {} });
    expect(raw.ok && 'timestamp' in raw.value).toBe(false);
  });
});

describe('toRawEvent on an order’s customer', () => {
  const byId = { id: '1001', email: 'ann@x.io', total: '10.50', date: '2025-06-01' };

  it('does not take the order id column for the customer’s too', () => {
    expect(problemsOf('orders', byId)).toEqual([
      { path: '/userId', message: 'no user id column (map one with --map userId=COLUMN)' },
    ]);
    const raw = convert('orders', byId, { map: { userId: 'email' } });
    expect(raw.ok && raw.value).toMatchObject({
      userId: 'ann@x.io',
      properties: { order_id: '1001', total: 10.5 },
    });
  });

  it('reads `id` as the order id beside a customer column, and as the customer’s when mapped', () => {
    const raw = convert('orders', { customer_id: 'c1', ...byId });
    expect(raw.ok && raw.value).toMatchObject({
      userId: 'c1',
      properties: { order_id: '1001' },
    });
    // Mapped to the customer, `id` is no order id: none is left.
    expect(problemsOf('orders', byId, { userId: 'id' })).toEqual([
      { path: '/orderId', message: 'no order id column (map one with --map orderId=COLUMN)' },
    ]);
    expect(problemsOf('orders', byId, { userId: 'id', orderId: 'id' })).toEqual([
      {
        path: '/userId',
        message:
          'the id column is the order id (--map orderId=id): map the user id to another column',
      },
    ]);
  });

  it('accepts an order of an anonymous visitor', () => {
    const raw = convert('orders', {
      anonymous_id: 'a1',
      order_id: 'o1',
      total: '3',
      date: '2025-01-01',
    });
    expect(raw.ok && raw.value).toMatchObject({ anonymousId: 'a1' });
  });
});

describe('toRawEvent message ids', () => {
  // The hashed text itself, to see what an id is made of.
  const idOf = (
    kind: ImportKind,
    row: JsonObject,
    map: FieldMapping = {},
    format: 'csv' | 'ndjson' = 'csv',
  ) => {
    const raw = toRawEvent(kind, row, map, (text) => text, format);
    return raw.ok ? String(raw.value['messageId']) : raw.error;
  };
  const row = { customer_id: 'c1', email: 'a@x.io', signup: '2021-03-04', created_at: '' };

  it('hashes the call a customers row makes, not the row', () => {
    const raw = toRawEvent('customers', row, { timestamp: 'signup' }, (text) => text, 'csv');
    if (!raw.ok) throw new Error('rejected');
    const { messageId, ...call } = raw.value;
    expect(messageId).toBe(`import-customer-${JSON.stringify(call)}`);
    // The same row read under another mapping is another call, with another id.
    expect(idOf('customers', row)).not.toBe(messageId);
    expect(idOf('customers', row, { timestamp: 'signup' })).toBe(messageId);
    // An empty cell makes no trait: the same call, the same id.
    const without = { customer_id: 'c1', email: 'a@x.io', signup: '2021-03-04' };
    expect(idOf('customers', without, { timestamp: 'signup' })).toBe(messageId);
  });

  it('hashes the call a CSV events row makes, and keeps a mapped messageId', () => {
    const events = { user_id: 'u1', event: 'Signed Up', date: '2024-01-02', day: '2024-01-01' };
    const first = idOf('events', events);
    expect(first).toMatch(/^import-event-\{"type":"track","userId":"u1"/);
    expect(idOf('events', events, { timestamp: 'day' })).not.toBe(first);
    expect(idOf('events', { ...events, id: 'm1' }, { messageId: 'id' })).toBe('m1');
  });

  it('hashes an NDJSON call as it was read: the mapping names only its messageId', () => {
    const call = { type: 'track', userId: 'u1', event: 'E', timestamp: '2024-01-01T00:00:00Z' };
    expect(idOf('events', call, {}, 'ndjson')).toBe(`import-event-${JSON.stringify(call)}`);
  });

  it('keys an order by its customer and order id, whatever its total', () => {
    expect(idOf('orders', anOrder())).toBe('import-order-c1|o1');
    expect(idOf('orders', anOrder({ total: '12' }))).toBe('import-order-c1|o1');
    // Another customer naming the same order id sends an event of their own.
    expect(idOf('orders', anOrder({ customer_id: 'c2' }))).toBe('import-order-c2|o1');
  });

  it('hashes an order id too long to go into a message id as it is', () => {
    const long = 'x'.repeat(250);
    const raw = toRawEvent('orders', anOrder({ order_id: long }), {}, () => 'h', 'csv');
    expect(raw.ok && raw.value['messageId']).toBe('import-order-h');
    expect(raw.ok && (raw.value['properties'] as JsonObject)['order_id']).toBe(long);
  });

  it('tells the same call made again apart by the repeat the reader counts', () => {
    const row = { type: 'track', userId: 'u1', event: 'Order Completed', time: '2025-01-01' };
    const counts = new Map<string, number>();
    const repeatOf = (id: string) => {
      const n = counts.get(id) ?? 0;
      counts.set(id, n + 1);
      return n;
    };
    const ids = [0, 1, 2].map((): unknown => {
      const raw = toRawEvent('events', row, {}, (text) => text.length.toString(), 'csv', repeatOf);
      return raw.ok && raw.value['messageId'];
    });
    expect(ids).toEqual([ids[0], `${String(ids[0])}#1`, `${String(ids[0])}#2`]);
  });
});

describe('toRawEvent on NDJSON times', () => {
  const ndjson = (kind: ImportKind, row: JsonObject) => convert(kind, row, { format: 'ndjson' });

  it('rejects an NDJSON order without its time, as a CSV one', () => {
    const raw = ndjson('orders', { customer_id: 'c9', order_id: 'o9', total: 12.5 });
    expect(!raw.ok && raw.error).toEqual([
      { path: '/timestamp', message: 'no time column (map one with --map timestamp=COLUMN)' },
    ]);
    const dated = ndjson('orders', {
      customer_id: 'c9',
      order_id: 'o9',
      total: 12.5,
      date: '2025-01-01',
    });
    expect(dated.ok && dated.value['timestamp']).toBe('2025-01-01');
  });

  it('rejects a call with none of its times', () => {
    for (const times of [{}, { timestamp: null, sentAt: '' }]) {
      const raw = ndjson('events', { type: 'track', userId: 'u1', event: 'E', ...times });
      expect(!raw.ok && raw.error).toEqual([
        {
          path: '/timestamp',
          message:
            'no time: the call has none of timestamp, originalTimestamp, receivedAt, sentAt (it would be stored at the moment of the import)',
        },
      ]);
    }
  });

  it('names a call missing its ids with its missing time, at once', () => {
    const raw = ndjson('events', { type: 'track', event: 'E' });
    expect(!raw.ok && raw.error.map((p) => p.path)).toEqual(['/userId', '/timestamp']);
  });

  it('dates a call with no device time by when Segment received it, else when it was sent', () => {
    const call = { type: 'track', userId: 'u1', event: 'E' };
    const timeOf = (times: JsonObject) => {
      const raw = ndjson('events', { ...call, ...times });
      return raw.ok ? raw.value['timestamp'] : raw.error;
    };
    expect(timeOf({ receivedAt: '2021-03-01T10:00:01Z', sentAt: '2021-03-01T10:00:02Z' })).toBe(
      '2021-03-01T10:00:01Z',
    );
    expect(timeOf({ sentAt: '2021-03-01T10:00:02Z' })).toBe('2021-03-01T10:00:02Z');
    // A device time alone is read by the API as it is.
    expect(timeOf({ originalTimestamp: '2021-03-01T09:00:00Z' })).toBeUndefined();
  });
});

describe('toRawEvent on order totals', () => {
  it('accepts a plain decimal of at least 0', () => {
    for (const [text, total] of [
      ['10.50', 10.5],
      ['0', 0],
      ['1200', 1200],
    ] as const) {
      const raw = convert('orders', anOrder({ total: text }));
      expect(raw.ok && raw.value['properties']).toMatchObject({ order_id: 'o1', total });
    }
  });

  it('rejects other notations, naming the cell', () => {
    for (const text of ['0x10', '1e3', 'Infinity', 'NaN', '1,200.00', '$10', '10.', '.5']) {
      expect(problemsOf('orders', anOrder({ total: text }))).toEqual([
        {
          path: '/total',
          message: `the total cell must be a decimal number such as 10.50, not "${text}"`,
        },
      ]);
    }
  });

  it('rejects a negative total: a refund is an event of its own', () => {
    expect(problemsOf('orders', anOrder({ total: '-30' }))).toEqual([
      {
        path: '/total',
        message: 'the total cell must not be negative ("-30"): a refund is an Order Refunded event',
      },
    ]);
    expect(problemsOf('orders', anOrder({ total: -30 }))).toHaveLength(1);
  });
});
