import type { Decision, DecisionAgent, Incentive, Trigger } from '../../../core/decision.js';
import type { JsonObject } from '../../../core/event.js';
import { classOfMessage } from '../../../core/message.js';
import type { Channel } from '../../../core/profile.js';
import type { CustomerView, DecideEnv, Proposal } from '../proposal.js';
import { chooseChannels } from './choose-channels.js';
import { scheduleSend, type SendDeadline } from './schedule-send.js';

export interface MessageIntent {
  agent: DecisionAgent;
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
  /** The latest moment send-time optimisation may move the message to (a celebration's day). */
  sendBy?: SendDeadline | null;
  journey?: Decision['journey'];
  experiment?: Decision['experiment'];
  details?: JsonObject;
  /** About the customer's open cart (`Decision.aboutCart`). */
  aboutCart?: boolean;
}

/**
 * A message proposal: channels the customer can receive, ordered by past responses; a send
 * time out of quiet hours (and at the customer's best hour when asked); confidence = base ×
 * reach of the first channel; expected value = confidence × value at stake × the customer's
 * conversion probability on that channel, when a conversion model is trained (every message
 * proposal is weighed the same way, so they stay comparable).
 */
/**
 * The customer's conversion probability on a channel; a channel the model has no rate for gets
 * the mean of the customer's other channels (so it is not favoured by being unknown). Null
 * without a model.
 */
const conversionOn = (view: CustomerView, channel: Channel | undefined): number | null => {
  const rates = view.conversion?.byChannel;
  if (rates === undefined || channel === undefined) return null;
  const known = rates[channel];
  if (known !== undefined) return known;
  const all = Object.values(rates);
  return all.length === 0 ? null : all.reduce((a, b) => a + b, 0) / all.length;
};

export const proposeMessage = (
  view: CustomerView,
  intent: MessageIntent,
  env: DecideEnv,
): Proposal => {
  // Web content is shown in a slot of the website: a message that names none (a custom event's,
  // a campaign's or a journey send step's channels listing web) cannot go there.
  const slotless = typeof intent.details?.['slot'] !== 'string';
  const wanted = slotless ? intent.wanted.filter((c) => c !== 'web') : intent.wanted;
  const choice = chooseChannels(view.state, wanted, env);
  if (wanted.length < intent.wanted.length) choice.reasons.unshift('web: no slot to show it in');
  const first = choice.channels[0];
  // A shipping notice or a receipt goes now: quiet hours and the best hour are for marketing.
  // With variants, each must be a transactional template: a journey step's variants are template
  // names, a campaign's are written copy (never a template's name, and marketing anyway).
  const templates = env.transactionalTemplates;
  const transactional =
    classOfMessage(
      templates.has(intent.template) &&
        (intent.experiment?.variants.every((v) => templates.has(v)) ?? true),
      {
        agent: intent.agent,
        triggerKind: intent.trigger.kind,
        hasIncentive: intent.incentive !== undefined && intent.incentive !== null,
        // Written copy is assigned at the guard, to a campaign's slot only.
        generated: false,
      },
    ) === 'transactional';
  const when = transactional
    ? { atMs: intent.atMs, reasons: [`transactional (template ${intent.template}): sent at once`] }
    : scheduleSend(
        intent.atMs,
        first,
        view.state,
        env,
        intent.optimiseSendTime,
        intent.sendBy ?? null,
      );
  const confidence = Math.round(intent.baseConfidence * choice.reach * 1000) / 1000;
  const conversion = conversionOn(view, first);
  const reasons = [...intent.reasons];
  if (first === undefined) reasons.push('no channel the customer can receive');
  for (const r of choice.reasons) reasons.push(r);
  for (const r of when.reasons) reasons.push(r);
  reasons.push(
    `confidence ${confidence} = ${intent.baseConfidence} (agent) × ${choice.reach} (reach)`,
  );
  if (conversion !== null)
    reasons.push(
      `conversion probability on ${first ?? ''} ${conversion.toFixed(4)} (conversion model v${String(view.conversion?.modelVersion)})`,
    );
  return {
    agent: intent.agent,
    trigger: intent.trigger,
    kind: 'send',
    action: intent.action,
    channels: choice.channels,
    template: intent.template,
    // A code's validity runs from when the message is to leave, not from when it was decided:
    // a 48-hour code held overnight by quiet hours still gives the customer 48 hours.
    incentive:
      intent.incentive === undefined || intent.incentive === null
        ? null
        : {
            ...intent.incentive,
            expiresAtMs: intent.incentive.expiresAtMs + (when.atMs - intent.atMs),
          },
    scheduledForMs: when.atMs,
    confidence,
    reasons,
    priority: intent.priority,
    expectedValue: Math.round(confidence * intent.valueAtStake * (conversion ?? 1) * 100) / 100,
    journey: intent.journey ?? null,
    experiment: intent.experiment ?? null,
    details: { segment: view.segment, ...intent.details },
    ...(intent.aboutCart === true ? { aboutCart: true } : {}),
  };
};

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const LETTER_CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
/** The character code of the letter that five bits of `h`, from bit `5i`, choose. */
const letterAt = (h: number, i: number): number => LETTER_CODES[(h >>> (i * 5)) & 31] ?? 65;

/**
 * A discount code derived from a fresh id (a random UUID in production): 12 characters of a
 * 32-letter alphabet without look-alikes, 60 bits of a 64-bit mix of the id (two 32-bit
 * multiply–xorshift lanes, as in cyrb53). Distinct ids give distinct codes until about a billion
 * codes exist, the same id always the same code, and a code reveals nothing about another.
 */
export const toIncentiveCode = (prefix: string, decisionId: string): string => {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < decisionId.length; i += 1) {
    const ch = decisionId.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // One string from twelve character codes (appending twelve times copies the string each time).
  const code = String.fromCharCode(
    letterAt(h1, 0),
    letterAt(h1, 1),
    letterAt(h1, 2),
    letterAt(h1, 3),
    letterAt(h1, 4),
    letterAt(h1, 5),
    letterAt(h2, 0),
    letterAt(h2, 1),
    letterAt(h2, 2),
    letterAt(h2, 3),
    letterAt(h2, 4),
    letterAt(h2, 5),
  );
  return `${prefix}-${code}`;
};
