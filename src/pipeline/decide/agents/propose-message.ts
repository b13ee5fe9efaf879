import { createHash } from 'node:crypto';
import type { Decision, Incentive, Trigger } from '../../../core/decision.js';
import type { JsonObject } from '../../../core/event.js';
import type { Channel } from '../../../core/profile.js';
import type { CustomerView, DecideEnv, Proposal } from '../proposal.js';
import { chooseChannels } from './choose-channels.js';
import { scheduleSend } from './schedule-send.js';

export interface MessageIntent {
  agent: string;
  trigger: Trigger;
  action: string;
  wanted: readonly Channel[];
  template: string;
  incentive?: Incentive | null;
  /** How much the agent believes in this message before reachability, in [0,1]. */
  baseConfidence: number;
  priority: number;
  /** What is at stake (major units): cart value, average order value … */
  valueAtStake: number;
  reasons: string[];
  atMs: number;
  optimiseSendTime: boolean;
  journey?: Decision['journey'];
  experiment?: Decision['experiment'];
  details?: JsonObject;
}

/**
 * A message proposal: channels the customer can receive, ordered by past responses; a send
 * time out of quiet hours (and at the customer's best hour when asked); confidence = base ×
 * reach of the first channel; expected value = confidence × value at stake.
 */
export const proposeMessage = (
  view: CustomerView,
  intent: MessageIntent,
  env: DecideEnv,
): Proposal => {
  const choice = chooseChannels(view.state, intent.wanted);
  const first = choice.channels[0];
  const when = scheduleSend(intent.atMs, first, view.state, env, intent.optimiseSendTime);
  const confidence = Math.round(intent.baseConfidence * choice.reach * 1000) / 1000;
  return {
    agent: intent.agent,
    trigger: intent.trigger,
    kind: 'send',
    action: intent.action,
    channels: choice.channels,
    template: intent.template,
    incentive: intent.incentive ?? null,
    scheduledForMs: when.atMs,
    confidence,
    reasons: [
      ...intent.reasons,
      ...(first === undefined ? ['no channel the customer can receive'] : []),
      ...choice.reasons,
      ...when.reasons,
      `confidence ${confidence} = ${intent.baseConfidence} (agent) × ${choice.reach} (reach)`,
    ],
    priority: intent.priority,
    expectedValue: Math.round(confidence * intent.valueAtStake * 100) / 100,
    journey: intent.journey ?? null,
    experiment: intent.experiment ?? null,
    details: { segment: view.segment, ...intent.details },
  };
};

/**
 * A discount code derived from the decision id: 12 characters of a 32-letter alphabet without
 * look-alikes (60 bits of SHA-256), so distinct decisions get distinct codes (a collision needs
 * about a billion codes) and the same decision always gets the same one.
 */
export const toIncentiveCode = (prefix: string, decisionId: string): string => {
  const digest = createHash('sha256').update(decisionId).digest();
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let code = '';
  for (let i = 0; i < 12; i += 1) {
    const bit = i * 5;
    const byte = digest[bit >> 3] ?? 0;
    const next = digest[(bit >> 3) + 1] ?? 0;
    code += alphabet[(((byte << 8) | next) >> (11 - (bit & 7))) & 31] ?? 'A';
  }
  return `${prefix}-${code}`;
};
