import type { Trigger } from '../../../core/decision.js';
import { DAY_MS, HOUR_MS } from '../../../core/time.js';
import type { CustomerView, DecideEnv, Proposal } from '../proposal.js';
import { proposeMessage, toIncentiveCode } from './propose-message.js';

export type WinBackTier = 'concierge' | 'discount' | 'generic';

/** The dormant-path tier by LTV: > conciergeLtv concierge, ≥ discountLtv discount, else generic. */
export const winBackTier = (ltv: number, p: DecideEnv['policy']['winBack']): WinBackTier =>
  ltv > p.conciergeLtv ? 'concierge' : ltv >= p.discountLtv ? 'discount' : 'generic';

/**
 * Win-back, dormant path: one wave of the multi-wave schedule (email day 1 → SMS day 3 →
 * retargeting day 7 → follow-up day 14). A customer who acted since the path started, or whose
 * activity known now is within the dormant days before it started (it came late), gets no
 * further wave; the concierge tier is handed to a person once instead of automated waves.
 */
export const winBackAgent = (
  view: CustomerView,
  trigger: Extract<Trigger, { kind: 'win-back-wave' }>,
  env: DecideEnv,
  nowMs: number,
): Proposal | string => {
  const p = env.policy.winBack;
  const wave = p.waves[trigger.wave];
  if (wave === undefined) return `no wave ${trigger.wave}`;
  const lastActive = view.state.lastActiveAtMs;
  if (lastActive !== null && lastActive > trigger.startedAtMs)
    return `responded on ${new Date(lastActive).toISOString()}: the dormant path ends`;
  // A customer who never acted has been inactive since first seen, as the sweep counts it.
  const inactiveSince = lastActive ?? view.state.firstSeenAtMs;
  // Activity that arrived late (a phone's batch sent hours after, an import) from before the
  // path began may show they were not dormant when it began: no further wave tells them they
  // were (every later wave sees the same), and the next path counts from its start.
  if (trigger.startedAtMs - inactiveSince < p.dormantDays * DAY_MS)
    return `active on ${new Date(inactiveSince).toISOString()}, within ${String(p.dormantDays)} days before the path began: not dormant, the dormant path ends`;
  const ltv = view.computed.ltv;
  const tier = winBackTier(ltv, p);
  const reasons = [
    `dormant: no activity for ${Math.floor((nowMs - inactiveSince) / DAY_MS)} days`,
    `tier ${tier} (LTV $${ltv.toFixed(2)})`,
    `wave ${trigger.wave + 1} of ${p.waves.length} (day ${wave.day}, ${wave.channel})`,
  ];
  if (tier === 'concierge') {
    if (trigger.wave > 0) return 'concierge tier: handled by a person after the first wave';
    return {
      agent: 'win-back',
      trigger,
      kind: 'escalate',
      action: 'concierge-outreach',
      channels: [],
      template: null,
      incentive: null,
      scheduledForMs: nowMs,
      confidence: 1,
      reasons: [...reasons, `LTV above $${p.conciergeLtv}: personal outreach, no automated offer`],
      priority: env.policy.priorities.winBack,
      expectedValue: ltv,
      journey: null,
      experiment: null,
      details: { tier, wave: trigger.wave, segment: view.segment },
    };
  }
  const percent = tier === 'discount' ? p.discountPercent : p.genericPercent;
  const channel = wave.channel;
  const followUp = trigger.wave === p.waves.length - 1 && trigger.wave > 0;
  const template = tier === 'discount' ? 'win-back-new-products' : 'win-back-generic';
  const codeExpiresAtMs = nowMs + p.codeValidHours * HOUR_MS;
  // A web wave is shown in a slot of the website, as a journey `web` step is: without a slot no
  // visit could ever show it. It leaves at once (web is never held), and leaves the slot when
  // its TTL ends or its code expires, whichever comes first.
  const web =
    channel === 'web'
      ? {
          slot: p.webSlot,
          content: template,
          expiresAt: new Date(
            Math.min(nowMs + p.webTtlHours * HOUR_MS, codeExpiresAtMs),
          ).toISOString(),
        }
      : {};
  return proposeMessage(
    view,
    {
      agent: 'win-back',
      trigger,
      action: followUp ? 'win-back-follow-up' : `win-back-${channel}`,
      wanted: [channel],
      template,
      incentive: {
        kind: 'percent-off',
        percent,
        amount: null,
        code: toIncentiveCode(`MISSYOU${percent}`, env.nextId()),
        expiresAtMs: codeExpiresAtMs,
      },
      baseConfidence: 0.7,
      priority: env.policy.priorities.winBack,
      valueAtStake: view.computed.frequency > 0 ? ltv / view.computed.frequency : 0,
      reasons: [
        ...reasons,
        tier === 'discount' ? `${percent} % off and new products` : `generic ${percent} % offer`,
        ...('slot' in web ? [`in slot ${web.slot} until ${web.expiresAt}`] : []),
      ],
      atMs: nowMs,
      optimiseSendTime: channel !== 'web',
      details: { tier, wave: trigger.wave, ...web },
    },
    env,
  );
};
