import type { FieldProblem } from '../../core/errors.js';
import { eventTypes, type JsonObject } from '../../core/event.js';
import { err, ok, type Result } from '../../core/result.js';
import { asHistory } from '../../pipeline/ingest/index.js';

export const importKinds = ['customers', 'orders', 'events'] as const;
export type ImportKind = (typeof importKinds)[number];

export const isImportKind = (text: string): text is ImportKind =>
  (importKinds as readonly string[]).includes(text);

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
  name: ['name', 'page_name', 'screen_name'],
  groupId: ['groupId', 'group_id'],
  previousId: ['previousId', 'previous_id'],
};

/** The fields `--map field=column` can name. */
export const MAPPABLE_FIELDS: readonly string[] = Object.keys(candidates);

/**
 * The fields an import of `kind` in `format` reads through `--map`: any other mapped would be
 * passed over (`--map total=amount` on events stored every order at $0). An NDJSON event is
 * the call itself: only its message id can be given by another field.
 */
export const fieldsReadBy = (kind: ImportKind, format: 'csv' | 'ndjson'): readonly string[] => {
  switch (kind) {
    case 'customers':
      return ['userId', 'anonymousId', 'timestamp'];
    case 'orders':
      return ['userId', 'anonymousId', 'timestamp', 'orderId', 'total'];
    case 'events':
      return format === 'ndjson'
        ? ['messageId']
        : [
            'userId',
            'anonymousId',
            'timestamp',
            'type',
            'event',
            'messageId',
            'name',
            'groupId',
            'previousId',
          ];
  }
};

/**
 * Finds a field's column: the mapped one, else the first conventional name the row has, even
 * when its cell is empty, so that an empty cell is reported as such rather than as no column.
 */
const columnOf = (row: JsonObject, field: string, mapping: FieldMapping): string | undefined =>
  mapping[field] ?? (candidates[field] ?? []).find((c) => row[c] !== undefined);

const isBlank = (value: unknown): boolean => value === undefined || value === null || value === '';

/** Why a required field has no value: no column for it, or an empty cell in this row. */
const missing = (
  row: JsonObject,
  field: string,
  column: string | undefined,
  label: string,
): FieldProblem => ({
  path: `/${field}`,
  message:
    column === undefined
      ? `no ${label} column (map one with --map ${field}=COLUMN)`
      : row[column] === undefined
        ? `no ${column} cell in this row (from --map ${field}=${column})`
        : `the ${column} cell is empty`,
});

/** Words in a column name that mark an identifier or a contact detail: digits there are text. */
const textWords = new Set([
  'id',
  'phone',
  'mobile',
  'tel',
  'zip',
  'zipcode',
  'postal',
  'postcode',
  'code',
  'card',
  'account',
  'sku',
]);

/**
 * Words that, last in a column name, mark a date (`created_at`, `signupDate`, `birthday`); and
 * `time` (`time`, `signup_time`), which as often names a duration (`watch_time`): there only
 * a calendar day is read as a date, and other digits stay a number.
 */
const dateWords = new Set(['at', 'date', 'timestamp', 'birthday', 'dob', 'anniversary']);

/**
 * Whether the column is a date's (its last word one of `dateWords`), may be one (`time`), or
 * neither; an identifier's is neither.
 */
const dateColumnOf = (column: string): 'date' | 'maybe' | null => {
  if (isTextColumn(column)) return null;
  const last = wordsOf(column).findLast((w) => w !== '') ?? '';
  return dateWords.has(last) ? 'date' : last === 'time' ? 'maybe' : null;
};

/** Whether `YYYYMMDD` is a day of the calendar (not `20261399`). */
const isCalendarDay = (value: string): boolean => {
  const [year, month, day] = [value.slice(0, 4), value.slice(4, 6), value.slice(6)].map(Number);
  const at = new Date(Date.UTC(year ?? 0, (month ?? 0) - 1, day ?? 0));
  return at.getUTCMonth() + 1 === month && at.getUTCDate() === day;
};

const wordsOf = (column: string): string[] =>
  column
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z\d]+/);

const isTextColumn = (column: string): boolean => wordsOf(column).some((w) => textWords.has(w));

const EIGHT_DIGITS = /^\d{8}$/;

/** A decimal written as a number prints: a minus at most, no leading zeros, no exponent. */
const CANONICAL_DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;

/**
 * A double gives back any decimal of up to 15 significant digits (DBL_DIG); beyond that an id or
 * a card number would come back with other digits.
 */
const EXACT_DIGITS = 15;

/** Whether `text` is a canonical decimal that a number holds exactly (trailing `0`s aside). */
const isExactDecimal = (text: string): boolean => {
  if (!CANONICAL_DECIMAL.test(text)) return false;
  // Fifteen characters hold fifteen digits at most: most cells, counted no further.
  if (text.length <= EXACT_DIGITS) return true;
  const [whole = '', fraction = ''] = (text.startsWith('-') ? text.slice(1) : text).split('.');
  // Zeros ending the fraction (`250.00`) are how the file wrote it, not digits to keep: counted
  // off from the end (`/0+$/` tried every zero of a long fraction against the rest of it: a
  // cell of 32,000 digits took over a second, before 2026-12-07).
  let kept = fraction.length;
  while (kept > 0 && fraction[kept - 1] === '0') kept -= 1;
  let lead = 0;
  const digits = whole + fraction.slice(0, kept);
  while (lead < digits.length && digits[lead] === '0') lead += 1;
  // Nor a fraction so small a number holds none of it (`0.000…1` is 0 as a number).
  return digits.length - lead <= EXACT_DIGITS && (lead === digits.length || Number(text) !== 0);
};

/**
 * CSV cells are text. A cell becomes a number when it is a decimal written as a number is
 * (`34`, `-2.5`, `0.45`, and `250.00` or `0.20`, whose trailing zeros are only formatting: a
 * money or rate column must be numbers throughout for journey conditions such as
 * `avg_order_value gt 200` to compare it; not `02134`, `+5`, `1e3`, `1,000`, or
 * `12345678901234567890`, more digits than a number holds exactly) and its column is not named
 * as an identifier or contact detail (a word of `textWords`, as in `customer_id`,
 * `phoneNumber`, `loyalty_card`): a phone number must stay a string to be reachable by SMS.
 * `true` and `false` become booleans. Eight digits in a date's column (its last word one of
 * `dateWords`: `created_at`, `signupDate`, `birthday`) are a date, `YYYYMMDD`, and become an
 * ISO time, or stay text when they make no day of the calendar.
 */
const typed = (column: string, value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  // A date written `YYYYMMDD` in a date's column is that date, as the time column reads it —
  // not the number 20260105, which a `created_at` trait would read as milliseconds in 1970;
  // eight digits that make no day stay text there, read as no time at all.
  const dated = EIGHT_DIGITS.test(value) ? dateColumnOf(column) : null;
  if (dated !== null && isCalendarDay(value)) return toTimestamp(value);
  if (dated === 'date') return value;
  if (isExactDecimal(value) && !isTextColumn(column)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
};

/** An order total: a finite decimal of at least 0 (a refund is its own `Order Refunded` event). */
const readTotal = (row: JsonObject, column: string | undefined): Result<number, FieldProblem> => {
  if (column === undefined || isBlank(row[column]))
    return err(missing(row, 'total', column, 'order total'));
  const cell = row[column];
  const total =
    typeof cell === 'number'
      ? cell
      : typeof cell === 'string' && /^-?\d+(\.\d+)?$/.test(cell)
        ? Number(cell)
        : Number.NaN;
  const problem = (what: string) => err({ path: '/total', message: `the ${column} cell ${what}` });
  if (!Number.isFinite(total))
    return problem(`must be a decimal number such as 10.50, not ${JSON.stringify(cell)}`);
  if (total < 0)
    return problem(
      `must not be negative (${JSON.stringify(cell)}): a refund is an Order Refunded event`,
    );
  return ok(total);
};

/** The fields an NDJSON call can date itself by, in the order they are read. */
const CALL_TIMES = ['timestamp', 'originalTimestamp', 'receivedAt', 'sentAt'] as const;

/** `YYYYMMDD` (as in CDNOW) becomes an ISO date; everything else passes through. */
const toTimestamp = (value: unknown): unknown =>
  typeof value === 'string' && EIGHT_DIGITS.test(value)
    ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T00:00:00Z`
    : value;

/**
 * The longest `<customer>|<order id>` an order's message id holds as written (`import-order-`
 * and it within the 256 characters of a message id); a longer one is hashed.
 */
const MAX_ORDER_KEY = 256 - 'import-order-'.length;

/**
 * Turns an imported row into a Segment call: customers → identify (other columns become
 * traits), orders → `Order Completed` (other columns become properties), events → the row
 * itself (NDJSON, a Segment call per line) or its mapped columns (CSV, other columns become
 * properties). Message ids come from the content: an order's from its customer and order id,
 * any other row's from the call it makes (unless an `events` row gives its own `messageId`), so
 * the same file read with the same mapping makes the same ids, and read with a corrected one,
 * new ones. An events row making the same call as one before it is told apart by `repeatOf`
 * (how many times the reader has seen that id before, as it counts them).
 */
export const toRawEvent = (
  kind: ImportKind,
  row: JsonObject,
  mapping: FieldMapping,
  hash: (text: string) => string,
  format: 'csv' | 'ndjson',
  repeatOf: (id: string, call: JsonObject) => number = () => 0,
): Result<JsonObject, FieldProblem[]> => {
  const col = (field: string) => columnOf(row, field, mapping);
  const cell = (c: string | undefined): unknown =>
    c === undefined || isBlank(row[c]) ? undefined : row[c];
  const value = (field: string): unknown => cell(col(field));
  // NDJSON values are already typed; only CSV text is read as numbers and booleans. An empty
  // CSV cell is absent: an empty `phone` must not erase the phone a customer has, nor an unused
  // `revenue` column make an event's amount "".
  const rest = (used: (string | undefined)[]): JsonObject =>
    Object.fromEntries(
      Object.entries(row)
        .filter(([k, v]) => !used.includes(k) && !(format === 'csv' && isBlank(v)))
        .map(([k, v]) => [k, format === 'csv' ? typed(k, v) : v]),
    );
  // An order's id is not its customer's: a column both would name (`id`, by convention the
  // first that fits either) is the order id, unless `--map userId=` named it and not
  // `--map orderId=`. Each order would otherwise be filed under a customer named after it.
  const orderCol =
    kind !== 'orders'
      ? undefined
      : (mapping['orderId'] ??
        (candidates['orderId'] ?? []).find((c) => row[c] !== undefined && c !== mapping['userId']));
  const userFound = col('userId');
  const userCol = userFound === orderCol ? undefined : userFound;
  const anonCol = col('anonymousId');
  const timeCol = col('timestamp');
  const ids = { userId: cell(userCol), anonymousId: cell(anonCol) };
  const time = value('timestamp');
  const timestamp = time === undefined ? {} : { timestamp: toTimestamp(time) };
  // An order or event row without its time would be stamped with the moment of the import:
  // history moved to today, silently. Customers may come without one. An NDJSON event is a
  // Segment call, dated by any of its own times.
  const timeless: FieldProblem | null =
    kind === 'customers'
      ? null
      : kind === 'events' && format === 'ndjson'
        ? CALL_TIMES.some((t) => !isBlank(row[t]))
          ? null
          : {
              path: '/timestamp',
              message: `no time: the call has none of ${CALL_TIMES.join(', ')} (it would be stored at the moment of the import)`,
            }
        : time === undefined
          ? missing(row, 'timestamp', timeCol, 'time')
          : null;
  switch (kind) {
    case 'customers': {
      // A line that is a Segment call (an export of identify calls) is the call, as over the
      // API: its traits are the customer's, not the call's fields (`type`, `traits`, times). A
      // `type` that names no call (`business`) is a customer's field like any other.
      if (format === 'ndjson' && (eventTypes as readonly unknown[]).includes(row['type'])) {
        const traits = row['traits'];
        if (row['type'] !== 'identify' || typeof traits !== 'object' || traits === null)
          return err([
            {
              path: '/type',
              message: `a ${JSON.stringify(row['type'])} call${row['type'] === 'identify' ? ' without an object of traits' : ''} is no customer: import calls other than identify with \`herald import events\``,
            },
          ]);
        if (ids.userId === undefined) return err([missing(row, 'userId', userCol, 'user id')]);
        const identify: JsonObject = { ...row };
        if (identify['messageId'] === undefined)
          identify['messageId'] = `import-customer-${hash(JSON.stringify(identify))}`;
        return ok(identify);
      }
      // A time column the mapping names is one every row is dated by: a row without its time
      // (an NDJSON line lacking the field, an empty cell) would be timed at the import, and its
      // customer seen today, as though the mapping had named nothing.
      const untimed = mapping['timestamp'] !== undefined && time === undefined;
      if (ids.userId === undefined || untimed)
        return err([
          ...(ids.userId === undefined ? [missing(row, 'userId', userCol, 'user id')] : []),
          ...(untimed ? [missing(row, 'timestamp', timeCol, 'time')] : []),
        ]);
      // The time column stays a trait too: `created_at` is the signup date. It stays the call's
      // time as well, `--map timestamp=COLUMN` aside: a call timed at the import would make a
      // customer known only from the file first seen, and so active or new, today. A later-timed
      // call that set a trait otherwise keeps it; the import's summary counts such rows
      // (`outranked`, import-file.ts).
      const call: JsonObject = {
        type: 'identify',
        ...ids,
        traits: rest([userCol, anonCol]),
        ...timestamp,
      };
      // Of the call, not the row: the row read again under a corrected mapping is another call,
      // to be stored, not a duplicate of the one the wrong mapping made.
      call['messageId'] = `import-customer-${hash(JSON.stringify(call))}`;
      return ok(call);
    }
    case 'orders': {
      const totalCol = col('total');
      const orderId = cell(orderCol);
      const orderText =
        typeof orderId === 'string' || typeof orderId === 'number' ? String(orderId) : undefined;
      const total = readTotal(row, totalCol);
      const problems: FieldProblem[] = [];
      const owner =
        ids.userId !== undefined || ids.anonymousId !== undefined
          ? null
          : mapping['userId'] !== undefined && mapping['userId'] === orderCol
            ? {
                path: '/userId',
                message: `the ${orderCol} column is the order id (--map orderId=${orderCol}): map the user id to another column`,
              }
            : missing(row, 'userId', userCol, 'user id');
      if (owner !== null) problems.push(owner);
      if (orderText === undefined)
        problems.push(
          orderId === undefined
            ? missing(row, 'orderId', orderCol, 'order id')
            : {
                path: '/orderId',
                message: `the ${String(orderCol)} value is not text or a number`,
              },
        );
      if (!total.ok) problems.push(total.error);
      if (timeless !== null) problems.push(timeless);
      if (problems.length > 0 || orderText === undefined || !total.ok) return err(problems);
      // The order of its customer: another customer's row naming the same order id is their
      // event too (the profile stage gives an order id to whoever sent it first), not a
      // duplicate dropped unseen. An id too long for a message id is hashed.
      const owned = `${String(ids.userId ?? ids.anonymousId)}|${orderText}`;
      const orderMessageId =
        owned.length <= MAX_ORDER_KEY ? `import-order-${owned}` : `import-order-${hash(owned)}`;
      return ok({
        type: 'track',
        event: 'Order Completed',
        messageId: orderMessageId,
        ...ids,
        properties: {
          ...rest([userCol, anonCol, timeCol, orderCol, totalCol]),
          order_id: orderText,
          total: total.value,
        },
        ...timestamp,
      });
    }
    case 'events': {
      // Said with the call's missing ids, if it has none: every problem of the line at once.
      if (timeless !== null)
        return err([
          ...(ids.userId !== undefined || ids.anonymousId !== undefined
            ? []
            : format === 'ndjson'
              ? [{ path: '/userId', message: 'userId or anonymousId is required' }]
              : [missing(row, 'userId', userCol, 'user id')]),
          timeless,
        ]);
      // The same call again in one file is another event (two purchases of one amount on one
      // day): its id says which repeat it is (`repeatOf`).
      const derivedId = (id: string, call: JsonObject): string => {
        const n = repeatOf(id, call);
        return n === 0 ? id : `${id}#${String(n)}`;
      };
      const given = value('messageId');
      // An NDJSON line is the call itself (`--map` names only its messageId, and `asHistory`
      // reads nothing but the line): hashing the line is hashing the call.
      if (format === 'ndjson')
        return ok(
          asHistory({
            ...row,
            messageId: given ?? derivedId(`import-event-${hash(JSON.stringify(row))}`, row),
          }),
        );
      const used = [userCol, anonCol, timeCol, col('type'), col('event'), col('messageId')];
      const type = value('type') ?? 'track';
      const head = { type, ...ids, ...timestamp };
      // The other columns are what the call carries: traits for identify and group, the page
      // or screen's properties beside its name, the previous id of an alias.
      const call = ((): JsonObject => {
        switch (type) {
          case 'identify':
            return { ...head, traits: rest(used) };
          case 'group': {
            const groupCol = col('groupId');
            return { ...head, groupId: value('groupId'), traits: rest([...used, groupCol]) };
          }
          case 'page':
          case 'screen': {
            const nameCol = col('name');
            const name = value('event') ?? value('name');
            return {
              ...head,
              ...(name === undefined ? {} : { name }),
              properties: rest([...used, nameCol]),
            };
          }
          case 'alias':
            return { ...head, previousId: value('previousId') };
          default:
            return { ...head, event: value('event'), properties: rest(used) };
        }
      })();
      // Of the call, not the row, as a customer's (above).
      call['messageId'] = given ?? derivedId(`import-event-${hash(JSON.stringify(call))}`, call);
      return ok(call);
    }
  }
};
