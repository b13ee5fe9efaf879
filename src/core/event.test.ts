import { describe, expect, it, vi } from 'vitest';
import {
  serialiseEventBody,
  withBodyParsedOnRead,
  withCustomerId,
  type EventHead,
  type HeraldEvent,
} from './event.js';
import { toCustomerId, toMessageId, toSourceId } from './ids.js';

const head: EventHead = {
  messageId: toMessageId('m1'),
  sourceId: toSourceId('import-events'),
  type: 'track',
  userId: 'u1',
  anonymousId: null,
  previousId: null,
  groupId: null,
  name: 'Order Completed',
  timestampMs: 1_700_000_000_000,
  receivedAtMs: 1_700_000_001_000,
};
const body = {
  previousId: null,
  groupId: null,
  properties: { order_id: 'o1', total: 40 },
  traits: {},
  context: { ip: '203.0.113.9', library: { name: 'analytics.js' } },
};
const eager = (): HeraldEvent => ({ ...head, ...body, bodyJson: serialiseEventBody(body) });
const lazy = (): HeraldEvent => withBodyParsedOnRead({ ...head }, serialiseEventBody(body));
const c1 = toCustomerId('u1');

describe('events whose body is parsed on read', () => {
  it('read, compare, spread and serialise as the event parsed at once', () => {
    expect(lazy()).toEqual(eager());
    expect({ ...lazy() }).toEqual(eager());
    expect(JSON.parse(JSON.stringify(lazy()))).toEqual(JSON.parse(JSON.stringify(eager())));
    expect(structuredClone(lazy())).toEqual(eager());
    expect(Object.keys(lazy())).toEqual(expect.arrayContaining(Object.keys(eager())));
  });

  it('parse the body once, at the first read, and not at all when nothing reads it', () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const event = lazy();
      const filed = withCustomerId(event, c1);
      expect(parse).not.toHaveBeenCalled();
      expect(filed.customerId).toBe(c1);
      expect(filed.bodyJson).toBe(event.bodyJson);
      expect(filed.properties).toEqual(body.properties);
      expect(event.context).toEqual(body.context);
      expect(filed.traits).toEqual({});
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('copy as a spread does: the customer added, a field set kept, the original unchanged', () => {
    expect(withCustomerId(lazy(), c1)).toEqual({ ...eager(), customerId: c1 });
    const changed = lazy();
    changed.properties = { order_id: 'o2' };
    const copy = withCustomerId(changed, c1);
    expect(copy.properties).toEqual({ order_id: 'o2' });
    expect(copy.context).toEqual(body.context);
    const original = lazy();
    const filed = withCustomerId(original, c1);
    filed.traits = { email: 'a@example.com' };
    expect(original.traits).toEqual({});
    expect(filed).toEqual({ ...eager(), traits: { email: 'a@example.com' }, customerId: c1 });
    // A field the copy does not know of is copied too (the spread's way).
    const stored = { ...lazy(), seq: 7 };
    expect(withCustomerId(stored, c1)).toMatchObject({ seq: 7, customerId: c1 });
    const extended = Object.assign(lazy(), { seq: 8 });
    expect(withCustomerId(extended, c1)).toEqual({ ...eager(), seq: 8, customerId: c1 });
  });

  it('copy an ordinary event with a spread', () => {
    expect(withCustomerId(eager(), c1)).toEqual({ ...eager(), customerId: c1 });
  });
});
