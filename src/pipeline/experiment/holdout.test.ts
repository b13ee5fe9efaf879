import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import {
  findHoldoutExclusion,
  isInCampaignHoldout,
  isInGlobalHoldout,
  type HoldoutPolicy,
} from './holdout.js';

const ids = Array.from({ length: 40_000 }, (_, i) => toCustomerId(`c${i}`));
const global: HoldoutPolicy = { salt: 'global-2026', percent: 5 };
const campaign = { campaignId: 'winback', salt: 'winback-1', percent: 10 };

describe('isInGlobalHoldout', () => {
  it('holds out the configured percentage of customers', () => {
    const share = ids.filter((id) => isInGlobalHoldout(id, global)).length / ids.length;
    expect(Math.abs(share - 0.05)).toBeLessThan(4 * Math.sqrt((0.05 * 0.95) / ids.length));
  });

  it('keeps every held-out customer when the percentage grows', () => {
    const wider = { ...global, percent: 10 };
    const held = ids.filter((id) => isInGlobalHoldout(id, global));
    expect(held.length).toBeGreaterThan(0);
    for (const id of held) expect(isInGlobalHoldout(id, wider)).toBe(true);
  });

  it('holds out nobody at 0 % and everybody at 100 %', () => {
    expect(ids.some((id) => isInGlobalHoldout(id, { salt: 's', percent: 0 }))).toBe(false);
    expect(ids.every((id) => isInGlobalHoldout(id, { salt: 's', percent: 100 }))).toBe(true);
  });

  it('refuses a percentage outside 0–100 and an empty salt', () => {
    expect(() =>
      isInGlobalHoldout(ids[0] ?? toCustomerId('x'), { salt: 's', percent: 101 }),
    ).toThrow(RangeError);
    expect(() => isInGlobalHoldout(ids[0] ?? toCustomerId('x'), { salt: '', percent: 5 })).toThrow(
      /salt/,
    );
  });
});

describe('isInCampaignHoldout', () => {
  it('draws each campaign holdout independently of the global one and of other campaigns', () => {
    const inCampaign = ids.filter((id) => isInCampaignHoldout(id, campaign));
    expect(Math.abs(inCampaign.length / ids.length - 0.1)).toBeLessThan(0.006);
    // Independence: 5 % of the campaign holdout is also in the global holdout.
    const both = inCampaign.filter((id) => isInGlobalHoldout(id, global)).length;
    expect(Math.abs(both / inCampaign.length - 0.05)).toBeLessThan(0.015);
    const other = { ...campaign, campaignId: 'welcome' };
    const overlap = inCampaign.filter((id) => isInCampaignHoldout(id, other)).length;
    expect(Math.abs(overlap / inCampaign.length - 0.1)).toBeLessThan(0.025);
  });
});

describe('findHoldoutExclusion', () => {
  it('excludes every global-holdout customer from every campaign, and names the reason', () => {
    let globalCount = 0;
    let campaignCount = 0;
    for (const id of ids) {
      const exclusion = findHoldoutExclusion(id, global, campaign);
      if (isInGlobalHoldout(id, global)) {
        expect(exclusion).toEqual({ kind: 'global-holdout', percent: 5 });
        globalCount++;
      } else if (isInCampaignHoldout(id, campaign)) {
        expect(exclusion).toEqual({ kind: 'campaign-holdout', campaignId: 'winback', percent: 10 });
        campaignCount++;
      } else {
        expect(exclusion).toBeUndefined();
      }
    }
    expect(globalCount).toBeGreaterThan(1500);
    expect(campaignCount).toBeGreaterThan(3000);
    expect(findHoldoutExclusion(toCustomerId('c0'), { salt: 's', percent: 0 })).toBeUndefined();
  });
});
