import type { Decision, Trigger } from '../../../core/decision.js';
import type { CustomerId } from '../../../core/ids.js';
import type {
  CustomerMarks,
  Membership,
  WorkRecord,
  WorkStatus,
} from '../../../ports/decide-store.js';
import type { Selectable } from 'kysely';
import type { DecisionsTable, MembershipsTable, WorkTable } from './tables.js';

/** The columns of a decision row; `body` keeps the whole decision. */
export const toDecisionColumns = (d: Decision): DecisionsTable => ({
  id: d.id,
  customer_id: d.customerId,
  agent: d.agent,
  action: d.action,
  status: d.status,
  journey_id: d.journey?.id ?? null,
  confidence: d.confidence,
  scheduled_for_ms: d.scheduledForMs,
  created_at_ms: d.createdAtMs,
  body: JSON.stringify(d),
});

/**
 * A stored decision; `status` comes from its column, which cancellations update, and so does
 * `customerId`, which a merge hands over.
 */
export const toDecision = (
  row: Pick<DecisionsTable, 'status' | 'body' | 'customer_id'>,
): Decision => {
  // Set on the parsed object rather than spread into a new one: V8 (Node 20) copies an object
  // literal that opens with a spread through a slow path, about a microsecond a property.
  const decision = JSON.parse(row.body) as Decision;
  decision.status = row.status as Decision['status'];
  decision.customerId = row.customer_id as CustomerId;
  return decision;
};

/** A `work` row as read. */
export type WorkRow = Selectable<WorkTable>;

export const toWorkRecord = (row: WorkRow): WorkRecord => ({
  id: row.id,
  key: row.key,
  customerId: row.customer_id as CustomerId,
  dueAtMs: row.due_at_ms,
  trigger: JSON.parse(row.trigger) as Trigger,
  attempts: row.attempts,
  status: row.status as WorkStatus,
  note: row.note,
  updatedAtMs: row.updated_at_ms,
});

interface MembershipData {
  seenEvents: string[];
  waitingFor: string | null;
  arms: Record<string, string>;
  exitEventAfterEndMs?: number;
}

export const toMembership = (row: MembershipsTable): Membership => {
  const data = JSON.parse(row.data) as MembershipData;
  return {
    seenEvents: data.seenEvents,
    waitingFor: data.waitingFor,
    arms: data.arms,
    ...(data.exitEventAfterEndMs === undefined
      ? {}
      : { exitEventAfterEndMs: data.exitEventAfterEndMs }),
    customerId: row.customer_id as CustomerId,
    journeyId: row.journey_id,
    version: row.version,
    stepId: row.step_id,
    status: row.status as Membership['status'],
    enteredAtMs: row.entered_at_ms,
    updatedAtMs: row.updated_at_ms,
    entries: row.entries,
    exitReason: row.exit_reason,
  };
};

export const toMembershipColumns = (m: Membership): MembershipsTable => ({
  customer_id: m.customerId,
  journey_id: m.journeyId,
  version: m.version,
  step_id: m.stepId,
  status: m.status,
  entered_at_ms: m.enteredAtMs,
  updated_at_ms: m.updatedAtMs,
  entries: m.entries,
  exit_reason: m.exitReason,
  data: JSON.stringify({
    seenEvents: m.seenEvents,
    waitingFor: m.waitingFor,
    arms: m.arms,
    ...(m.exitEventAfterEndMs === undefined ? {} : { exitEventAfterEndMs: m.exitEventAfterEndMs }),
  } satisfies MembershipData),
});

export const toMarks = (row: {
  customer_id: string;
  segment: string | null;
  stage: string | null;
  updated_at_ms: number;
  dormant_path_at_ms: number | null;
}): CustomerMarks => ({
  customerId: row.customer_id as CustomerId,
  segment: row.segment,
  stage: row.stage,
  updatedAtMs: row.updated_at_ms,
  dormantPathAtMs: row.dormant_path_at_ms,
});

export interface DueDecisionRow {
  id: string;
  customer_id: string;
  agent: string;
  journey_id: string | null;
  status: string;
  scheduled_for_ms: number;
  body: string;
}

/**
 * A message that has not left and never may have: waiting for a reviewer, or in the outbox
 * never tried. One tried and back in the outbox (a timeout) may have reached the provider,
 * whose report of it is still to come: it is not taken back. `m` is the messages table.
 */
export const NEVER_LEFT = `(m.status = 'review'
  OR (m.status = 'queued' AND m.attempts = 0 AND m.sent_at_ms IS NULL))`;

/**
 * A message still waiting to leave: for a reviewer, or in the outbox — never tried, or back
 * for a retry (whose earlier attempt may have reached the provider: its decision is cancelled,
 * the message is not withdrawn, and the dispatcher refuses it at hand-off) — or claimed by a
 * dispatcher, not yet known to have gone: an attempt in flight that comes back unsent (a 429, an
 * open circuit, a hold at hand-off) puts it back in the outbox, where only its decision's
 * cancellation stops it.
 */
const WAITING = `(m.status = 'review' OR (m.status IN ('queued', 'sending') AND m.sent_at_ms IS NULL))`;

/**
 * A customer's decisions a cancel may take (`cancelDecisions`): scheduled, and due after now —
 * or, a journey's, with their message still waiting to leave (`WAITING`: for a reviewer, for
 * quiet hours, in the outbox, back for a retry, with a dispatcher). Parameters: the customer,
 * now.
 */
export const CANCELLABLE_DECISIONS = `SELECT id, customer_id, agent, journey_id, status, scheduled_for_ms, body
  FROM decisions d WHERE customer_id = ? AND status = 'scheduled' AND (scheduled_for_ms > ?
    OR (journey_id IS NOT NULL AND EXISTS (SELECT 1 FROM messages m
      WHERE m.id = d.id AND ${WAITING})))`;

/** How a cancelled decision's last reason begins: the cancel's own reason follows. */
export const CANCELLED = 'cancelled: ';

/**
 * The body a cancellable decision is stored with once cancelled, or null when it does not
 * match: one of the agents, if still due after `nowMs`, or the journey, still due or waiting.
 */
export const toCancelledBody = (
  row: DueDecisionRow,
  match: { agents?: readonly string[]; journeyId?: string },
  reason: string,
  nowMs: number,
): string | null => {
  const byAgent = row.scheduled_for_ms > nowMs && (match.agents?.includes(row.agent) ?? false);
  const byJourney = match.journeyId !== undefined && row.journey_id === match.journeyId;
  if (!byAgent && !byJourney) return null;
  const decision = toDecision(row);
  decision.status = 'cancelled';
  decision.reasons = [...decision.reasons, `${CANCELLED}${reason}`];
  return JSON.stringify(decision);
};
