import type { MessageClass } from '../../core/message.js';
import type { Channel, ProfileState } from '../../core/profile.js';
import type { GuardPolicy } from './policy.js';

/**
 * The check at hand-off, on the customer's profile as it is when the message leaves (it may
 * have changed since the guardrails passed it): no profile (erased), email suppressed by hard
 * bounces or a complaint, marketing consent withdrawn for the channel, or — SMS, WhatsApp,
 * push — never given. Null when the message may go.
 */
export const checkAtHandOff = (
  message: { channel: Channel; class: MessageClass },
  profile: ProfileState | undefined,
  policy: Pick<GuardPolicy, 'autoOptOutHardBounces'>,
): { code: string; reason: string } | null => {
  if (profile === undefined)
    return { code: 'no_profile', reason: 'the customer no longer has a profile' };
  if (message.channel === 'email') {
    if (profile.email.hardBounces >= policy.autoOptOutHardBounces)
      return { code: 'suppressed_bounced', reason: 'the address bounced hard too often' };
    if (profile.email.complaints > 0)
      return { code: 'suppressed_complained', reason: 'the customer marked a message as spam' };
  }
  if (message.class === 'transactional') return null;
  const consent = profile.consent[message.channel]?.['marketing'];
  if (consent?.granted === false)
    return {
      code: 'unsubscribed',
      reason: `unsubscribed from ${message.channel} marketing before the message left`,
    };
  if (message.channel !== 'email' && message.channel !== 'web' && consent?.granted !== true)
    return { code: 'no_consent', reason: `${message.channel} marketing needs an explicit opt-in` };
  return null;
};
