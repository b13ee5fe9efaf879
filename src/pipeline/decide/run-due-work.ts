import type { Decision } from '../../core/decision.js';
import { groupByCustomer } from '../../core/group-by-customer.js';
import type { CustomerId } from '../../core/ids.js';
import {
  isWorkBefore,
  type CustomerMarks,
  type Membership,
  type WorkDraft,
  type WorkItem,
} from '../../ports/decide-store.js';
import type { Store, StoreTx } from '../../ports/store.js';
import { decideForCustomer, emptyOutcome, type CustomerOutcome } from './decide-for-customer.js';
import type { DecideEnv, DecidedBatch } from './proposal.js';
import type { TriggerPlan } from './plan-triggers.js';

export interface WorkRound {
  /**
   * Work items claimed; more than `items` when some customers were busy elsewhere, or had work
   * due before the claimed items that another worker held.
   */
  claimed: number;
  /** Whether more work may be due now: a full batch was claimed, or work due now was added. */
  moreDue: boolean;
  /** Work items handled (done, failed, or put back for a retry). */
  items: number;
  /** Of those, failed for good (their last attempt). */
  failedItems: number;
  /** Of those, put back to be tried again (a failure before the last attempt). */
  retriedItems: number;
  decisions: Decision[];
  /** Customers whose work failed, with the error (their items are marked failed). */
  failures: { customerId: CustomerId; error: unknown }[];
  /** How late each finished item ran: now − due, in ms. */
  lagsMs: number[];
}

/** Cancels, then schedules (so a journey that ends and starts again keeps its new wake-up). */
export const applyTriggerPlan = async (
  tx: StoreTx,
  plan: TriggerPlan,
  nowMs: number,
): Promise<void> => {
  const byNote = new Map<string, string[]>();
  for (const c of plan.cancel) byNote.set(c.note, [...(byNote.get(c.note) ?? []), c.key]);
  for (const [note, keys] of byNote) await tx.cancelWork(keys, note, nowMs);
  await tx.schedule(plan.schedule, nowMs);
  if (plan.marks !== undefined && plan.marks.length > 0) {
    // Not over marks a merge handed over in the same transaction (a visitor's, whose change
    // may still be waiting for the worker): those are what the customer was last seen as.
    const known = await tx.loadMarks(plan.marks.map((m) => m.customerId));
    await tx.saveMarks(plan.marks.filter((m) => !known.has(m.customerId)));
  }
  if (plan.followMarks !== undefined && plan.followMarks.length > 0) {
    const stored = await tx.loadMarks(plan.followMarks.map((m) => m.customerId));
    const moved: CustomerMarks[] = [];
    for (const { customerId, from, to } of plan.followMarks) {
      const held = stored.get(customerId);
      if (held?.stage === from.stage && held.segment === from.segment)
        moved.push({ ...held, ...to, updatedAtMs: nowMs });
    }
    await tx.saveMarks(moved);
  }
};

/** Attempts at a work item whose customer's decision throws, before it is marked failed. */
export const MAX_WORK_ATTEMPTS = 3;
const RETRY_BASE_MS = 60_000;

/**
 * A customer whose decision threw: each item is due again after 1 min, then 4 min (a lost
 * connection, a deploy mid-round), and marked failed with the error on its last attempt. A
 * journey's wake-up failed for good ends the customer's membership (exited, the error the
 * reason): nothing would wake it again, and a membership left active refuses every later entry
 * (the next abandoned cart: "already in journey").
 */
const failedOutcome = (
  items: readonly WorkItem[],
  memberships: readonly Membership[],
  error: unknown,
  nowMs: number,
): CustomerOutcome => ({
  ...emptyOutcome(),
  memberships: items.flatMap((i) => {
    const t = i.trigger;
    if (t.kind !== 'journey-step' || i.attempts + 1 < MAX_WORK_ATTEMPTS) return [];
    const m = memberships.find(
      (x) =>
        x.journeyId === t.journeyId &&
        x.version === t.version &&
        x.stepId === t.stepId &&
        x.status === 'active',
    );
    return m === undefined
      ? []
      : [
          {
            ...m,
            status: 'exited' as const,
            exitReason: `wake-up failed: ${String(error)}`,
            waitingFor: null,
            updatedAtMs: nowMs,
          },
        ];
  }),
  finished: items.map((i) =>
    i.attempts + 1 < MAX_WORK_ATTEMPTS
      ? {
          id: i.id,
          status: 'pending',
          note: `retry ${String(i.attempts + 1)} after error: ${String(error)}`,
          retryAtMs: nowMs + RETRY_BASE_MS * 4 ** i.attempts,
        }
      : { id: i.id, status: 'failed', note: `error: ${String(error)}` },
  ),
});

/**
 * One round of the scheduler: claims up to `limit` due work items, runs the decide core for
 * each customer they concern, and stores decisions, new work, journey states and the items'
 * outcome in the same transaction — a crash leaves the items due, never half-done. Each
 * customer's items run in due order, as with one worker: none before an earlier item of theirs
 * another worker holds. A customer whose work throws has its items marked failed with the
 * error; the others go on.
 */
export const runDueWork = (
  store: Store,
  env: DecideEnv,
  nowMs: number,
  limit: number,
): Promise<WorkRound> =>
  store.transaction(async (tx) => {
    const round: WorkRound = {
      claimed: 0,
      moreDue: false,
      items: 0,
      failedItems: 0,
      retriedItems: 0,
      decisions: [],
      failures: [],
      lagsMs: [],
    };
    const claimed = await tx.claimDue(nowMs, limit);
    round.claimed = claimed.length;
    if (claimed.length === 0) return round;
    const locked = await tx.tryLockCustomers([...groupByCustomer(claimed).keys()]);
    const ours = claimed.filter((item) => locked.has(item.customerId));
    // A customer's work runs in due order, however many workers share it: an item of theirs
    // that another worker claimed first (an order) may end what a later one would do (the
    // journey step its wake-up sends). What this round claimed behind such an item stays
    // pending, its attempts uncounted, for a round after that item's.
    const ahead = await tx.findWorkAhead(ours);
    const groups = groupByCustomer(
      ours.filter((item) => {
        const first = ahead.get(item.customerId);
        return first === undefined || isWorkBefore(item, first);
      }),
    );
    const ids = [...groups.keys()];
    const profiles = await tx.loadProfiles(ids);
    const memberships = await tx.loadMemberships(ids);
    const marks = await tx.loadMarks(ids);
    // With a conversion model trained, each customer's sends and credited sends per channel
    // (one query for the batch) weigh their message proposals.
    const model = env.conversion;
    const counts =
      model?.active() === true ? await tx.conversionCounts(ids, nowMs - model.windowMs) : null;
    const outcomes: CustomerOutcome[] = [];
    for (const customerId of ids) {
      const items = groups.get(customerId) ?? [];
      try {
        outcomes.push(
          decideForCustomer(
            {
              customerId,
              state: profiles.get(customerId),
              memberships: memberships.get(customerId) ?? [],
              marks: marks.get(customerId),
              conversion:
                counts === null || model === undefined
                  ? null
                  : model.score(counts.get(customerId) ?? {}),
            },
            items,
            env,
            nowMs,
          ),
        );
      } catch (error) {
        round.failures.push({ customerId, error });
        const last = items.filter((i) => i.attempts + 1 >= MAX_WORK_ATTEMPTS).length;
        round.failedItems += last;
        round.retriedItems += items.length - last;
        outcomes.push(failedOutcome(items, memberships.get(customerId) ?? [], error, nowMs));
        // Lateness is counted once an item ends, not at each try.
        for (const item of items)
          if (item.attempts + 1 >= MAX_WORK_ATTEMPTS) round.lagsMs.push(nowMs - item.dueAtMs);
        continue;
      }
      for (const item of items) round.lagsMs.push(nowMs - item.dueAtMs);
    }
    const finished = outcomes.flatMap((o) => o.finished);
    const schedule: WorkDraft[] = outcomes.flatMap((o) => o.schedule);
    // An item whose key is scheduled again (a journey's next step) is replaced by the new
    // schedule: marking it done first would only write the row twice.
    const rescheduled = new Set(
      schedule.filter((w) => (w.mode ?? 'replace') === 'replace').map((w) => w.key),
    );
    const keyOf = new Map(claimed.map((item) => [item.id, item.key]));
    // Work for a customer with no profile — erased after a campaign listed them, or merged into
    // another — is deleted rather than kept done: its row names someone no erasure finds.
    const orphaned = ids
      .filter((id) => !profiles.has(id))
      .flatMap((id) => (groups.get(id) ?? []).map((item) => item.id));
    const deleted = new Set(orphaned);
    await tx.finishWork(
      finished.filter((f) => !rescheduled.has(keyOf.get(f.id) ?? '') && !deleted.has(f.id)),
      nowMs,
    );
    await tx.deleteWork(orphaned);
    await applyTriggerPlan(tx, { cancel: outcomes.flatMap((o) => o.cancelWork), schedule }, nowMs);
    const cancelled: DecidedBatch['cancelled'] = [];
    for (const [i, o] of outcomes.entries()) {
      const customerId = ids[i];
      if (customerId === undefined) continue;
      for (const c of o.cancelDecisions)
        cancelled.push({
          decisionIds: await tx.cancelDecisions(customerId, c.match, c.reason, nowMs),
          reason: c.reason,
        });
    }
    round.decisions = outcomes.flatMap((o) => o.decisions);
    await tx.insertDecisions(round.decisions);
    await env.onDecided?.(tx, { decisions: round.decisions, cancelled, profiles }, nowMs);
    await tx.saveMemberships(outcomes.flatMap((o) => o.memberships));
    await tx.saveMarks(outcomes.flatMap((o) => (o.marks === null ? [] : [o.marks])));
    round.items = finished.length;
    round.moreDue =
      claimed.length >= limit || schedule.some((w) => w.mode !== 'log' && w.dueAtMs <= nowMs);
    return round;
  });
