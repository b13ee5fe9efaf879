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
  it('reads a number only when it prints back as the same text', () => {
    expect(
      traitsOf({ age: '34', score: '-2.5', number_of_cds: '3', zip: '02134', price: '10.50' }),
    ).toEqual({ age: 34, score: -2.5, number_of_cds: 3, zip: '02134', price: '10.50' });
    expect(traitsOf({ big: '1e3', hex: '0x10', plus: '+1', dot: '.5' })).toEqual({
      big: '1e3',
      hex: '0x10',
      plus: '+1',
      dot: '.5',
    });
  });

  it('keeps digits that a number cannot hold exactly as text', () => {
    expect(traitsOf({ points: '12345678901234567890' })).toEqual({
      points: '12345678901234567890',
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
