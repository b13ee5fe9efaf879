// In: queued outbox rows. Out: messages handed to providers over their channel adapters, each
// outcome written back (sent, retried with backoff, dead-lettered), under shared rate limits
// and per-provider circuits.
export { deliverPolicySchema, rateLimitsOf, type DeliverPolicy } from './policy.js';
export { retryDelayMs } from './backoff.js';
export { createCircuit, type Circuit } from './circuit-breaker.js';
export { recipientOf, normalisePhone, type Recipient } from '../../core/recipient.js';
export {
  createDispatcher,
  type Claimed,
  type DispatchIo,
  type Dispatcher,
  type Finished,
} from './create-dispatcher.js';
