// In: approved content documents (JSON or Markdown with front matter), a segment, strategies, a tone and an incentive.
// Out: retrieved passages, grounded message variants from the offline composer, grounding verdicts and brand scores.
export {
  asReadNow,
  contentDocumentSchema,
  parseDocument,
  usableAt,
  expiresAtMs,
  describeInvalidDocument,
  type ContentDocument,
  type InvalidDocument,
} from './document.js';
export {
  documentsInForce,
  documentsInForceOrScheduled,
  withdrawalOf,
  type StoredVersion,
} from './documents-in-force.js';
export {
  createContentIndex,
  search,
  type ContentIndex,
  type SearchOptions,
  type RetrievedContent,
} from './retrieve.js';
export {
  similaritiesTo,
  passagesOf,
  cosine,
  type Similarities,
  type VectorCache,
  type VectorMatch,
} from './vector.js';
export {
  composeVariants,
  strategies,
  maxSubjectLength,
  type ComposeInput,
  type ComposeError,
  type Incentive,
  type Strategy,
  type Variant,
} from './compose.js';
export {
  checkGrounding,
  extractClaims,
  type ClaimKind,
  type GroundingOptions,
  type GroundingProblem,
  type GroundingResult,
} from './ground.js';
export {
  checkLiquid,
  allowedLiquidVariables,
  allowedLiquidFilters,
  type LiquidCheck,
  type LiquidProblem,
} from './liquid-allowed.js';
export {
  scoreBrand,
  subjectAsRead,
  subjectLength,
  typicalValueLength,
  fleschKincaidGrade,
  countSyllables,
  type BrandPolicy,
  type BrandScore,
  type RequiredElement,
} from './score-brand.js';
export { tones, toneMarkers, type Tone } from './tone.js';
