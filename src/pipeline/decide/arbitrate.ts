import type { Alternative, Decision, DecisionScores } from '../../core/decision.js';
import type { CustomerId } from '../../core/ids.js';
import type { Channel } from '../../core/profile.js';
import type { DecidePolicy } from './policy.js';
import type { Proposal } from './proposal.js';

// The sort is stable: two proposals of one agent that tie stay in the order proposed.
const ranks = (a: Proposal, b: Proposal): number =>
  b.priority - a.priority || b.expectedValue - a.expectedValue || a.agent.localeCompare(b.agent);

const whyLost = (loser: Proposal, winner: Proposal): string => {
  if (loser.priority !== winner.priority)
    return `priority ${loser.priority} < ${winner.priority} (${winner.agent})`;
  if (loser.expectedValue !== winner.expectedValue)
    return `expected value ${loser.expectedValue} < ${winner.expectedValue} (${winner.agent})`;
  if (loser.agent === winner.agent)
    return `same agent, priority and expected value as ${winner.agent}/${winner.action}, which was proposed first`;
  return `same priority and expected value as ${winner.agent}, which comes first by name`;
};

// The loser's own reasons stay with it: why its agent wanted the customer (the trigger, the
// offer, the channels) is what tells a reader what the winner pushed out.
const toAlternative = (loser: Proposal, winner: Proposal): Alternative => ({
  agent: loser.agent,
  action: loser.action,
  priority: loser.priority,
  expectedValue: loser.expectedValue,
  reason: whyLost(loser, winner),
  reasons: loser.reasons,
});

/** The scores a decision records, by its first channel (absent: the decision read none). */
export type ScoresFor = (channel: Channel | undefined) => DecisionScores | undefined;

const noScores: ScoresFor = () => undefined;

const toDecision = (
  p: Proposal,
  customerId: CustomerId,
  id: string,
  status: Decision['status'],
  extraReasons: string[],
  alternatives: Alternative[],
  nowMs: number,
  scoresFor: ScoresFor,
): Decision => ({
  id,
  customerId,
  agent: p.agent,
  trigger: p.trigger,
  action: p.action,
  channels: p.channels,
  template: p.template,
  incentive: p.incentive,
  scheduledForMs: p.scheduledForMs,
  confidence: p.confidence,
  reasons: extraReasons.length === 0 ? p.reasons : [...p.reasons, ...extraReasons],
  journey: p.journey,
  experiment: p.experiment,
  status,
  priority: p.priority,
  expectedValue: p.expectedValue,
  alternatives,
  details: p.details,
  createdAtMs: nowMs,
  // Built in place: copying each finished decision to add them cost a sixth of the decide core.
  ...optionalScores(scoresFor(p.channels[0])),
  ...(p.aboutCart === true ? { aboutCart: true } : {}),
});

const optionalScores = (scores: DecisionScores | undefined): { scores?: DecisionScores } =>
  scores === undefined ? {} : { scores };

/**
 * One customer's proposals at one moment → decisions. Messages compete: the highest priority,
 * then the highest expected value, then the agent's name (for one agent: the order proposed),
 * wins and the others are recorded on it as alternatives, with their own reasons and the reason
 * they lost. A message below the confidence threshold, or with no channel, is recorded as
 * skipped. Web content (a message for the web channel alone too) and escalations to a person do
 * not compete.
 */
export const arbitrate = (
  customerId: CustomerId,
  proposals: readonly Proposal[],
  policy: DecidePolicy,
  nowMs: number,
  nextId: () => string,
  scoresFor: ScoresFor = noScores,
): Decision[] => {
  const decisions: Decision[] = [];
  const messages: Proposal[] = [];
  for (const p of proposals) {
    if (p.kind === 'web')
      decisions.push(toDecision(p, customerId, nextId(), 'scheduled', [], [], nowMs, scoresFor));
    else if (p.kind === 'escalate')
      decisions.push(toDecision(p, customerId, nextId(), 'escalated', [], [], nowMs, scoresFor));
    else if (p.channels.length === 0)
      decisions.push(
        toDecision(
          p,
          customerId,
          nextId(),
          'skipped',
          ['skipped: no channel'],
          [],
          nowMs,
          scoresFor,
        ),
      );
    else if (p.confidence < policy.confidenceThreshold)
      decisions.push(
        toDecision(
          p,
          customerId,
          nextId(),
          'skipped',
          [`skipped: confidence ${p.confidence} below the threshold ${policy.confidenceThreshold}`],
          [],
          nowMs,
          scoresFor,
        ),
      );
    // A message for the web alone (a win-back wave's retargeting) takes no inbox: it does not
    // compete with, and cannot push out, an email or a text.
    else if (p.channels.every((c) => c === 'web'))
      decisions.push(toDecision(p, customerId, nextId(), 'scheduled', [], [], nowMs, scoresFor));
    else messages.push(p);
  }
  // Most moments have one message: it wins without a sort.
  const ranked = messages.length > 1 ? messages.sort(ranks) : messages;
  const winner = ranked[0];
  if (winner !== undefined) {
    const losers = ranked.slice(1);
    const alternatives = losers.map((l) => toAlternative(l, winner));
    const extra = alternatives.map((a) => `outranked ${a.agent}/${a.action}: ${a.reason}`);
    decisions.push(
      toDecision(winner, customerId, nextId(), 'scheduled', extra, alternatives, nowMs, scoresFor),
    );
  }
  return decisions;
};
