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

/** An event after identity resolution, as stored. */
export interface StoredEvent extends HeraldEvent {
  seq: number;
  customerId: CustomerId;
}
