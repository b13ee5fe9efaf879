// How a simulation replays Herald's own events: without the live messages they name, and with
// what the live path keeps beside them (an address's opt-out) kept here too.
import { HERALD_EVENTS, HERALD_SOURCE } from '../core/event-names.js';
import type { HeraldEvent } from '../core/event.js';
import { anonymousCustomerId, toCustomerId, toSourceId, type CustomerId } from '../core/ids.js';
import type { ProfileState } from '../core/profile.js';
import { recipientOf } from '../core/recipient.js';
import { rememberAddressOptOut } from '../pipeline/erased-identities.js';
import type { StoreTx } from '../ports/store.js';

/** The source Herald's own events are replayed under in a simulation. */
export const REPLAYED_SOURCE = toSourceId('herald-replayed');

/** The property a replayed opt-out carries the address its message went to in. */
const RECIPIENT = 'replayedRecipient';

/**
 * Herald's own event (an unsubscribe through a message's link, a complaint, a bounce, an SMS
 * STOP, an open or a click) as a simulation replays it: without the message it names, under a
 * source of its own. The simulated database holds none of the live messages, and the ingest path
 * drops Herald's events about a message that is not there, or about a customer it has no profile
 * of yet (as erased since): here they were not erased, and their effect on the profile — consent
 * withdrawn, an address suppressed, engagement — stands. An address's opt-out carries the
 * address its message went to (`recipient`, read from the live message), which is the one live
 * Herald kept it under.
 */
export const asReplayed = (event: HeraldEvent, recipient: string | null = null): HeraldEvent => {
  if (event.sourceId !== HERALD_SOURCE) return event;
  const properties = { ...event.properties };
  delete properties['messageId'];
  if (recipient !== null && isEmailOptOut(event)) properties[RECIPIENT] = recipient;
  return { ...event, sourceId: REPLAYED_SOURCE, properties };
};

/**
 * Whether an event of Herald's is an email address's opt-out — a complaint, or an unsubscribe on
 * email other than an SMS reply (a message's link, SendGrid's suppression list) — which live
 * Herald keeps under the address for every record that has it (`recordMessageResult`).
 */
export const isEmailOptOut = (event: HeraldEvent): boolean =>
  event.name === HERALD_EVENTS.emailComplained ||
  (event.name === HERALD_EVENTS.unsubscribed &&
    (event.properties['channel'] ?? 'email') === 'email' &&
    event.properties['source'] !== 'sms-reply');

const optsOutAddress = (event: HeraldEvent): boolean =>
  event.sourceId === REPLAYED_SOURCE && isEmailOptOut(event);

/** The customer a replayed event of Herald's names (its user id, or its anonymous one). */
const customerOf = (event: HeraldEvent): CustomerId | null =>
  event.userId !== null
    ? toCustomerId(event.userId)
    : event.anonymousId !== null
      ? anonymousCustomerId(event.anonymousId)
      : null;

/**
 * Keeps the address opt-outs among replayed events, each at its time, under the address their
 * message went to, or (a message without one recorded) the one the customer's profile has as
 * recorded — `stateOf` when the caller knows it (the profile the events changed), else the
 * profile of the customer each names: what live Herald kept beside the event.
 */
export const rememberReplayedOptOuts = async (
  tx: StoreTx,
  events: readonly HeraldEvent[],
  stateOf?: (event: HeraldEvent) => ProfileState | undefined,
): Promise<void> => {
  const outs = events.filter(optsOutAddress);
  if (outs.length === 0) return;
  let read = stateOf;
  if (read === undefined) {
    const profiles = await tx.loadProfiles(outs.flatMap((e) => customerOf(e) ?? []));
    read = (event) => {
      const customer = customerOf(event);
      return customer === null ? undefined : profiles.get(customer);
    };
  }
  for (const event of outs) {
    const went = event.properties[RECIPIENT];
    const state = read(event);
    // Where the message went, as live Herald kept it; else the address the profile has.
    const address =
      typeof went === 'string'
        ? went
        : state === undefined
          ? null
          : (recipientOf(state, 'email')?.to ?? null);
    if (address !== null) await rememberAddressOptOut(tx, address, event.timestampMs);
  }
};
