// In: per-arm summaries of an experiment's metrics (counts of 0/1 outcomes, or n, mean, variance),
// the control arm and the designed weights. Out: the full analysis, promotion gate, statistics.
export {
  analyzeExperiment,
  describeBlocks,
  formatP,
  type AnalyzeOptions,
  type Comparison,
  type ExperimentAnalysis,
  type ExperimentData,
  type MetricInput,
  type MetricResult,
  type Promotion,
  type PromotionBlock,
} from './analyze-experiment.js';
export {
  MIN_EXPECTED_EVENTS,
  MIN_EXPECTED_NON_ZERO,
  type Estimate,
  type MetricArm,
} from './compare-metric.js';
export {
  analyzeUnits,
  incrementalRevenue,
  revenueSummary,
  type AnalyzeUnitsOptions,
  type ArmSums,
  type IncrementalRevenue,
  type UnitAnalysis,
} from './analyze-units.js';
export * from './statistics/index.js';
