import type { HeraldEvent } from '../../src/core/event.js';
import { toMessageId } from '../../src/core/ids.js';
import { anEvent } from '../../src/pipeline/profile/test-builders.js';

let counter = 0;

/** A valid track event with a messageId of its own (stores de-duplicate by it); override any field. */
export const aTrack = (overrides: Partial<HeraldEvent> = {}): HeraldEvent => {
  counter += 1;
  return anEvent({ messageId: toMessageId(`m-${counter}`), ...overrides });
};
