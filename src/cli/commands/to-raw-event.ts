import type { FieldProblem } from '../../core/errors.js';
import type { JsonObject } from '../../core/event.js';
import { err, ok, type Result } from '../../core/result.js';

export const importKinds = ['customers', 'orders', 'events'] as const;
export type ImportKind = (typeof importKinds)[number];

/** Herald field → source column, from `--map field=column`. */
export type FieldMapping = Record<string, string>;

const candidates: Record<string, string[]> = {
  userId: ['userId', 'user_id', 'customer_id', 'customerId', 'id'],
  anonymousId: ['anonymousId', 'anonymous_id'],
  timestamp: ['timestamp', 'date', 'created_at', 'createdAt', 'order_date', 'time'],
  orderId: ['orderId', 'order_id', 'id'],
  total: ['total', 'revenue', 'amount', 'value', 'dollar_value'],
  messageId: ['messageId', 'message_id'],
  type: ['type'],
  event: ['event', 'event_name'],
};

/** Finds a field's column: the mapped one, else the first conventional name present. */
const columnOf = (row: JsonObject, field: string, mapping: FieldMapping): string | undefined => {
  const mapped = mapping[field];
  if (mapped !== undefined) return mapped;
  return (candidates[field] ?? []).find((c) => row[c] !== undefined && row[c] !== '');
};

/** CSV cells are text: numbers and booleans that are unambiguous become typed values. */
const typed = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
};

/** `YYYYMMDD` (as in CDNOW) becomes an ISO date; everything else passes through. */
const toTimestamp = (value: unknown): unknown =>
  typeof value === 'string' && /^\d{8}$/.test(value)
    ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T00:00:00Z`
    : value;

const rest = (row: JsonObject, used: (string | undefined)[]): JsonObject =>
  Object.fromEntries(
    Object.entries(row)
      .filter(([k]) => !used.includes(k))
      .map(([k, v]) => [k, typed(v)]),
  );

/**
 * Turns an imported row into a Segment call: customers → identify (other columns become
 * traits), orders → `Order Completed` (other columns become properties), events → the row
 * itself (NDJSON, a Segment call per line) or its mapped columns (CSV, other columns become
 * properties). Message ids come from the content.
 */
export const toRawEvent = (
  kind: ImportKind,
  row: JsonObject,
  mapping: FieldMapping,
  hash: (text: string) => string,
  format: 'csv' | 'ndjson',
): Result<JsonObject, FieldProblem[]> => {
  const col = (field: string) => columnOf(row, field, mapping);
  const value = (field: string): unknown => {
    const c = col(field);
    return c === undefined ? undefined : row[c];
  };
  const userCol = col('userId');
  const anonCol = col('anonymousId');
  const timeCol = col('timestamp');
  const ids = { userId: value('userId'), anonymousId: value('anonymousId') };
  switch (kind) {
    case 'customers': {
      if (ids.userId === undefined || ids.userId === '')
        return err([
          { path: '/userId', message: 'no user id column (map one with --map userId=COLUMN)' },
        ]);
      const traits = rest(row, [userCol, anonCol, timeCol]);
      return ok({
        type: 'identify',
        messageId: `import-customer-${hash(JSON.stringify(row))}`,
        ...ids,
        traits,
        ...(timeCol === undefined ? {} : { timestamp: toTimestamp(row[timeCol]) }),
      });
    }
    case 'orders': {
      const orderCol = col('orderId');
      const totalCol = col('total');
      const orderId = value('orderId');
      const problems: FieldProblem[] = [];
      if (orderId === undefined || orderId === '')
        problems.push({
          path: '/orderId',
          message: 'no order id column (map one with --map orderId=COLUMN)',
        });
      if (totalCol === undefined || !Number.isFinite(Number(row[totalCol])))
        problems.push({
          path: '/total',
          message: 'no numeric order total (map one with --map total=COLUMN)',
        });
      if (problems.length > 0 || totalCol === undefined) return err(problems);
      return ok({
        type: 'track',
        event: 'Order Completed',
        messageId: `import-order-${String(orderId)}`,
        ...ids,
        properties: {
          ...rest(row, [userCol, anonCol, timeCol, orderCol, totalCol]),
          order_id: String(orderId),
          total: Number(row[totalCol]),
        },
        ...(timeCol === undefined ? {} : { timestamp: toTimestamp(row[timeCol]) }),
      });
    }
    case 'events': {
      const messageId = value('messageId') ?? `import-event-${hash(JSON.stringify(row))}`;
      if (format === 'ndjson') return ok({ ...row, messageId });
      const typeCol = col('type');
      const eventCol = col('event');
      return ok({
        type: typeCol === undefined ? 'track' : row[typeCol],
        event: eventCol === undefined ? undefined : row[eventCol],
        messageId,
        ...ids,
        properties: rest(row, [userCol, anonCol, timeCol, typeCol, eventCol, col('messageId')]),
        ...(timeCol === undefined ? {} : { timestamp: toTimestamp(row[timeCol]) }),
      });
    }
  }
};
