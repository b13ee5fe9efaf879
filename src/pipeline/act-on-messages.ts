// Actions on messages after decide: sends asked for through the API, the review queue, and
// data-subject requests. Each runs render ─▶ guard ─▶ record in one transaction, like the
// scheduler's decisions: there is no side door into the outbox.
import { createHash } from 'node:crypto';
import stableStringify from 'safe-stable-stringify';
import type { Decision } from '../core/decision.js';
import { AppError } from '../core/errors.js';
import type { JsonObject } from '../core/event.js';
import type { CustomerId } from '../core/ids.js';
import type { MessageRecord, RenderedContent, ReviewAction } from '../core/message.js';
import type { Channel } from '../core/profile.js';
import type { Store } from '../ports/store.js';
import {
  contentHashOf,
  guardAndRecord,
  judgeDecision,
  campaignOf,
  loadGuardBatchState,
  reasonCodeOf,
  statusOfBlocked,
  splitVerdicts,
  testedSlotsOf,
  type GuardDeps,
  type Judged,
} from './guard-and-record.js';
import { checkAtHandOff, messageCost, type GuardResult } from './guard/index.js';
import { verdict } from './guard/guard-types.js';
import { appendAudit, messageAuditData } from './record/index.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export interface SendRequest {
  customerId: CustomerId;
  channel: Channel;
  template: string;
  data: JsonObject;
  /** Who asked (the API token's name). */
  by: string;
  idempotencyKey: string | null;
  /**
   * The customer as the request named them (its `userId`), which a retry repeats: the customer
   * it resolves to changes when identities merge. Absent: `customerId`.
   */
  requestedAs?: string;
}

export interface SendAnswer {
  decisionId: string;
  status: MessageRecord['status'];
  reasonCode: string | null;
  sendAt: string;
  /** Every guardrail's verdict, passes included. */
  verdicts: MessageRecord['verdicts'];
}

const answerOf = ({ message: m, result }: Judged): SendAnswer => ({
  decisionId: m.id,
  status: m.status,
  reasonCode: m.reasonCode,
  sendAt: new Date(m.sendAtMs).toISOString(),
  verdicts: result.verdicts,
});

/** A link of Herald's whose token the API withheld (`https://…/u/withheld`). */
const WITHHELD_LINK = /\/(?:u|t\/[co])\/withheld\b/;

/**
 * A send asked for through the API: a decision of the `api` agent, guarded and recorded like
 * any other. With an idempotency key, a repeated request returns the first answer; the same
 * key with a different request is refused.
 */
export const sendNow = async (
  store: Store,
  deps: GuardDeps,
  request: SendRequest,
  nextId: () => string,
  nowMs: number,
): Promise<{ answer: SendAnswer; replayed: boolean }> => {
  if (deps.renderer.templateOf(request.template) === undefined)
    throw new AppError('invalid-input', `no template named "${request.template}"`, {
      problems: [{ path: '/template', message: `no template named "${request.template}"` }],
    });
  const rest = [request.channel, request.template, request.data];
  const parts = [request.requestedAs ?? request.customerId, ...rest];
  // Keys sorted at every level: a retry whose client wrote `data` in another key order is the
  // same request. The customer as the request named them: a retry after their identities merged
  // (an alias) is the same request, though it resolves to another customer. A key stored before
  // is matched as it was hashed then (the customer resolved; before that, keys unsorted).
  const requestHash = sha256(stableStringify(parts));
  const resolvedHash = sha256(stableStringify([request.customerId, ...rest]));
  const unsortedHash = sha256(JSON.stringify([request.customerId, ...rest]));
  const key = request.idempotencyKey === null ? null : `${request.by}:${request.idempotencyKey}`;
  return store.transaction(async (tx) => {
    await tx.lock([request.customerId, ...(key === null ? [] : [`idempotency:${key}`])]);
    if (key !== null) {
      const known = await tx.findIdempotent(key);
      if (known !== null) {
        if (![requestHash, resolvedHash, unsortedHash].includes(known.requestHash))
          throw new AppError(
            'conflict',
            'this Idempotency-Key was used for a different request: use a new key',
          );
        return { answer: JSON.parse(known.response) as SendAnswer, replayed: true };
      }
    }
    const profiles = await tx.loadProfiles([request.customerId]);
    // Erased (or merged into another) since the request found them: recording the send would
    // bring their id and the request's data back after the erasure, where nothing removes it.
    if (!profiles.has(request.customerId))
      throw new AppError(
        'not-found',
        `customer ${request.customerId} has no profile: erased or merged into another since the request began`,
      );
    const decision: Decision = {
      id: nextId(),
      customerId: request.customerId,
      agent: 'api',
      trigger: { kind: 'api', by: request.by },
      action: 'send',
      channels: [request.channel],
      template: request.template,
      incentive: null,
      scheduledForMs: nowMs,
      confidence: 1,
      reasons: [`asked for through the API by ${request.by}`],
      journey: null,
      experiment: null,
      status: 'scheduled',
      priority: 0,
      expectedValue: 0,
      alternatives: [],
      details: request.data,
      createdAtMs: nowMs,
    };
    await tx.insertDecisions([decision]);
    let judged: Judged | undefined;
    await guardAndRecord(tx, deps, [decision], profiles, nowMs, {
      onJudged: (one) => (judged = one),
    });
    if (judged === undefined) throw new Error('the send recorded no message');
    const answer = answerOf(judged);
    if (key !== null)
      await tx.saveIdempotent(key, request.customerId, requestHash, JSON.stringify(answer), nowMs);
    return { answer, replayed: false };
  });
};

export interface ReviewRequest {
  messageId: string;
  action: 'approve' | 'reject';
  reviewer: string;
  reason: string;
  /** Edits to the message (approve only): re-checked by every guardrail before it may go. */
  edits?: Partial<Pick<RenderedContent, 'subject' | 'preheader' | 'body' | 'html'>>;
  /**
   * The `contentHash` of the message as the reviewer read it: the action is refused when the
   * copy has changed since (another reviewer's edit sent it back to the queue).
   */
  contentHash?: string | null;
}

/** The channels a subject and a preheader are sent on. */
const EDITABLE_HEADINGS: readonly (readonly ['subject' | 'preheader', readonly Channel[]])[] = [
  ['subject', ['email', 'push']],
  ['preheader', ['email']],
];

/**
 * A reviewer's action on a message in the review queue. Rejecting ends it. Approving runs the
 * guardrails again on the message as it now stands (edited or not): the reviewer's approval
 * stands in for every `review` verdict, but a `block` — a rule the edit broke, or a cap that
 * filled while it waited — blocks it.
 */
export const reviewMessage = async (
  store: Store,
  deps: GuardDeps,
  request: ReviewRequest,
  nowMs: number,
): Promise<MessageRecord> => {
  // Items past their deadline are expired first (with their audit entries), so one acted on
  // after it answers as expired, wherever the sweep has got to.
  await expireReviews(store, nowMs);
  const decision = await store.getDecision(request.messageId);
  // Whose the message is now: a merge while it waited moved it to the survivor.
  const owner = (await store.getMessage(request.messageId))?.customerId;
  return store.transaction(async (tx) => {
    // The customers' locks before the message's row, in the order an erasure takes them (their
    // lock, then their rows): the other order could deadlock with it. Both the decision's
    // customer and the one the message now belongs to, at once.
    const locked = [decision?.customerId, owner].filter((id) => id !== undefined);
    if (locked.length > 0) await tx.lock(locked);
    const message = await tx.getMessageForUpdate(request.messageId);
    if (message === undefined || decision === undefined)
      throw new AppError('not-found', `no message ${request.messageId}`);
    if (message.status !== 'review')
      throw new AppError(
        'conflict',
        `message ${message.id} is ${message.status}, not waiting for review`,
      );
    if (message.reviewExpiresAtMs !== null && message.reviewExpiresAtMs <= nowMs)
      throw new AppError(
        'conflict',
        `message ${message.id} waited for review until ${new Date(message.reviewExpiresAtMs).toISOString()}: it has expired`,
      );
    if (request.contentHash !== undefined && request.contentHash !== message.contentHash)
      throw new AppError(
        'conflict',
        `message ${message.id} has changed since the copy you read (another reviewer edited it): read it again before you act on it`,
      );
    // Merged again since it was read (rare): that customer's lock too.
    if (!locked.includes(message.customerId)) await tx.lock([message.customerId]);
    const edited = request.edits !== undefined && Object.keys(request.edits).length > 0;
    // An email with an HTML part sends its text as the alternative, and most mail clients show
    // the HTML: editing one alone would send the original copy in the other. HTML given to a
    // text-only email makes it one with both parts: its text is to be edited with it.
    const editsBody = request.edits?.body !== undefined;
    const editsHtml = request.edits?.html !== undefined && request.edits.html !== null;
    const hasHtml = message.content?.html !== null && message.content?.html !== undefined;
    if ((hasHtml && editsBody !== editsHtml) || (editsHtml && !editsBody)) {
      const [missing, given] = editsBody ? ['html', 'body'] : ['body', 'html'];
      throw new AppError(
        'invalid-input',
        hasHtml
          ? `this email has a text part and an HTML part: edit ${missing} as well as ${given}`
          : 'HTML makes this text-only email one of two parts, the text sent beside it: edit body as well as html',
        {
          problems: [{ path: `/edits/${missing}`, message: `is required when ${given} is edited` }],
        },
      );
    }
    // What leaves is the template Meta approved, filled with its variables: edited copy would
    // be approved here and never reach the recipient.
    if (message.channel === 'whatsapp' && edited)
      throw new AppError(
        'invalid-input',
        'a WhatsApp message is sent as the template Meta approved: its copy cannot be edited here; approve or reject it',
        { problems: [{ path: '/edits', message: 'is not allowed on a WhatsApp message' }] },
      );
    if (message.channel !== 'email' && request.edits?.html !== undefined)
      throw new AppError('invalid-input', `a ${message.channel} message has no HTML part`, {
        problems: [{ path: '/edits/html', message: 'only an email has an HTML part' }],
      });
    // A subject goes out on email (and as a push notification's title), a preheader on email
    // only: an edit of one elsewhere would be approved here and never reach the recipient.
    for (const [field, where] of EDITABLE_HEADINGS)
      if (request.edits?.[field] !== undefined && !where.includes(message.channel))
        throw new AppError('invalid-input', `a ${message.channel} message has no ${field}`, {
          problems: [{ path: `/edits/${field}`, message: `only ${where.join(' and ')} has one` }],
        });
    // Edited copy is trimmed: all blanks would send an empty message.
    for (const field of ['body', 'html', 'subject'] as const) {
      const text = request.edits?.[field];
      if (typeof text === 'string' && text.trim() === '')
        throw new AppError('invalid-input', `the edited ${field} is empty`, {
          problems: [{ path: `/edits/${field}`, message: 'has nothing but blanks' }],
        });
      // Copied from a view that withheld the links' tokens (a viewer's): sent so, they would
      // lead nowhere.
      if (typeof text === 'string' && WITHHELD_LINK.test(text))
        throw new AppError(
          'invalid-input',
          `the edited ${field} holds a link whose token was withheld`,
          {
            problems: [
              {
                path: `/edits/${field}`,
                message: 'holds a …/withheld link: edit the copy as a reviewer reads it',
              },
            ],
          },
        );
    }
    let action: ReviewAction['action'] =
      request.action === 'reject' ? 'reject' : edited ? 'edit-approve' : 'approve';
    let updated: MessageRecord;
    let verdicts: MessageRecord['verdicts'] | undefined;
    let rolloutSalt: string | undefined;
    if (request.action === 'reject') {
      updated = { ...message, status: 'rejected', reasonCode: 'rejected_in_review' };
    } else {
      const profiles = await tx.loadProfiles([message.customerId]);
      const batch = await loadGuardBatchState(
        tx,
        deps,
        [message.customerId],
        profiles,
        [campaignOf(decision) ?? []].flat(),
        nowMs,
        testedSlotsOf([decision]),
      );
      const content =
        message.content === null
          ? undefined
          : request.edits === undefined
            ? message.content
            : deps.renderer.withEdits(
                {
                  messageId: message.id,
                  channel: message.channel,
                  templateName: message.template ?? decision.template ?? message.agent,
                  marketing: message.class === 'marketing',
                  decision,
                },
                message.content,
                request.edits,
              );
      const again = judgeDecision(
        // Judged again on the channel it was judged on (it may have fallen back to it).
        {
          ...decision,
          // The message's customer: a merge while the reviewer waited moved it to the survivor,
          // whose history, caps and erasure the batch state holds.
          customerId: message.customerId,
          channels: [message.channel],
          scheduledForMs: Math.max(message.sendAtMs, nowMs),
        },
        profiles.get(message.customerId),
        batch,
        deps,
        nowMs,
        content,
        message.variant,
      );
      const judged = again.result;
      // Approved under a staged rollout: the cohort that let it through, which a roll-back can
      // take it back from (one judged first before the rollout had none).
      rolloutSalt = again.message.rolloutSalt;
      // What the dispatcher would refuse at hand-off is refused now, where the reviewer sees
      // it: a cart offer approved after the customer ordered, a win-back after they came back.
      const moot = checkAtHandOff(message, profiles.get(message.customerId), deps.policy, nowMs);
      const result: GuardResult =
        moot === null || judged.outcome === 'block'
          ? judged
          : {
              outcome: 'block',
              verdicts: [...judged.verdicts, verdict('hand-off', 'block', moot.code, moot.reason)],
              holdUntilMs: null,
            };
      const blocked = result.outcome === 'block';
      // The approval stands in for the review reasons the reviewer was shown. One the re-check
      // raises anew — copy edited to state an offer, a lifetime value grown past the review
      // line while it waited — has been seen by no one: the message goes back to the queue.
      // After an edit, a reason is the one shown only if it says the same (a promotion's quotes
      // its phrases): one code names several findings (`offer_in_transactional` for
      // "free shipping", for "50% off", for a sale beside them), and a receipt in review for the
      // first went out, approved alone, with another typed in.
      const seen = (v: { code: string; reason: string }) =>
        edited ? `${v.code}\n${v.reason}` : v.code;
      const shown = new Set(message.verdicts.filter((v) => v.outcome === 'review').map(seen));
      const unseen = blocked
        ? []
        : result.verdicts.filter((v) => v.outcome === 'review' && !shown.has(seen(v)));
      verdicts = result.verdicts;
      if (unseen[0] !== undefined) {
        action = 'return';
        updated = {
          ...message,
          status: 'review',
          content: content ?? null,
          contentHash: contentHashOf(content ?? null),
          ...splitVerdicts(result),
          reasonCode: unseen[0].code,
          reviewExpiresAtMs: nowMs + deps.reviewExpiryMs,
        };
      } else
        updated = {
          ...message,
          // A rollout stage that leaves the customer out now (started or rolled back while the
          // message waited) holds it out, as a new message would be.
          status: blocked ? statusOfBlocked(reasonCodeOf(result)) : 'queued',
          sendAtMs: Math.max(message.sendAtMs, nowMs, result.holdUntilMs ?? 0),
          // Approved now: late from now on, however long it waited for the reviewer.
          dueAtMs: Math.max(message.sendAtMs, nowMs, result.holdUntilMs ?? 0),
          content: content ?? null,
          contentHash: contentHashOf(content ?? null),
          ...splitVerdicts(result),
          reasonCode: blocked ? reasonCodeOf(result) : null,
          reviewExpiresAtMs: null,
        };
    }
    const review: ReviewAction = {
      action,
      reviewer: request.reviewer,
      reason: request.reason,
      atMs: nowMs,
      // The copy a person rewrote goes back to the queue: the trail says so, whoever approves.
      ...(action === 'return' && edited ? { edited: true as const } : {}),
    };
    updated = {
      ...updated,
      reviews: [...message.reviews, review],
      reviewExpiresAtMs: request.action === 'reject' ? null : updated.reviewExpiresAtMs,
      updatedAtMs: nowMs,
    };
    const changed = await tx.updateMessage(
      message.id,
      {
        status: updated.status,
        sendAtMs: updated.sendAtMs,
        ...(updated.dueAtMs === undefined ? {} : { dueAtMs: updated.dueAtMs }),
        content: updated.content,
        contentHash: updated.contentHash,
        // An edited SMS may take more segments (or fewer) than the copy it replaced.
        cost: messageCost({ channel: message.channel, content: updated.content }, deps.policy),
        verdicts: updated.verdicts,
        passed: updated.passed,
        reviews: updated.reviews,
        reviewExpiresAtMs: updated.reviewExpiresAtMs,
        reasonCode: updated.reasonCode,
        ...(rolloutSalt === undefined || updated.status !== 'queued' ? {} : { rolloutSalt }),
      },
      nowMs,
      'review',
    );
    if (!changed)
      throw new AppError('conflict', `message ${message.id} is no longer waiting for review`);
    await appendAudit(
      tx,
      [
        {
          kind: 'review',
          customerId: message.customerId,
          atMs: nowMs,
          data: messageAuditData(updated, {
            action,
            by: request.reviewer,
            reason: request.reason,
            // An approval the guardrails then blocked overrode nothing.
            override: request.action === 'approve' && updated.status === 'queued',
            ...(review.edited === true ? { edited: true } : {}),
            ...(verdicts === undefined ? {} : { verdicts }),
          }),
        },
      ],
      nowMs,
    );
    return updated;
  });
};

/**
 * Of the review queue's decided items (by the last action taken), how many a person let through
 * (approved, possibly edited): the human override rate's numerator and denominator.
 */
export const overridesOf = (
  counts: Readonly<Record<string, number>>,
): { overridden: number; decided: number } => {
  const overridden = (counts['approve'] ?? 0) + (counts['edit-approve'] ?? 0);
  // An approval the guardrails then blocked was a decision that let nothing through.
  return {
    overridden,
    decided: overridden + (counts['reject'] ?? 0) + (counts['approve-blocked'] ?? 0),
  };
};

/**
 * Expires every review item nobody acted on in time, `chunk` to a transaction; returns how many.
 * All of them, not a first chunk: the queue listed after it must hold no item past its deadline.
 */
export const expireReviews = async (store: Store, nowMs: number, chunk = 1000): Promise<number> => {
  let total = 0;
  for (;;) {
    const { read, expired } = await expireSomeReviews(store, nowMs, chunk);
    total += expired;
    // Fewer than asked: none left. None expired of a full chunk: each changed meanwhile (it
    // is no longer waiting, so it is not read again), or reading again would find them again.
    if (read < chunk || expired === 0) return total;
  }
};

const expireSomeReviews = (store: Store, nowMs: number, limit: number) =>
  store.transaction(async (tx) => {
    const stale: MessageRecord[] = [];
    const due = await tx.expiredReviews(nowMs, limit);
    for (const m of due)
      if (
        await tx.updateMessage(
          m.id,
          { status: 'expired', reasonCode: 'review_expired', reviewExpiresAtMs: null },
          nowMs,
          'review',
        )
      )
        stale.push(m);
    await appendAudit(
      tx,
      stale.map((m) => ({
        kind: 'review',
        customerId: m.customerId,
        atMs: nowMs,
        data: messageAuditData(
          { ...m, status: 'expired' },
          { action: 'expire', by: null, reason: 'nobody reviewed it in time' },
        ),
      })),
      nowMs,
    );
    return { read: due.length, expired: stale.length };
  });
