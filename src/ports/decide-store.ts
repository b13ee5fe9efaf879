import type { Decision, Trigger } from '../core/decision.js';
import type { CustomerId } from '../core/ids.js';

/**
 * Due work: a trigger to act on at `dueAtMs`. The `key` names the work so a later event can
 * move or cancel it (`<customer>|cart` is re-armed by every cart change and cancelled by an
 * order); scheduling a key that exists replaces it.
 */
export interface WorkDraft {
  key: string;
  customerId: CustomerId;
  dueAtMs: number;
  trigger: Trigger;
  /**
   * `once`: keep existing work with this key, whatever its status (a birthday fires once a
   * year). `log`: record something already handled (a segment change), stored as done.
   */
  mode?: 'replace' | 'once' | 'log';
}

/**
 * The key of a customer's turn in a campaign: its first, from the launch, or the one a raised
 * budget gives after `blocked` messages of it were blocked by the budget.
 */
export const campaignTurnKey = (customerId: string, campaignId: string, blocked = 0): string =>
  blocked === 0
    ? `${customerId}|campaign|${campaignId}`
    : `${customerId}${resumedTurnInfix(campaignId)}${String(blocked)}`;

/** What comes between the customer and the count in a turn a raised budget gives. */
export const resumedTurnInfix = (campaignId: string): string => `|campaign|${campaignId}|resume-`;

export interface WorkItem extends WorkDraft {
  id: number;
  attempts: number;
}

/** Where a work item stands in the order work is claimed and run: due time, then id. */
export type WorkPosition = Pick<WorkItem, 'dueAtMs' | 'id'>;

/** Whether `a` comes before `b` in the order work is claimed and run. */
export const isWorkBefore = (a: WorkPosition, b: WorkPosition): boolean =>
  a.dueAtMs < b.dueAtMs || (a.dueAtMs === b.dueAtMs && a.id < b.id);

export type WorkStatus = 'pending' | 'done' | 'cancelled' | 'failed';

export interface WorkRecord extends WorkItem {
  status: WorkStatus;
  note: string | null;
  updatedAtMs: number;
}

/** Where a customer is in one journey; one row per customer and journey (the latest entry). */
export interface Membership {
  customerId: CustomerId;
  journeyId: string;
  version: number;
  stepId: string;
  status: 'active' | 'completed' | 'exited';
  enteredAtMs: number;
  updatedAtMs: number;
  entries: number;
  exitReason: string | null;
  /** Events seen since entry that steps wait for or branch on. */
  seenEvents: string[];
  /** The event a `wait until` step is waiting for, if any. */
  waitingFor: string | null;
  /** Experiment arms chosen by split steps, by step id. */
  arms: Record<string, string>;
  /**
   * When an exit event of the journey last came after it had finished (completed, or an exit
   * step): its web content still up comes down then, as an active run's would.
   */
  exitEventAfterEndMs?: number;
}

/** What the decide stage last saw of a customer, to notice changes (segment, stage). */
export interface CustomerMarks {
  customerId: CustomerId;
  segment: string | null;
  stage: string | null;
  updatedAtMs: number;
  /**
   * When the latest dormant (win-back) path started. Absent when written without it: a store
   * keeps what it had. A customer not active since then is in that path's period of inactivity,
   * whatever history arrives later for the time before it.
   */
  dormantPathAtMs?: number | null;
}

export interface JourneyVersionRow {
  journeyId: string;
  version: number;
  hash: string;
  definition: unknown;
  createdAtMs: number;
}

/** The work primitives available in every store transaction (ingest plans triggers with them). */
export interface ScheduleTx {
  schedule(work: readonly WorkDraft[], nowMs: number): Promise<void>;
  /** Cancels pending work with these keys; returns how many. */
  cancelWork(keys: readonly string[], note: string, nowMs: number): Promise<number>;
}

/** What one decide transaction may do; it commits or rolls back as a whole. */
export interface DecideTx extends ScheduleTx {
  /**
   * Pending work due at `nowMs`, oldest first. On PostgreSQL the rows stay locked until the
   * transaction ends and other workers skip them, so no work item is handled twice.
   */
  claimDue(nowMs: number, limit: number): Promise<WorkItem[]>;
  /**
   * Records how items ended (counting the attempt); an item finished as `pending` with
   * `retryAtMs` is due again then (a retry after an error).
   */
  finishWork(
    items: readonly { id: number; status: WorkStatus; note: string | null; retryAtMs?: number }[],
    nowMs: number,
  ): Promise<void>;
  /** Deletes work items outright (work for a customer who no longer has a profile). */
  deleteWork(ids: readonly number[]): Promise<void>;
  /**
   * Takes the customers' locks that are free right now (the same locks ingest takes) and
   * returns those customers; work for the others waits for a later round instead of a deadlock.
   */
  tryLockCustomers(ids: readonly CustomerId[]): Promise<Set<CustomerId>>;
  /**
   * For each customer with work in `claimed` (whose lock this transaction holds), their first
   * pending item, in `claimDue`'s order (due time, then id), that is not in `claimed` but comes
   * before the last of theirs that is: one another worker claimed first, or one written since
   * the claim. None on SQLite, whose single writer claims the oldest due work of everyone.
   */
  findWorkAhead(claimed: readonly WorkItem[]): Promise<Map<CustomerId, WorkPosition>>;
  /**
   * Every stored journey version, when their number is no longer `known`; null when it still is,
   * and always on SQLite, where one process holds the file and only it stores versions (at start).
   * On PostgreSQL another process — a newer release, during a rolling deploy — may store one.
   */
  journeyVersionsBeyond(known: number): Promise<JourneyVersionRow[] | null>;
  /**
   * The customers of `drafts` (a campaign's work items, keyed `<customer>|campaign|<id>`) whose
   * turn in campaign `campaignId` was taken: work under their draft's key, whatever its status,
   * or a message of the campaign, whatever its status — messages move to the survivor of a
   * merge, work keys do not. One query for the whole page.
   */
  campaignTurnsTaken(campaignId: string, drafts: readonly WorkDraft[]): Promise<Set<CustomerId>>;
  /**
   * Of these customers, those whose every message of campaign `campaignId` was blocked by its
   * budget (`budget_exhausted`) and who have no work under their next turn's key
   * (`campaignTurnKey(customer, campaign, n)`, n the count of those messages), with that n: a
   * raised budget gives each another turn, and a second raise before it is taken gives none.
   */
  campaignBudgetBlocked(
    campaignId: string,
    customerIds: readonly CustomerId[],
  ): Promise<Map<CustomerId, number>>;
  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;
  loadMemberships(ids: readonly CustomerId[]): Promise<Map<CustomerId, Membership[]>>;
  saveMemberships(rows: readonly Membership[]): Promise<void>;
  /**
   * When `from` is merged into `to` (an anonymous visitor who identifies, an alias): hands over
   * everything the decide and record stages keep of `from` — journeys (each one `to` is not in,
   * or has only finished or left while `from`'s is active, with its pending step; in the others
   * `to`'s state stands), pending and finished work, decisions, messages, conversions and the
   * audit pseudonym (storage/shared/hand-over.ts says how).
   */
  handOver(from: CustomerId, to: CustomerId, nowMs: number): Promise<void>;
  loadMarks(ids: readonly CustomerId[]): Promise<Map<CustomerId, CustomerMarks>>;
  saveMarks(rows: readonly CustomerMarks[]): Promise<void>;
  insertDecisions(decisions: readonly Decision[]): Promise<void>;
  /**
   * Cancels this customer's decisions still due after `nowMs` from the given agents, or of the
   * journey still due or with their message still waiting to leave (a reviewer, quiet hours,
   * the outbox: the caller withdraws those messages); returns the ids cancelled.
   */
  cancelDecisions(
    customerId: CustomerId,
    match: { agents?: readonly string[]; journeyId?: string },
    reason: string,
    nowMs: number,
  ): Promise<string[]>;
}

export interface DecisionQuery {
  customerId?: CustomerId;
  agent?: string;
  status?: string;
  /** Decisions that come after this position (creation time, then id, descending), for paging. */
  before?: { createdAtMs: number; id: string };
  limit: number;
}

/** Reads of the decide stage's tables. */
export interface DecideReads {
  listDecisions(query: DecisionQuery): Promise<Decision[]>;
  getDecision(id: string): Promise<Decision | undefined>;
  listWork(customerId: CustomerId, limit: number): Promise<WorkRecord[]>;
  listMemberships(customerId: CustomerId): Promise<Membership[]>;
  /** The earliest due time of pending work, or null. */
  nextDueAtMs(): Promise<number | null>;
  loadJourneyVersions(): Promise<JourneyVersionRow[]>;
  /**
   * Stores a journey version; does nothing when the journey has a version of that number
   * already (another process stored it first, perhaps with other content).
   */
  saveJourneyVersion(row: JourneyVersionRow): Promise<void>;
}
