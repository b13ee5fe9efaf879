import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FieldProblem } from '../../core/errors.js';
import { toSourceId } from '../../core/ids.js';
import type { Result } from '../../core/result.js';
import { verifyUserSignature } from '../../core/signed-token.js';
import { HOUR_MS, MINUTE_MS, SECOND_MS } from '../../core/time.js';
import type { IngestLimits } from './ingest-limits.js';
import {
  correctTimestamp,
  parseEvent,
  type EventEnvelope,
  type ParsedEvent,
} from './parse-event.js';

const receivedAt = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

const segmentLimits: IngestLimits = {
  maxEventBytes: 32 * 1024,
  maxBatchBytes: 500 * 1024,
  maxFutureMs: 24 * HOUR_MS,
  earliestTimestampMs: Date.parse('2000-01-01T00:00:00.000Z'),
};

const anEnvelope = (overrides: Partial<EventEnvelope> = {}): EventEnvelope => ({
  sourceId: toSourceId('web'),
  receivedAtMs: receivedAt,
  type: null,
  sentAt: undefined,
  context: null,
  path: '',
  newMessageId: () => 'generated-id',
  ...overrides,
});

const aTrackCall = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'track',
  messageId: 'm-1',
  userId: 'u1',
  event: 'Order Completed',
  properties: { total: 10 },
  ...overrides,
});

const parse = (
  input: unknown,
  envelope: Partial<EventEnvelope> = {},
  limits: IngestLimits = segmentLimits,
): Result<ParsedEvent, FieldProblem[]> => parseEvent(input, anEnvelope(envelope), limits);

const accepted = (result: Result<ParsedEvent, FieldProblem[]>): ParsedEvent => {
  if (!result.ok)
    throw new Error(`expected the event to be accepted: ${JSON.stringify(result.error)}`);
  return result.value;
};

const problemsOf = (result: Result<ParsedEvent, FieldProblem[]>): FieldProblem[] => {
  if (result.ok) throw new Error('expected the event to be rejected');
  return result.error;
};

const pathsOf = (result: Result<ParsedEvent, FieldProblem[]>): string[] =>
  problemsOf(result).map((p) => p.path);

/** The paths of the problems of a `track` call of `event` with these properties. */
const trackPaths = (event: string, properties: Record<string, unknown>): string[] =>
  pathsOf(parse(aTrackCall({ event, properties })));

describe('correctTimestamp', () => {
  it('shifts the client time by the client clock skew: receivedAt − (sentAt − originalTimestamp)', () => {
    const original = Date.parse('2026-03-01T10:00:00.000Z');
    const sentAt = Date.parse('2026-03-01T10:00:05.000Z');
    expect(correctTimestamp(original, sentAt, receivedAt)).toBe(
      Date.parse('2026-03-01T11:59:55.000Z'),
    );
  });

  it('cancels a client clock that runs two days fast', () => {
    const skew = 48 * HOUR_MS;
    const happened = receivedAt - 3 * SECOND_MS;
    expect(correctTimestamp(happened + skew, receivedAt + skew, receivedAt)).toBe(happened);
  });

  it('keeps the client time when the client does not say when it sent the request', () => {
    expect(correctTimestamp(receivedAt - HOUR_MS, null, receivedAt)).toBe(receivedAt - HOUR_MS);
  });

  it('uses the receive time when the event carries no time', () => {
    expect(correctTimestamp(null, receivedAt - HOUR_MS, receivedAt)).toBe(receivedAt);
    expect(correctTimestamp(null, null, receivedAt)).toBe(receivedAt);
  });
});

describe('parseEvent', () => {
  describe('normalising', () => {
    it('turns a track call into a Herald event', () => {
      const { event, bytes } = accepted(
        parse({
          ...aTrackCall(),
          anonymousId: 'dev-1',
          context: { ip: '203.0.113.9' },
          integrations: { All: true },
        }),
      );
      expect(event).toEqual({
        messageId: 'm-1',
        sourceId: 'web',
        type: 'track',
        userId: 'u1',
        anonymousId: 'dev-1',
        previousId: null,
        groupId: null,
        name: 'Order Completed',
        properties: { total: 10 },
        traits: {},
        context: { ip: '203.0.113.9' },
        timestampMs: receivedAt,
        receivedAtMs: receivedAt,
        bodyJson: JSON.stringify({
          previousId: null,
          groupId: null,
          properties: { total: 10 },
          traits: {},
          context: { ip: '203.0.113.9' },
        }),
      });
      // What is stored: the body and the other columns' text.
      expect(bytes).toBe(
        Buffer.byteLength(event.bodyJson ?? '') +
          Buffer.byteLength(
            JSON.stringify(['m-1', 'web', 'track', 'u1', 'dev-1', 'Order Completed']),
          ),
      );
    });

    it('gives an event without a messageId a new one', () => {
      const event = accepted(parse(aTrackCall({ messageId: undefined }))).event;
      expect(event.messageId).toBe('generated-id');
    });

    it('turns numeric ids into strings', () => {
      const event = accepted(parse(aTrackCall({ userId: 42, anonymousId: 7 }))).event;
      expect(event.userId).toBe('42');
      expect(event.anonymousId).toBe('7');
    });

    it('takes the type from the route over the body', () => {
      const event = accepted(
        parse({ type: 'identify', userId: 'u1', event: 'Signed Up' }, { type: 'track' }),
      ).event;
      expect(event.type).toBe('track');
      expect(event.name).toBe('Signed Up');
    });

    it('keeps the page name of a page call', () => {
      const event = accepted(parse({ type: 'page', anonymousId: 'a1', name: 'Pricing' })).event;
      expect(event.name).toBe('Pricing');
      expect(event.userId).toBeNull();
    });

    it('keeps the previous id of an alias and the group id of a group call', () => {
      expect(
        accepted(parse({ type: 'alias', userId: 'u1', previousId: 'anon-9' })).event,
      ).toMatchObject({
        type: 'alias',
        previousId: 'anon-9',
      });
      expect(accepted(parse({ type: 'group', userId: 'u1', groupId: 'acme' })).event).toMatchObject(
        {
          type: 'group',
          groupId: 'acme',
        },
      );
    });

    it('merges the batch context under the event’s own', () => {
      const event = accepted(
        parse(aTrackCall({ context: { ip: 'event-ip' } }), {
          context: { ip: 'batch-ip', library: { name: 'analytics-node' } },
        }),
      ).event;
      expect(event.context).toEqual({ ip: 'event-ip', library: { name: 'analytics-node' } });
    });

    it('refuses an order id and a device token longer than the tables keep, naming them', () => {
      // Past PostgreSQL's index limit, each failed the whole batch with a 500.
      const longOrder = parse(aTrackCall({ properties: { total: 10, order_id: 'o'.repeat(257) } }));
      expect(problemsOf(longOrder)).toEqual([
        {
          path: '/properties/order_id',
          message: 'is 257 characters; an order id may have at most 256',
        },
      ]);
      expect(parse(aTrackCall({ properties: { total: 10, orderId: 'o'.repeat(256) } })).ok).toBe(
        true,
      );
      const device = (token: string) => ({ device: { token, type: 'ios' } });
      expect(problemsOf(parse(aTrackCall({ context: device('t'.repeat(2049)) })))).toEqual([
        {
          path: '/context/device/token',
          message: 'is 2049 bytes; a device token may have at most 2048',
        },
      ]);
      // Counted in bytes: 700 three-byte characters are 2,100.
      expect(
        pathsOf(parse(aTrackCall(), { path: '/batch/2', context: device('€'.repeat(700)) })),
      ).toEqual(['/context/device/token']);
      expect(
        pathsOf(
          parse(aTrackCall({ context: device('€'.repeat(700)) }), {
            path: '/batch/2',
            context: { ip: '1.1.1.1' },
          }),
        ),
      ).toEqual(['/batch/2/context/device/token']);
      expect(parse(aTrackCall({ context: device('t'.repeat(2048)) })).ok).toBe(true);
    });

    it('names a batch context nested too deeply where the client wrote it', () => {
      let deep: Record<string, unknown> = {};
      for (let i = 0; i < 70; i += 1) deep = { d: deep };
      const batchDeep = parse(aTrackCall(), { path: '/batch/3', context: { x: deep } });
      expect(pathsOf(batchDeep)[0]).toMatch(/^\/context\/x\/d\/d\//);
      // The event's own context is named in the event, and a batch field it overrides is none.
      const ownDeep = parse(aTrackCall({ context: { x: deep } }), {
        path: '/batch/3',
        context: { ip: '1.2.3.4' },
      });
      expect(pathsOf(ownDeep)[0]).toMatch(/^\/batch\/3\/context\/x\/d\//);
      const overridden = parse(aTrackCall({ context: { x: 'flat' } }), {
        path: '/batch/3',
        context: { x: deep },
      });
      expect(overridden.ok).toBe(true);
    });
  });

  describe('timestamps', () => {
    it('corrects the event time by the event’s own sentAt', () => {
      const event = accepted(
        parse(
          aTrackCall({
            timestamp: '2026-03-01T10:00:00.000Z',
            sentAt: '2026-03-01T10:00:05.000Z',
          }),
        ),
      ).event;
      expect(event.timestampMs).toBe(Date.parse('2026-03-01T11:59:55.000Z'));
      expect(event.receivedAtMs).toBe(receivedAt);
    });

    it('corrects the event time by the batch’s sentAt when the event has none', () => {
      const event = accepted(
        parse(aTrackCall({ timestamp: '2026-03-01T10:00:00.000Z' }), {
          sentAt: '2026-03-01T10:01:00.000Z',
        }),
      ).event;
      expect(event.timestampMs).toBe(receivedAt - MINUTE_MS);
    });

    it('prefers the event’s sentAt over the batch’s', () => {
      const event = accepted(
        parse(
          aTrackCall({
            timestamp: '2026-03-01T10:00:00.000Z',
            sentAt: '2026-03-01T10:00:10.000Z',
          }),
          { sentAt: '2026-03-01T10:05:00.000Z' },
        ),
      ).event;
      expect(event.timestampMs).toBe(receivedAt - 10 * SECOND_MS);
    });

    it('reads originalTimestamp when there is no timestamp', () => {
      const event = accepted(
        parse(
          aTrackCall({
            originalTimestamp: '2026-03-01T10:00:00.000Z',
            sentAt: '2026-03-01T10:00:02.000Z',
          }),
        ),
      ).event;
      expect(event.timestampMs).toBe(receivedAt - 2 * SECOND_MS);
    });

    it('dates an exported call (it carries receivedAt) by its own settled times, never now', () => {
      // A year-old call from a Segment archive, replayed through /v1/import with its times.
      const yearAgo = receivedAt - 365 * 24 * HOUR_MS;
      const archived = {
        timestamp: iso(yearAgo),
        originalTimestamp: iso(yearAgo - 3 * SECOND_MS),
        sentAt: iso(yearAgo + 2 * SECOND_MS),
        receivedAt: iso(yearAgo + 3 * SECOND_MS),
      };
      // Its timestamp is final, whatever sentAt it or its batch holds.
      const batch = { sentAt: iso(receivedAt) };
      expect(accepted(parse(aTrackCall(archived), batch)).event.timestampMs).toBe(yearAgo);
      // Without one, Segment's correction against the call's own receipt.
      const untimed: Record<string, unknown> = { ...archived };
      delete untimed['timestamp'];
      expect(accepted(parse(aTrackCall(untimed), batch)).event.timestampMs).toBe(
        yearAgo + 3 * SECOND_MS - 5 * SECOND_MS,
      );
      // A live call (no receivedAt) is corrected against this request, as before.
      const live: Record<string, unknown> = { ...archived };
      delete live['receivedAt'];
      expect(accepted(parse(aTrackCall(live))).event.timestampMs).toBe(receivedAt - 2 * SECOND_MS);
      // Its times are checked all the same.
      const garbled = parse(
        aTrackCall({ ...archived, receivedAt: 'whenever', sentAt: 'yesterday' }),
      );
      expect(garbled.ok ? [] : garbled.error.map((p) => p.path)).toEqual([
        '/receivedAt',
        '/sentAt',
      ]);
      // With no time of its own it is dated by its receivedAt: refused there, and only there.
      const bare = parse(aTrackCall({ receivedAt: 'nope' }));
      expect(bare.ok ? [] : bare.error.map((p) => p.path)).toEqual(['/receivedAt']);
      // Not text either: the schema's check of the borrowed `timestamp` is not said too.
      const numeric = parse(aTrackCall({ receivedAt: 1717243200000 }));
      expect(numeric.ok ? [] : numeric.error.map((p) => p.path)).toEqual(['/receivedAt']);
      // Left blank, as `herald import events` reads it: no time, not a wrong one.
      expect(parse(aTrackCall({ ...archived, sentAt: '' })).ok).toBe(true);
      expect(accepted(parse(aTrackCall({ ...archived, receivedAt: '' }))).event.timestampMs).toBe(
        receivedAt - 2 * SECOND_MS,
      );
    });

    it('keeps the client time as sent when nobody says when it was sent', () => {
      const event = accepted(parse(aTrackCall({ timestamp: '2025-12-24T18:00:00.000Z' }))).event;
      expect(event.timestampMs).toBe(Date.parse('2025-12-24T18:00:00.000Z'));
    });

    it('accepts an event from a client whose clock runs two days fast', () => {
      const fast = receivedAt + 48 * HOUR_MS;
      const event = accepted(
        parse(aTrackCall({ timestamp: iso(fast - 5 * SECOND_MS), sentAt: iso(fast) })),
      ).event;
      expect(event.timestampMs).toBe(receivedAt - 5 * SECOND_MS);
    });

    it('rejects an event more than the limit in the future after correction', () => {
      const problems = problemsOf(parse(aTrackCall({ timestamp: iso(receivedAt + 25 * HOUR_MS) })));
      expect(problems).toEqual([
        {
          path: '/timestamp',
          message: 'is 25 h in the future (limit: 24 h)',
        },
      ]);
      // Past the limit by minutes: not shown as at it.
      const justPast = problemsOf(
        parse(aTrackCall({ timestamp: iso(receivedAt + 24 * HOUR_MS + 20 * MINUTE_MS) })),
      );
      expect(justPast[0]?.message).toBe('is 24.4 h in the future (limit: 24 h)');
    });

    it('names the field the out-of-range time came from, and the sentAt that moved it', () => {
      const onlyOriginal = problemsOf(
        parse(aTrackCall({ originalTimestamp: '2099-01-01T00:00:00Z' }), { path: '/batch/0' }),
      );
      expect(onlyOriginal.map((p) => p.path)).toEqual(['/batch/0/originalTimestamp']);
      expect(onlyOriginal[0]?.message).toMatch(/in the future \(limit/);
      const movedByBatchSentAt = problemsOf(
        parse(aTrackCall({ timestamp: iso(receivedAt) }), {
          path: '/batch/1',
          sentAt: '1990-01-01T00:00:00Z',
        }),
      );
      expect(movedByBatchSentAt).toEqual([
        {
          path: '/batch/1/timestamp',
          message: expect.stringMatching(
            /^is [\d.]+ h in the future, after clock correction by \/sentAt \(limit: 24 h\)$/,
          ) as unknown,
        },
      ]);
      const pulledBack = problemsOf(
        parse(
          aTrackCall({
            timestamp: '2001-01-01T00:00:00Z',
            sentAt: iso(receivedAt + 30 * 365 * 24 * HOUR_MS),
          }),
        ),
      );
      expect(pulledBack).toEqual([
        {
          path: '/timestamp',
          message: expect.stringMatching(
            /^is before .*, the earliest accepted, after clock correction by \/sentAt$/,
          ) as unknown,
        },
      ]);
    });

    it('accepts an event exactly at the future limit', () => {
      const event = accepted(
        parse(aTrackCall({ timestamp: iso(receivedAt + 24 * HOUR_MS) })),
      ).event;
      expect(event.timestampMs).toBe(receivedAt + 24 * HOUR_MS);
    });

    it('rejects an event before the earliest accepted time, naming it', () => {
      const problems = problemsOf(
        parse(aTrackCall({ timestamp: '1999-12-31T23:59:59.999Z' }), { path: '/batch/4' }),
      );
      expect(problems).toEqual([
        {
          path: '/batch/4/timestamp',
          message: 'is before 2000-01-01T00:00:00.000Z, the earliest accepted',
        },
      ]);
    });

    it('accepts an event exactly at the earliest accepted time', () => {
      const event = accepted(parse(aTrackCall({ timestamp: '2000-01-01T00:00:00.000Z' }))).event;
      expect(event.timestampMs).toBe(segmentLimits.earliestTimestampMs);
    });

    it('rejects a timestamp that is not a date, with its path', () => {
      const problems = problemsOf(
        parse(aTrackCall({ timestamp: 'yesterday' }), { path: '/batch/1' }),
      );
      expect(problems).toHaveLength(1);
      expect(problems[0]?.path).toBe('/batch/1/timestamp');
      expect(problems[0]?.message).toMatch(/not an ISO-8601 date .*: "yesterday"/);
    });

    it('reads only ISO 8601, and a time without a zone as UTC whatever the server’s zone', () => {
      const at = (timestamp: string) =>
        accepted(parse(aTrackCall({ timestamp }))).event.timestampMs;
      // Node reads TZ again when it changes: a server in Berlin.
      const zone = process.env['TZ'];
      process.env['TZ'] = 'Europe/Berlin';
      try {
        expect(at('2024-03-01T09:00:00')).toBe(Date.UTC(2024, 2, 1, 9));
        expect(at('2024-03-01 09:00:00')).toBe(Date.UTC(2024, 2, 1, 9));
      } finally {
        if (zone === undefined) delete process.env['TZ'];
        else process.env['TZ'] = zone;
      }
      expect(at('2024-03-01T09:00:00.123456+00:00')).toBe(Date.UTC(2024, 2, 1, 9, 0, 0, 123));
      expect(at('2024-03-01T09:00:00+0100')).toBe(Date.UTC(2024, 2, 1, 8));
      expect(at('2024-03-01T09:00:00+01')).toBe(Date.UTC(2024, 2, 1, 8));
      expect(at('2024-03-01')).toBe(Date.UTC(2024, 2, 1));
      // Date.parse alone reads "1" as 2001 and "March 1, 2024" as a date.
      for (const timestamp of ['1', 'March 1, 2024', '2024-13-01T00:00:00Z', '01/03/2024'])
        expect(pathsOf(parse(aTrackCall({ timestamp })))).toEqual(['/timestamp']);
    });

    it('names originalTimestamp when that is the field that is not a date', () => {
      expect(
        pathsOf(parse(aTrackCall({ originalTimestamp: 'soon' }), { path: '/batch/2' })),
      ).toEqual(['/batch/2/originalTimestamp']);
    });

    it('rejects an event sentAt that is not a date', () => {
      expect(pathsOf(parse(aTrackCall({ sentAt: 'now-ish' }), { path: '/batch/0' }))).toEqual([
        '/batch/0/sentAt',
      ]);
    });

    it('names the batch sentAt when the batch’s own sentAt is not a date', () => {
      expect(pathsOf(parse(aTrackCall(), { path: '/batch/0', sentAt: 'later' }))).toEqual([
        '/sentAt',
      ]);
    });
  });

  describe('required fields', () => {
    it('requires a userId or an anonymousId', () => {
      expect(problemsOf(parse(aTrackCall({ userId: undefined })))).toEqual([
        { path: '/userId', message: 'userId or anonymousId is required' },
      ]);
      expect(
        pathsOf(parse(aTrackCall({ userId: null, anonymousId: null }), { path: '/batch/2' })),
      ).toEqual(['/batch/2/userId']);
    });

    it('accepts an anonymous event', () => {
      const event = accepted(parse(aTrackCall({ userId: undefined, anonymousId: 'dev-1' }))).event;
      expect(event.anonymousId).toBe('dev-1');
    });

    it('rejects an empty userId', () => {
      expect(pathsOf(parse(aTrackCall({ userId: '' })))).toContain('/userId');
    });

    it('requires the event name of a track call', () => {
      expect(problemsOf(parse(aTrackCall({ event: undefined })))).toEqual([
        { path: '/event', message: 'is required for track (the event name)' },
      ]);
      expect(pathsOf(parse(aTrackCall({ event: '' })))).toEqual(['/event']);
    });

    it('requires both ids of an alias', () => {
      expect(problemsOf(parse({ type: 'alias', anonymousId: 'a1' }, { path: '/batch/0' }))).toEqual(
        [
          { path: '/batch/0/userId', message: 'is required for alias' },
          { path: '/batch/0/previousId', message: 'is required for alias' },
        ],
      );
      expect(pathsOf(parse({ type: 'alias', userId: 'u1' }))).toEqual(['/previousId']);
    });

    it('requires the group id of a group call', () => {
      expect(problemsOf(parse({ type: 'group', userId: 'u1' }))).toEqual([
        { path: '/groupId', message: 'is required for group' },
      ]);
    });

    it('requires a known type', () => {
      expect(pathsOf(parse({ userId: 'u1' }, { path: '/batch/5' }))).toEqual(['/batch/5/type']);
      const problems = problemsOf(parse({ type: 'purchase', userId: 'u1' }));
      expect(problems[0]?.message).toBe(
        'must be one of identify, track, page, screen, group, alias',
      );
    });

    it('reports every missing field and bad date at once', () => {
      expect(
        pathsOf(parse({ type: 'track', timestamp: 'nope', sentAt: 'never' }, { path: '/batch/1' })),
      ).toEqual(['/batch/1/userId', '/batch/1/event', '/batch/1/timestamp', '/batch/1/sentAt']);
    });
  });

  describe('wrong types', () => {
    it.each([
      ['userId', true],
      ['anonymousId', { id: 1 }],
      ['messageId', 42],
      ['event', 7],
      ['properties', 'lots'],
      ['properties', ['a']],
      ['traits', 3],
      ['context', 'web'],
      ['timestamp', 1767225600000],
      ['sentAt', false],
    ])('reports %s = %j at its path in the batch', (field, value) => {
      const problems = problemsOf(parse(aTrackCall({ [field]: value }), { path: '/batch/3' }));
      expect(problems.map((p) => p.path)).toContain(`/batch/3/${field}`);
    });

    it.each([
      ['userId', '', 'must be a string of 1–256 characters or a number, or null'],
      ['userId', {}, 'must be a string of 1–256 characters or a number, or null'],
      ['properties', [1], 'must be a JSON object or null'],
      ['timestamp', 1767225600000, 'must be an ISO-8601 date string (up to 64 characters) or null'],
      ['name', 5, 'must be a string of up to 512 characters or null'],
    ])('says what %s = %j must be', (field, value, message) => {
      expect(problemsOf(parse(aTrackCall({ [field]: value })))).toContainEqual({
        path: `/${field}`,
        message,
      });
    });

    it('reports a wrong type at the field path of a single call', () => {
      expect(pathsOf(parse(aTrackCall({ userId: false })))).toContain('/userId');
    });

    it('rejects a body that is not an object', () => {
      for (const body of [null, 'track', 12, ['a'], true]) {
        expect(problemsOf(parse(body))).toEqual([{ path: '', message: 'must be a JSON object' }]);
      }
      expect(problemsOf(parse([], { path: '/batch/2' }))).toEqual([
        { path: '/batch/2', message: 'must be a JSON object' },
      ]);
    });
  });

  describe('consent', () => {
    const identify = (consent: unknown) => ({
      type: 'identify',
      messageId: 'i-1',
      userId: 'u1',
      traits: { email: 'ana@example.com', consent },
    });

    it('refuses a consent answer it cannot read as a yes or a no, naming where it was written', () => {
      expect(pathsOf(parse(identify({ email: { marketing: 'maybe' } }), { path: '/b/0' }))).toEqual(
        ['/b/0/traits/consent/email/marketing'],
      );
      expect(
        pathsOf(
          parse(
            identify({
              SMS: 'later',
              whatsapp: { granted: 'unsure', source: 'crm' },
              push: { marketing: { granted: 2 }, 'news/letter': [], source: 'app' },
            }),
          ),
        ),
      ).toEqual([
        '/traits/consent/SMS',
        '/traits/consent/whatsapp/granted',
        '/traits/consent/push/marketing/granted',
        '/traits/consent/push/news~1letter',
      ]);
      const [problem] = problemsOf(parse(identify({ email: { marketing: 'maybe' } })));
      expect(problem?.message).toMatch(
        /^must be a yes or a no \(true\/false, .*"granted"\/"denied".*; "pending" or "unknown" for no answer yet\) or \{ granted, source \}, not "maybe"$/,
      );
      expect(
        problemsOf(
          parse(aTrackCall({ event: 'Consent Updated', properties: { granted: 'perhaps' } })),
        ),
      ).toEqual([
        { path: '/properties/granted', message: expect.stringMatching(/^must be a yes or a no/) },
      ]);
    });

    it('refuses a birthday that is no calendar day, and takes the forms SDKs and imports write', () => {
      const withBirthday = (birthday: unknown) => ({
        type: 'identify',
        messageId: 'i-2',
        userId: 'u1',
        traits: { birthday },
      });
      for (const bad of [
        '1990-13-01',
        '02/03',
        '1990-02-30',
        '1990-02-29',
        '1990-3-2',
        19900302,
        '1990-06-10T25:99:99Z',
        '1990-06-10T...Z',
      ])
        expect([bad, problemsOf(parse(withBirthday(bad)))]).toEqual([
          bad,
          [
            {
              path: '/traits/birthday',
              message: `must be YYYY-MM-DD (or MM-DD without a year; a time after the date is allowed), a day the calendar has, not ${JSON.stringify(bad).slice(0, 40)}`,
            },
          ],
        ]);
      for (const good of [
        '1990-06-10',
        '06-10',
        '2000-02-29',
        '02-29',
        '1990-02-15T00:00:00Z',
        '1990-06-10T00:00:00.000+02:00',
        '1990-06-10T00:00:00.000+0200',
        '1990-06-10 00:00:00',
        '1990-06-10 00:00',
        '--06-10',
        null,
        '',
      ])
        expect([good, parse(withBirthday(good)).ok]).toEqual([good, true]);
    });

    it('takes the words consent tools write, null as nothing said, and leaves channels it does not send on alone', () => {
      for (const answer of [
        'denied',
        'Opted Out',
        'opt_in',
        'pending',
        'Unknown',
        'UNSUBSCRIBED',
        'granted',
        'off',
        null,
      ])
        accepted(parse(identify({ email: { marketing: answer }, sms: answer })));
      accepted(parse(identify({ analytics: 'maybe', ads: { personalisation: 'later' } })));
      accepted(parse(aTrackCall({ event: 'Consent Updated', properties: { granted: 'denied' } })));
      accepted(parse(aTrackCall({ event: 'Consent Updated', properties: { channel: 'sms' } })));
    });
  });

  describe('order amounts', () => {
    it.each(['abc', -50, '-30', '0x10', '1e400', '', ' ', '1,5', '.', true, { v: 1 }])(
      'rejects an order total of %j, naming it',
      (total) => {
        const problems = problemsOf(parse(aTrackCall({ properties: { total } }), { path: '/b/1' }));
        expect(problems).toEqual([
          { path: '/b/1/properties/total', message: expect.stringMatching(/^must be an amount/) },
        ]);
      },
    );

    it.each([0, 19.99, '19.99', ' 20 ', '7', '.5', '20.'])(
      'accepts an order total of %j',
      (total) => {
        accepted(parse(aTrackCall({ properties: { total } })));
      },
    );

    it('checks revenue, value and each product of a refund or a cancellation too', () => {
      for (const event of ['Order Refunded', 'Order Cancelled'])
        expect(
          trackPaths(event, {
            revenue: -1,
            value: 'ten',
            products: [{ price: 5, quantity: 1 }, { price: '0x1', quantity: -2 }, 'x'],
          }),
        ).toEqual([
          '/properties/revenue',
          '/properties/value',
          '/properties/products/1/price',
          '/properties/products/1/quantity',
        ]);
    });

    it('rejects an order whose value is more than whole cents count exactly, naming where', () => {
      expect(problemsOf(parse(aTrackCall({ properties: { total: 1e17 } })))).toEqual([
        {
          path: '/properties/total',
          message: expect.stringMatching(/^an order's value must be at most 90071992547409\.00/),
        },
      ]);
      accepted(parse(aTrackCall({ properties: { products: [{ price: 19.99, quantity: 1.5 }] } })));
      expect(
        pathsOf(
          parse(
            aTrackCall({ properties: { products: [{ price: 90_000_000_000_000, quantity: 2 }] } }),
          ),
        ),
      ).toEqual(['/properties/products']);
      accepted(parse(aTrackCall({ properties: { total: 90_071_992_547_409 } })));
    });

    it('leaves the amounts of other events alone', () => {
      accepted(parse(aTrackCall({ event: 'Product Viewed', properties: { price: 'n/a' } })));
      accepted(parse(aTrackCall({ properties: { total: null } })));
    });
  });

  describe('cart amounts', () => {
    it.each(['Product Added', 'Product Removed'])(
      'rejects a %s whose price or quantity is not an amount, naming it',
      (event) => {
        for (const [price, quantity] of [
          [-50, 1],
          ['abc', 1],
          ['1e400', 1],
          [10, -2],
          [10, 'two'],
        ])
          expect(
            problemsOf(
              parse(aTrackCall({ event, properties: { product_id: 'p1', price, quantity } }), {
                path: '/b/3',
              }),
            ),
          ).toEqual([
            {
              path: expect.stringMatching(/^\/b\/3\/properties\/(price|quantity)$/),
              message: expect.stringMatching(/^must be an amount/),
            },
          ]);
        accepted(parse(aTrackCall({ event, properties: { product_id: 'p1', price: '19.99' } })));
        accepted(parse(aTrackCall({ event, properties: { product_id: 'p1' } })));
      },
    );

    it('rejects a cart line or a cart worth more than whole cents count exactly', () => {
      expect(
        problemsOf(
          parse(
            aTrackCall({
              event: 'Product Added',
              properties: { product_id: 'p1', price: 1e300, quantity: 1 },
            }),
          ),
        ),
      ).toEqual([
        {
          path: '/properties/price',
          message: expect.stringMatching(/^a cart line's value must be at most 90071992547409\.00/),
        },
      ]);
      // As the cart counts it: a quantity of 0 or a fraction is one or a whole number.
      for (const quantity of [0, 0.4, '0'])
        expect(trackPaths('Product Added', { product_id: 'p1', price: 1e306, quantity })).toEqual([
          '/properties/price',
        ]);
      expect(
        trackPaths('Cart Viewed', { products: [{ product_id: 'a', price: 1e306, quantity: 0 }] }),
      ).toEqual(['/properties/products']);
      for (const event of ['Cart Viewed', 'Checkout Started'])
        expect(
          problemsOf(
            parse(
              aTrackCall({
                event,
                properties: {
                  products: [
                    { product_id: 'a', price: 90_000_000_000_000, quantity: 1 },
                    { product_id: 'b', price: 90_000_000_000_000, quantity: 1 },
                  ],
                },
              }),
            ),
          ),
        ).toEqual([
          {
            path: '/properties/products',
            message: expect.stringMatching(/^a cart's value must be at most/),
          },
        ]);
    });

    it("checks each product of a cart's list", () => {
      for (const event of ['Cart Viewed', 'Checkout Started'])
        expect(
          trackPaths(event, {
            products: [
              { product_id: 'a', price: 5, quantity: 1 },
              { product_id: 'b', price: -5, quantity: 'x' },
            ],
          }),
        ).toEqual(['/properties/products/1/price', '/properties/products/1/quantity']);
    });
  });

  describe('size limit', () => {
    it('rejects an event over 32 KB, naming the limit', () => {
      const problems = problemsOf(
        parse(aTrackCall({ properties: { blob: 'x'.repeat(33 * 1024) } }), { path: '/batch/7' }),
      );
      expect(problems).toHaveLength(1);
      expect(problems[0]?.path).toBe('/batch/7');
      expect(problems[0]?.message).toMatch(
        /^event is \d+ bytes; the limit is 32768 bytes \(32 KB\)$/,
      );
    });

    it('accepts an event of exactly the limit and rejects one byte more', () => {
      const call = aTrackCall({ properties: { blob: 'x'.repeat(1000) } });
      const { bytes } = accepted(parse(call));
      expect(accepted(parse(call, {}, { ...segmentLimits, maxEventBytes: bytes })).bytes).toBe(
        bytes,
      );
      // The whole event: the empty pointer (RFC 6901), as for any whole body.
      expect(pathsOf(parse(call, {}, { ...segmentLimits, maxEventBytes: bytes - 1 }))).toEqual([
        '',
      ]);
    });

    it('counts UTF-8 bytes, not characters', () => {
      const call = aTrackCall({ properties: { note: 'é'.repeat(20_000) } });
      const message = problemsOf(parse(call))[0]?.message ?? '';
      expect(JSON.stringify(call).length).toBeLessThan(32 * 1024);
      expect(Number(/^event is (\d+) bytes/.exec(message)?.[1])).toBeGreaterThan(40_000);
    });

    it('names the configured limit, not Segment’s', () => {
      const limits = { ...segmentLimits, maxEventBytes: 2048 };
      const problems = problemsOf(
        parse(aTrackCall({ properties: { blob: 'x'.repeat(3000) } }), {}, limits),
      );
      expect(problems[0]?.message).toMatch(/the limit is 2048 bytes \(2 KB\)$/);
      expect(problems[0]?.message).not.toContain('32 KB');
    });
  });

  describe('text PostgreSQL cannot store', () => {
    it('rejects a NUL character with the path of the field that holds it', () => {
      const problems = problemsOf(
        parse(aTrackCall({ properties: { order: { note: 'a\u0000b' } } }), { path: '/batch/3' }),
      );
      expect(problems).toEqual([
        { path: '/batch/3/properties/order/note', message: 'contains a NUL character (U+0000)' },
      ]);
    });

    it('rejects unpaired surrogates, high or low', () => {
      expect(problemsOf(parse(aTrackCall({ userId: 'ab\ud83d' })))).toEqual([
        { path: '/userId', message: 'contains an unpaired UTF-16 surrogate' },
      ]);
      expect(
        problemsOf(parse({ type: 'identify', userId: 'u1', traits: { name: '\ude00x' } })),
      ).toEqual([{ path: '/traits/name', message: 'contains an unpaired UTF-16 surrogate' }]);
    });

    it('finds bad text inside arrays', () => {
      expect(pathsOf(parse(aTrackCall({ properties: { tags: ['ok', 'no\u0000'] } })))).toEqual([
        '/properties/tags/1',
      ]);
    });

    it('rejects a bad key, escaping the path like a JSON pointer', () => {
      expect(problemsOf(parse(aTrackCall({ properties: { 'a/b~\u0000': 1 } })))).toEqual([
        { path: '/properties/a~1b~0\u0000', message: 'key contains a NUL character (U+0000)' },
      ]);
      expect(pathsOf(parse(aTrackCall({ properties: { 'a/b': { 'c~d': '\ud800' } } })))).toEqual([
        '/properties/a~1b/c~0d',
      ]);
    });

    it('names the event field of a track call whose name is bad', () => {
      expect(
        pathsOf(parse(aTrackCall({ event: 'Order\u0000Completed' }), { path: '/batch/0' })),
      ).toEqual(['/batch/0/event']);
    });

    it('names the batch context when that is where the bad text is', () => {
      expect(
        pathsOf(
          parse(aTrackCall(), { path: '/batch/1', context: { library: { name: 'x\u0000' } } }),
        ),
      ).toEqual(['/context/library/name']);
    });

    it('accepts paired surrogates (emoji) and a literal backslash-u0000', () => {
      const event = accepted(
        parse(aTrackCall({ properties: { mood: '😀 ok', code: '\\u0000', lone: '\\ud800' } })),
      ).event;
      expect(event.properties).toEqual({ mood: '😀 ok', code: '\\u0000', lone: '\\ud800' });
    });
  });

  it('reports every problem of an event at once, a field of the wrong shape once', () => {
    const problems = problemsOf(
      parseEvent(
        { type: 'track', userId: '', timestamp: 'yesterday' },
        anEnvelope(),
        segmentLimits,
      ),
    );
    expect(problems.map((p) => p.path)).toEqual(['/userId', '/event', '/timestamp']);
    // Whatever the shapes, the later checks say nothing more of a field already named.
    for (const odd of [{}, [], 42, true, 'x', null])
      for (const field of ['userId', 'timestamp', 'sentAt', 'properties', 'event'])
        for (const type of ['track', 'identify', 'alias'])
          expect(() =>
            parseEvent({ type, userId: 'u1', [field]: odd }, anEnvelope(), segmentLimits),
          ).not.toThrow();
    const wrongTime = problemsOf(
      parseEvent(
        { type: 'track', userId: 'u1', event: 'X', timestamp: 42 },
        anEnvelope(),
        segmentLimits,
      ),
    );
    expect(wrongTime.map((p) => p.path)).toEqual(['/timestamp']);
  });

  it('refuses a numeric id JSON cannot carry exactly, and keeps one it can', () => {
    // 1234567890123456789 and …790 both parse as 1234567890123456800: one customer of two.
    const big = JSON.parse('{"userId": 1234567890123456789}') as { userId: number };
    const result = parseEvent(aTrackCall({ userId: big.userId }), anEnvelope(), segmentLimits);
    expect(result).toMatchObject({
      ok: false,
      error: [{ path: '/userId', message: expect.stringMatching(/send it as a string/) }],
    });
    const small = parseEvent(aTrackCall({ userId: 42 }), anEnvelope(), segmentLimits);
    expect(small).toMatchObject({ ok: true, value: { event: { userId: '42' } } });
  });

  it('refuses an order’s or a product’s numeric id JSON cannot carry exactly', () => {
    // Two shops' 64-bit order ids would be one order: the second customer's dropped.
    const { big } = JSON.parse('{"big": 1234567890123456789}') as { big: number };
    const order = parseEvent(
      aTrackCall({
        event: 'Order Completed',
        properties: { order_id: big, total: 100, products: [{ product_id: big, price: 100 }] },
      }),
      anEnvelope(),
      segmentLimits,
    );
    expect(order).toMatchObject({
      ok: false,
      error: [
        { path: '/properties/order_id', message: expect.stringMatching(/send it as a string/) },
        { path: '/properties/products/0/product_id' },
      ],
    });
    const cart = parseEvent(
      aTrackCall({ event: 'Product Added', properties: { product_id: big, price: 5 } }),
      anEnvelope(),
      segmentLimits,
    );
    expect(cart).toMatchObject({ ok: false, error: [{ path: '/properties/product_id' }] });
    // A safe one is an id like any other; other events' properties are left alone.
    for (const event of ['Order Completed', 'Order Refunded', 'Product Added'])
      expect(
        parseEvent(
          aTrackCall({ event, properties: { order_id: 42, product_id: 7, total: 1 } }),
          anEnvelope(),
          segmentLimits,
        ).ok,
        event,
      ).toBe(true);
    expect(
      parseEvent(
        aTrackCall({ event: 'Page Scrolled', properties: { order_id: big } }),
        anEnvelope(),
        segmentLimits,
      ).ok,
    ).toBe(true);
  });

  it('refuses a user id in the namespace of anonymous visitors', () => {
    const result = parseEvent(aTrackCall({ userId: 'anon:abc' }), anEnvelope(), segmentLimits);
    expect(result).toMatchObject({
      ok: false,
      error: [{ path: '/userId', message: expect.stringMatching(/anon:/) }],
    });
  });
});

describe('parseEvent from a verified source', () => {
  const secret = 'link-secret-for-tests-0123456789';
  const sign = (userId: string) =>
    createHmac('sha256', secret).update(`user:${userId}`).digest('hex');
  const verified = (overrides: Partial<EventEnvelope> = {}) => ({
    verifyUser: (userId: string, signature: unknown) =>
      verifyUserSignature(secret, userId, signature),
    ...overrides,
  });

  it('accepts a user id its signature vouches for, and does not keep the signature', () => {
    const { event } = accepted(
      parse(aTrackCall({ context: { userSignature: sign('u1'), ip: '1.2.3.4' } }), verified()),
    );
    expect(event.context).toEqual({ ip: '1.2.3.4' });
    expect(event.bodyJson).not.toContain(sign('u1'));
    // From the batch's context as well.
    const fromBatch = verified({ context: { userSignature: sign('u1') }, path: '/batch/0' });
    expect(accepted(parse(aTrackCall(), fromBatch)).event.context).toEqual({});
  });

  it('rejects a user id without a signature, or with one for another user, and says where', () => {
    for (const context of [{}, { userSignature: sign('u2') }, { userSignature: 'not-hex' }])
      expect(problemsOf(parse(aTrackCall({ context }), verified({ path: '/batch/3' })))).toEqual([
        {
          path: '/batch/3/context/userSignature',
          message: expect.stringMatching(
            /^the source is verified: a userId needs context\.userSignature/,
          ),
        },
      ]);
  });

  it('accepts an anonymous visitor without a signature, and refuses an alias', () => {
    const anonymous = aTrackCall({ userId: undefined, anonymousId: 'a-1' });
    expect(accepted(parse(anonymous, verified())).event.anonymousId).toBe('a-1');
    const alias = {
      type: 'alias',
      userId: 'u1',
      previousId: 'u2',
      context: { userSignature: sign('u1') },
    };
    expect(pathsOf(parse(alias, verified()))).toEqual(['/type']);
  });

  it('keeps no signature from another source either, and does not check it there', () => {
    const { event } = accepted(parse(aTrackCall({ context: { userSignature: 'anything' } })));
    expect(event.context).toEqual({});
  });
});
