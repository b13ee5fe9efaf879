import type { CustomerId, MessageId, SourceId } from './ids.js';

/** The six calls of the Segment tracking spec. */
export type EventType = 'identify' | 'track' | 'page' | 'screen' | 'group' | 'alias';
export const eventTypes: readonly EventType[] = [
  'identify',
  'track',
  'page',
  'screen',
  'group',
  'alias',
];

export type JsonObject = Record<string, unknown>;

/** A validated, clock-corrected event as Herald stores it. */
export interface HeraldEvent {
  messageId: MessageId;
  sourceId: SourceId;
  type: EventType;
  userId: string | null;
  anonymousId: string | null;
  /** `alias`: the id being merged into `userId`. */
  previousId: string | null;
  /** `group`: the account id. */
  groupId: string | null;
  /** `track`: the event name (`Order Completed`); `page`/`screen`: the page name. */
  name: string | null;
  properties: JsonObject;
  traits: JsonObject;
  context: JsonObject;
  /** When it happened, corrected for the sender's clock skew (Segment's rule). */
  timestampMs: number;
  /** When Herald received it. */
  receivedAtMs: number;
  /**
   * The stored body (`eventBodyJson`) as `parseEvent` serialised it to check the event, kept so
   * that storing the event does not serialise it again. Only `parseEvent` sets it; events are
   * never changed after that, and a copy that changed a body field would have to leave it out.
   */
  bodyJson?: string;
}

/** The parts of an event stored as one JSON document beside its columns. */
export type EventBody = Pick<
  HeraldEvent,
  'previousId' | 'groupId' | 'properties' | 'traits' | 'context'
>;

/** The body's JSON, as stored: the one place that writes its shape. */
export const serialiseEventBody = (b: EventBody): string =>
  JSON.stringify({
    previousId: b.previousId,
    groupId: b.groupId,
    properties: b.properties,
    traits: b.traits,
    context: b.context,
  });

/** An event's body as stored: what `parseEvent` serialised, or serialised now. */
export const eventBodyJson = (e: HeraldEvent): string => e.bodyJson ?? serialiseEventBody(e);

/** Where an event made by `withBodyParsedOnRead` keeps its body's JSON, and the body once read. */
const BODY = Symbol('event body');
/** Marks such an event one of whose body fields was set: its copies cannot share the body. */
const SET = Symbol('body field set');

interface BodyHolder {
  json: string;
  body: EventBody | undefined;
}

type WithBody = { [BODY]: BodyHolder };

const bodyOf = (event: WithBody): EventBody => {
  const holder = event[BODY];
  holder.body ??= JSON.parse(holder.json) as EventBody;
  return holder.body;
};

/** A body field read from the body, parsed at the first read; set, it is the object's own. */
const bodyField = (key: 'properties' | 'traits' | 'context'): PropertyDescriptor => ({
  get(this: WithBody) {
    return bodyOf(this)[key];
  },
  set(this: WithBody, value: unknown) {
    Object.defineProperty(this, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    Object.defineProperty(this, SET, { value: true });
  },
  enumerable: true,
  configurable: true,
});

/** The same descriptors for every such event: no functions made per event. */
const BODY_FIELDS: PropertyDescriptorMap = {
  properties: bodyField('properties'),
  traits: bodyField('traits'),
  context: bodyField('context'),
};

/** An event's fields other than the three its body's JSON holds. */
export type EventHead = Omit<HeraldEvent, 'properties' | 'traits' | 'context' | 'bodyJson'>;

/**
 * An event whose `properties`, `traits` and `context` are parsed from `bodyJson` (as
 * `serialiseEventBody` wrote it, with `previousId` and `groupId` equal to the head's) the first
 * time one of them is read, then kept. Most events a bulk load stores are never read before
 * they are stored: an import hands each one's body over as JSON, and parsing them all was a
 * tenth of its main thread. Otherwise an ordinary event: its fields are own and enumerable, so
 * a spread or a comparison reads them (and parses the body) — `withCustomerId` copies one
 * without.
 */
export const withBodyParsedOnRead = <H extends EventHead>(
  head: H,
  bodyJson: string,
): H & HeraldEvent => {
  const event = head as H & HeraldEvent & WithBody;
  event.bodyJson = bodyJson;
  Object.defineProperty(event, BODY, { value: { json: bodyJson, body: undefined } });
  return Object.defineProperties(event, BODY_FIELDS);
};

/** The fields `withBodyParsedOnRead` leaves an event: its head's, `bodyJson` and the body's. */
const LAZY_EVENT_KEYS = 14;

/** Whether an event is as `withBodyParsedOnRead` made it: no field added, none of the body's set. */
const untouched = (event: object): boolean =>
  !Object.prototype.hasOwnProperty.call(event, SET) &&
  Object.keys(event).length === LAZY_EVENT_KEYS;

/**
 * The event filed under a customer: a copy with `customerId`, as a spread makes it. One made by
 * `withBodyParsedOnRead` and left as it was shares its body with the copy, parsed or not.
 */
export const withCustomerId = <E extends HeraldEvent>(
  event: E,
  customerId: CustomerId,
): E & { customerId: CustomerId } => {
  const holder = (event as Partial<WithBody>)[BODY];
  if (holder === undefined || !untouched(event)) return { ...event, customerId };
  const copy = {
    messageId: event.messageId,
    sourceId: event.sourceId,
    type: event.type,
    userId: event.userId,
    anonymousId: event.anonymousId,
    previousId: event.previousId,
    groupId: event.groupId,
    name: event.name,
    timestampMs: event.timestampMs,
    receivedAtMs: event.receivedAtMs,
    bodyJson: event.bodyJson,
    customerId,
  };
  Object.defineProperty(copy, BODY, { value: holder });
  return Object.defineProperties(copy, BODY_FIELDS) as unknown as E & { customerId: CustomerId };
};

/** An event after identity resolution, as stored. */
export interface StoredEvent extends HeraldEvent {
  seq: number;
  customerId: CustomerId;
}
