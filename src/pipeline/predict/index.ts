// In: the store's order history (customer, time, value) up to a cutoff, or per-customer summaries.
// Out: registered model versions (CLV: BG/NBD + Gamma-Gamma; churn: logistic regression), per-customer P(alive), expected purchases, spend, CLV and churn risk, and churn backtests.
export {
  bgNbdLogLikelihood,
  bgNbdTotalLogLikelihood,
  expectedPurchases,
  expectedPurchasesIfAlive,
  expectedPurchasesOfNewCustomer,
  fitBgNbd,
  probabilityAlive,
  probabilityNoPurchase,
  type BgNbdFit,
  type BgNbdParams,
  type PurchaseHistory,
} from './bg-nbd.js';
export {
  expectedSpend,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  type GammaGammaFit,
  type GammaGammaParams,
  type SpendHistory,
} from './gamma-gamma.js';
export { customerLifetimeValue } from './clv.js';
export {
  createCustomerScorer,
  scoreCustomer,
  type ClvModel,
  type CustomerScore,
  type ScoreOptions,
} from './score-customer.js';
export {
  summariseTransactions,
  type CustomerSummary,
  type Transaction,
} from './summarise-transactions.js';
export { parseCdnowTransactions, parseHistoryCsv } from './parse-cdnow.js';
export { simulateHistories, simulatePurchaseTimes } from './simulate-purchases.js';
export {
  clvFeatures,
  loadTransactions,
  toClvDraft,
  trainClvModel,
  type TrainOptions,
} from './train-clv-model.js';
export {
  checkTrainingGate,
  countRepeatCustomers,
  defaultTrainingGate,
  type GateCheck,
  type TrainingGate,
} from './data-gate.js';
export { trainModels, type TrainModelsOptions } from './train-models.js';
export {
  backtestChurn,
  churnSetAt,
  measureScorer,
  type BacktestOptions,
  type BacktestReport,
  type ScorerQuality,
} from './churn/backtest.js';
export {
  churnFeatureNames,
  toChurnFeatures,
  toChurnRow,
  type ActivityFacts,
  type ChurnFeatures,
  type OrderFacts,
} from './churn/churn-features.js';
export {
  toChurnDraft,
  type ChurnScorerName,
  type ChurnTrainOptions,
} from './churn/train-churn-model.js';
export { createLiveChurnModel, orderFactsOf, toChurnModel } from './churn/live-churn-model.js';
export {
  conversionFeatures,
  predictConversion,
  toConversionDraft,
  type ConversionPrediction,
  type ConversionTrainOptions,
} from './conversion/train-conversion-model.js';
export {
  fitBetaPrior,
  shrunkRate,
  type BetaPrior,
  type SendRecord,
} from './conversion/beta-binomial.js';
export {
  conversionVersionIn,
  createLiveConversionModel,
  recentModelsRead,
  type ChannelCounts,
  type LiveConversionModel,
} from './conversion/live-conversion-model.js';
export {
  areaUnderRoc,
  brierScore,
  calibrationCurve,
  liftInTopDecile,
  type CalibrationBin,
} from './churn/classification-metrics.js';
export {
  fitLogisticRegression,
  predictLogistic,
  type LogisticModel,
} from './churn/logistic-regression.js';
export { predictForCustomer, toClvModel, type Prediction } from './predict-for-customer.js';
export { trainIfDue, type RetrainPolicy } from './train-if-due.js';
export { checkDrift, type FeatureDrift } from './check-drift.js';
export { featureBinsOf, populationStability, toBins, type FeatureBins } from './feature-bins.js';
