import type { Decision } from '../../src/core/decision.js';
import type { HeraldEvent } from '../../src/core/event.js';
import { toCustomerId, toMessageId } from '../../src/core/ids.js';
import type { MessageRecord } from '../../src/core/message.js';
import { anEvent } from '../../src/pipeline/profile/test-builders.js';

let counter = 0;

/** A valid track event with a messageId of its own (stores de-duplicate by it); override any field. */
export const aTrack = (overrides: Partial<HeraldEvent> = {}): HeraldEvent => {
  counter += 1;
  return anEvent({ messageId: toMessageId(`m-${counter}`), ...overrides });
};

const T0 = Date.parse('2026-01-15T12:00:00.000Z');

/**
 * A scheduled decision for customer `c1` by the lifecycle agent: an engagement email from the
 * `upsell` template, no incentive, made and due at T0 (2026-01-15 12:00 UTC); override any field.
 */
export const aDecision = (overrides: Partial<Decision> = {}): Decision => ({
  id: 'd-c1',
  customerId: toCustomerId('c1'),
  agent: 'lifecycle',
  trigger: { kind: 'signed-up' },
  action: 'engagement',
  channels: ['email'],
  template: 'upsell',
  incentive: null,
  scheduledForMs: T0,
  confidence: 1,
  reasons: [],
  journey: null,
  experiment: null,
  status: 'scheduled',
  priority: 1,
  expectedValue: 0,
  alternatives: [],
  details: {},
  createdAtMs: T0,
  ...overrides,
});

/**
 * A campaign email that reached `customerId` at `sentAtMs`, made and queued then too (sent
 * through the capture channel); override any field.
 */
export const aSentMessage = (
  id: string,
  customerId: string,
  sentAtMs: number,
  overrides: Partial<MessageRecord> = {},
): MessageRecord => ({
  id,
  customerId: toCustomerId(customerId),
  agent: 'campaign',
  channel: 'email',
  class: 'marketing',
  template: 'spring',
  topic: null,
  campaignId: 'spring',
  status: 'sent',
  sendAtMs: sentAtMs,
  createdAtMs: sentAtMs,
  updatedAtMs: sentAtMs,
  cost: 0,
  sendingDomain: null,
  content: null,
  contentHash: null,
  verdicts: [],
  passed: [],
  reviewExpiresAtMs: null,
  reviews: [],
  reasonCode: null,
  attempts: 1,
  recipient: `${customerId}@example.com`,
  provider: 'capture',
  providerId: null,
  sentAtMs,
  lastError: null,
  web: null,
  variant: null,
  ...overrides,
});

/** A transactional template (`startHerald({ templates: { receipt: receiptTemplate } })`). */
export const receiptTemplate = `class: transactional
topic: null
subject: 'Your order'
text: 'Your order has shipped.'
`;
