import type { HeraldEvent } from '../../src/core/event.js';
import { toMessageId, toSourceId } from '../../src/core/ids.js';

let counter = 0;

/** A valid track event; override any field. */
export const aTrack = (overrides: Partial<HeraldEvent> = {}): HeraldEvent => {
  counter += 1;
  return {
    messageId: toMessageId(`m-${counter}`),
    sourceId: toSourceId('test'),
    type: 'track',
    userId: 'u1',
    anonymousId: null,
    previousId: null,
    groupId: null,
    name: 'Product Viewed',
    properties: {},
    traits: {},
    context: {},
    timestampMs: Date.UTC(2026, 0, 1),
    receivedAtMs: Date.UTC(2026, 0, 1),
    ...overrides,
  };
};
