// deliver ─▶ track: what happens to a message after it left (opens, clicks, unsubscribes,
// provider reports) comes back as events on its customer, and what changes the message's
// fate (a bounce, a complaint) is written on it and in the audit log.
import { randomUUID } from 'node:crypto';
import type { HeraldEvent } from '../core/event.js';
import { HERALD_EVENTS } from '../core/event-names.js';
import type { CustomerId } from '../core/ids.js';
import type { MessageRecord } from '../core/message.js';
import type { ProfileChange } from '../core/profile.js';
import { orderIdIn } from '../core/read-props.js';
import { recipientOf } from '../core/recipient.js';
import { DAY_MS } from '../core/time.js';
import type { Conversion } from '../ports/record-store.js';
import type { Store, StoreTx } from '../ports/store.js';
import { heraldEvent } from './deliver-messages.js';
import { orderIdOf } from './profile/index.js';
import { appendAudit, type AuditNote } from './record/index.js';
import { rememberAddressOptOut } from './erased-identities.js';

/**
 * The attempt a provider's report is about, by the id the provider gave it (Twilio's
 * `MessageSid`, SendGrid's `X-Message-Id`): each attempt of a message gets its own.
 */
export interface ReportedAttempt {
  provider: string;
  /** The provider's id of the attempt; null when the report gave none. */
  providerId: string | null;
  /** The attempt's number (1 for the first), when the provider carried it back. */
  number?: number;
}

export type MessageResult =
  | { kind: 'opened' }
  | { kind: 'clicked'; url: string }
  | { kind: 'unsubscribed'; source: string }
  /**
   * The provider took the message (Twilio `queued`/`sent`, SendGrid `processed`): not an
   * outcome for the customer, but proof that an attempt that seemed to fail went through.
   */
  | { kind: 'accepted'; providerId: string | null }
  | { kind: 'delivered'; providerId?: string | null }
  | { kind: 'bounced'; hard: boolean; reason: string; attempt?: ReportedAttempt }
  | { kind: 'complained' }
  | { kind: 'dropped'; reason: string; attempt?: ReportedAttempt }
  /**
   * `permanent`: the number cannot receive (it is then not messaged again on the channel);
   * `code`: the message's reason code when it is not `undelivered` (`opted_out`).
   */
  | {
      kind: 'undelivered';
      reason: string;
      permanent?: { to: string };
      attempt?: ReportedAttempt;
      code?: string;
      /**
       * The provider failed it before it left (a queue overflowed): not the number's fault, and
       * back in the outbox at this time while the message has attempts left.
       */
      retryAtMs?: number;
    }
  /** The customer stopped the business's marketing on the channel in the provider's app. */
  | { kind: 'marketing-stopped' };

export interface TrackDeps {
  store: Store;
  emit(events: readonly HeraldEvent[], nowMs: number): Promise<void>;
  /** `deliver.attributionWindowDays`: a message found not to reach its customer hands its credit on within it. */
  attributionWindowMs: number;
  /** `deliver.maxAttempts`: a message a provider failed before it left is tried again below it. */
  maxAttempts: number;
}

/** SendGrid's suppression lists, by the reason a drop names: what put an address there. */
const SUPPRESSION_LISTS = new Map<string, { name: string; properties?: Record<string, string> }>([
  [
    'unsubscribed address',
    { name: HERALD_EVENTS.unsubscribed, properties: { source: 'sendgrid-suppression' } },
  ],
  [
    'unsubscribed group',
    { name: HERALD_EVENTS.unsubscribed, properties: { source: 'sendgrid-suppression' } },
  ],
  ['spam reporting address', { name: HERALD_EVENTS.emailComplained }],
  ['bounced address', { name: HERALD_EVENTS.emailBounced, properties: { type: 'hard' } }],
]);

/**
 * The event a result becomes. Ids: a bounce or a delivery report happens once per message (a
 * repeated report is recorded once), and so does an open; clicks and unsubscribes each count — an unsubscribe
 * through the same message after a re-subscribe must be heard again (a provider's report id, when
 * there is one, makes its retries of one report count once).
 */
const eventOf = (m: MessageRecord, r: MessageResult, atMs: number, reportId: string | null) => {
  const props = { messageId: m.id, channel: m.channel, template: m.template };
  const once = (what: string) => `${what}:${m.id}`;
  const each = (what: string) => `${what}:${m.id}:${reportId ?? randomUUID()}`;
  switch (r.kind) {
    case 'accepted':
      return null;
    case 'opened':
      // Once a message: a pixel fetched again — a replay, an image proxy, a scanner — is no one
      // reading it again, and each open added engagement (a month-old message's pixel fetched
      // four times lifted a customer out of the low-engagement block).
      return heraldEvent(m.customerId, HERALD_EVENTS.emailOpened, once('open'), props, atMs);
    case 'clicked':
      return heraldEvent(
        m.customerId,
        m.channel === 'sms' ? HERALD_EVENTS.smsClicked : HERALD_EVENTS.emailClicked,
        each('click'),
        { ...props, url: r.url },
        atMs,
      );
    case 'unsubscribed':
      return heraldEvent(
        m.customerId,
        HERALD_EVENTS.unsubscribed,
        each('unsubscribe'),
        { ...props, source: r.source },
        atMs,
      );
    case 'delivered':
      return heraldEvent(
        m.customerId,
        m.channel === 'email' ? HERALD_EVENTS.emailDelivered : HERALD_EVENTS.smsDelivered,
        once('delivered'),
        props,
        atMs,
      );
    case 'bounced':
      return heraldEvent(
        m.customerId,
        HERALD_EVENTS.emailBounced,
        once('bounce'),
        { ...props, type: r.hard ? 'hard' : 'soft', reason: r.reason },
        atMs,
      );
    case 'complained':
      return heraldEvent(
        m.customerId,
        HERALD_EVENTS.emailComplained,
        once('complaint'),
        props,
        atMs,
      );
    case 'dropped': {
      // SendGrid drops mail to an address on one of its suppression lists, and its reason names
      // the list: the profile learns what put the address there, as if reported to Herald.
      const list = SUPPRESSION_LISTS.get(r.reason.trim().toLowerCase());
      return heraldEvent(
        m.customerId,
        list?.name ?? 'Email Dropped',
        once('dropped'),
        { ...props, reason: r.reason, dropped: true, ...list?.properties },
        atMs,
      );
    }
    case 'marketing-stopped':
      return heraldEvent(
        m.customerId,
        HERALD_EVENTS.marketingStopped,
        once('marketing-stopped'),
        { ...props, provider: m.provider },
        atMs,
      );
    case 'undelivered':
      return heraldEvent(
        m.customerId,
        HERALD_EVENTS.smsUndelivered,
        once('undelivered'),
        r.permanent === undefined
          ? { ...props, reason: r.reason }
          : { ...props, reason: r.reason, permanent: true, to: r.permanent.to },
        atMs,
      );
  }
};

/** The message's new status for results that change its fate (reputation counts them). */
const statusOf = (r: MessageResult): MessageRecord['status'] | null =>
  r.kind === 'bounced' && r.hard
    ? 'bounced'
    : r.kind === 'complained'
      ? 'complained'
      : r.kind === 'dropped' || r.kind === 'undelivered'
        ? 'failed'
        : null;

/** The `result` audit entry of what a report or a reply did to a message. */
const appendResult = (
  tx: StoreTx,
  message: MessageRecord,
  result: MessageResult,
  nowMs: number,
  detail: { status?: string; reason?: string },
) =>
  appendAudit(
    tx,
    [
      {
        kind: 'result',
        customerId: message.customerId,
        atMs: nowMs,
        data: {
          decisionId: message.id,
          channel: message.channel,
          result: result.kind,
          // Which bounce: a soft one (a full mailbox) leaves the message as it was.
          ...(result.kind === 'bounced' ? { bounce: result.hard ? 'hard' : 'soft' } : {}),
          ...detail,
        },
      },
    ],
    nowMs,
  );

/**
 * Whether a failure report is about an attempt a later one superseded (one that gave up
 * waiting, which the provider took after all, and whose retry then went): it must not fail the
 * message, nor count against its address or number. By the attempt's number when the provider
 * carried it back: older than the attempt being sent, or than the last one made. Else by the
 * provider's id of it: another than the recorded attempt's. A message with no provider id
 * recorded (waiting for a retry, or being retried) cannot tell that way, and takes the report.
 */
const isAboutSupersededAttempt = (
  message: Pick<MessageRecord, 'provider' | 'providerId' | 'status' | 'attempts'>,
  result: MessageResult,
): boolean => {
  const attempt =
    result.kind === 'bounced' || result.kind === 'dropped' || result.kind === 'undelivered'
      ? result.attempt
      : undefined;
  if (attempt === undefined) return false;
  if (attempt.number !== undefined)
    return (
      attempt.number < (message.status === 'sending' ? message.attempts + 1 : message.attempts)
    );
  return (
    attempt.providerId !== null &&
    message.providerId !== null &&
    message.provider === attempt.provider &&
    message.providerId !== attempt.providerId
  );
};

const PROVE_ACCEPTED: ReadonlySet<MessageResult['kind']> = new Set([
  'accepted',
  'delivered',
  'opened',
  'clicked',
]);

/**
 * Whether a result shows the message reached the provider: a report of it, or the customer
 * acting on its copy — opening it, following a link, unsubscribing through it (its own page or
 * one-click link, or SendGrid's). Not an SMS STOP: a reply names a number, not the message it
 * answers, which may be an older one.
 */
const provesAccepted = (result: MessageResult): boolean =>
  PROVE_ACCEPTED.has(result.kind) || unsubscribedThroughIt(result);

/** An unsubscribe through the message itself (its link, SendGrid's), not an SMS STOP reply. */
const unsubscribedThroughIt = (result: MessageResult): boolean =>
  result.kind === 'unsubscribed' && result.source !== 'sms-reply';

/**
 * Whether an email result is its address's opt-out: a complaint, an unsubscribe through the
 * message, or SendGrid's drop of an address on its unsubscribe or spam-report list (what put it
 * there was one of those, on whichever record's mail).
 */
const optsOutTheAddress = (result: MessageResult): boolean => {
  if (result.kind === 'complained' || unsubscribedThroughIt(result)) return true;
  if (result.kind !== 'dropped') return false;
  const list = SUPPRESSION_LISTS.get(result.reason.trim().toLowerCase())?.name;
  return list === HERALD_EVENTS.unsubscribed || list === HERALD_EVENTS.emailComplained;
};

/**
 * A message waiting in the outbox for a retry, left `sending` by a dispatcher that died, filed
 * failed when its last attempt gave up waiting, or refused at a retry's hand-off after an
 * attempt, whose attempt a report shows went through
 * (one that timed out after the provider had taken it): marked sent, so it is not sent twice
 * nor counted as failed. Not one a live dispatcher is sending right now.
 */
const markSentAfterAll = async (
  deps: TrackDeps,
  message: MessageRecord,
  result: MessageResult,
  atMs: number,
  nowMs: number,
): Promise<void> => {
  const gaveUp =
    (message.status === 'failed' && message.reasonCode === 'retries_exhausted') ||
    (message.status === 'blocked' && message.attempts > 0);
  if (
    !(message.status === 'queued' && message.attempts > 0) &&
    message.status !== 'sending' &&
    !gaveUp
  )
    return;
  const providerId =
    result.kind === 'accepted' || result.kind === 'delivered' ? (result.providerId ?? null) : null;
  await deps.store.transaction(async (tx) => {
    // As the customer's events are recorded (PostgreSQL): the exposure's credit then sees every
    // order of theirs recorded before it, and an order recorded after sees the exposure.
    await tx.lock([message.customerId]);
    // Where the attempt went, as its dispatcher would have written it (one that died did not):
    // an SMS STOP finds the customers Herald texted at a number by it.
    const state = (await tx.loadProfiles([message.customerId])).get(message.customerId);
    const recipient =
      state === undefined ? null : (recipientOf(state, message.channel)?.to ?? null);
    const owner = await tx.markAcceptedAfterAll(message.id, providerId, recipient, atMs, nowMs);
    if (owner === null) return;
    // Under the customer it belongs to now (merged since it was read: the one it went to).
    await appendResult(tx, { ...message, customerId: owner }, result, nowMs, {
      status: 'sent',
      reason: 'a provider report shows an attempt that seemed to fail was accepted',
    });
  });
};

/**
 * Records what happened to a message: the event on its customer (through the ingest path, so
 * consent, suppression and engagement follow), and for bounces, complaints and drops the
 * message's status and an audit entry. A failure report about an attempt the recorded one
 * superseded (`isAboutSupersededAttempt`) gets the audit entry alone.
 */
export const recordMessageResult = async (
  deps: TrackDeps,
  message: MessageRecord,
  result: MessageResult,
  atMs: number,
  nowMs: number,
  reportId: string | null = null,
): Promise<void> => {
  // A superseded attempt's failure is no event of the customer's: an `SMS Undelivered` with
  // 30005 would mark the number unreachable, an `Email Bounced` count a hard bounce, and either
  // would take the once-a-message id the recorded attempt's own report needs.
  // Nor is a failure before the message left the provider (`retryAtMs`): the number is fine.
  const event =
    isAboutSupersededAttempt(message, result) ||
    (result.kind === 'undelivered' && result.retryAtMs !== undefined)
      ? null
      : eventOf(message, result, atMs, reportId);
  if (event !== null) await deps.emit([event], nowMs);
  // Each of these says the message reached the provider, if not the customer.
  if (provesAccepted(result)) await markSentAfterAll(deps, message, result, atMs, nowMs);
  const status = statusOf(result);
  // Noted once a message: its first delivery report, open and click.
  const firstOnly =
    result.kind === 'delivered' || result.kind === 'opened' || result.kind === 'clicked'
      ? result.kind
      : null;
  // A soft bounce changes no status, but the trail says the message did not reach them then.
  const noted = status !== null || firstOnly !== null || result.kind === 'bounced';
  if (!noted && result.kind !== 'unsubscribed') return;
  await deps.store.transaction(async (tx) => {
    // Under the lock an erasure takes: a message erased since leaves nothing behind, not even
    // an audit entry that would give its customer a pseudonym again. The message may have been
    // handed over since it was read (a visitor who identified): then its new customer's lock.
    await tx.lock([message.customerId]);
    let current = await tx.getMessageForUpdate(message.id);
    if (current !== undefined && current.customerId !== message.customerId) {
      await tx.lock([current.customerId]);
      current = await tx.getMessageForUpdate(message.id);
    }
    if (current === undefined) return;
    if (firstOnly !== null) {
      if (await tx.markEngagement(current.id, firstOnly, atMs))
        await appendResult(tx, current, result, nowMs, {});
      return;
    }
    // An email unsubscribe or complaint is the address's, on every record that has it.
    if (current.channel === 'email' && optsOutTheAddress(result)) {
      const state = (await tx.loadProfiles([current.customerId])).get(current.customerId);
      const address =
        current.recipient ??
        (state === undefined ? null : (recipientOf(state, 'email')?.to ?? null));
      if (address !== null) await rememberAddressOptOut(tx, address, atMs);
    }
    // The status as it is now, under the lock: the message read before may have moved on since
    // (a dispatcher that was sending it has marked it sent), and the report still applies. A
    // report of what the message already is (a complaint re-sent) leaves the row as it was, and
    // so does any after a complaint: the recipient's word outranks a bounce or a drop reported
    // later, and the rollout and the KPIs count complaints by the messages marked so.
    const superseded = isAboutSupersededAttempt(current, result);
    // The same report again (a provider posting its callback twice) after the message went back
    // in the outbox for it: nothing more to do — failing it would lose the retry.
    if (
      !superseded &&
      result.kind === 'undelivered' &&
      result.retryAtMs !== undefined &&
      current.status === 'queued'
    )
      return;
    // Failed before it left, after the provider took it: back in the outbox while it has
    // attempts left (a report that came while it was still being handed over fails it, below).
    if (
      !superseded &&
      result.kind === 'undelivered' &&
      result.retryAtMs !== undefined &&
      current.status === 'sent' &&
      current.attempts < deps.maxAttempts &&
      (await tx.requeueUnsent(current.id, result.attempt?.providerId ?? null, {
        sendAtMs: result.retryAtMs,
        lastError: result.reason,
        nowMs,
      }))
    ) {
      await moveCreditOff(tx, current.id, deps.attributionWindowMs, nowMs);
      await appendResult(tx, current, result, nowMs, {
        status: 'queued',
        reason: `the provider failed it before it left (${result.reason}): tried again at ${new Date(result.retryAtMs).toISOString()}`,
      });
      return;
    }
    const changed =
      !superseded &&
      status !== null &&
      status !== current.status &&
      current.status !== 'complained' &&
      (await tx.updateMessage(
        message.id,
        {
          status,
          reasonCode:
            result.kind === 'undelivered' && result.code !== undefined ? result.code : result.kind,
        },
        nowMs,
        current.status,
      ));
    // A message that did not reach the customer earns nothing: an order credited to it before
    // the report came goes to the window's last message that did, as it would have had the
    // report come first.
    if (changed && status !== 'complained')
      await moveCreditOff(tx, current.id, deps.attributionWindowMs, nowMs);
    // A report of the status recorded already (a provider posting its callback again) adds
    // nothing to the trail; a complaint is kept each time it comes.
    const repeat =
      !changed && !superseded && status === current.status && result.kind !== 'complained';
    if (!repeat)
      await appendResult(
        tx,
        current,
        result,
        nowMs,
        changed
          ? { status }
          : superseded
            ? { reason: 'a report about an earlier attempt than the one recorded' }
            : {},
      );
  });
};

/**
 * The message an order event names: `properties.messageId` (or `message_id`), else the
 * campaign context's `id` — where Segment's browser library puts a landing page's `utm_id`,
 * which Herald sets to the message's id on every tracked link.
 */
const namedMessageOf = (event: HeraldEvent): string | null => {
  const props = event.properties;
  const fromProps = props['messageId'] ?? props['message_id'];
  if (typeof fromProps === 'string' && fromProps !== '') return fromProps;
  const campaign = event.context['campaign'];
  if (typeof campaign === 'object' && campaign !== null && !Array.isArray(campaign)) {
    const id = (campaign as Record<string, unknown>)['id'];
    if (typeof id === 'string' && id !== '') return id;
  }
  return null;
};

/**
 * An order's value as the profile counts it; one no store takes (not finite, or beyond what
 * cents count exactly) is not credited rather than failing the batch.
 */
const creditableCents = (cents: number): number =>
  Number.isFinite(cents) && Math.abs(cents) <= Number.MAX_SAFE_INTEGER ? cents : 0;

/**
 * Whether the profile counts this order as cancelled already (its cancellation came first, or
 * in the same batch): such an order earns no credit. One cancelled later loses its conversion
 * (`withdrawCancelledConversions`), not its experiment credit.
 */
const cancelledBy = (change: ProfileChange, orderId: string): boolean =>
  change.after.orders.cancelledIds?.includes(orderId) ?? false;

/**
 * Adds each new order to the outcome of the experiment units whose window holds it (every
 * experiment the customer is in counts it: each was randomised on its own), unless the profile
 * counts it cancelled already.
 */
export const creditExperimentOutcomes = async (
  tx: StoreTx,
  changes: readonly ProfileChange[],
): Promise<number> => {
  const orders = changes.flatMap((change) =>
    change.newOrders
      .filter((order) => !cancelledBy(change, order.orderId))
      .map((order) => ({
        customerId: change.customerId,
        atMs: order.placedAtMs,
        revenueCents: creditableCents(order.totalCents),
      })),
  );
  return tx.creditOrders(orders);
};

/**
 * The orders a change cancels that were credited when they were recorded: named by one of its
 * `Order Cancelled` events or, when the profile was replayed from the whole history (a merge, a
 * bulk load's settle), newly listed as cancelled by it — a merge can make a cancellation sent
 * before the customer was identified their own —; placed before the change (not among its new
 * orders, which a cancellation in the same change kept from being credited), and not cancelled
 * before it.
 */
const cancelledAfterCredit = (change: ProfileChange): string[] => {
  const before = new Set(change.before?.orders.cancelledIds ?? []);
  const fresh = new Set(change.newOrders.map((o) => o.orderId));
  const named = change.events.flatMap((event) =>
    event.type === 'track' && event.name === 'Order Cancelled'
      ? (orderIdIn(event.properties) ?? [])
      : [],
  );
  const replayed = change.replayed === true ? (change.after.orders.cancelledIds ?? []) : [];
  return [...new Set([...named, ...replayed].filter((id) => !before.has(id) && !fresh.has(id)))];
};

/**
 * Withdraws the conversion of an order cancelled after it was credited to a message, with an
 * audit entry `conversion-cancelled` on the decision that had the credit: a cancelled order is
 * no conversion. Only the customer's own orders (the orders table's owner, which follows
 * merges) are. Experiment units keep the order (docs/experiments.md says why). Returns how many
 * conversions were withdrawn.
 */
export const withdrawCancelledConversions = async (
  tx: StoreTx,
  changes: readonly ProfileChange[],
  nowMs: number,
): Promise<number> => {
  const cancels = changes.flatMap((change) =>
    cancelledAfterCredit(change).map((orderId) => ({ customerId: change.customerId, orderId })),
  );
  if (cancels.length === 0) return 0;
  const owners = await tx.orderOwners(cancels.map((c) => c.orderId));
  const theirs = cancels.filter((c) => owners.get(c.orderId) === c.customerId);
  if (theirs.length === 0) return 0;
  const removed = await tx.removeConversions(theirs.map((c) => c.orderId));
  await appendAudit(
    tx,
    removed.map((c) => ({
      kind: 'conversion-cancelled',
      customerId: c.customerId,
      atMs: nowMs,
      // As for the conversion: not the order id.
      data: { decisionId: c.decisionId, revenue: c.revenueCents / 100 },
    })),
    nowMs,
  );
  return removed.length;
};

/**
 * Marks cancelled in the orders table the orders a change cancels: each its `Order Cancelled`
 * events name, each new order the profile counts cancelled (its cancellation came first), and,
 * when the profile was replayed from the whole history (a merge, a bulk load's settle), each it
 * lists as cancelled — a merge can make an order cancelled earlier the customer's own. Only the
 * customer's own orders are marked (`markOrdersCancelled`); the KPIs leave the marked ones out.
 * Returns how many were marked.
 */
export const markCancelledOrders = async (
  tx: StoreTx,
  changes: readonly ProfileChange[],
): Promise<number> => {
  let marked = 0;
  for (const change of changes) {
    const ids = new Set(change.replayed === true ? (change.after.orders.cancelledIds ?? []) : []);
    for (const event of change.events) {
      if (event.type !== 'track' || event.name !== 'Order Cancelled') continue;
      const orderId = orderIdIn(event.properties);
      if (orderId !== null) ids.add(orderId);
    }
    for (const order of change.newOrders)
      if (cancelledBy(change, order.orderId)) ids.add(order.orderId);
    if (ids.size > 0) marked += await tx.markOrdersCancelled(change.customerId, [...ids]);
  }
  return marked;
};

/**
 * The messages sent to the customers of `orders` over the attribution windows of them all, in
 * one read; each order keeps to its own window (`creditOrder`).
 */
const sentInWindowsOf = (
  tx: StoreTx,
  orders: readonly { customerId: CustomerId; atMs: number }[],
  windowMs: number,
): Promise<Map<CustomerId, MessageRecord[]>> => {
  let fromMs = Number.POSITIVE_INFINITY;
  let toMs = Number.NEGATIVE_INFINITY;
  for (const { atMs } of orders) {
    fromMs = Math.min(fromMs, atMs - windowMs);
    toMs = Math.max(toMs, atMs);
  }
  return tx.sentMessagesOf(
    orders.map((o) => o.customerId),
    fromMs,
    toMs,
  );
};

/**
 * Credits an order to one of the messages `sent` to its customer in the attribution window
 * before it — the one it names when that is one of them, else the last — with a conversion row;
 * the audit note to append, or null when no message is in the window or the order was linked
 * already.
 */
const creditOrder = async (
  tx: StoreTx,
  order: Pick<Conversion, 'customerId' | 'orderId' | 'atMs' | 'revenueCents'>,
  sent: readonly MessageRecord[],
  named: string | null,
  windowMs: number,
  nowMs: number,
): Promise<AuditNote | null> => {
  const { customerId, orderId, atMs, revenueCents } = order;
  const touches = sent.filter(
    (m) => m.sentAtMs !== null && m.sentAtMs >= atMs - windowMs && m.sentAtMs <= atMs,
  );
  // The message the order names (its click's `utm_id`, or a `messageId` property) gets the
  // credit when it is one of the window's touches; otherwise the last touch does.
  const credited =
    (named === null ? undefined : touches.find((m) => m.id === named)) ?? touches.at(-1);
  if (credited === undefined) return null;
  const linked = await tx.insertConversion({
    orderId,
    customerId,
    decisionId: credited.id,
    revenueCents,
    atMs,
    touches: touches.map((m) => ({
      decisionId: m.id,
      channel: m.channel,
      template: m.template,
      sentAtMs: m.sentAtMs ?? m.sendAtMs,
    })),
  });
  if (!linked) return null;
  return {
    kind: 'conversion',
    customerId,
    atMs: nowMs,
    // Not the order id: the shop's order records would lead from it to the person, past an
    // erasure (which deletes the conversion row that links the two while they are a customer).
    data: {
      decisionId: credited.id,
      revenue: revenueCents / 100,
      model: credited.id === named ? 'message-id' : 'last-touch',
      windowDays: windowMs / DAY_MS,
      touches: touches.map((m) => m.id),
    },
  };
};

/**
 * Takes the credit for its orders off a message a report shows did not reach the customer (a
 * hard bounce, an undelivered text, a drop) after the orders were credited to it, with an
 * audit entry `conversion-cancelled` each, and gives each order to the last other message of
 * its window that did reach them, if any — as if the report had come before the order, when
 * `sentMessagesOf` would not have offered the message at all. Returns how many were taken off.
 */
const moveCreditOff = async (
  tx: StoreTx,
  messageId: string,
  windowMs: number,
  nowMs: number,
): Promise<number> => {
  const removed = await tx.removeConversionsOf(messageId);
  if (removed.length === 0) return 0;
  const sent = await sentInWindowsOf(tx, removed, windowMs);
  const notes: AuditNote[] = [];
  for (const c of removed) {
    notes.push({
      kind: 'conversion-cancelled',
      customerId: c.customerId,
      atMs: nowMs,
      data: {
        decisionId: c.decisionId,
        revenue: c.revenueCents / 100,
        reason: 'the message did not reach the customer',
      },
    });
    const others = (sent.get(c.customerId) ?? []).filter((m) => m.id !== messageId);
    const note = await creditOrder(tx, c, others, null, windowMs, nowMs);
    if (note !== null) notes.push(note);
  }
  await appendAudit(tx, notes, nowMs);
  return removed.length;
};

/**
 * Links each new order to the messages sent to its customer in the attribution window before
 * it — the message the order names (by id or `utm_id`) gets the credit, else the last touch —
 * in the transaction that records the order: a conversion row and an audit entry on the
 * credited decision. An order id seen before links nothing.
 */
export const attributeConversions = async (
  tx: StoreTx,
  changes: readonly ProfileChange[],
  windowMs: number,
  nowMs: number,
): Promise<number> => {
  // The orders seen for the first time, at the time and for the total they were first seen
  // with: a re-sent order id (a later copy of an order, or another customer's id) is no order,
  // and earns a message sent after the first nothing.
  const orders: {
    customerId: CustomerId;
    orderId: string;
    atMs: number;
    totalCents: number;
    named: string | null;
  }[] = [];
  for (const change of changes)
    for (const order of change.newOrders) {
      if (cancelledBy(change, order.orderId)) continue;
      const event =
        change.events.find(
          (e) => e.timestampMs === order.placedAtMs && orderIdOf(e) === order.orderId,
        ) ?? change.events.find((e) => orderIdOf(e) === order.orderId);
      orders.push({
        customerId: change.customerId,
        orderId: order.orderId,
        atMs: order.placedAtMs,
        totalCents: order.totalCents,
        named: event === undefined ? null : namedMessageOf(event),
      });
    }
  if (orders.length === 0) return 0;
  const sent = await sentInWindowsOf(tx, orders, windowMs);
  const notes: AuditNote[] = [];
  for (const { customerId, orderId, atMs, totalCents, named } of orders) {
    const order = { customerId, orderId, atMs, revenueCents: creditableCents(totalCents) };
    const note = await creditOrder(tx, order, sent.get(customerId) ?? [], named, windowMs, nowMs);
    if (note !== null) notes.push(note);
  }
  await appendAudit(tx, notes, nowMs);
  return notes.length;
};
