import {
  afterQuietHoursIn,
  localHoursIn,
  quietZonesOf,
  zonesText,
} from '../../../core/quiet-hours.js';
import type { Guardrail } from '../guard-types.js';
import { hold, pass } from '../guard-types.js';

const NAME = 'quiet-hours';

/**
 * Quiet hours for marketing: a message whose `sendAtMs` falls inside the customer's local
 * quiet hours is held (not dropped) until they end. The timezone is the profile's, else its
 * state's or country's, else its phone number's country's; a customer of a country spread over
 * several zones whose state is not known is held until quiet hours are over in every one of
 * them; else the configured default. Transactional messages and web personalisation
 * (shown while the customer is on the site, so never an interruption) pass.
 */
export const quietHoursGuardrail: Guardrail = {
  name: NAME,
  check(message, context) {
    if (message.class === 'transactional') return [pass(NAME, 'transactional')];
    if (message.channel === 'web')
      return [pass(NAME, 'web personalisation is shown on a visit, not sent')];
    const q = context.quietHours;
    const { zones, source } = quietZonesOf(
      context.profile.location,
      context.profile.traits['phone'],
      q,
    );
    const timezone = zonesText(zones);
    const untilMs = afterQuietHoursIn(message.sendAtMs, zones, q);
    const figures = {
      timezone,
      timezoneSource: source,
      localHour: localHoursIn(message.sendAtMs, zones),
      startHour: q.startHour,
      endHour: q.endHour,
    };
    if (untilMs <= message.sendAtMs) return [pass(NAME, 'outside local quiet hours', figures)];
    return [
      hold(
        NAME,
        'quiet_hours',
        `local hour ${figures.localHour} in ${timezone} (from the ${source}) is within quiet hours ${q.startHour}:00–${q.endHour}:00${zones.length > 1 ? ' in one of them' : ''}`,
        untilMs,
        { ...figures, holdUntil: new Date(untilMs).toISOString() },
      ),
    ];
  },
};
