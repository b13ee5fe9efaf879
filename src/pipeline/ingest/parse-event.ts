import { BIRTHDAY_FORMS, birthdayMonthDay } from '../../core/birthday.js';
import { pointerStep, type FieldProblem } from '../../core/errors.js';
import { tooDeepAt, tooDeepMessage } from '../../core/json-depth.js';
import { quotedJson } from '../../core/quoted-value.js';
import {
  eventTypes,
  serialiseEventBody,
  type EventType,
  type HeraldEvent,
  type JsonObject,
} from '../../core/event.js';
import { toMessageId, unsafeIdMessage, type SourceId } from '../../core/ids.js';
import { err, ok, type Result } from '../../core/result.js';
import { channelOf } from '../../core/profile.js';
import {
  asConsentAnswer,
  asObject,
  isNoConsentAnswer,
  cartValueCents,
  CONSENT_ANSWERS,
  orderValueCents,
  ORDER_ID_KEYS,
  PRODUCT_ID_KEYS,
} from '../../core/read-props.js';
import { HOUR_MS, isCalendarDay, isoTimeMs } from '../../core/time.js';
import { rawEventChecker } from './event-schema.js';
import { asHistory, isBlank } from './as-history.js';
import type { IngestLimits } from './ingest-limits.js';
import { findBadText } from '../../core/find-bad-text.js';

/** What the request around an event tells about it. */
export interface EventEnvelope {
  sourceId: SourceId;
  receivedAtMs: number;
  /** The type implied by the route (`/v1/track`); batch items carry their own. */
  type: EventType | null;
  /** The batch's `sentAt`, used when the event has none. */
  sentAt: unknown;
  /** The batch's `context`, merged under each event's own. */
  context: JsonObject | null;
  /**
   * The bytes each key of the batch's `context` adds to an event, and their sum, worked out
   * once a request (`contextSizesOf`): an event that keeps more of it than the event limit
   * holds is refused before it is put together.
   */
  contextSizes?: { keys: ReadonlyMap<string, number>; total: number };
  /** Where the event sits in the request, for error paths (`/batch/3`). */
  path: string;
  newMessageId: () => string;
  /**
   * For a verified source (`ingest.verifiedSources`): whether a signature vouches for the user
   * id an event names. Absent for the others.
   */
  verifyUser?: (userId: string, signature: unknown) => boolean;
}

/** Where in `context` a verified source's event carries its user id's signature. */
const USER_SIGNATURE = 'userSignature';

/**
 * What a verified source's event lacks: the signature of the user id it names (one naming only
 * an anonymous visitor needs none); and it may not alias, which merges two users.
 */
const unverifiedUser = (
  type: EventType,
  raw: JsonObject,
  envelope: EventEnvelope,
  verify: (userId: string, signature: unknown) => boolean,
): FieldProblem[] => {
  const path = envelope.path;
  if (type === 'alias')
    return [
      {
        path: `${path}/type`,
        message:
          'alias is not accepted from a verified source: merging two users must come from a server source',
      },
    ];
  const userId = idOf(raw['userId']);
  if (userId === null) return [];
  const signature = objectOf(raw['context'])[USER_SIGNATURE] ?? envelope.context?.[USER_SIGNATURE];
  return verify(userId, signature)
    ? []
    : [
        {
          path: `${path}/context/${USER_SIGNATURE}`,
          message: `the source is verified: a userId needs context.${USER_SIGNATURE}, the hex HMAC-SHA-256 of "user:" and the userId with HERALD_LINK_SECRET, computed by your server (or send only an anonymousId)`,
        },
      ];
};

/** The context as stored: a user id's signature vouches for one call and is not kept. */
const withoutSignature = (context: JsonObject): JsonObject => {
  if (!(USER_SIGNATURE in context)) return context;
  return Object.fromEntries(Object.entries(context).filter(([key]) => key !== USER_SIGNATURE));
};

export interface ParsedEvent {
  event: HeraldEvent;
  /**
   * The event's size as stored, in UTF-8 bytes: its body's JSON and a JSON list of its other
   * columns' text (a few bytes of quoting over what the row holds); checked against the limit.
   */
  bytes: number;
}

const isEventType = (value: unknown): value is EventType =>
  typeof value === 'string' && (eventTypes as readonly string[]).includes(value);

const idOf = (value: unknown): string | null =>
  typeof value === 'number'
    ? String(value)
    : typeof value === 'string' && value !== ''
      ? value
      : null;

/** The bytes each key of a batch's `context` adds to an event's JSON, and their sum. */
export const contextSizesOf = (
  context: JsonObject,
): { keys: ReadonlyMap<string, number>; total: number } => {
  const keys = new Map<string, number>();
  let total = 0;
  for (const [key, value] of Object.entries(context)) {
    // `"key":value,` as the event's body writes it.
    const bytes =
      Buffer.byteLength(JSON.stringify(key)) + Buffer.byteLength(JSON.stringify(value)) + 2;
    keys.set(key, bytes);
    total += bytes;
  }
  return { keys, total };
};

const objectOf = (value: unknown): JsonObject =>
  typeof value === 'object' && value !== null ? (value as JsonObject) : {};

const isPresent = (value: unknown): boolean => value !== undefined && value !== null;

/** The body fields an event keeps, by the names the client sent them under. */
const storedFields = (type: EventType): string[] => [
  'messageId',
  'userId',
  'anonymousId',
  'previousId',
  'groupId',
  type === 'track' ? 'event' : 'name',
  'properties',
  'traits',
  'context',
];

const kilobytes = (bytes: number): string => `${Number((bytes / 1024).toFixed(1))} KB`;

/** An ISO-8601 time in milliseconds (`isoTimeMs`), or a problem naming the field. */
const parseTime = (value: unknown, path: string, problems: FieldProblem[]): number | null => {
  if (value === undefined || value === null) return null;
  const ms = typeof value === 'string' ? isoTimeMs(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    const text = typeof value === 'string' ? value.trim() : '';
    problems.push({
      path,
      message:
        /^\d{4}-\d{2}-\d{2}/.test(text) && !isCalendarDay(text)
          ? `names a day the calendar does not have: ${quotedJson(value, 80)}`
          : `is not an ISO-8601 date such as 2024-03-01T09:00:00Z: ${quotedJson(value, 80)}`,
    });
    return null;
  }
  return ms;
};

const requiredIds = (type: EventType, raw: JsonObject, path: string): FieldProblem[] => {
  const problems: FieldProblem[] = [];
  const has = (key: string) => idOf(raw[key]) !== null;
  // JSON numbers past 2^53 arrive rounded: two customers' int64 ids would become one.
  for (const key of ['userId', 'anonymousId', 'previousId', 'groupId']) {
    const value = raw[key];
    if (typeof value === 'number' && !Number.isSafeInteger(value))
      problems.push({
        path: `${path}/${key}`,
        message: unsafeIdMessage(value),
      });
  }
  // `anon:` names the profile of a visitor who has not identified; a user id must not collide.
  for (const key of ['userId', 'previousId']) {
    if (idOf(raw[key])?.startsWith('anon:') === true) {
      problems.push({
        path: `${path}/${key}`,
        message: 'must not start with "anon:" (reserved for anonymous visitors)',
      });
    }
  }
  if (type === 'alias') {
    if (!has('userId')) problems.push({ path: `${path}/userId`, message: 'is required for alias' });
    if (!has('previousId'))
      problems.push({ path: `${path}/previousId`, message: 'is required for alias' });
    return problems;
  }
  if (!has('userId') && !has('anonymousId')) {
    problems.push({ path: `${path}/userId`, message: 'userId or anonymousId is required' });
  }
  if (type === 'track' && typeof raw['event'] !== 'string') {
    problems.push({ path: `${path}/event`, message: 'is required for track (the event name)' });
  }
  if (type === 'group' && !has('groupId')) {
    problems.push({ path: `${path}/groupId`, message: 'is required for group' });
  }
  return problems;
};

// Order events whose amounts become revenue, refunds and lifetime value.
const ORDER_EVENTS = new Set(['Order Completed', 'Order Refunded', 'Order Cancelled']);
// Cart events whose amounts become the open cart's value (`updateCart`).
const CART_EVENTS = new Set([
  'Product Added',
  'Product Removed',
  'Cart Viewed',
  'Checkout Started',
]);
// A number as text: decimal digits only (`Number` would also read "0x10", "1e400" and "").
const DECIMAL_TEXT = /^\s*(?:\d+(?:\.\d*)?|\.\d+)\s*$/;

const isAmount = (value: unknown): boolean =>
  typeof value === 'number'
    ? Number.isFinite(value) && value >= 0
    : typeof value === 'string' && DECIMAL_TEXT.test(value) && Number.isFinite(Number(value));

const amountProblem = (value: unknown, path: string): FieldProblem[] =>
  value === undefined || value === null || isAmount(value)
    ? []
    : [
        {
          path,
          message: `must be an amount of 0 or more (a number, or decimal digits as text), not ${quotedJson(value, 40)}`,
        },
      ];

/**
 * An order event's amounts: `total`, `revenue`, `value` and each product's `price` and
 * `quantity`, where present, must be amounts — an order of "abc" or −30 would otherwise count
 * as an order of $0 or lower lifetime value without a word. A refund is its own event.
 */
const orderAmountProblems = (props: JsonObject, path: string): FieldProblem[] => {
  const problems = ['total', 'revenue', 'value'].flatMap((key) =>
    amountProblem(props[key], `${path}/properties/${key}`),
  );
  problems.push(...productAmountProblems(props['products'], path));
  if (problems.length > 0) return problems;
  // An order's value is counted in whole cents, exactly, by every store (PostgreSQL's bigint
  // columns refuse more): whichever of these amounts it is taken from stays within that.
  return [
    ...['total', 'revenue', 'value'].map((key) => ({ key, part: { [key]: props[key] } })),
    { key: 'products', part: { products: props['products'] } },
  ].flatMap(({ key, part }) =>
    valueProblem('an order', orderValueCents(part), `${path}/properties/${key}`),
  );
};

/** Each product's `price` and `quantity` in a list of products, where present. */
const productAmountProblems = (products: unknown, path: string): FieldProblem[] =>
  Array.isArray(products)
    ? products.flatMap((product, i) => {
        const item = objectOf(product);
        return ['price', 'quantity'].flatMap((key) =>
          amountProblem(item[key], `${path}/properties/products/${i}/${key}`),
        );
      })
    : [];

const valueProblem = (what: string, cents: number, path: string): FieldProblem[] =>
  cents <= MAX_ORDER_VALUE * 100
    ? []
    : [
        {
          path,
          message: `${what}'s value must be at most ${MAX_ORDER_VALUE.toFixed(2)} (whole cents counted exactly), not ${(cents / 100).toExponential(3)}`,
        },
      ];

/**
 * A cart event's amounts, which become the open cart's value (and so the cart offer's tier): a
 * product added or removed (`price`, `quantity`) or a cart's list of products, each an amount
 * where present, and the cart's value within what orders may hold — a price of −50 or "abc"
 * would otherwise open a cart of negative or no value without a word, and 1e300 one of
 * infinite value, which no store keeps.
 */
const cartAmountProblems = (name: string, props: JsonObject, path: string): FieldProblem[] => {
  if (name === 'Product Added' || name === 'Product Removed') {
    const problems = ['price', 'quantity'].flatMap((key) =>
      amountProblem(props[key], `${path}/properties/${key}`),
    );
    if (problems.length > 0) return problems;
    const line = [{ price: props['price'], quantity: props['quantity'] }];
    return valueProblem('a cart line', cartValueCents(line), `${path}/properties/price`);
  }
  const problems = productAmountProblems(props['products'], path);
  if (problems.length > 0) return problems;
  const products = props['products'];
  return Array.isArray(products)
    ? valueProblem('a cart', cartValueCents(products), `${path}/properties/products`)
    : [];
};

/** The longest order id, as every other id Herald keeps (`userId`, `messageId` …). */
export const MAX_ORDER_ID_CHARS = 256;

/**
 * The longest push device token, in UTF-8 bytes (FCM's are about 160 characters, APNs' 64): a
 * token is a key of the device table, and a longer one was past what PostgreSQL's index holds.
 */
export const MAX_DEVICE_TOKEN_BYTES = 2048;

/**
 * An order's or a product's id sent as a number JSON cannot carry exactly (past 2^53, as 64-bit
 * order ids are): two orders would become one, and the second customer's be dropped as the
 * first's. Refused, as a user id is.
 */
const unsafeIdProblems = (props: JsonObject, path: string): FieldProblem[] => {
  const unsafe = (object: JsonObject, keys: readonly string[], at: string): FieldProblem[] =>
    keys.flatMap((key) => {
      const value = object[key];
      return typeof value === 'number' && !Number.isSafeInteger(value)
        ? [{ path: `${at}/${key}`, message: unsafeIdMessage(value) }]
        : [];
    });
  // An order id is a key of the orders table: longer than any id Herald keeps (256 characters),
  // it was past what PostgreSQL's index holds, and the whole batch failed with it.
  const long = ORDER_ID_KEYS.flatMap((key) => {
    const value = props[key];
    return typeof value === 'string' && value.length > MAX_ORDER_ID_CHARS
      ? [
          {
            path: `${path}/properties/${key}`,
            message: `is ${String(value.length)} characters; an order id may have at most ${String(MAX_ORDER_ID_CHARS)}`,
          },
        ]
      : [];
  });
  const products = props['products'];
  return [
    ...long,
    ...unsafe(props, [...ORDER_ID_KEYS, ...PRODUCT_ID_KEYS], `${path}/properties`),
    ...(Array.isArray(products)
      ? products.flatMap((p, i) =>
          unsafe(objectOf(p), PRODUCT_ID_KEYS, `${path}/properties/products/${String(i)}`),
        )
      : []),
  ];
};

/** The amounts and ids of an order or cart event (others are left alone). */
const amountProblems = (raw: JsonObject, path: string): FieldProblem[] => {
  const name = raw['event'];
  if (typeof name !== 'string') return [];
  const props = objectOf(raw['properties']);
  if (ORDER_EVENTS.has(name))
    return [...unsafeIdProblems(props, path), ...orderAmountProblems(props, path)];
  if (CART_EVENTS.has(name))
    return [...unsafeIdProblems(props, path), ...cartAmountProblems(name, props, path)];
  return [];
};

/**
 * Consent written so that Herald cannot read it: an identify's answer in `traits.consent` for a
 * channel Herald sends on (`{ email: { marketing: "maybe" } }`), or a `Consent Updated`'s
 * `granted`, present but neither a yes nor a no (`asConsentAnswer`). Taken as saying nothing, as
 * before, an opt-out in words Herald did not know left the grant before it standing. The shapes
 * are those `updateConsent` reads; an unknown channel in traits (a cookie banner's `analytics`)
 * is not Herald's to judge.
 */
const consentProblems = (type: EventType, raw: JsonObject, path: string): FieldProblem[] => {
  const unreadable = (value: unknown, at: string, or = ''): FieldProblem[] =>
    value === undefined ||
    value === null ||
    isNoConsentAnswer(value) ||
    asConsentAnswer(value) !== null
      ? []
      : [
          {
            path: at,
            message: `must be a yes or a no (${CONSENT_ANSWERS}; "pending" or "unknown" for no answer yet)${or}, not ${quotedJson(value, 40)}`,
          },
        ];
  if (type === 'track')
    return raw['event'] === 'Consent Updated'
      ? unreadable(asObject(raw['properties'])?.['granted'], `${path}/properties/granted`)
      : [];
  const byChannel = type === 'identify' ? asObject(asObject(raw['traits'])?.['consent']) : null;
  if (byChannel === null) return [];
  return Object.entries(byChannel).flatMap(([name, purposes]) => {
    if (channelOf(name) === null) return [];
    const at = `${path}/traits/consent${pointerStep(name)}`;
    const detail = asObject(purposes);
    if (detail === null) return unreadable(purposes, at, ' or its purposes ({ marketing: … })');
    if (Object.hasOwn(detail, 'granted')) return unreadable(detail['granted'], `${at}/granted`);
    return Object.entries(detail).flatMap(([purpose, value]) => {
      if (purpose === 'source') return [];
      const of = `${at}${pointerStep(purpose)}`;
      const entry = asObject(value);
      return entry === null
        ? unreadable(value, of, ' or { granted, source }')
        : unreadable(entry['granted'], `${of}/granted`);
    });
  });
};

/**
 * A `birthday` trait Herald cannot read as a calendar day (`1990-13-01`, `02/03`, `1990-02-30`,
 * a number): stored and never greeted, without a word, it was; refused now with its path.
 * Null or an empty text says there is none.
 */
const birthdayProblems = (type: EventType, raw: JsonObject, path: string): FieldProblem[] => {
  if (type !== 'identify') return [];
  const value = asObject(raw['traits'])?.['birthday'];
  if (value === undefined || value === null || value === '') return [];
  return birthdayMonthDay(value) === null
    ? [
        {
          path: `${path}/traits/birthday`,
          message: `must be ${BIRTHDAY_FORMS}, not ${quotedJson(value, 40)}`,
        },
      ]
    : [];
};

/** The largest order value whose cents are exact as a JavaScript number (about 9 × 10^13). */
const MAX_ORDER_VALUE = Math.floor(Number.MAX_SAFE_INTEGER / 100);

/**
 * Segment's clock-skew correction: when the client says when it sent the request (`sentAt`),
 * `timestamp = receivedAt − (sentAt − originalTimestamp)`; otherwise the client's timestamp, or
 * `receivedAt` when there is none.
 */
export const correctTimestamp = (
  originalMs: number | null,
  sentAtMs: number | null,
  receivedAtMs: number,
): number => {
  if (originalMs === null) return receivedAtMs;
  if (sentAtMs === null) return originalMs;
  return receivedAtMs - (sentAtMs - originalMs);
};

/**
 * Where a value nested too deeply was sent: a context's field may be the batch's, merged into
 * each event's — then it is named where the client wrote it, at `/context/…`, not inside an
 * event that never held it. `at` is where the merged value goes too deep.
 */
const deepestSent = (
  at: string,
  field: 'properties' | 'traits' | 'context',
  raw: JsonObject,
  envelope: EventEnvelope,
): string => {
  if (field !== 'context' || envelope.context === null) return at;
  const own = objectOf(raw['context']);
  if (tooDeepAt(own, `${envelope.path}/context`) !== null) return at;
  const inherited = Object.fromEntries(
    Object.entries(envelope.context).filter(([key]) => !(key in own)),
  );
  return tooDeepAt(inherited, '/context') ?? at;
};

const checkRange = (
  ms: number,
  receivedAtMs: number,
  limits: IngestLimits,
  path: string,
  correctedBy: string,
): FieldProblem[] => {
  if (ms > receivedAtMs + limits.maxFutureMs) {
    // Rounded up to a tenth: never shown as within the limit it is past ("24 h … limit: 24 h").
    const hours = Math.ceil(((ms - receivedAtMs) / HOUR_MS) * 10) / 10;
    return [
      {
        path,
        message: `is ${String(hours)} h in the future${correctedBy === '' ? '' : `, after clock correction${correctedBy}`} (limit: ${String(limits.maxFutureMs / HOUR_MS)} h)`,
      },
    ];
  }
  if (ms < limits.earliestTimestampMs) {
    return [
      {
        path,
        message: `is before ${new Date(limits.earliestTimestampMs).toISOString()}, the earliest accepted${correctedBy === '' ? '' : `, after clock correction${correctedBy}`}`,
      },
    ];
  }
  return [];
};

/** Validates one Segment call and normalises it into a Herald event, or says what is wrong and where. */
export const parseEvent = (
  input: unknown,
  envelope: EventEnvelope,
  limits: IngestLimits,
): Result<ParsedEvent, FieldProblem[]> => {
  const path = envelope.path;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return err([{ path, message: 'must be a JSON object' }]);
  }
  // A call that carries a `receivedAt` was exported (a Segment archive replayed through
  // `/v1/import`): history, dated as `herald import events` dates it. Corrected against this
  // request's clock, a year-old call would happen now — and start a welcome, offer a cart.
  const given = input as JsonObject;
  const archived = !isBlank(given['receivedAt']);
  const raw = archived ? asHistory(given) : given;
  const type = envelope.type ?? raw['type'];
  if (!isEventType(type)) {
    return err([{ path: `${path}/type`, message: `must be one of ${eventTypes.join(', ')}` }]);
  }
  const shapeProblems = rawEventChecker.Check(raw)
    ? []
    : [...rawEventChecker.Errors(raw)].slice(0, 10).map((e) => ({
        path: `${path}${e.path}`,
        message:
          e.message === 'Expected union value' && typeof e.schema.description === 'string'
            ? `must be ${e.schema.description}`
            : e.message,
      }));
  // Every problem of the event at once: the checks below read their fields defensively, and
  // say nothing more of a field whose shape is already wrong.
  const problems = requiredIds(type, raw, path);
  if (envelope.verifyUser !== undefined && shapeProblems.length === 0)
    problems.push(...unverifiedUser(type, raw, envelope, envelope.verifyUser));
  if (type === 'track') problems.push(...amountProblems(raw, path));
  if (shapeProblems.length === 0)
    problems.push(...consentProblems(type, raw, path), ...birthdayProblems(type, raw, path));
  const timeField = isPresent(raw['timestamp']) ? 'timestamp' : 'originalTimestamp';
  const originalMs = parseTime(raw[timeField], `${path}/${timeField}`, problems);
  // Without its own sentAt the event uses the batch's, which sits at the request's root; an
  // exported call's times are settled (its own sentAt is spent by `asHistory`).
  const sentAtPath = isPresent(raw['sentAt']) ? `${path}/sentAt` : '/sentAt';
  const sentAtMs = archived
    ? null
    : parseTime(isPresent(raw['sentAt']) ? raw['sentAt'] : envelope.sentAt, sentAtPath, problems);
  // An exported call's own times are checked as a live call's are: what is not a time is
  // refused at its field, never passed over.
  if (archived)
    for (const field of ['receivedAt', 'sentAt'] as const)
      if (!isBlank(given[field])) parseTime(given[field], `${path}/${field}`, problems);
  const told = (p: FieldProblem) =>
    shapeProblems.some((s) => p.path === s.path || p.path.startsWith(`${s.path}/`));
  // An exported call without a time of its own is dated by its receivedAt (or sentAt): one
  // that is no time is refused there, not again at a `timestamp` the client never sent.
  const borrowed =
    archived &&
    isBlank(given['timestamp']) &&
    isBlank(given['originalTimestamp']) &&
    problems.some((p) => p.path === `${path}/receivedAt` || p.path === `${path}/sentAt`);
  // A time out of range is said with the event's other problems, once its times were read.
  const timeFields = new Set([
    `${path}/${timeField}`,
    sentAtPath,
    `${path}/sentAt`,
    `${path}/receivedAt`,
  ]);
  const timesRead = !problems.some((p) => timeFields.has(p.path));
  const timestampMs = correctTimestamp(originalMs, sentAtMs, envelope.receivedAtMs);
  // Said at the field the time came from, and with the sentAt that moved it when one did.
  const range = timesRead
    ? checkRange(
        timestampMs,
        envelope.receivedAtMs,
        limits,
        `${path}/${timeField}`,
        originalMs !== null && sentAtMs !== null ? ` by ${sentAtPath}` : '',
      )
    : [];
  const unsent = (p: FieldProblem) => borrowed && p.path === `${path}/timestamp`;
  const all = [
    // A borrowed time that is not text fails the schema's check of `timestamp` as well.
    ...shapeProblems.filter((p) => !unsent(p)),
    ...problems.filter((p) => !told(p) && !unsent(p)),
    ...range,
  ];
  if (all.length > 0) return err(all);

  // What the batch's context alone adds, less the keys the event's own replaces: past the limit,
  // the event is refused here, not after copying, writing and counting all of it for each event
  // of the batch (a 240 KB context over 5,000 events held the request 6 s, before 2026-12-07).
  const sizes = envelope.contextSizes;
  if (sizes !== undefined && sizes.total > limits.maxEventBytes) {
    // (The signature is not kept either.)
    let kept = sizes.total - (sizes.keys.get(USER_SIGNATURE) ?? 0);
    for (const key of Object.keys(objectOf(raw['context'])))
      if (key !== USER_SIGNATURE) kept -= sizes.keys.get(key) ?? 0;
    if (kept > limits.maxEventBytes)
      return err([
        {
          path,
          message: `event is more than ${kept} bytes with the batch's context (/context); the limit is ${limits.maxEventBytes} bytes (${kilobytes(limits.maxEventBytes)})`,
        },
      ]);
  }
  const context = withoutSignature(
    envelope.context === null
      ? objectOf(raw['context'])
      : { ...envelope.context, ...objectOf(raw['context']) },
  );
  const token = objectOf(context['device'])['token'];
  if (typeof token === 'string' && Buffer.byteLength(token) > MAX_DEVICE_TOKEN_BYTES) {
    const own = objectOf(objectOf(raw['context'])['device'])['token'] !== undefined;
    return err([
      {
        path: own ? `${path}/context/device/token` : '/context/device/token',
        message: `is ${String(Buffer.byteLength(token))} bytes; a device token may have at most ${String(MAX_DEVICE_TOKEN_BYTES)}`,
      },
    ]);
  }
  const previousId = idOf(raw['previousId']);
  const groupId = idOf(raw['groupId']);
  const properties = objectOf(raw['properties']);
  const traits = objectOf(raw['traits']);
  for (const [field, value] of [
    ['properties', properties],
    ['traits', traits],
    ['context', context],
  ] as const) {
    const at = tooDeepAt(value, `${path}/${field}`);
    if (at !== null)
      return err([{ path: deepestSent(at, field, raw, envelope), message: tooDeepMessage }]);
  }
  // Serialised once: the checks below read this text, and the store keeps it as the body.
  const bodyJson = serialiseEventBody({ previousId, groupId, properties, traits, context });
  const event: HeraldEvent = {
    messageId: toMessageId(
      typeof raw['messageId'] === 'string' ? raw['messageId'] : envelope.newMessageId(),
    ),
    sourceId: envelope.sourceId,
    type,
    userId: idOf(raw['userId']),
    anonymousId: idOf(raw['anonymousId']),
    previousId,
    groupId,
    name: type === 'track' ? (raw['event'] as string) : idOf(raw['name']),
    properties,
    traits,
    context,
    timestampMs,
    receivedAtMs: envelope.receivedAtMs,
    bodyJson,
  };
  // The text of the event's other columns, checked and counted with the body.
  const columns = JSON.stringify([
    event.messageId,
    event.sourceId,
    event.type,
    event.userId,
    event.anonymousId,
    event.name,
  ]);
  const json = columns + bodyJson;
  // Report bad text where the client put it: the stored `name` of a track call is its `event`,
  // and the batch context sits at the request's root.
  const bad = findBadText(json, () => {
    // Indexed by name: as a JSON object, not the checked shape `raw` is narrowed to.
    const body: JsonObject = raw;
    const stored = Object.fromEntries(
      storedFields(type).flatMap((key) => (key in body ? [[key, body[key]]] : [])),
    );
    return [
      [stored, path],
      ...(envelope.context === null ? [] : [[envelope.context, '/context'] as const]),
      [event, path],
    ];
  });
  if (bad !== null) return err([bad]);
  const bytes = Buffer.byteLength(json);
  if (bytes > limits.maxEventBytes) {
    return err([
      {
        path,
        message: `event is ${bytes} bytes; the limit is ${limits.maxEventBytes} bytes (${kilobytes(limits.maxEventBytes)})`,
      },
    ]);
  }
  return ok({ event, bytes });
};
