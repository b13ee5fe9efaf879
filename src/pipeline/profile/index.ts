// In: validated events (from ingest or import) and the stored profiles they touch.
// Out: durable events and up-to-date profiles — identity, consent, RFM, engagement, churn risk,
// lifecycle stage, LTV, VIP and open cart — in the same transaction.
export {
  createEventRecorder,
  type EventRecorder,
  type RecordedBatch,
} from './create-event-recorder.js';
export {
  recordEvents,
  orderIdOf,
  replayHistory,
  settleUnfinishedLoad,
  unfinishedLoad,
  type UnsettledLoad,
  type RecordOutcome,
  type OnRecorded,
} from './record-events.js';
export { sweepProfiles, catchUpProfiles, type SweepOptions } from './sweep-profiles.js';
export { applyEvent, emptyProfile, isHardBounce, orderValueCents } from './apply-event.js';
export { deriveComputed, scoreEngagement, classifyLifecycle } from './derive-computed.js';
export { scoreChurn } from './score-churn.js';
export { profilePolicySchema, type ProfilePolicy } from './policy.js';
