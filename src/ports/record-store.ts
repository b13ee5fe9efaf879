import type { AuditEntry, AuditKey } from '../core/audit.js';
import type { JsonObject } from '../core/event.js';
import type { CustomerId } from '../core/ids.js';
import type { MessageRecord, MessageStatus } from '../core/message.js';
import type { Channel } from '../core/profile.js';
import type { StoredDocument } from './content-store.js';

/** What a customer was already sent (or is about to be), for caps and cadence. */
export interface SendHistory {
  /** Marketing messages per channel since the frequency-cap window's start. */
  marketingInWindow: Partial<Record<Channel, number>>;
  /** Marketing messages on any channel but web in the last 24 hours. */
  campaignsToday: number;
  /**
   * Marketing messages ever on any channel but web: those the customer could engage with (an
   * open, a click); web content earns no engagement.
   */
  marketingTotal: number;
  /** When the latest marketing message on any channel but web left or is to leave. */
  lastMarketingAtMs: number | null;
}

/** Delivery results of one sending domain since a moment. */
export interface DomainStats {
  sent: number;
  bounced: number;
  complained: number;
}

/**
 * The chain's last entry, whole (an appender with the audit key checks its seal), or null for an
 * empty log.
 */
export type AuditHead = AuditEntry | null;

/** Where appends go: after `head`, sealed with `key` (the store's audit key) when there is one. */
export interface LockedAuditHead {
  head: AuditHead;
  key: AuditKey | null;
}

/** What may change on a message after it was recorded. */
export interface MessagePatch {
  status?: MessageStatus;
  sendAtMs?: number;
  dueAtMs?: number;
  content?: MessageRecord['content'];
  contentHash?: string | null;
  verdicts?: MessageRecord['verdicts'];
  passed?: MessageRecord['passed'];
  reviews?: MessageRecord['reviews'];
  reviewExpiresAtMs?: number | null;
  reasonCode?: string | null;
  /** What sending it costs, when its copy changed (a reviewer's edit of an SMS). */
  cost?: number;
  /** The staged rollout's cohort that let it through when it was judged again (an approval). */
  rolloutSalt?: string;
}

/** What an erasure removed. */
/** The rows an erasure deleted, per kind: what its audit entry and its answer report. */
export interface ErasureCounts {
  events: number;
  orders: number;
  identities: number;
  profiles: number;
  messages: number;
  decisions: number;
  work: number;
  /** The capture channel's copies of the customer's messages. */
  captured: number;
  conversions: number;
  experimentUnits: number;
  journeys: number;
  marks: number;
  pseudonyms: number;
  /** Answers kept by `Idempotency-Key`. */
  apiSends: number;
  deviceTokens: number;
}

/** An order linked to the messages that preceded it (last touch gets the credit). */
export interface Conversion {
  orderId: string;
  customerId: CustomerId;
  /** The touch credited: the message the order named (by id or `utm_id`), else the last one. */
  decisionId: string;
  revenueCents: number;
  atMs: number;
  /** Every message sent to the customer in the attribution window, oldest first. */
  touches: { decisionId: string; channel: Channel; template: string | null; sentAtMs: number }[];
}

/** The record stage's primitives inside a store transaction. */
export interface RecordTx extends DeliverTx {
  /**
   * The messages sent to each of these customers between two moments, oldest first (by id
   * among those sent at the same moment); a customer with none is absent.
   */
  sentMessagesOf(
    customerIds: readonly CustomerId[],
    sinceMs: number,
    untilMs: number,
  ): Promise<Map<CustomerId, MessageRecord[]>>;
  /**
   * Notes a message's first delivery report, open or click (for the KPIs and the audit trail);
   * later ones change nothing. Whether this was the first.
   */
  markEngagement(
    messageId: string,
    kind: 'delivered' | 'opened' | 'clicked',
    atMs: number,
  ): Promise<boolean>;
  /**
   * Each customer's messages sent before `sentBeforeMs` (their attribution window closed) and
   * how many of them were credited with an order, per channel: those that reached them (`sent`,
   * `complained`), as the conversion model was trained on — a bounce could never convert.
   */
  conversionCounts(
    ids: readonly CustomerId[],
    sentBeforeMs: number,
  ): Promise<Map<CustomerId, Record<string, { sends: number; conversions: number }>>>;
  /** Stores a conversion; false when the order was already linked. */
  insertConversion(conversion: Conversion): Promise<boolean>;
  /**
   * Removes the conversions of these orders (cancelled after they were credited); returns what
   * each credited, for the audit trail.
   */
  removeConversions(
    orderIds: readonly string[],
  ): Promise<Pick<Conversion, 'orderId' | 'customerId' | 'decisionId' | 'revenueCents'>[]>;
  /**
   * Removes the conversions credited to this message (it turned out not to reach the
   * customer); returns them, touches and all, so each order can be credited again.
   */
  removeConversionsOf(decisionId: string): Promise<Conversion[]>;
  /**
   * Marks the orders among `orderIds` that `customerId` placed (the orders table's owner) as
   * cancelled; returns how many were not marked before.
   */
  markOrdersCancelled(customerId: CustomerId, orderIds: readonly string[]): Promise<number>;
  sendHistory(
    ids: readonly CustomerId[],
    since: { windowStartMs: number; dayStartMs: number },
  ): Promise<Map<CustomerId, SendHistory>>;
  /** What the campaigns' sending messages cost so far. */
  campaignSpend(campaignIds: readonly string[]): Promise<Map<string, number>>;
  /**
   * A campaign's messages counted by status, and how many customers have had only messages of
   * it the budget blocked (`budget_exhausted`) and no turn from a raise yet: those a raised
   * budget would give another turn (`DecideTx.campaignBudgetBlocked`, counted).
   */
  campaignMessageCounts(
    campaignId: string,
  ): Promise<{ byStatus: Record<string, number>; blockedByBudget: number }>;
  domainStats(domain: string, sinceMs: number): Promise<DomainStats>;
  insertMessages(rows: readonly MessageRecord[]): Promise<void>;
  /** Which of these messages exist (an erasure deletes a customer's). */
  existingMessages(ids: readonly string[]): Promise<Set<string>>;
  /** Locks the message until the transaction ends (PostgreSQL: `FOR UPDATE`). */
  getMessageForUpdate(id: string): Promise<MessageRecord | undefined>;
  /**
   * Changes a message, if its status is still `expectedStatus` (when given) — on PostgreSQL
   * with the row locked; false when it had moved on (claimed, reviewed) or is gone.
   */
  updateMessage(
    id: string,
    patch: MessagePatch,
    nowMs: number,
    expectedStatus?: MessageStatus,
  ): Promise<boolean>;
  /**
   * Puts a message marked `sent` back in the outbox, due at `sendAtMs`, when a provider's report
   * says the attempt never left it (a queue overflowed after the provider took the request): only
   * the attempt with this provider id (any, when null). False when the message is no longer that
   * sent attempt (a retry went, a later report changed it, it is gone).
   */
  requeueUnsent(
    id: string,
    providerId: string | null,
    at: { sendAtMs: number; lastError: string; nowMs: number },
  ): Promise<boolean>;
  /** Messages of these decisions that never left: in review, or queued and never tried. */
  pendingMessagesOf(decisionIds: readonly string[]): Promise<MessageRecord[]>;
  /**
   * Cancels these decisions (those still scheduled), the reason added to theirs: a message of
   * one that may be with a provider is not withdrawn, and the dispatcher refuses it at its next
   * hand-off (`cancelledDecisionsOf`). Returns the ids cancelled.
   */
  cancelDecisionsById(ids: readonly string[], reason: string): Promise<string[]>;
  /**
   * Every message of a campaign these customers have, but those the campaign's budget blocked
   * (a raised budget gives another turn), oldest first: what a campaign gave each person.
   */
  campaignMessagesOf(customerIds: readonly CustomerId[]): Promise<CampaignMessage[]>;
  /** Review items whose expiry has passed. */
  expiredReviews(nowMs: number, limit: number): Promise<MessageRecord[]>;
  /**
   * Takes the audit chain's lock until the transaction ends (one appender at a time across
   * processes) and returns the last entry, whole, with the audit key the store was opened with
   * (null when none was configured).
   */
  lockAuditHead(): Promise<LockedAuditHead>;
  /**
   * Whether a transaction already shuts out every other writer (SQLite's single writer), so the
   * audit chain's lock costs nothing however early it is taken. False on PostgreSQL, where it
   * holds up other processes' appends until the commit.
   */
  readonly auditLockIsFree: boolean;
  insertAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Each customer's pseudonym in the audit log, created on first use. */
  pseudonymsOf(ids: readonly CustomerId[], nowMs: number): Promise<Map<CustomerId, string>>;
  /** Deletes or blanks everything that identifies the customer, and the link to its pseudonym. */
  eraseCustomer(id: CustomerId): Promise<ErasureCounts>;
  /** The identity links that lead to the customer: `u:<user id>`, `a:<anonymous id>`. */
  identityKeysOf(id: CustomerId): Promise<string[]>;
  /** Keeps the keyed hashes of identities an erasure removed; erased again, the later time. */
  addErasedIdentities(hashes: readonly string[], atMs: number): Promise<void>;
  /** Of these hashes, those of erased identities, with when each was (last) erased. */
  erasedIdentities(hashes: readonly string[]): Promise<Map<string, number>>;
  /** Whether any identity was ever erased: when none was, the guard has nothing to look up. */
  anyErasedIdentity(): Promise<boolean>;
  /**
   * Adds hard bounces to email addresses, each by its keyed hash (`count` more, the latest at
   * `atMs`), kept across customer records and erasures as an address's opt-out is.
   */
  addAddressBounces(
    bounces: readonly { hash: string; count: number; atMs: number }[],
  ): Promise<void>;
  /** Of these address hashes, those with hard bounces kept, with how many. */
  addressBounces(hashes: readonly string[]): Promise<Map<string, number>>;
  /**
   * Gives each push token to the customer whose events carried it most recently: a claim
   * newer (`seenAtMs`) than the one kept takes the token, an older one changes nothing, so the
   * outcome does not depend on the order claims of different times arrive in; of claims as new,
   * the one given last wins (a sign-out and a sign-in within the same second) — unless they are
   * `replayed` (a profile rebuilt from its events claims its devices again), when a claim as
   * new as the one kept leaves the token where it is.
   */
  claimDeviceTokens(
    claims: readonly { token: string; customerId: CustomerId; seenAtMs: number }[],
    replayed?: boolean,
  ): Promise<void>;
  /**
   * The traits of each customer's `identify` calls, in time order: what erasure and the lookup
   * of a person read of a history, without the rest of it (a kiosk's hundreds of thousands of
   * page views were read, and parsed, inside erasure's write transaction).
   */
  identifyTraitsOf(ids: readonly CustomerId[]): Promise<Map<CustomerId, JsonObject[]>>;
  /** The push tokens a customer holds now (`device_tokens`), whether their profile lists them or not. */
  deviceTokensOwnedBy(customerId: CustomerId): Promise<string[]>;
  /** The customer each of these push tokens belongs to now; tokens never claimed are absent. */
  deviceTokenOwners(tokens: readonly string[]): Promise<Map<string, CustomerId>>;
  /** Whether an inbound webhook with this provider's id was acted on before (`inbound_webhooks`). */
  inboundSeen(provider: string, id: string): Promise<boolean>;
  /** Notes an inbound webhook acted on, by the provider's id; kept for good (no personal data). */
  rememberInbound(provider: string, id: string, atMs: number): Promise<void>;
  /** Whether any address ever bounced hard: when none did, the guard has nothing to look up. */
  anyAddressBounce(): Promise<boolean>;
  /**
   * Every stored version of these content documents: the guard checks that the copy written
   * from them still stands on the versions in force.
   */
  documentVersionsOf(ids: readonly string[]): Promise<StoredDocument[]>;
  /** A stored answer for this idempotency key, or null; `save` stores one. */
  findIdempotent(key: string): Promise<{ requestHash: string; response: string } | null>;
  saveIdempotent(
    key: string,
    customerId: CustomerId,
    requestHash: string,
    response: string,
    nowMs: number,
  ): Promise<void>;
}

export interface MessageQuery {
  customerId?: CustomerId;
  campaignId?: string;
  status?: MessageStatus;
  /** Messages created before this one (by id, which orders by creation), for paging. */
  beforeId?: string;
  limit: number;
}

/** Reads of the record stage's tables. */
export interface RecordReads {
  listMessages(query: MessageQuery): Promise<MessageRecord[]>;
  getMessage(id: string): Promise<MessageRecord | undefined>;
  /** Audit entries after `afterSeq`, in order. */
  scanAudit(afterSeq: number, limit: number): Promise<AuditEntry[]>;
  /** The highest audit entry number; 0 when the log is empty. */
  lastAuditSeq(): Promise<number>;
  /** The entries about any of these pseudonyms, in order. */
  auditOf(subjects: readonly string[]): Promise<AuditEntry[]>;
  /**
   * The customer's pseudonyms, the first made first (the one new entries name): none when the
   * audit log holds nothing about them, several when customers merged into them had their own.
   */
  pseudonymsOfCustomer(id: CustomerId): Promise<string[]>;
  /** The review queue's counts by the last action taken, for the override rate. */
  reviewCounts(): Promise<Record<string, number>>;
  /** The message a provider's id names (webhooks). */
  messageByProviderId(providerId: string): Promise<MessageRecord | undefined>;
  /**
   * The last message sent to an address or number on a channel, one per customer who got one,
   * newest first (inbound replies: a number several customers share speaks for each of them).
   * An attempt the provider may have taken counts as sent (one that timed out, now back in the
   * outbox or filed failed): its recipient may be answering it.
   */
  latestMessagesTo(recipient: string, channel: Channel): Promise<MessageRecord[]>;
  /** Every order recorded for a customer, those they cancelled marked, oldest first. */
  ordersOfCustomer(
    customerId: CustomerId,
  ): Promise<{ orderId: string; placedAtMs: number; totalCents: number; cancelled: boolean }[]>;
  /** The answers kept for API sends to a customer (`Idempotency-Key`), oldest first. */
  idempotentAnswersOf(
    customerId: CustomerId,
  ): Promise<{ key: string; response: string; createdAtMs: number }[]>;
  /**
   * The customers messages were addressed to at any of these recipients, given in lower case
   * (an email address in any case the database lowers it to — SQLite lowers A–Z only, so give
   * both forms —, or a number as messages are addressed): for finding every record of a person.
   */
  customersMessagedAt(recipients: readonly string[]): Promise<CustomerId[]>;
  /**
   * The customers one of whose `identify` calls holds one of these pieces of text (in ASCII's
   * case; as the database lower-cases the rest) or, with spaces, hyphens, dots, brackets and
   * slashes left out, one of these runs of digits: the candidates whose earlier traits may hold
   * an address or a number, for the caller to check.
   */
  customersIdentifiedWith(
    texts: readonly string[],
    digits?: readonly string[],
  ): Promise<CustomerId[]>;
  /** What the capture channel kept of a message. */
  capturedMessage(
    messageId: string,
  ): Promise<{ channel: Channel; recipient: string; payload: string; atMs: number } | undefined>;
  /** Conversions credited to a message, or of a customer, newest first. */
  listConversions(query: {
    decisionId?: string;
    decisionIds?: readonly string[];
    customerId?: CustomerId;
    limit: number;
  }): Promise<Conversion[]>;
  /** Web content published for a customer on a slot, newest first, not older than `sinceMs`. */
  webContent(customerId: CustomerId, slot: string, sinceMs: number): Promise<MessageRecord[]>;
  /**
   * How many automated marketing messages (class `marketing`, not an API send) were both made
   * and sent in [fromMs, toMs): what a staged rollout gated with the cohort of that time —
   * neither a transactional message nor an API send, which it lets through, nor one made
   * before (gated by an earlier cohort, or by none).
   */
  automatedMarketingSent(fromMs: number, toMs: number): Promise<number>;
}

/** How one delivery attempt ended, as the dispatcher writes it back to the outbox. */
/** A message of a campaign, as `campaignMessagesOf` reads it. */
export interface CampaignMessage {
  id: string;
  customerId: CustomerId;
  campaignId: string;
  status: MessageStatus;
  reasonCode: string | null;
  /** Whether it never left: in review, or queued and never tried. */
  waiting: boolean;
  /** Whether a provider's report showed it taken (a claimed or retried message may have been). */
  accepted: boolean;
  /** Whether the campaign's experiment unit of its customer names it (its exposure is that unit's). */
  measured: boolean;
}

export interface DeliveryUpdate {
  status: 'queued' | 'sent' | 'failed' | 'bounced' | 'blocked';
  /** For a retry: when to try again. */
  sendAtMs?: number;
  /** False when the message goes back unsent without an attempt (a rate limit, a circuit). */
  attempted: boolean;
  recipient: string | null;
  provider: string | null;
  providerId: string | null;
  sentAtMs: number | null;
  lastError: string | null;
  reasonCode: string | null;
  /**
   * When a provider's rate limit first held it back (kept while the limit goes on answering):
   * a number to keep, null to forget (any other answer), absent to leave as it is.
   */
  throttledSinceMs?: number | null;
  /** Push: the tokens it found unregistered so far (`MessageRecord.staleTokens`), to keep. */
  staleTokens?: string[];
}

/** The deliver stage's primitives inside a store transaction. */
export interface DeliverTx {
  /**
   * Claims up to `limit` messages on these channels that are due (queued, `sendAt` passed) or
   * whose dispatcher died (sending, lease run out) before any report showed the provider took
   * them: marks them `sending` until `leaseUntilMs` (`finishDelivery` counts the attempt). On
   * PostgreSQL rows another dispatcher holds are skipped, never waited for.
   */
  claimOutbox(
    channels: readonly Channel[],
    nowMs: number,
    limit: number,
    leaseUntilMs: number,
  ): Promise<MessageRecord[]>;
  /**
   * How many messages `claimOutbox` could claim now, and those left `sending` that a claim
   * settles as taken (`acceptedLeftSending`), counting up to `limit`; claims none.
   */
  countClaimable(channels: readonly Channel[], nowMs: number, limit: number): Promise<number>;
  /**
   * Writes an attempt's outcome to a message this dispatcher claimed until `leaseUntilMs` and
   * returns the customer it belongs to now (another than at the claim if they were merged
   * meanwhile); null when the message is no longer under that claim (its customer was erased
   * meanwhile, or its lease ran out and another dispatcher claimed it). A status a provider's
   * report set meanwhile (a fast failure report) stands; the attempt's facts are written all
   * the same.
   */
  finishDelivery(
    id: string,
    update: DeliveryUpdate,
    nowMs: number,
    leaseUntilMs: number,
  ): Promise<CustomerId | null>;
  /**
   * The claimed messages whose decision has been cancelled since they were made, with the
   * cancel's reason: a journey's message back in the outbox for a retry when its journey's exit
   * came (one that never left is withdrawn with its decision) is refused at hand-off.
   */
  cancelledDecisionsOf(ids: readonly string[]): Promise<Map<string, string>>;
  /**
   * Messages on these channels left `sending` by a dispatcher that died (its lease ran out)
   * after a provider's report showed the provider took them (`sentAtMs` kept by
   * `markAcceptedAfterAll` while the lease ran): to be marked sent, never claimed again.
   */
  acceptedLeftSending(
    channels: readonly Channel[],
    nowMs: number,
    limit: number,
  ): Promise<MessageRecord[]>;
  /**
   * A message back in the outbox for a retry (an attempt timed out or failed to answer),
   * claimed by a dispatcher that died before writing back (its lease ran out), or filed failed
   * after its last attempt timed out (`retries_exhausted`), that a provider's report shows was
   * accepted after all: `sent`, with the report's provider id and `recipient` where it had none
   * (a dispatcher that died wrote neither), at `sentAtMs`, and its experiment exposure; returns
   * the customer it belongs to now (merged since it was read: the one it went to). Null
   * otherwise (the retry went, or something else changed it); one a live dispatcher is sending
   * keeps the acceptance (`sentAtMs`, the provider id) for that attempt's outcome to be `sent`
   * whatever it turns out to be.
   */
  markAcceptedAfterAll(
    id: string,
    providerId: string | null,
    recipient: string | null,
    sentAtMs: number,
    nowMs: number,
  ): Promise<CustomerId | null>;
  /**
   * Takes up to `want` tokens from a provider's bucket (refilled at `perSecond`, holding at
   * most `burst`), shared by every process on the database; returns how many it got. A
   * negative `want` gives tokens back.
   */
  takeTokens(
    provider: string,
    want: number,
    perSecond: number,
    burst: number,
    nowMs: number,
  ): Promise<number>;
  /**
   * Keeps a message the capture channel received; false when it was already kept, or the
   * message is gone (erased while it was being sent).
   */
  capture(row: {
    messageId: string;
    channel: Channel;
    recipient: string;
    payload: string;
    atMs: number;
  }): Promise<boolean>;
}
