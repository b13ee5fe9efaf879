import type { Generated } from 'kysely';
import type { EventBody, StoredEvent } from '../../../core/event.js';
import { toMessageId, toSourceId, type CustomerId } from '../../../core/ids.js';
import type { ProfileRow, StoredProfile } from '../../../ports/store.js';

export interface EventsTable {
  seq: number;
  source_id: string;
  message_id: string;
  customer_id: string;
  type: string;
  name: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  timestamp_ms: number;
  received_at_ms: number;
  body: string;
}

export interface ProfilesTable {
  customer_id: string;
  user_id: string | null;
  state: string;
  lifecycle_stage: string;
  churn_risk: number;
  engagement_score: number;
  ltv_cents: number;
  vip: number;
  last_active_at_ms: number | null;
  updated_at_ms: number;
}

export interface ExperimentUnitsTable {
  experiment_id: string;
  customer_id: string;
  arm: string;
  message_id: string;
  segment: string;
  channel: string;
  assigned_at_ms: number;
  window_ends_ms: number;
  exposed_at_ms: number | null;
  /** Orders in the window from assignment (the holdout comparison: intention to treat). */
  orders: Generated<number>;
  revenue_cents: Generated<number>;
  /** Orders in the window of the same length from exposure (the test among the exposed). */
  exposed_orders: Generated<number>;
  exposed_revenue_cents: Generated<number>;
}

export interface LearningsTable {
  experiment_id: string;
  strategy: string;
  segment: string;
  channel: string;
  metric: string;
  lift: number;
  lower: number;
  upper: number;
  p: number;
  units: number;
  created_at_ms: number;
}

export interface Database {
  events: EventsTable;
  profiles: ProfilesTable;
  identities: { key: string; customer_id: string; linked_at_ms: number };
  meta: { key: string; value: number };
  orders: {
    order_id: string;
    customer_id: string;
    placed_at_ms: number;
    total_cents: number;
    cancelled: Generated<number>;
  };
  work: WorkTable;
  decisions: DecisionsTable;
  memberships: MembershipsTable;
  customer_marks: {
    customer_id: string;
    segment: string | null;
    stage: string | null;
    updated_at_ms: number;
    dormant_path_at_ms: number | null;
  };
  journey_versions: {
    journey_id: string;
    version: number;
    hash: string;
    definition: string;
    created_at_ms: number;
  };
  models: ModelsTable;
  messages: MessagesTable;
  /** Per campaign, what its messages to customers since erased cost (migration 0022). */
  erased_spend: { campaign_id: string; cost: number };
  /** The delivery outcomes of messages to customers since erased (migration 0023). */
  erased_deliveries: { sending_domain: string; send_at_ms: number; status: string };
  audit_log: AuditLogTable;
  experiment_units: ExperimentUnitsTable;
  learnings: LearningsTable;
  pseudonyms: { pseudonym: string; customer_id: string; created_at_ms: number };
  idempotency: {
    key: string;
    /** Null in rows stored before migration 0016. */
    customer_id: string | null;
    request_hash: string;
    response: string;
    created_at_ms: number;
  };
  captured: {
    message_id: string;
    channel: string;
    recipient: string;
    payload: string;
    captured_at_ms: number;
  };
  rate_buckets: { provider: string; tokens: number; updated_at_ms: number };
  content_documents: {
    id: string;
    version: string;
    hash: string;
    body: string;
    imported_at_ms: number;
  };
  conversions: {
    order_id: string;
    customer_id: string;
    decision_id: string;
    revenue_cents: number;
    at_ms: number;
    touches: string;
  };
}

/** The outbox: one row per message (content, verdicts and reviews are JSON in `body`). */
export interface MessagesTable {
  id: string;
  customer_id: string;
  channel: string;
  class: string;
  campaign_id: string | null;
  sending_domain: string | null;
  status: string;
  send_at_ms: number;
  created_at_ms: number;
  updated_at_ms: number;
  review_expires_at_ms: number | null;
  cost: number;
  body: string;
  attempts: number;
  lease_until_ms: number | null;
  recipient: string | null;
  provider: string | null;
  provider_id: string | null;
  sent_at_ms: number | null;
}

export interface AuditLogTable {
  seq: number;
  at_ms: number;
  kind: string;
  subject: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

/** The model registry: one row per training run (the rest of the record is JSON in `body`). */
export interface ModelsTable {
  version: number;
  kind: string;
  status: string;
  trained_at_ms: number;
  window_end_ms: number;
  body: string;
}

export interface WorkTable {
  id: Generated<number>;
  key: string;
  customer_id: string;
  due_at_ms: number;
  trigger: string;
  status: string;
  attempts: number;
  note: string | null;
  updated_at_ms: number;
}

export interface DecisionsTable {
  id: string;
  customer_id: string;
  agent: string;
  action: string;
  status: string;
  journey_id: string | null;
  confidence: number;
  scheduled_for_ms: number;
  created_at_ms: number;
  body: string;
}

export interface MembershipsTable {
  customer_id: string;
  journey_id: string;
  version: number;
  step_id: string;
  status: string;
  entered_at_ms: number;
  updated_at_ms: number;
  entries: number;
  exit_reason: string | null;
  data: string;
}

export type EventRow = Pick<
  EventsTable,
  | 'seq'
  | 'source_id'
  | 'message_id'
  | 'customer_id'
  | 'type'
  | 'name'
  | 'user_id'
  | 'anonymous_id'
  | 'timestamp_ms'
  | 'received_at_ms'
  | 'body'
>;

export const toStoredEvent = (row: EventRow): StoredEvent => {
  const body = JSON.parse(row.body) as EventBody;
  return {
    seq: row.seq,
    messageId: toMessageId(row.message_id),
    sourceId: toSourceId(row.source_id),
    customerId: row.customer_id as CustomerId,
    type: row.type as StoredEvent['type'],
    userId: row.user_id,
    anonymousId: row.anonymous_id,
    previousId: body.previousId,
    groupId: body.groupId,
    name: row.name,
    properties: body.properties,
    traits: body.traits,
    context: body.context,
    timestampMs: row.timestamp_ms,
    receivedAtMs: row.received_at_ms,
  };
};

/** Column values for a profile row; the indexed columns repeat figures from `computed`. */
export const toProfileColumns = (row: ProfileRow): ProfilesTable => ({
  customer_id: row.customerId,
  user_id: row.state.userId,
  state: JSON.stringify(row.state),
  lifecycle_stage: row.computed.lifecycleStage,
  churn_risk: row.computed.churnRisk,
  engagement_score: row.computed.engagementScore,
  ltv_cents: Math.round(row.computed.ltv * 100),
  vip: row.computed.vip ? 1 : 0,
  last_active_at_ms: row.state.lastActiveAtMs,
  updated_at_ms: row.computed.computedAtMs,
});

export const toStoredProfile = (
  row: Pick<ProfilesTable, 'customer_id' | 'state'>,
): StoredProfile => ({
  customerId: row.customer_id as CustomerId,
  state: JSON.parse(row.state) as StoredProfile['state'],
});
