import type { AuditEntry } from '../../../core/audit.js';
import type { CustomerId } from '../../../core/ids.js';
import { contentJsonOf, type MessageRecord } from '../../../core/message.js';
import type { AuditLogTable, MessagesTable } from './tables.js';

/** The parts of a message kept as JSON in `body`. */
type MessageBody = Pick<
  MessageRecord,
  | 'agent'
  | 'template'
  | 'topic'
  | 'content'
  | 'contentHash'
  | 'verdicts'
  | 'passed'
  | 'reviews'
  | 'reasonCode'
  | 'lastError'
  | 'web'
  | 'variant'
  | 'dueAtMs'
  | 'validUntilMs'
  | 'offerEndsMs'
  | 'cartAsOffered'
  | 'judgedOn'
  | 'throttledSinceMs'
  | 'staleTokens'
  | 'rolloutSalt'
>;

/**
 * A provider's reason as a message keeps it: without NUL characters, and with any lone UTF-16
 * surrogate made U+FFFD. PostgreSQL's `jsonb`, which reads a message's body, refuses both (a
 * SendGrid error page of binary failed the reads of its customer's campaign messages).
 */
export const storableReason = (reason: string | null): string | null =>
  reason === null ? null : reason.replace(/\u0000/g, '').replace(LONE_SURROGATE, '\ufffd');

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Longer than any provider's id (Twilio's are 34 characters, FCM's about 70). */
const MAX_PROVIDER_ID_CHARS = 255;

/**
 * A provider's id for a message as a message keeps it: as `storableReason` keeps a reason, and
 * at most 255 characters. It comes from the provider's answer, which PostgreSQL may refuse in a
 * `text` column (a NUL) or in the `provider_id` index (over about 2.7 KB): refused, the outcome
 * of a message the provider took could not be written, and it would be sent again.
 */
export const storableProviderId = (id: string | null): string | null =>
  id === null
    ? null
    : id
        .replace(/\u0000/g, '')
        .slice(0, MAX_PROVIDER_ID_CHARS)
        .replace(LONE_SURROGATE, '\ufffd');

export const toMessageColumns = (m: MessageRecord): MessagesTable => ({
  id: m.id,
  customer_id: m.customerId,
  channel: m.channel,
  class: m.class,
  campaign_id: m.campaignId,
  sending_domain: m.sendingDomain,
  status: m.status,
  send_at_ms: m.sendAtMs,
  created_at_ms: m.createdAtMs,
  updated_at_ms: m.updatedAtMs,
  review_expires_at_ms: m.reviewExpiresAtMs,
  cost: m.cost,
  attempts: m.attempts,
  lease_until_ms: null,
  recipient: m.recipient,
  provider: m.provider,
  provider_id: storableProviderId(m.providerId),
  sent_at_ms: m.sentAtMs,
  // The content's text is the one its hash was taken over (made once), put in by hand.
  body: `{"content":${contentJsonOf(m.content)},${JSON.stringify({
    agent: m.agent,
    template: m.template,
    topic: m.topic,
    contentHash: m.contentHash,
    verdicts: m.verdicts,
    passed: m.passed,
    reviews: m.reviews,
    reasonCode: m.reasonCode,
    lastError: storableReason(m.lastError),
    web: m.web,
    variant: m.variant ?? null,
    ...(m.dueAtMs === undefined ? {} : { dueAtMs: m.dueAtMs }),
    ...(m.validUntilMs === undefined ? {} : { validUntilMs: m.validUntilMs }),
    ...(m.offerEndsMs === undefined ? {} : { offerEndsMs: m.offerEndsMs }),
    ...(m.cartAsOffered === undefined ? {} : { cartAsOffered: m.cartAsOffered }),
    ...(m.judgedOn === undefined ? {} : { judgedOn: m.judgedOn }),
    ...(m.throttledSinceMs === undefined ? {} : { throttledSinceMs: m.throttledSinceMs }),
    ...(m.staleTokens === undefined ? {} : { staleTokens: m.staleTokens }),
    ...(m.rolloutSalt === undefined ? {} : { rolloutSalt: m.rolloutSalt }),
  } satisfies Omit<MessageBody, 'content'>).slice(1)}`,
});

export const toMessage = (row: MessagesTable): MessageRecord => {
  const body = JSON.parse(row.body) as MessageBody;
  return {
    id: row.id,
    customerId: row.customer_id as CustomerId,
    channel: row.channel as MessageRecord['channel'],
    class: row.class as MessageRecord['class'],
    campaignId: row.campaign_id,
    sendingDomain: row.sending_domain,
    status: row.status as MessageRecord['status'],
    sendAtMs: row.send_at_ms,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
    reviewExpiresAtMs: row.review_expires_at_ms,
    cost: row.cost,
    attempts: row.attempts,
    recipient: row.recipient,
    provider: row.provider,
    providerId: row.provider_id,
    sentAtMs: row.sent_at_ms,
    ...body,
    // Rows recorded before delivery existed have no `lastError`.
    lastError: (body as Partial<MessageBody>).lastError ?? null,
    web: (body as Partial<MessageBody>).web ?? null,
  };
};

export const MESSAGE_COLUMNS: readonly (keyof MessagesTable)[] = [
  'id',
  'customer_id',
  'channel',
  'class',
  'campaign_id',
  'sending_domain',
  'status',
  'send_at_ms',
  'created_at_ms',
  'updated_at_ms',
  'review_expires_at_ms',
  'cost',
  'attempts',
  'lease_until_ms',
  'recipient',
  'provider',
  'provider_id',
  'sent_at_ms',
  'body',
];

export const toAuditColumns = (e: AuditEntry): AuditLogTable => ({
  seq: e.seq,
  at_ms: e.atMs,
  kind: e.kind,
  subject: e.subject,
  data: e.data,
  prev_hash: e.prevHash,
  hash: e.hash,
});

export const toAuditEntry = (row: AuditLogTable): AuditEntry => ({
  seq: row.seq,
  atMs: row.at_ms,
  kind: row.kind,
  subject: row.subject,
  data: row.data,
  prevHash: row.prev_hash,
  hash: row.hash,
});
