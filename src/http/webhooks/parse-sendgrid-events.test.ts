import { describe, expect, it } from 'vitest';
import { parseSendGridEvents, type ParsedSendGridEvents } from './parse-sendgrid-events.js';

const anEvent = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  email: 'ada@example.com',
  timestamp: 1764590000,
  'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
  event: 'delivered',
  category: ['welcome'],
  sg_event_id: 'evt-1',
  sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
  herald_message_id: 'msg-1',
  ...fields,
});

const parsed = (body: unknown): ParsedSendGridEvents => {
  const result = parseSendGridEvents(body);
  if (!result.ok) throw new Error(`expected a list, got ${result.error.kind}`);
  return result.value;
};

describe('parseSendGridEvents', () => {
  it('reads a delivery with our message id, the email and the time in ms', () => {
    expect(parsed([anEvent()])).toEqual({
      events: [
        {
          eventId: 'evt-1',
          messageId: 'msg-1',
          providerMessageId: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
          email: 'ada@example.com',
          atMs: 1764590000000,
          kind: 'delivered',
        },
      ],
      malformed: [],
    });
  });

  it('reads which attempt the event is about from the herald_attempt custom arg', () => {
    expect(parsed([anEvent({ herald_attempt: '2' })]).events[0]).toMatchObject({ attempt: 2 });
    // A custom arg that is no attempt number (or none, before attempts were named) names none.
    for (const other of [{ herald_attempt: 'x' }, { herald_attempt: '0' }, {}])
      expect(parsed([anEvent(other)]).events[0]).not.toHaveProperty('attempt');
  });

  it.each([
    ['delivered', {}, 'delivered'],
    ['bounce', { type: 'bounce' }, 'bounced-hard'],
    ['bounce', { type: 'blocked' }, 'bounced-soft'],
    ['bounce', {}, 'bounced-hard'],
    ['dropped', {}, 'dropped'],
    ['spamreport', {}, 'complained'],
    ['unsubscribe', {}, 'unsubscribed'],
    ['group_unsubscribe', { asm_group_id: 42 }, 'unsubscribed'],
    ['open', { sg_machine_open: false }, 'opened'],
    ['click', { url: 'https://example.com/offer' }, 'clicked'],
  ])('maps %s %o to %s', (event, fields, kind) => {
    const [first] = parsed([anEvent({ event, ...fields })]).events;
    expect(first?.kind).toBe(kind);
  });

  it('keeps the reason of a bounce and of a drop', () => {
    const { events } = parsed([
      anEvent({ event: 'bounce', type: 'bounce', reason: '550 5.1.1 unknown user' }),
      anEvent({ event: 'dropped', sg_event_id: 'evt-2', reason: 'Bounced Address' }),
    ]);
    expect(events.map((e) => e.reason)).toEqual(['550 5.1.1 unknown user', 'Bounced Address']);
  });

  it('keeps the link of a click', () => {
    const { events } = parsed([anEvent({ event: 'click', url: 'https://example.com/offer' })]);
    expect(events[0]?.url).toBe('https://example.com/offer');
  });

  it('gives a null message id to an event sent without our custom arg', () => {
    const event = anEvent();
    delete event.herald_message_id;
    delete event.sg_message_id;
    const [first] = parsed([event]).events;
    expect(first?.messageId).toBeNull();
    expect(first?.providerMessageId).toBeNull();
  });

  it('reads processed and deferred as accepted, and skips events it does not know', () => {
    const result = parsed([
      anEvent({ event: 'processed', sg_event_id: 'evt-p' }),
      anEvent({ event: 'deferred', sg_event_id: 'evt-d', attempt: '5', response: '400 later' }),
      anEvent({ event: 'group_resubscribe' }),
      anEvent({ event: 'delivered', sg_event_id: 'evt-kept' }),
    ]);
    expect(result.events.map((e) => [e.eventId, e.kind])).toEqual([
      ['evt-p', 'accepted'],
      ['evt-d', 'accepted'],
      ['evt-kept', 'delivered'],
    ]);
    expect(result.malformed).toEqual([]);
  });

  it('reports malformed entries by index and keeps the rest of the batch', () => {
    const result = parsed([
      'not an event',
      anEvent({ sg_event_id: undefined }),
      anEvent({ event: undefined }),
      anEvent({ sg_event_id: 'evt-ok' }),
      anEvent({ timestamp: '1764590000' }),
      anEvent({ email: 42 }),
      anEvent({ event: 'click' }),
      anEvent({ event: 'bounce', type: 'sideways' }),
      anEvent({ herald_message_id: 7 }),
      null,
    ]);
    expect(result.events.map((e) => e.eventId)).toEqual(['evt-ok']);
    expect(result.malformed.map((m) => m.index)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    expect(result.malformed.every((m) => m.problem.length > 0)).toBe(true);
  });

  it('returns an empty result for an empty batch', () => {
    expect(parsed([])).toEqual({ events: [], malformed: [] });
  });

  it.each([[{ event: 'delivered' }], ['[]'], [null], [undefined], [42]])(
    'refuses a body that is not a list: %o',
    (body) => {
      expect(parseSendGridEvents(body)).toEqual({ ok: false, error: { kind: 'not-a-list' } });
    },
  );

  it('skips the opens SendGrid flags as machine opens (Apple Mail Privacy Protection), keeping the rest', () => {
    const result = parsed([
      anEvent({ event: 'open', sg_event_id: 'evt-mpp', sg_machine_open: true }),
      anEvent({ event: 'open', sg_event_id: 'evt-person', sg_machine_open: false }),
      anEvent({ event: 'open', sg_event_id: 'evt-unflagged' }),
    ]);
    expect(result.events.map((e) => [e.eventId, e.kind])).toEqual([
      ['evt-person', 'opened'],
      ['evt-unflagged', 'opened'],
    ]);
    expect(result.malformed).toEqual([]);
  });

  it('does not treat inherited property names as events', () => {
    const result = parsed([anEvent({ event: 'constructor' }), anEvent({ event: 'toString' })]);
    expect(result).toEqual({ events: [], malformed: [] });
  });
});
