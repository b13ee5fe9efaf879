import { describe, expect, it } from 'vitest';
import { toSourceId } from '../../core/ids.js';
import { HOUR_MS, SECOND_MS } from '../../core/time.js';
import type { IngestLimits } from './ingest-limits.js';
import { parseRequest, type RequestContext } from './parse-request.js';

const receivedAt = Date.parse('2026-03-01T12:00:00.000Z');

const segmentLimits: IngestLimits = {
  maxEventBytes: 32 * 1024,
  maxBatchBytes: 500 * 1024,
  maxFutureMs: 24 * HOUR_MS,
  earliestTimestampMs: Date.parse('2000-01-01T00:00:00.000Z'),
};

/** A request context whose message ids count up from 1, so each test starts fresh. */
const aContext = (): RequestContext => {
  let next = 0;
  return {
    sourceId: toSourceId('shop'),
    receivedAtMs: receivedAt,
    newMessageId: () => {
      next += 1;
      return `gen-${next}`;
    },
  };
};

const aTrackCall = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'track',
  userId: 'u1',
  event: 'Product Viewed',
  ...overrides,
});

describe('parseRequest', () => {
  describe('a single call', () => {
    it('accepts the call with the type of its route', () => {
      const parsed = parseRequest(
        { userId: 'u1', traits: { plan: 'pro' } },
        'identify',
        aContext(),
        segmentLimits,
      );
      expect(parsed.rejected).toEqual([]);
      expect(parsed.problems).toEqual([]);
      expect(parsed.events).toHaveLength(1);
      expect(parsed.events[0]).toMatchObject({
        type: 'identify',
        userId: 'u1',
        traits: { plan: 'pro' },
        sourceId: 'shop',
        messageId: 'gen-1',
        receivedAtMs: receivedAt,
      });
    });

    it('rejects an invalid call as event 0, with its messageId and field paths', () => {
      const parsed = parseRequest(
        { messageId: 'm-9', event: 'Clicked' },
        'track',
        aContext(),
        segmentLimits,
      );
      expect(parsed.events).toEqual([]);
      expect(parsed.problems).toEqual([]);
      expect(parsed.rejected).toEqual([
        {
          index: 0,
          messageId: 'm-9',
          problems: [{ path: '/userId', message: 'userId or anonymousId is required' }],
        },
      ]);
    });

    it('rejects a body that is not an object at the root, the empty pointer', () => {
      const parsed = parseRequest('hello', 'page', aContext(), segmentLimits);
      expect(parsed.events).toEqual([]);
      expect(parsed.rejected).toEqual([
        { index: 0, messageId: null, problems: [{ path: '', message: 'must be a JSON object' }] },
      ]);
    });

    it('ignores a sentAt of nobody’s batch', () => {
      const parsed = parseRequest(
        { userId: 'u1', name: 'Home', timestamp: '2026-03-01T11:00:00.000Z' },
        'page',
        aContext(),
        segmentLimits,
      );
      expect(parsed.events[0]?.timestampMs).toBe(Date.parse('2026-03-01T11:00:00.000Z'));
    });
  });

  describe('a batch', () => {
    it('accepts the valid events and lists the invalid ones with their index', () => {
      const parsed = parseRequest(
        {
          batch: [
            aTrackCall({ messageId: 'ok-0' }),
            aTrackCall({ messageId: 'bad-1', event: undefined }),
            { type: 'identify', messageId: 'ok-2', anonymousId: 'dev-1' },
            aTrackCall({ messageId: 'bad-3', userId: true }),
            { type: 'page', messageId: 'ok-4', userId: 'u2', name: 'Home' },
          ],
        },
        'batch',
        aContext(),
        segmentLimits,
      );
      expect(parsed.problems).toEqual([]);
      expect(parsed.events.map((e) => e.messageId)).toEqual(['ok-0', 'ok-2', 'ok-4']);
      expect(parsed.events.map((e) => e.type)).toEqual(['track', 'identify', 'page']);
      expect(parsed.rejected.map((r) => [r.index, r.messageId])).toEqual([
        [1, 'bad-1'],
        [3, 'bad-3'],
      ]);
      expect(parsed.rejected[0]?.problems.map((p) => p.path)).toEqual(['/batch/1/event']);
      expect(parsed.rejected[1]?.problems.map((p) => p.path)).toContain('/batch/3/userId');
    });

    it('rejects every event when none is valid, and accepts none', () => {
      const parsed = parseRequest(
        { batch: [{ type: 'track' }, 'not an event', { type: 'unknown', userId: 'u' }] },
        'batch',
        aContext(),
        segmentLimits,
      );
      expect(parsed.events).toEqual([]);
      expect(parsed.rejected.map((r) => r.problems[0]?.path)).toEqual([
        '/batch/0/userId',
        '/batch/1',
        '/batch/2/type',
      ]);
      expect(parsed.rejected.map((r) => r.messageId)).toEqual([null, null, null]);
    });

    it('requires each batch item to carry its type', () => {
      const parsed = parseRequest(
        { batch: [{ userId: 'u1', event: 'Clicked' }] },
        'batch',
        aContext(),
        segmentLimits,
      );
      expect(parsed.rejected[0]?.problems).toEqual([
        {
          path: '/batch/0/type',
          message: 'must be one of identify, track, page, screen, group, alias',
        },
      ]);
    });

    it('reports a wrong type at the path of the batch item', () => {
      const batch = [aTrackCall(), aTrackCall(), aTrackCall(), aTrackCall({ userId: ['u1'] })];
      const parsed = parseRequest({ batch }, 'batch', aContext(), segmentLimits);
      expect(parsed.events).toHaveLength(3);
      expect(parsed.rejected).toHaveLength(1);
      expect(parsed.rejected[0]?.index).toBe(3);
      expect(parsed.rejected[0]?.problems.map((p) => p.path)).toContain('/batch/3/userId');
    });

    it('gives every event without a messageId its own', () => {
      const parsed = parseRequest(
        { batch: [aTrackCall(), aTrackCall(), aTrackCall({ messageId: 'mine' })] },
        'batch',
        aContext(),
        segmentLimits,
      );
      expect(parsed.events.map((e) => e.messageId)).toEqual(['gen-1', 'gen-2', 'mine']);
    });

    it('corrects every event by the batch sentAt unless the event has its own', () => {
      const parsed = parseRequest(
        {
          sentAt: '2026-03-01T09:00:10.000Z',
          batch: [
            aTrackCall({ timestamp: '2026-03-01T09:00:00.000Z' }),
            aTrackCall({
              timestamp: '2026-03-01T09:00:00.000Z',
              sentAt: '2026-03-01T09:00:01.000Z',
            }),
            aTrackCall(),
          ],
        },
        'batch',
        aContext(),
        segmentLimits,
      );
      expect(parsed.events.map((e) => receivedAt - e.timestampMs)).toEqual([
        10 * SECOND_MS,
        1 * SECOND_MS,
        0,
      ]);
    });

    it('rejects the events when the batch sentAt is not a date, naming it', () => {
      const parsed = parseRequest(
        { sentAt: 'a while ago', batch: [aTrackCall({ timestamp: '2026-03-01T09:00:00.000Z' })] },
        'batch',
        aContext(),
        segmentLimits,
      );
      expect(parsed.events).toEqual([]);
      expect(parsed.rejected[0]?.problems.map((p) => p.path)).toEqual(['/sentAt']);
    });

    it('merges the batch context under each event’s', () => {
      const parsed = parseRequest(
        {
          context: { library: { name: 'analytics-node' }, ip: '1.1.1.1' },
          batch: [aTrackCall(), aTrackCall({ context: { ip: '2.2.2.2' } })],
        },
        'batch',
        aContext(),
        segmentLimits,
      );
      expect(parsed.events.map((e) => e.context)).toEqual([
        { library: { name: 'analytics-node' }, ip: '1.1.1.1' },
        { library: { name: 'analytics-node' }, ip: '2.2.2.2' },
      ]);
    });

    it('refuses a batch whose context, stored with each event, would come to more than 4 × the batch limit', () => {
      // 480 KB: 31 KB of context over 5,000 tiny events stored 155 MB.
      const request = (events: number) => ({
        context: { blob: 'x'.repeat(31_000) },
        batch: Array.from({ length: events }, () => ({ type: 'track', event: 'e', userId: 'u' })),
      });
      const refused = parseRequest(request(5_000), 'batch', aContext(), segmentLimits);
      expect(refused).toMatchObject({ events: [], rejected: [], tooLarge: true });
      expect(refused.problems).toEqual([
        {
          path: '/context',
          message: `the batch's context (31010 bytes), stored with each of its 5000 events, comes to 155050000 bytes; the limit is ${String(4 * segmentLimits.maxBatchBytes)} bytes (4 × the batch limit): send fewer events a batch, or a smaller context`,
        },
      ]);
      // Under it, the batch is read.
      const fits = Math.floor((4 * segmentLimits.maxBatchBytes) / 31_010);
      const read = parseRequest(request(fits), 'batch', aContext(), segmentLimits);
      expect(read.events).toHaveLength(fits);
      expect(read.tooLarge).toBeUndefined();
    });

    it('refuses the events a batch context too large for them would fill, before putting them together', () => {
      const blob = 'x'.repeat(40_000);
      const parsed = parseRequest(
        {
          context: { blob, ip: '1.1.1.1' },
          batch: [
            aTrackCall(),
            aTrackCall({ context: { ip: '2.2.2.2' } }),
            // Its own `blob` replaces the batch's: it fits.
            aTrackCall({ context: { blob: 'small' } }),
          ],
        },
        'batch',
        aContext(),
        segmentLimits,
      );
      expect(parsed.rejected.map((r) => [r.index, r.problems[0]?.message])).toEqual([
        [
          0,
          expect.stringMatching(
            /^event is more than 400\d\d bytes with the batch's context \(\/context\); the limit is 32768 bytes/,
          ),
        ],
        [1, expect.stringMatching(/^event is more than 400\d\d bytes with the batch's context/)],
      ]);
      expect(parsed.events.map((e) => e.context)).toEqual([{ blob: 'small', ip: '1.1.1.1' }]);
    });

    it('stamps every event with the source and the receive time', () => {
      const parsed = parseRequest(
        { batch: [aTrackCall(), { type: 'identify', userId: 'u2' }] },
        'batch',
        aContext(),
        segmentLimits,
      );
      for (const event of parsed.events) {
        expect(event.sourceId).toBe('shop');
        expect(event.receivedAtMs).toBe(receivedAt);
      }
    });

    it('rejects an empty batch as a request problem', () => {
      expect(parseRequest({ batch: [] }, 'batch', aContext(), segmentLimits)).toEqual({
        events: [],
        rejected: [],
        problems: [{ path: '/batch', message: 'is empty' }],
      });
    });

    it('rejects a body without a batch array', () => {
      for (const body of [{}, { batch: { 0: aTrackCall() } }, { batch: 'x' }]) {
        expect(parseRequest(body, 'batch', aContext(), segmentLimits)).toEqual({
          events: [],
          rejected: [],
          problems: [{ path: '/batch', message: 'must be an array of events' }],
        });
      }
    });

    it('rejects a body that is not an object', () => {
      for (const body of [null, [aTrackCall()], 'batch', 3]) {
        expect(parseRequest(body, 'batch', aContext(), segmentLimits)).toEqual({
          events: [],
          rejected: [],
          problems: [{ path: '', message: 'must be a JSON object with a "batch" array' }],
        });
      }
    });
  });
});
