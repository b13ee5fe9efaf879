import { withCustomerId, type HeraldEvent } from '../../core/event.js';
import { anonymousCustomerId, toCustomerId, type CustomerId } from '../../core/ids.js';
import type { EventDraft, IdentityKey, IdentityLink } from '../../ports/store.js';

export interface IdentityPlan {
  drafts: EventDraft[];
  links: IdentityLink[];
  /** Customers whose history moves into another: `from` is merged into `to`. */
  merges: { from: CustomerId; to: CustomerId }[];
}

/** The identity keys a batch needs to look up before it can be resolved. */
export const identityKeysOf = (events: readonly HeraldEvent[]): IdentityKey[] => {
  const keys = new Set<IdentityKey>();
  for (const e of events) {
    if (e.userId !== null) keys.add(`u:${e.userId}`);
    if (e.anonymousId !== null) keys.add(`a:${e.anonymousId}`);
    if (e.previousId !== null) {
      keys.add(`u:${e.previousId}`);
      keys.add(`a:${e.previousId}`);
    }
  }
  return [...keys];
};

/**
 * Decides which customer each event belongs to, in order. Identity stitching: an event with
 * both a userId and a not-yet-linked anonymousId links that device to the user and merges the
 * anonymous history into them; `alias` merges `previousId` (a user id or an anonymous id) into
 * `userId`, and links its own anonymousId as any call with both ids does. The first link of an anonymous id wins; later events name their user anyway.
 */
export const resolveIdentities = (
  events: readonly HeraldEvent[],
  known: ReadonlyMap<IdentityKey, CustomerId>,
): IdentityPlan => {
  const links = new Map(known);
  const plan: IdentityPlan = { drafts: [], links: [], merges: [] };
  // Who each customer merged away in this batch went into: what led to them leads to the
  // survivor now (the store moves their links as it merges), so a later event of the batch
  // naming one files nothing under a customer that no longer exists.
  const survivorOf = new Map<CustomerId, CustomerId>();
  const current = (id: CustomerId): CustomerId => {
    let at = id;
    for (let next = survivorOf.get(at); next !== undefined; next = survivorOf.get(at)) at = next;
    return at;
  };
  const linked = (key: IdentityKey, otherwise: CustomerId): CustomerId =>
    current(links.get(key) ?? otherwise);
  const link = (key: IdentityKey, customerId: CustomerId, from: CustomerId, atMs: number) => {
    if (links.has(key) || from === customerId) return;
    links.set(key, customerId);
    plan.links.push({ key, customerId, linkedAtMs: atMs });
    plan.merges.push({ from, to: customerId });
    survivorOf.set(from, customerId);
  };
  const userCustomer = (userId: string): CustomerId => linked(`u:${userId}`, toCustomerId(userId));
  for (const event of events) {
    let customerId: CustomerId;
    if (event.type === 'alias' && event.userId !== null && event.previousId !== null) {
      customerId = userCustomer(event.userId);
      const previous = event.previousId;
      link(`u:${previous}`, customerId, userCustomer(previous), event.timestampMs);
      link(`a:${previous}`, customerId, anonymousCustomerId(previous), event.timestampMs);
      // The device the alias was sent from (Segment's SDKs send its anonymousId with every
      // call) is the user's too, as with any call carrying both ids.
      if (event.anonymousId !== null)
        link(
          `a:${event.anonymousId}`,
          customerId,
          anonymousCustomerId(event.anonymousId),
          event.timestampMs,
        );
    } else if (event.userId !== null) {
      customerId = userCustomer(event.userId);
      if (event.anonymousId !== null) {
        link(
          `a:${event.anonymousId}`,
          customerId,
          anonymousCustomerId(event.anonymousId),
          event.timestampMs,
        );
      }
    } else if (event.anonymousId !== null) {
      customerId = linked(`a:${event.anonymousId}`, anonymousCustomerId(event.anonymousId));
    } else {
      continue; // parseEvent guarantees an id; nothing to attach the event to otherwise
    }
    plan.drafts.push(withCustomerId(event, customerId));
  }
  // The store merges before it inserts the batch, so an event filed under a customer that this
  // batch merges away (an anonymous page view before the identify) must follow the merge.
  const mergedInto = new Map(plan.merges.map(({ from, to }) => [from, to]));
  const finalCustomer = (id: CustomerId): CustomerId => {
    let current = id;
    for (let hops = 0; hops <= mergedInto.size; hops += 1) {
      const next = mergedInto.get(current);
      if (next === undefined) return current;
      current = next;
    }
    return current;
  };
  if (mergedInto.size > 0) {
    for (const draft of plan.drafts) draft.customerId = finalCustomer(draft.customerId);
  }
  return plan;
};
