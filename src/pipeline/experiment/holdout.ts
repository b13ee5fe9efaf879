import type { CustomerId } from '../../core/ids.js';
import { hashPartsToUnit } from './hash-parts-to-unit.js';

/** A holdout: `percent` of customers (0–100), chosen by hash with its own salt. */
export interface HoldoutPolicy {
  salt: string;
  percent: number;
}

/** A campaign's own holdout, drawn independently of the global one and of other campaigns. */
export interface CampaignHoldout extends HoldoutPolicy {
  campaignId: string;
}

/** Why a customer receives no message from a campaign. */
export type HoldoutExclusion =
  | { kind: 'global-holdout'; percent: number }
  | { kind: 'campaign-holdout'; campaignId: string; percent: number };

const assertPolicy = (policy: HoldoutPolicy, name: string): void => {
  if (policy.salt === '') throw new RangeError(`${name}: salt must not be empty`);
  if (!(policy.percent >= 0 && policy.percent <= 100)) {
    throw new RangeError(`${name}: percent must be in [0, 100], got ${policy.percent}`);
  }
};

/**
 * True when the customer belongs to the global holdout, who receive no automated marketing at
 * all, so that Herald's total effect can be measured against doing nothing. Membership is
 * hashPartsToUnit(['global-holdout', salt, customerId]) · 100 < percent: fixed for a salt, and raising
 * the percentage only adds customers (lowering it only releases some). Where the customer holds
 * a unit of it already (`recordedArm`: one merged into them brought theirs), that arm decides,
 * not the hash of their id: a person is treated as they are measured.
 */
export const isInGlobalHoldout = (
  customerId: CustomerId,
  policy: HoldoutPolicy,
  recordedArm?: string,
): boolean => {
  if (recordedArm !== undefined) return recordedArm === 'holdout';
  assertPolicy(policy, 'global holdout');
  // The unit is in [0, 1): none is held out at 0 % (the default), so no hash is drawn for it.
  if (policy.percent === 0) return false;
  return hashPartsToUnit(['global-holdout', policy.salt, customerId]) * 100 < policy.percent;
};

/**
 * True when the customer is held out of this campaign (hashPartsToUnit(['campaign-holdout', salt,
 * campaignId, customerId]) · 100 < percent), independently of the global holdout: among customers
 * outside the global holdout, `percent` % are held out of each campaign.
 */
export const isInCampaignHoldout = (customerId: CustomerId, holdout: CampaignHoldout): boolean => {
  assertPolicy(holdout, `campaign ${holdout.campaignId} holdout`);
  if (holdout.percent === 0) return false;
  const u = hashPartsToUnit(['campaign-holdout', holdout.salt, holdout.campaignId, customerId]);
  return u * 100 < holdout.percent;
};

/**
 * The reason this customer must not receive an automated message from the campaign, or
 * undefined when they may: the global holdout first (by the arm they hold in it, when they
 * hold one: `isInGlobalHoldout`), then the campaign's own holdout.
 */
export const findHoldoutExclusion = (
  customerId: CustomerId,
  global: HoldoutPolicy,
  campaign?: CampaignHoldout,
  globalArm?: string,
): HoldoutExclusion | undefined => {
  if (isInGlobalHoldout(customerId, global, globalArm)) {
    return { kind: 'global-holdout', percent: global.percent };
  }
  if (campaign !== undefined && isInCampaignHoldout(customerId, campaign)) {
    return { kind: 'campaign-holdout', campaignId: campaign.campaignId, percent: campaign.percent };
  }
  return undefined;
};
