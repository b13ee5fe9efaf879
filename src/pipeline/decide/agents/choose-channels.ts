import {
  explicitlyGranted,
  grantedBeforeNumberChanged,
  impliedSourceOf,
  marketingStopOf,
  type Channel,
  type ProfileState,
} from '../../../core/profile.js';
import { hasRecipient } from '../../../core/recipient.js';

export interface ChannelChoice {
  channels: Channel[];
  /** How sure Herald is that the first channel reaches the customer, in [0,1]. */
  reach: number;
  reasons: string[];
}

/** The guard's limits the channels are chosen within (`DecideEnv`'s, from the guard policy). */
export interface ReachLimits {
  /** Hard bounces at which an email address reaches no one. */
  emailBounceLimit: number;
  /** Consent sources that are no opt-in to texts. */
  impliedConsentSources: readonly string[];
}

/** Whether the customer can be reached on a channel at all, and how firmly (1 = opted in). */
const reachOf = (
  state: ProfileState,
  channel: Channel,
  limits: ReachLimits,
): { reach: number; why: string } => {
  const marketing = state.consent[channel]?.['marketing'];
  if (marketing?.granted === false) return { reach: 0, why: `${channel}: opted out` };
  // Stopped in the provider's own app (WhatsApp's "stop marketing"), as the guard reads it.
  if (marketingStopOf(state, channel) !== null)
    return { reach: 0, why: `${channel}: marketing stopped in ${channel} itself` };
  switch (channel) {
    case 'email':
      // The address as the dispatcher reads it: a trait that is not an address reaches no one.
      if (!hasRecipient(state, 'email')) return { reach: 0, why: 'email: no address' };
      if (state.email.hardBounces >= limits.emailBounceLimit)
        return { reach: 0, why: 'email: address bounces' };
      // Without a recorded opt-in, email may still be allowed (CAN-SPAM is opt-out); the guard
      // stage decides per jurisdiction, so it stays a candidate with lower confidence.
      return marketing?.granted === true
        ? { reach: 1, why: 'email: opted in' }
        : { reach: 0.8, why: 'email: no explicit opt-in recorded' };
    case 'sms':
    case 'whatsapp':
      if (!hasRecipient(state, channel)) return { reach: 0, why: `${channel}: no phone number` };
      // SMS and WhatsApp need an explicit opt-in (TCPA, WhatsApp Business policy): a grant from
      // an implied source is none, as the guard refuses it.
      if (marketing?.granted !== true) return { reach: 0, why: `${channel}: no opt-in` };
      // (A grant restated from an implied source beside their own explicit one is theirs.)
      if (
        impliedSourceOf(marketing.source, limits.impliedConsentSources) !== null &&
        !explicitlyGranted(marketing, limits.impliedConsentSources)
      )
        return { reach: 0, why: `${channel}: consent from an implied source is no opt-in` };
      // Consent to texts is the number's: one given for the number before reaches no one.
      return grantedBeforeNumberChanged(
        marketing,
        state.phoneChangedAtMs,
        limits.impliedConsentSources,
      )
        ? { reach: 0, why: `${channel}: the opt-in was for the number before` }
        : { reach: 1, why: `${channel}: opted in` };
    case 'push':
      if (!hasRecipient(state, 'push')) return { reach: 0, why: 'push: no device' };
      return marketing?.granted === true
        ? { reach: 1, why: 'push: opted in' }
        : { reach: 0, why: 'push: no opt-in' };
    case 'web':
      return { reach: 0.75, why: 'web: shown on the next visit' };
  }
};

/**
 * Orders the wanted channels from consent and past engagement: those the customer cannot
 * receive are dropped, the rest sorted by the customer's past responses on each (opens and
 * clicks), then by reach (an explicit opt-in before an email without one), ties kept in the
 * order wanted, within the guard's `limits` (a bouncing address, a text grant from an implied
 * source reach no one).
 */
export const chooseChannels = (
  state: ProfileState,
  wanted: readonly Channel[],
  limits: ReachLimits,
): ChannelChoice => {
  // Plain loops and an insertion sort: a handful of channels, asked for every message proposed.
  const reasons: string[] = [];
  const usable: { channel: Channel; reach: number; responses: number; why: string }[] = [];
  for (const channel of wanted) {
    const { reach, why } = reachOf(state, channel, limits);
    if (reach === 0) {
      reasons.push(why);
      continue;
    }
    const candidate = { channel, reach, responses: state.responses?.byChannel[channel] ?? 0, why };
    // After every channel with more responses, or as many and at least the reach: ties keep
    // the order wanted. Reach comes second because the confidence is the first channel's reach:
    // an email without a recorded opt-in ahead of an opted-in SMS would lower it for nothing.
    let at = usable.length;
    while (at > 0) {
      const before = usable[at - 1];
      if (
        before === undefined ||
        before.responses > candidate.responses ||
        (before.responses === candidate.responses && before.reach >= candidate.reach)
      )
        break;
      usable[at] = before;
      at -= 1;
    }
    usable[at] = candidate;
  }
  const first = usable[0];
  if (first === undefined) return { channels: [], reach: 0, reasons };
  reasons.push(
    first.responses > 0 ? `${first.channel}: ${first.responses} past responses` : first.why,
  );
  const channels: Channel[] = [];
  for (const u of usable) channels.push(u.channel);
  return { channels, reach: first.reach, reasons };
};
