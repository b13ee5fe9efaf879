import type { Services } from '../../app/create-services.js';
import type { CustomerId } from '../../core/ids.js';
import type { ComputedProfile } from '../../core/profile.js';
import { DAY_MS } from '../../core/time.js';
import {
  conversionVersionIn,
  predictConversion,
  predictForCustomer,
  recentModelsRead,
  toClvModel,
} from '../../pipeline/predict/index.js';
import type { ModelVersion } from '../../ports/model-store.js';

/**
 * What the trained models say of a customer, as the profile API shows it and the access export
 * gives it to them (GDPR art. 15(1)(h), profiling): the latest CLV model's figures, the live
 * churn risk with the scorer that made it, and the conversion probabilities per channel.
 */
export const predictionsOf = (services: Pick<Services, 'store' | 'churnModel' | 'config'>) => {
  const { store, churnModel } = services;
  const windowMs = services.config.deliverPolicy.attributionWindowDays * DAY_MS;
  /**
   * The customer's probability of converting on each channel (and the strategies' rates) under
   * the conversion version the decide stage uses (`conversionVersionIn`: the latest trained
   * one), or why there is none. Sends whose attribution window is still open are left out, as
   * the decide stage leaves them out: counted as failures, they would show a lower figure than
   * the one decisions use.
   */
  const conversionFor = async (
    customerId: CustomerId,
    recent: readonly ModelVersion[],
    nowMs: number,
  ) => {
    const inUse = conversionVersionIn(recent);
    if (inUse === null)
      return {
        modelVersion: null,
        // A refused run's reason says what is missing; otherwise none was ever run.
        reason:
          recent.find((m) => m.kind === 'conversion')?.reason ??
          'no conversion model trained yet (herald models train)',
      };
    const closed = (await store.listCustomerMessageOutcomes(customerId)).filter(
      (o) => o.sentAtMs < nowMs - windowMs,
    );
    const prediction = predictConversion(inUse, closed);
    return prediction ?? { modelVersion: inUse.version, reason: inUse.reason };
  };
  /**
   * The latest trained CLV model's figures for the customer, and the live churn risk with the
   * scorer that made it: the trained churn model (its version) or the rule-based score (and why).
   */
  const predictedFor = async (customerId: CustomerId, computed: ComputedProfile, nowMs: number) => {
    const churn =
      computed.churnModelVersion === null
        ? {
            churnRisk: computed.churnRisk,
            churnRiskSource: 'rules' as const,
            churnModelVersion: null,
            churnRiskReason:
              churnModel.current() === null ? churnModel.why() : 'the customer has no orders',
          }
        : {
            churnRisk: computed.churnRisk,
            churnRiskSource: 'model' as const,
            churnModelVersion: computed.churnModelVersion,
          };
    const recent = await store.listModels(recentModelsRead);
    const conversion = await conversionFor(customerId, recent, nowMs);
    const latest = recent.find((m) => toClvModel(m) !== null);
    if (latest === undefined)
      return {
        modelVersion: null,
        reason: 'no trained model (herald models train)',
        ...churn,
        conversion,
      };
    const orders = await store.listCustomerOrders(customerId);
    let prediction: ReturnType<typeof predictForCustomer>;
    try {
      prediction = predictForCustomer(latest, orders, nowMs);
    } catch (error) {
      // A model's numerical failure for one customer is no failure of their profile.
      return {
        modelVersion: latest.version,
        reason: `the model could not score this customer: ${error instanceof Error ? error.message : String(error)}`,
        ...churn,
        conversion,
      };
    }
    if (prediction === null)
      return { modelVersion: latest.version, reason: 'no orders to score', ...churn, conversion };
    return { ...prediction, ...churn, conversion };
  };
  return predictedFor;
};
