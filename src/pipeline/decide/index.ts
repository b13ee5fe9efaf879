// In: profile changes from recorded events, due work (timers, journey steps, the daily sweep).
// Out: decisions (what to say to whom, on which channels, when, and why) and the next due work.
export { decidePolicySchema, type DecidePolicy } from './policy.js';
export { journeySchema, type JourneyDefinition } from './journeys/journey-schema.js';
export { checkJourneys, eventSpellingWarnings } from './journeys/journey-catalog.js';
export { defaultJourneys } from './journeys/default-journeys.js';
export { followJourneyVersions, loadDecideEnv } from './create-decide-env.js';
export { createTriggerPlanner, type TriggerPlanner, type TriggerPlan } from './plan-triggers.js';
export { applyTriggerPlan, runDueWork, type WorkRound } from './run-due-work.js';
export {
  createDecideWorker,
  type DecideWorker,
  type WorkerObserver,
} from './create-decide-worker.js';
export { decideForCustomer } from './decide-for-customer.js';
export { journeyStepSlot } from './journeys/advance-journey.js';
export { segmentCustomer, segmentNames } from './agents/segment-customer.js';
export type { DecideEnv, CustomerView, Proposal, OnDecided, DecidedBatch } from './proposal.js';
export { fanOutCampaign, type CampaignFanOut } from './schedule-campaign.js';
export { summariseSegments, type SegmentSummary } from './summarise-segments.js';
export { runSweepIfDue } from './run-sweep.js';
