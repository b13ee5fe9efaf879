import type { AuditEntry } from '../core/audit.js';
import type { CustomerId } from '../core/ids.js';
import type { MessageRecord, MessageStatus } from '../core/message.js';
import type { Channel } from '../core/profile.js';

/** What a customer was already sent (or is about to be), for caps and cadence. */
export interface SendHistory {
  /** Marketing messages per channel since the frequency-cap window's start. */
  marketingInWindow: Partial<Record<Channel, number>>;
  /** Marketing messages on any channel in the last 24 hours. */
  campaignsToday: number;
  /** Marketing messages ever. */
  marketingTotal: number;
}

/** Delivery results of one sending domain since a moment. */
export interface DomainStats {
  sent: number;
  bounced: number;
  complained: number;
}

/** The chain's last entry, or null for an empty log. */
export type AuditHead = Pick<AuditEntry, 'seq' | 'hash'> | null;

/** What may change on a message after it was recorded. */
export interface MessagePatch {
  status?: MessageStatus;
  sendAtMs?: number;
  content?: MessageRecord['content'];
  contentHash?: string | null;
  verdicts?: MessageRecord['verdicts'];
  passed?: MessageRecord['passed'];
  reviews?: MessageRecord['reviews'];
  reviewExpiresAtMs?: number | null;
  reasonCode?: string | null;
}

/** What an erasure removed. */
export interface ErasureCounts {
  events: number;
  orders: number;
  identities: number;
  profiles: number;
  messages: number;
  decisions: number;
  work: number;
}

/** The record stage's primitives inside a store transaction. */
export interface RecordTx {
  sendHistory(
    ids: readonly CustomerId[],
    since: { windowStartMs: number; dayStartMs: number },
  ): Promise<Map<CustomerId, SendHistory>>;
  /** What the campaigns' sending messages cost so far. */
  campaignSpend(campaignIds: readonly string[]): Promise<Map<string, number>>;
  domainStats(domain: string, sinceMs: number): Promise<DomainStats>;
  insertMessages(rows: readonly MessageRecord[]): Promise<void>;
  /** Locks the message until the transaction ends (PostgreSQL: `FOR UPDATE`). */
  getMessageForUpdate(id: string): Promise<MessageRecord | undefined>;
  updateMessage(id: string, patch: MessagePatch, nowMs: number): Promise<void>;
  /** Messages of these decisions still waiting (queued or in review). */
  pendingMessagesOf(decisionIds: readonly string[]): Promise<MessageRecord[]>;
  /** Review items whose expiry has passed. */
  expiredReviews(nowMs: number, limit: number): Promise<MessageRecord[]>;
  /**
   * Takes the audit chain's lock until the transaction ends (one appender at a time across
   * processes) and returns the last entry.
   */
  lockAuditHead(): Promise<AuditHead>;
  insertAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Each customer's pseudonym in the audit log, created on first use. */
  pseudonymsOf(ids: readonly CustomerId[], nowMs: number): Promise<Map<CustomerId, string>>;
  /** Deletes or blanks everything that identifies the customer, and the link to its pseudonym. */
  eraseCustomer(id: CustomerId): Promise<ErasureCounts>;
  /** A stored answer for this idempotency key, or null; `save` stores one. */
  findIdempotent(key: string): Promise<{ requestHash: string; response: string } | null>;
  saveIdempotent(key: string, requestHash: string, response: string, nowMs: number): Promise<void>;
}

export interface MessageQuery {
  customerId?: CustomerId;
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
  auditOf(subject: string): Promise<AuditEntry[]>;
  /** The customer's pseudonym, if the audit log holds anything about them. */
  pseudonymOf(id: CustomerId): Promise<string | undefined>;
  /** The review queue's counts by the last action taken, for the override rate. */
  reviewCounts(): Promise<Record<string, number>>;
}
