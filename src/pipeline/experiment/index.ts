// In: a customer id with an experiment's salt and weighted arms (and a stratum), holdout and rollout
// policies, per-arm outcomes so far, stage health figures, and an injected seeded Random.
// Out: the customer's arm, holdout and rollout membership, bandit traffic weights, go/no-go.
export { hashPartsToUnit } from './hash-parts-to-unit.js';
export { assignArm, assertArmDesign, type Arm, type ArmDesign } from './assign-arm.js';
export { assignBalanced, type StratifiedCustomer } from './assign-balanced.js';
export {
  isInGlobalHoldout,
  isInCampaignHoldout,
  findHoldoutExclusion,
  type HoldoutPolicy,
  type CampaignHoldout,
  type HoldoutExclusion,
} from './holdout.js';
export {
  decideRollout,
  isInRollout,
  DEFAULT_ROLLOUT_POLICY,
  type RolloutPolicy,
  type RolloutHealth,
  type RolloutDecision,
} from './rollout.js';
export { sampleNormal, sampleGamma, sampleBeta } from './sample-gamma.js';
export {
  allocateThompson,
  estimateChanceToBeBest,
  type ArmOutcome,
  type ArmAllocation,
  type BanditAllocation,
  type ThompsonOptions,
} from './thompson-sampling.js';
export {
  allocateThreePhase,
  type ThreePhaseInput,
  type ThreePhaseOptions,
  type ThreePhaseAllocation,
} from './three-phase-policy.js';
export { weightsAt, type AllocationEntry } from './allocation-history.js';
