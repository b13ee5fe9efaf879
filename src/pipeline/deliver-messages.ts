// record ─▶ deliver: the dispatcher's I/O over the store — claims with the current profiles,
// the guard's check at hand-off, and each outcome written back with its audit entry and the
// events it teaches (a hard bounce, a dead push token).
import type { HeraldEvent } from '../core/event.js';
import { HERALD_EVENTS, HERALD_SOURCE } from '../core/event-names.js';
import { isAnonymousCustomerId, toMessageId, type CustomerId } from '../core/ids.js';
import type { MessageRecord } from '../core/message.js';
import type { Channel, ProfileState } from '../core/profile.js';
import { recipientOf, withOwnDevices } from '../core/recipient.js';
import type { CreativeVariant } from '../core/decision.js';
import {
  creativeOf,
  globalHoldoutExperimentId,
  isAutomatedMarketing,
  withdrawnVariants,
} from './guard-and-record.js';
import { rolloutCohortOf } from './rollout.js';
import { isInRollout } from './experiment/index.js';
import { addressFactsOf, erasedTokensOf, keptFactsOf } from './erased-identities.js';
import type { DeliveryUpdate } from '../ports/record-store.js';
import type { Store, StoreTx } from '../ports/store.js';
import {
  retryDelayMs,
  type DeliverPolicy,
  type DispatchIo,
  type Finished,
} from './deliver/index.js';
import {
  checkAtHandOff,
  checkReputationAtHandOff,
  checkTimingAtHandOff,
  type AddressFactsAtHandOff,
  type DomainResults,
  type GuardPolicy,
} from './guard/index.js';
import type { QuietHours } from '../core/quiet-hours.js';
import { DAY_MS, HOUR_MS } from '../core/time.js';
import { appendAudit, type AuditNote } from './record/index.js';

export interface DeliverDeps {
  store: Store;
  policy: DeliverPolicy;
  /** The consent, GDPR and reputation rules, checked again at hand-off. */
  guardPolicy: Pick<GuardPolicy, 'autoOptOutHardBounces' | 'gdpr' | 'reputation' | 'holdout'>;
  /** The customers' quiet hours (`decide.quietHours`), checked again at hand-off. */
  quietHours: QuietHours;
  random: () => number;
  /** Records events through the ingest path (the profile stage learns from them). */
  emit(events: readonly HeraldEvent[], nowMs: number): Promise<void>;
}

/** An event about a customer, from Herald itself; its id makes recording it twice harmless. */
export const heraldEvent = (
  customerId: CustomerId,
  name: string,
  id: string,
  properties: HeraldEvent['properties'],
  atMs: number,
): HeraldEvent => ({
  messageId: toMessageId(`herald:${id}`),
  sourceId: HERALD_SOURCE,
  type: 'track',
  userId: isAnonymousCustomerId(customerId) ? null : customerId,
  anonymousId: isAnonymousCustomerId(customerId) ? customerId.slice('anon:'.length) : null,
  previousId: null,
  groupId: null,
  name,
  properties,
  traits: {},
  context: {},
  timestampMs: atMs,
  receivedAtMs: atMs,
});

/** An `identify` from Herald setting traits on a customer (a preference a request changed). */
export const heraldIdentify = (
  customerId: CustomerId,
  id: string,
  traits: HeraldEvent['traits'],
  atMs: number,
): HeraldEvent => ({
  ...heraldEvent(customerId, '', id, {}, atMs),
  type: 'identify',
  name: null,
  traits,
});

/** What delivery learnt about the recipient from an `unreachable` answer, as an event. */
const unreachableEvent = (
  message: MessageRecord,
  to: string,
  reason: string,
  atMs: number,
): HeraldEvent | null => {
  // One per attempt: a push tried on the customer's next device after a stale token can find
  // that one stale too, and its event must not be taken for a repeat of the first.
  const id =
    message.attempts === 0
      ? `unreachable:${message.id}`
      : `unreachable:${message.id}:${String(message.attempts)}`;
  switch (message.channel) {
    case 'email':
      return heraldEvent(
        message.customerId,
        HERALD_EVENTS.emailBounced,
        id,
        { type: 'hard', messageId: message.id, reason },
        atMs,
      );
    case 'sms':
    case 'whatsapp':
      return heraldEvent(
        message.customerId,
        HERALD_EVENTS.smsUndelivered,
        id,
        { channel: message.channel, permanent: true, to, messageId: message.id, reason },
        atMs,
      );
    case 'push':
      return heraldEvent(
        message.customerId,
        HERALD_EVENTS.pushTokenUnregistered,
        id,
        { token: to, messageId: message.id, reason },
        atMs,
      );
    case 'web':
      return null;
  }
};

/**
 * Not attempted this time: the facts of the attempt before (its recipient, provider and id) are
 * kept, for a report about that attempt (a STOP reply, "sent after all") to find its message.
 */
const lastAttemptOf = (m: MessageRecord) => ({
  recipient: m.recipient,
  provider: m.provider,
  providerId: m.providerId,
  sentAtMs: m.sentAtMs,
});

/**
 * The outbox update, the audit note and the event one result gives. Noted: each outcome of an
 * attempt (sent, failed, bounced, tried again) and the start of a hold at hand-off (quiet hours,
 * a paused sending domain) with when it ends — not a message put back unattempted for the
 * dispatcher's own reasons (a lease, a provider's open circuit or rate limit), which says
 * nothing of the customer and would be noted again each cooldown.
 * `anotherDevice`: a push whose customer had another device of their own when it was handed off.
 */
const settleOnce = (
  f: Finished,
  deps: DeliverDeps,
  nowMs: number,
  anotherDevice = false,
): { update: DeliveryUpdate; note: AuditNote | null; event: HeraldEvent | null } => {
  const m = f.message;
  // Codes only: a provider's own words can name the recipient (`550 <jane@…> rejected`), and
  // the audit log outlives an erasure. They stay in the message's `lastError`.
  const note = (status: string, detail: object): AuditNote => ({
    kind: 'delivery',
    customerId: m.customerId,
    atMs: nowMs,
    data: { decisionId: m.id, channel: m.channel, status, attempt: m.attempts + 1, ...detail },
  });
  if (f.kind === 'released')
    return {
      update: {
        status: 'queued',
        sendAtMs: f.untilMs,
        attempted: false,
        ...lastAttemptOf(m),
        lastError: m.lastError,
        // What holds it, as the guard names it when it holds a message as it judges it: a
        // message waiting out a paused sending domain says so while it waits.
        reasonCode: f.holdCode ?? m.reasonCode,
      },
      // Noted when the hold begins, not each time a paused domain holds it again: a message the
      // guard passed at noon and sent at eight the next morning says why it waited.
      note:
        f.holdCode === undefined || f.holdCode === m.reasonCode
          ? null
          : note('held', { code: f.holdCode, until: new Date(f.untilMs).toISOString() }),
      event: null,
    };
  if (f.kind === 'refused')
    return {
      update: {
        status: 'blocked',
        attempted: false,
        ...lastAttemptOf(m),
        lastError: f.reason,
        reasonCode: f.code,
      },
      note: note('blocked', { code: f.code }),
      event: null,
    };
  const o = f.outcome;
  const base = { recipient: f.to, provider: f.provider };
  /** A dead letter: attempted, failed for good, with its code and the provider's words. */
  const deadLetter = (code: string, reason: string) => ({
    update: {
      status: 'failed' as const,
      attempted: true,
      ...base,
      providerId: null,
      sentAtMs: null,
      lastError: reason,
      reasonCode: code,
    },
    note: note('failed', { provider: f.provider, code }),
    event: null,
  });
  /** Back to the outbox after an attempt, to be tried again from `sendAtMs`. */
  const tryAgain = (sendAtMs: number, reason: string, code: string) => ({
    update: {
      status: 'queued' as const,
      sendAtMs,
      attempted: true,
      ...base,
      providerId: null,
      sentAtMs: null,
      lastError: reason,
      reasonCode: null,
    },
    note: note('retry', {
      provider: f.provider,
      code,
      retryAt: new Date(sendAtMs).toISOString(),
    }),
    event: null,
  });
  /** Back to the outbox unsent, without an attempt spent, until `untilMs`. */
  const backUnsent = (untilMs: number, reason: string) => ({
    update: {
      status: 'queued' as const,
      sendAtMs: untilMs,
      attempted: false,
      ...lastAttemptOf(m),
      lastError: reason,
      reasonCode: null,
    },
    note: null,
    event: null,
  });
  switch (o.kind) {
    case 'sent':
      return {
        update: {
          status: 'sent',
          attempted: true,
          ...base,
          providerId: o.providerId,
          sentAtMs: nowMs,
          lastError: null,
          reasonCode: null,
        },
        // Not the provider's id: its logs name the recipient, and would lead back to the person
        // after an erasure (the message row, which an erasure deletes, keeps it).
        note: note('sent', { provider: f.provider }),
        event: null,
      };
    case 'retry': {
      // Refused for the provider's own rate limit: nothing went, so no attempt is spent — a
      // burst of 429s must not use up a message's attempts and dead-letter it.
      // Not for ever: one the limit has held back for longer than a message may be late (a
      // one-time code, a receipt) is dead-lettered, as its attempts running out would have —
      // counted from the limit's first answer, not from when it was due: a receipt held a day
      // by a suspended account has not been held by the limit at all.
      const throttledSinceMs = m.throttledSinceMs ?? nowMs;
      if (
        o.throttled === true &&
        nowMs - throttledSinceMs >= deps.policy.maxLatenessHours * HOUR_MS
      )
        return deadLetter(
          'retries_exhausted',
          `${o.reason} (rate-limited for longer than ${String(deps.policy.maxLatenessHours)} h)`,
        );
      if (o.throttled === true) {
        const back = backUnsent(
          nowMs + Math.max(o.afterMs ?? 0, deps.policy.circuit.cooldownSeconds * 1000),
          o.reason,
        );
        return { ...back, update: { ...back.update, throttledSinceMs } };
      }
      const attempts = m.attempts + 1;
      if (attempts >= deps.policy.maxAttempts) return deadLetter('retries_exhausted', o.reason);
      return tryAgain(
        nowMs + retryDelayMs(attempts, o.afterMs, deps.policy.backoff, deps.random),
        o.reason,
        'temporary_failure',
      );
    }
    case 'failed': {
      // Refused for the device's platform (an APNs key expired): the token stays the
      // customer's, but this message tries their next most recent device, within its attempts.
      if (o.device === true && anotherDevice && m.attempts + 1 < deps.policy.maxAttempts) {
        const again = tryAgain(nowMs, o.reason, 'device_platform_refused');
        const staleTokens = [...(m.staleTokens ?? []), f.to];
        // It reached no one: the device the next attempt goes to is its recipient.
        return { ...again, update: { ...again.update, staleTokens, recipient: null } };
      }
      return deadLetter('provider_rejected', o.reason);
    }
    case 'suspended':
      // Back to the outbox unsent, without an attempt, for when the provider's circuit (open
      // now) lets a probe through; the provider's words say what to fix.
      return backUnsent(nowMs + deps.policy.circuit.cooldownSeconds * 1000, o.reason);
    case 'opted-out':
      // The customer stopped the business's marketing in the provider's app: no marketing
      // goes there until they opt in again (the profile's `marketingStops`).
      return {
        ...deadLetter('opted_out', o.reason),
        event: heraldEvent(
          m.customerId,
          HERALD_EVENTS.marketingStopped,
          `marketing-stopped:${m.id}`,
          { channel: m.channel, provider: f.provider, messageId: m.id },
          nowMs,
        ),
      };
    case 'unreachable': {
      const event = unreachableEvent(m, f.to, o.reason, nowMs);
      // A push token the provider no longer knows is one device's, not the customer's: the
      // event takes it off the profile, and the message goes back to the outbox for their next
      // most recent device. Each device tried is an attempt, so the attempts bound it.
      // The token is kept on the message too: the profile may list it still (a device whose
      // last event is stamped after the provider's answer), and the next attempt must not pick it.
      if (anotherDevice && m.attempts + 1 < deps.policy.maxAttempts) {
        const again = tryAgain(nowMs, o.reason, 'unreachable');
        const staleTokens = [...(m.staleTokens ?? []), f.to];
        return { ...again, update: { ...again.update, staleTokens, recipient: null }, event };
      }
      const dead = deadLetter('unreachable', o.reason);
      // An address the receiving server refused is a hard bounce, if a synchronous one: the
      // sending domain's bounce rate (the reputation guardrail) counts it as one.
      return {
        ...dead,
        ...(m.channel === 'email'
          ? {
              update: { ...dead.update, status: 'bounced' as const },
              note: note('bounced', { provider: f.provider, code: 'unreachable' }),
            }
          : {}),
        event,
      };
    }
  }
};

/** As `settleOnce`; a provider's answer other than its rate limit ends the limit's hold. */
const settle = (
  f: Finished,
  deps: DeliverDeps,
  nowMs: number,
  anotherDevice = false,
): ReturnType<typeof settleOnce> => {
  const s = settleOnce(f, deps, nowMs, anotherDevice);
  return f.kind === 'outcome' &&
    s.update.throttledSinceMs === undefined &&
    f.message.throttledSinceMs !== undefined
    ? { ...s, update: { ...s.update, throttledSinceMs: null } }
    : s;
};

/** The audit note of a message marked sent because a provider's report showed it went. */
const acceptedNote = (
  m: MessageRecord,
  attempt: number,
  provider: string | null,
  nowMs: number,
): AuditNote => ({
  kind: 'delivery',
  customerId: m.customerId,
  atMs: nowMs,
  data: {
    decisionId: m.id,
    channel: m.channel,
    status: 'sent',
    attempt,
    provider,
    reason: 'a provider report shows the attempt was accepted',
  },
});

/**
 * Any outcome but `sent` (a timeout that re-queues it or, on the last attempt, files it failed;
 * a release; a refusal at hand-off) for a message a provider's report showed accepted while
 * this claim was under way (`markAcceptedAfterAll` kept the acceptance on the row): `sent`
 * instead — it went, and must be neither sent twice nor filed as failed or blocked.
 */
const acceptedMeanwhile = async (
  tx: StoreTx,
  s: { f: Finished; update: DeliveryUpdate; note: AuditNote | null },
  nowMs: number,
): Promise<{ update: DeliveryUpdate; note: AuditNote | null }> => {
  const row = await tx.getMessageForUpdate(s.f.message.id);
  if (row?.status !== 'sending' || row.sentAtMs === null) return s;
  const m = s.f.message;
  return {
    update: {
      status: 'sent',
      attempted: s.update.attempted,
      recipient: s.update.recipient ?? row.recipient,
      provider: s.update.provider ?? row.provider,
      providerId: row.providerId,
      sentAtMs: row.sentAtMs,
      lastError: null,
      reasonCode: null,
    },
    note: acceptedNote(m, m.attempts + 1, s.update.provider ?? row.provider, nowMs),
  };
};

/**
 * The profiles as push may use them: without the devices another customer registered since
 * (their token now signs that customer in, `withOwnDevices`), read with the claim and again
 * right before an attempt. A customer left with no device of their own is refused as
 * `no_recipient`, and the token is named nowhere in the outcome.
 */
const withOwnDevicesOf = async (
  tx: Pick<StoreTx, 'deviceTokenOwners' | 'getSetting' | 'anyErasedIdentity' | 'erasedIdentities'>,
  profiles: ReadonlyMap<CustomerId, ProfileState>,
): Promise<Map<CustomerId, ProfileState>> => {
  const tokens = [...profiles.values()].flatMap((p) => (p.devices ?? []).map((d) => d.token));
  const owners = new Map<string, string>(
    tokens.length === 0 ? [] : await tx.deviceTokenOwners(tokens),
  );
  // A token nobody holds that an erased customer held is theirs still: held by no one here
  // (`''`), so no other customer's push goes to it.
  for (const token of await erasedTokensOf(
    tx,
    tokens.filter((t) => !owners.has(t)),
  ))
    owners.set(token, '');
  return new Map([...profiles].map(([id, state]) => [id, withOwnDevices(state, owners)]));
};

/**
 * The profile a push goes by: without the devices whose tokens it found unregistered already
 * (`staleTokens`). The same profile for any other message.
 */
const withoutStaleTokens = (
  message: MessageRecord,
  state: ProfileState | undefined,
): ProfileState | undefined => {
  const stale = message.staleTokens;
  if (stale === undefined || state?.devices === undefined) return state;
  return { ...state, devices: state.devices.filter((d) => !stale.includes(d.token)) };
};

/**
 * Messages left `sending` by a dispatcher that died after a provider's report showed it took
 * them (the report came while the dead dispatcher's lease ran): marked sent, with their
 * recipient as it would have written it, rather than claimed and sent a second time.
 */
const settleAcceptedLeftSending = async (
  tx: StoreTx,
  channel: Channel,
  nowMs: number,
  limit: number,
): Promise<void> => {
  const left = await tx.acceptedLeftSending([channel], nowMs, limit);
  if (left.length === 0) return;
  // As a report settles one (PostgreSQL): the exposure's credit sees every order recorded
  // before it, and an order recorded after sees the exposure.
  const customers = [...new Set(left.map((m) => m.customerId))];
  await tx.lock(customers);
  const loaded = await tx.loadProfiles(customers);
  const profiles = channel === 'push' ? await withOwnDevicesOf(tx, loaded) : loaded;
  const notes: AuditNote[] = [];
  for (const m of left) {
    // Where its attempt went, as the dispatcher picked it: not a device it had found refusing.
    const state = withoutStaleTokens(m, profiles.get(m.customerId));
    const to = state === undefined ? null : (recipientOf(state, m.channel)?.to ?? null);
    const owner = await tx.markAcceptedAfterAll(m.id, m.providerId, to, m.sentAtMs ?? nowMs, nowMs);
    if (owner !== null)
      notes.push({ ...acceptedNote(m, m.attempts + 1, m.provider, nowMs), customerId: owner });
  }
  await appendAudit(tx, notes, nowMs);
};

/**
 * Why each claimed message of written copy no longer stands on the library (a cited document
 * withdrawn or replaced since its variant was written), by message id: read as they are
 * claimed, the library being read by the variants of their campaigns.
 */
const withdrawnCopyOf = async (
  tx: StoreTx,
  messages: readonly MessageRecord[],
  nowMs: number,
): Promise<Map<string, string>> => {
  const written = messages.filter((m) => m.campaignId !== null && m.variant !== null);
  const found = new Map<string, string>();
  if (written.length === 0) return found;
  const creative = new Map<string, CreativeVariant[]>();
  for (const id of new Set(written.map((m) => m.campaignId ?? ''))) {
    const variants = await creativeOf(tx, `creative:${id}`);
    if (variants !== null) creative.set(`creative:${id}`, variants);
  }
  if (creative.size === 0) return found;
  const withdrawn = await withdrawnVariants(tx, creative, nowMs);
  for (const m of written) {
    const variant = creative.get(`creative:${m.campaignId ?? ''}`)?.find((v) => v.id === m.variant);
    const why = variant === undefined ? undefined : withdrawn.get(variant);
    if (why !== undefined) found.set(m.id, why);
  }
  return found;
};

/**
 * How long a sending domain's delivery results, read for the check at hand-off, are used before
 * they are read again: as the guard's, the rates run over days of results, and a minute's lag
 * does not change them.
 */
const DOMAIN_STATS_TTL_MS = 60_000;

/** The dispatcher's I/O over the store. */
export const createDispatchIo = (deps: DeliverDeps): DispatchIo => {
  // Claimed messages whose written copy no longer stands, until their hand-off.
  const withdrawn = new Map<string, string>();
  // Claimed messages whose decision was cancelled since (a journey's exit while the message
  // waited for a retry), with the cancel's reason, until their hand-off.
  const cancelled = new Map<string, string>();
  // What is kept of a claimed email's address on any record of it (its opt-out, its hard
  // bounces), read with the claim, for the check at hand-off.
  const addressOf = new Map<string, AddressFactsAtHandOff>();
  // Claimed pushes whose customer has another device of their own, read at hand-off.
  const moreDevices = new Set<string>();
  // Claimed automated marketing whose customer is measured in the global holdout, read with the
  // claim: a message another record of theirs had queued before the two were merged, whose
  // draw was that record's.
  const globallyHeldOut = new Set<string>();
  /** Notes the claimed automated marketing whose customer's global holdout arm is `holdout`. */
  const readGlobalHoldout = async (tx: StoreTx, messages: readonly MessageRecord[]) => {
    const { globalPercent, salt } = deps.guardPolicy.holdout;
    if (globalPercent <= 0) return;
    const marketing = messages.filter(isAutomatedMarketing);
    if (marketing.length === 0) return;
    const arms = await tx.armsOf(globalHoldoutExperimentId({ percent: globalPercent, salt }), [
      ...new Set(marketing.map((m) => m.customerId)),
    ]);
    for (const m of marketing) if (arms.get(m.customerId) === 'holdout') globallyHeldOut.add(m.id);
  };
  // The staged rollout's cohort, read with each claim: one rolled back since a message was
  // let through sends no more automated marketing to the customers it left.
  let rollout: { percent: number; salt: string } | null = null;
  // Each sending domain's delivery results over the reputation window, and when they were read.
  const domains = new Map<string, { atMs: number; stats: DomainResults }>();
  /** Reads again, with a claim, the results of the domains its marketing email leaves from. */
  const readDomains = async (tx: StoreTx, messages: readonly MessageRecord[], nowMs: number) => {
    const wanted = new Set<string>();
    for (const m of messages)
      if (m.channel === 'email' && m.class === 'marketing' && m.sendingDomain !== null)
        wanted.add(m.sendingDomain);
    for (const domain of wanted) {
      const cached = domains.get(domain);
      if (cached !== undefined && Math.abs(nowMs - cached.atMs) < DOMAIN_STATS_TTL_MS) continue;
      const sinceMs = nowMs - deps.guardPolicy.reputation.windowDays * DAY_MS;
      domains.set(domain, {
        atMs: nowMs,
        stats: { domain, ...(await tx.domainStats(domain, sinceMs)) },
      });
    }
  };
  return {
    claim: (channel, nowMs, limit, leaseUntilMs) =>
      deps.store.transaction(async (tx) => {
        await settleAcceptedLeftSending(tx, channel, nowMs, limit);
        const messages = await tx.claimOutbox([channel], nowMs, limit, leaseUntilMs);
        if (messages.length === 0) return [];
        rollout = await rolloutCohortOf(tx);
        const loaded = await tx.loadProfiles([...new Set(messages.map((m) => m.customerId))]);
        const profiles = channel === 'push' ? await withOwnDevicesOf(tx, loaded) : loaded;
        for (const [id, why] of await withdrawnCopyOf(tx, messages, nowMs)) withdrawn.set(id, why);
        // A message can wait with its decision cancelled when it was tried before, or claimed
        // when the cancel came and put back unsent (a 429, an open circuit, a hold at hand-off):
        // one that never left a dispatcher's hands is withdrawn with its decision instead.
        for (const [id, why] of await tx.cancelledDecisionsOf(messages.map((m) => m.id)))
          cancelled.set(id, why);
        await readGlobalHoldout(tx, messages);
        if (channel === 'email' || channel === 'sms') {
          const address = await addressFactsOf(tx, [...profiles.values()]);
          for (const m of messages) addressOf.set(m.id, keptFactsOf(address, m.customerId));
        }
        if (channel === 'email') await readDomains(tx, messages, nowMs);
        return messages.map((message) => ({
          message,
          state: withoutStaleTokens(message, profiles.get(message.customerId)),
        }));
      }),
    countDue: (channel, nowMs, limit) =>
      deps.store.transaction((tx) => tx.countClaimable([channel], nowMs, limit)),
    takeTokens: (bucket, want, perSecond, burst, nowMs) =>
      deps.store.transaction((tx) => tx.takeTokens(bucket, want, perSecond, burst, nowMs)),
    async recheck(message) {
      const fresh = await deps.store.getMessage(message.id);
      if (fresh?.status !== 'sending') return null;
      // Its decision as it is now: cancelled since the claim (its journey exited), it goes no more.
      const since = await deps.store.transaction((tx) => tx.cancelledDecisionsOf([message.id]));
      for (const [id, why] of since) cancelled.set(id, why);
      // Its customer as it is now: merged into another since the claim, the message went with them.
      const state = (await deps.store.getProfile(fresh.customerId))?.state;
      // An email's address as it is now too: an unsubscribe or bounces on another record of it;
      // and a text's number: a STOP on another record of it.
      if (state !== undefined && (fresh.channel === 'email' || fresh.channel === 'sms')) {
        const address = await deps.store.transaction((tx) => addressFactsOf(tx, [state]));
        addressOf.set(message.id, keptFactsOf(address, state.customerId));
      }
      if (state === undefined || fresh.channel !== 'push') return { state };
      const own = await deps.store.transaction((tx) =>
        withOwnDevicesOf(tx, new Map([[fresh.customerId, state]])),
      );
      return { state: withoutStaleTokens(fresh, own.get(fresh.customerId)) };
    },
    handOff: (message, state, nowMs) => {
      if (message.channel === 'push' && (state?.devices?.length ?? 0) > 1)
        moreDevices.add(message.id);
      const why = withdrawn.get(message.id);
      withdrawn.delete(message.id);
      const cancel = cancelled.get(message.id);
      cancelled.delete(message.id);
      // What it was decided for is over (its journey exited): it goes no more, whatever else.
      if (cancel !== undefined)
        return { code: 'decision_cancelled', reason: `its decision was cancelled: ${cancel}` };
      const heldOut = globallyHeldOut.delete(message.id);
      if (heldOut)
        return {
          code: 'global_holdout',
          reason:
            'its customer is measured in the global holdout (a record merged into theirs had it queued)',
        };
      // Only what this rollout let through: a message judged before it, or under an earlier
      // one, passed the gate of its time.
      if (
        rollout !== null &&
        message.rolloutSalt === rollout.salt &&
        isAutomatedMarketing(message) &&
        !isInRollout(message.customerId, rollout.percent, rollout.salt)
      )
        return {
          code: 'outside_rollout',
          reason: `the staged rollout is at ${String(rollout.percent)} % now, and its customer is outside that cohort`,
        };
      const address = addressOf.get(message.id);
      addressOf.delete(message.id);
      const domain =
        message.sendingDomain === null ? undefined : domains.get(message.sendingDomain);
      return (
        checkAtHandOff(message, state, deps.guardPolicy, nowMs, address) ??
        (why === undefined ? null : { code: 'content_withdrawn', reason: why }) ??
        (state === undefined
          ? null
          : checkTimingAtHandOff(
              message,
              state,
              deps.quietHours,
              deps.policy.maxLatenessHours,
              nowMs,
            )) ??
        checkReputationAtHandOff(message, domain?.stats ?? null, deps.guardPolicy, nowMs)
      );
    },
    async finish(results, nowMs, leaseUntilMs) {
      for (const r of results) {
        withdrawn.delete(r.message.id);
        cancelled.delete(r.message.id);
        addressOf.delete(r.message.id);
      }
      const settled = results.map((f) => ({
        f,
        ...settle(f, deps, nowMs, moreDevices.has(f.message.id)),
      }));
      // Events first: their ids make a repeat harmless, so a crash before the outbox write
      // below loses nothing (the message is claimed again and gives the same event). A message
      // gone meanwhile (its customer erased) teaches nothing about anyone.
      const events: HeraldEvent[] = [];
      for (const s of settled)
        if (s.event !== null && (await deps.store.getMessage(s.f.message.id)) !== undefined)
          events.push(s.event);
      if (events.length > 0) await deps.emit(events, nowMs);
      await deps.store.transaction(async (tx) => {
        // A message that went exposes the experiment units it carries, crediting the orders of
        // their window recorded already; under its customer's lock (as an order is recorded), an
        // order recorded meanwhile on PostgreSQL either is seen here or sees the exposure.
        await tx.lock(settled.map((s) => s.f.message.customerId));
        const notes: AuditNote[] = [];
        for (const s of settled) {
          const { update, note } =
            s.update.status === 'sent' ? s : await acceptedMeanwhile(tx, s, nowMs);
          const owner = await tx.finishDelivery(s.f.message.id, update, nowMs, leaseUntilMs);
          if (owner === null) continue;
          // Under the customer it belongs to now: merged into another since the claim, the
          // message went with them, and so does its note (their export finds it).
          if (note !== null) notes.push({ ...note, customerId: owner });
          // Held for quiet hours: due when they end (less what it was late before), so the
          // night it waited does not make it `stale`.
          if (s.f.kind === 'released' && s.f.dueAtMs !== undefined && update.status === 'queued')
            await tx.updateMessage(s.f.message.id, { dueAtMs: s.f.dueAtMs }, nowMs, 'queued');
        }
        await appendAudit(tx, notes, nowMs);
      });
      // Forgotten once written: a write tried again must settle a push whose token died on the
      // customer's next device as the first try would have, not as their last device.
      for (const r of results) moreDevices.delete(r.message.id);
    },
  };
};
