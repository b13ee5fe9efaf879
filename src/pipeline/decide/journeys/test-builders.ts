import type { JourneyDefinition, JourneyStep } from './journey-schema.js';

/** A journey entered on signup. */
export const aJourney = (
  id: string,
  steps: JourneyStep[],
  overrides: Partial<JourneyDefinition> = {},
): JourneyDefinition => ({ id, entry: { trigger: 'signed-up' }, steps, ...overrides });

/** An email step sending the template named as the step. */
export const aSendStep = (id: string, next?: string): JourneyStep => ({
  id,
  type: 'send',
  channels: ['email'],
  template: id,
  ...(next === undefined ? {} : { next }),
});

/** Send a, wait a day, send b. */
export const aSimpleJourney = (): JourneyDefinition =>
  aJourney('simple', [aSendStep('a'), { id: 'w', type: 'wait', days: 1 }, aSendStep('b')]);
