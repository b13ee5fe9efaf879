import type { ConversionView, Decision, DecisionScores, Trigger } from '../../core/decision.js';
import type { CustomerId } from '../../core/ids.js';
import type { ProfileState } from '../../core/profile.js';
import { DAY_MS } from '../../core/time.js';
import type {
  CustomerMarks,
  Membership,
  WorkDraft,
  WorkItem,
  WorkStatus,
} from '../../ports/decide-store.js';
import { campaignAgent } from './agents/campaign-agent.js';
import { cartAgent } from './agents/cart-agent.js';
import {
  celebrationAgent,
  customEventAgent,
  lifecycleAgent,
  milestoneAgent,
} from './agents/lifecycle-agent.js';
import { segmentCustomer } from './agents/segment-customer.js';
import { winBackAgent } from './agents/win-back-agent.js';
import { arbitrate } from './arbitrate.js';
import {
  advanceJourney,
  mayEnter,
  newMembership,
  type JourneyRun,
} from './journeys/advance-journey.js';
import type { Journey } from './journeys/journey-catalog.js';
import type { CustomerView, DecideEnv, Proposal } from './proposal.js';
import { eventExitReason } from './journeys/exit-reasons.js';
import { dormantSince } from './sweep-customer.js';

export interface CustomerInput {
  customerId: CustomerId;
  state: ProfileState | undefined;
  memberships: readonly Membership[];
  marks: CustomerMarks | undefined;
  /** The customer's conversion probability per channel, when a conversion model is trained. */
  conversion?: ConversionView | null;
}

/** Tries of a step whose journey version this process does not know, 5 minutes apart. */
const UNKNOWN_VERSION_TRIES = 3;
const RETRY_UNKNOWN_MS = 5 * 60_000;

export interface DecisionCancel {
  match: { agents?: string[]; journeyId?: string };
  reason: string;
}

/** Everything one customer's work produced; the caller stores it in one transaction. */
export interface CustomerOutcome {
  decisions: Decision[];
  /** Applied after `cancelWork`: no key in it was cancelled after it was scheduled. */
  schedule: WorkDraft[];
  cancelWork: { key: string; note: string }[];
  cancelDecisions: DecisionCancel[];
  memberships: Membership[];
  marks: CustomerMarks | null;
  finished: { id: number; status: WorkStatus; note: string | null; retryAtMs?: number }[];
}

/** An outcome with nothing in it yet. */
export const emptyOutcome = (): CustomerOutcome => ({
  decisions: [],
  schedule: [],
  cancelWork: [],
  cancelDecisions: [],
  memberships: [],
  marks: null,
  finished: [],
});

export const journeyKey = (customerId: CustomerId, journeyId: string): string =>
  `${customerId}|journey|${journeyId}`;
export const cartKey = (customerId: CustomerId): string => `${customerId}|cart`;
const winBackKey = (customerId: CustomerId, wave: number): string =>
  `${customerId}|win-back|${wave}`;

const entryMatches = (journey: Journey, trigger: Trigger): boolean => {
  const entry = journey.definition.entry;
  if ('event' in entry) return trigger.kind === 'event' && trigger.name === entry.event;
  if (entry.trigger !== trigger.kind) return false;
  const to = 'to' in entry ? entry.to : undefined;
  if (to === undefined) return true;
  if (trigger.kind === 'stage-changed' || trigger.kind === 'segment-changed')
    return trigger.to === to;
  if (trigger.kind === 'inactive') return String(trigger.days) === to;
  return true;
};

/**
 * An automated offer to a VIP turned into an escalation: a person reaches out instead (the
 * lifecycle agent's rule, held for every agent — a campaign with an incentive, a cart
 * reminder, a journey's offer).
 */
/** The stage and segment the first profile-changed item says the customer had, if any. */
const firstLookMarks = (items: readonly WorkItem[]): CustomerMarks | undefined => {
  for (const item of items)
    if (item.trigger.kind === 'profile-changed' && item.trigger.from !== undefined)
      return {
        customerId: item.customerId,
        stage: item.trigger.from.stage,
        segment: item.trigger.from.segment,
        updatedAtMs: item.dueAtMs,
      };
  return undefined;
};

const vipOutreachInstead = (p: Proposal, ltv: number): Proposal => ({
  ...p,
  kind: 'escalate',
  action: 'vip-outreach',
  channels: [],
  template: null,
  incentive: null,
  experiment: null,
  reasons: [
    ...p.reasons,
    `VIP (LTV $${ltv.toFixed(2)}): a person reaches out instead of the automated offer (${p.agent} ${p.action}, ${p.incentive === null ? 'no' : `${p.incentive.kind} ${String(p.incentive.percent ?? p.incentive.amount)}`})`,
  ],
  details: { ...p.details, instead: { agent: p.agent, action: p.action } },
});

/**
 * The decide core for one customer: runs the agents and journeys for each due work item,
 * notices stage and segment changes since last time, and arbitrates everything proposed at
 * this moment. Pure: all it needs is passed in, all it wants done is returned.
 */
export const decideForCustomer = (
  input: CustomerInput,
  items: readonly WorkItem[],
  env: DecideEnv,
  nowMs: number,
): CustomerOutcome => {
  const out = emptyOutcome();
  const state = input.state;
  if (state === undefined) {
    for (const item of items)
      out.finished.push({
        id: item.id,
        status: 'done',
        note: 'no profile (merged into another customer)',
      });
    return out;
  }
  const id = input.customerId;
  const computed = env.computeProfile(state, nowMs);
  const segment = segmentCustomer(state, computed, nowMs, env.policy.segments);
  const view: CustomerView = {
    customerId: id,
    state,
    computed,
    segment,
    conversion: input.conversion ?? null,
  };
  const memberships = new Map(input.memberships.map((m) => [m.journeyId, m]));
  const changed = new Set<string>();
  const proposals: Proposal[] = [];
  // The item being handled: its attempts so far, and why it waits when it must.
  let attempts = 0;
  let deferred: string | null = null;
  // When the customer's latest dormant path started (this round may start one).
  let dormantPathAtMs = input.marks?.dormantPathAtMs ?? null;

  /** Cancels a work item, and any wake-up this round set for the same key. */
  const cancelWork = (key: string, note: string) => {
    out.cancelWork.push({ key, note });
    out.schedule = out.schedule.filter((w) => w.key !== key);
  };

  // Journeys that started or moved on this round: their wake-up is the one this round sets, so
  // a wake-up claimed with the round was armed before (for an entry since ended, or a step
  // passed since) and must not move them again.
  const ranThisRound = new Set<string>();
  // Journeys whose run this round proposed a message: a customer gets one a round, so a later
  // run of the same journey holds its next send for a round of its own (`advanceJourney`).
  const sentThisRound = new Set<string>();
  const applyRun = (journey: Journey, run: JourneyRun) => {
    memberships.set(journey.definition.id, run.membership);
    changed.add(journey.definition.id);
    ranThisRound.add(journey.definition.id);
    for (const p of run.proposals) {
      proposals.push(p);
      if (p.kind === 'send') sentThisRound.add(journey.definition.id);
    }
    const key = journeyKey(id, journey.definition.id);
    // A wake-up set earlier in this round (an entry) is replaced, or taken back when this run
    // ended the journey: the caller cancels before it schedules, so one left would outlive it.
    if (run.wakeAtMs === null) cancelWork(key, `journey ${run.membership.status}`);
    else {
      out.schedule = out.schedule.filter((w) => w.key !== key);
      out.schedule.push({
        key,
        customerId: id,
        dueAtMs: run.wakeAtMs,
        trigger: {
          kind: 'journey-step',
          journeyId: journey.definition.id,
          version: run.membership.version,
          stepId: run.membership.stepId,
        },
      });
    }
    return run.notes;
  };
  /** Runs a journey on from `from`, holding its send when a run of it sent this round. */
  const advance = (journey: Journey, from: Membership, trigger: Trigger): string[] =>
    applyRun(
      journey,
      advanceJourney(
        journey,
        from,
        view,
        env,
        nowMs,
        trigger,
        sentThisRound.has(journey.definition.id),
      ),
    );

  // Events handled this round: a journey one of them exits is not entered later in the round
  // either, whichever the round handles first (a signup and an order at checkout). An event's
  // own entries (`ownEvent`, its name) are refused by the others only: an earlier event of the
  // same name was ended by this one, as in two rounds (two orders: the second starts again
  // what the first started and it ended).
  const eventsHandled = new Set<string>();
  const enterJourneys = (trigger: Trigger, ownEvent?: string): string[] => {
    const notes: string[] = [];
    for (const journey of env.journeys.current) {
      if (!entryMatches(journey, trigger)) continue;
      // A stage or segment change is read from the profile with the round's events in it: the
      // order that made the customer `active` (or moved their segment) is what the change is,
      // not an exit from it. Any other exit event handled in the round still keeps them out.
      const consequence = trigger.kind === 'stage-changed' || trigger.kind === 'segment-changed';
      const exitedBy = journey.definition.exitOn?.find(
        (name) =>
          name !== ownEvent &&
          eventsHandled.has(name) &&
          !(consequence && name === 'Order Completed'),
      );
      if (exitedBy !== undefined) {
        notes.push(`not entered journey ${journey.definition.id}: ${exitedBy} came with it`);
        continue;
      }
      // A signup whose customer has ordered since (an order handled in an earlier round) does
      // not start a series an order ends.
      const orderedAtMs = state.orders.count > 0 ? state.orders.lastAtMs : null;
      if (
        trigger.kind === 'signed-up' &&
        journey.definition.exitOn?.includes('Order Completed') === true &&
        orderedAtMs !== null &&
        state.signedUpAtMs !== null &&
        orderedAtMs >= state.signedUpAtMs
      ) {
        notes.push(`not entered journey ${journey.definition.id}: ordered since signing up`);
        continue;
      }
      const existing = memberships.get(journey.definition.id);
      const refused = mayEnter(journey, existing, nowMs);
      if (refused !== null) {
        notes.push(refused);
        continue;
      }
      notes.push(`entered journey ${journey.definition.id} v${journey.version}`);
      const start = newMembership(journey, view, existing, nowMs);
      notes.push(...advance(journey, start, trigger));
    }
    return notes;
  };

  /**
   * Cancels decisions matching `match`: those stored (by the caller) and those proposed earlier
   * in this round, which are not stored yet — a welcome email proposed for a signup must not
   * go out, or win arbitration, when the order in the same round exits the journey.
   */
  const cancelDecisions = (match: DecisionCancel['match'], reason: string): string[] => {
    out.cancelDecisions.push({ match, reason });
    const withdrawn: string[] = [];
    for (let i = proposals.length - 1; i >= 0; i -= 1) {
      const p = proposals[i];
      if (p === undefined) continue;
      const hit =
        (match.journeyId !== undefined && p.journey?.id === match.journeyId) ||
        (match.agents?.includes(p.agent) ?? false);
      if (!hit) continue;
      proposals.splice(i, 1);
      withdrawn.push(`withdrew ${p.agent} ${p.action} proposed this round: ${reason}`);
    }
    return withdrawn.reverse();
  };
  /**
   * A journey that finished (its last send proposed, or an exit step) before its exit event
   * came: nothing is left to end, but its last message may still be due — moved to the
   * customer's best hour, waiting for a reviewer — and goes no more.
   */
  const cancelFinished = (m: Membership, reason: string): string[] => {
    // Its web content still up comes down too (`GET /v1/personalize` reads this).
    memberships.set(m.journeyId, { ...m, exitEventAfterEndMs: nowMs });
    changed.add(m.journeyId);
    return [
      `journey ${m.journeyId} had ${m.status === 'completed' ? 'completed' : 'ended'}: ${reason} cancels what it has still due`,
      ...cancelDecisions({ journeyId: m.journeyId }, reason),
    ];
  };
  const exitJourney = (m: Membership, reason: string): string => {
    memberships.set(m.journeyId, {
      ...m,
      status: 'exited',
      exitReason: reason,
      waitingFor: null,
      updatedAtMs: nowMs,
    });
    changed.add(m.journeyId);
    cancelWork(journeyKey(id, m.journeyId), reason);
    return [
      `exited journey ${m.journeyId}: ${reason}`,
      ...cancelDecisions({ journeyId: m.journeyId }, reason),
    ].join('; ');
  };

  const propose = (result: Proposal | string, notes: string[]) => {
    if (typeof result === 'string') notes.push(result);
    else proposals.push(result);
  };

  const onEvent = (trigger: Extract<Trigger, { kind: 'event' }>): string[] => {
    // A journey version another process stored and this one has not loaded may exit on this
    // event: the event waits, untouched, for a process that knows it, as a step does.
    const unknown = [...memberships.values()].find(
      (m) => m.status === 'active' && env.journeys.find(m.journeyId, m.version) === undefined,
    );
    if (unknown !== undefined && attempts + 1 < UNKNOWN_VERSION_TRIES) {
      deferred = `journey ${unknown.journeyId} version ${String(unknown.version)} is not known to this process: tried again later`;
      return [];
    }
    const notes: string[] = [];
    // Too late to act on: it only ends the journeys it exits that were entered by its time.
    if (trigger.lateAtMs !== undefined) {
      const at = trigger.lateAtMs;
      for (const m of [...memberships.values()]) {
        const journey = env.journeys.find(m.journeyId, m.version);
        if (journey?.definition.exitOn?.includes(trigger.name) !== true) continue;
        // A journey of an abandoned cart is entered when its timer fires, after the cart's
        // last change: an order placed since that change closed the cart it is about (unless
        // a newer cart has begun since the order).
        // A journey entered on signing up began, in the customer's time, when they signed up:
        // an order stamped between the signup and the worker's round that entered them (a
        // phone's batch recorded hours later) ends it, as it would have kept them out.
        const entry = journey.definition.entry;
        const ofCart = 'trigger' in entry && entry.trigger === 'cart-abandoned';
        const signedUpAtMs =
          'trigger' in entry && entry.trigger === 'signed-up' ? state.signedUpAtMs : null;
        const closes =
          ofCart && trigger.name === 'Order Completed'
            ? state.cart === null || state.cart.updatedAtMs <= at
            : Math.min(m.enteredAtMs, signedUpAtMs ?? m.enteredAtMs) <= at;
        if (!closes) continue;
        const reason = eventExitReason(trigger.name, true);
        if (m.status === 'active') notes.push(exitJourney(m, reason));
        else notes.push(...cancelFinished(m, reason));
      }
      return notes.length > 0 ? notes : [`${trigger.name} arrived late: no journey it exits`];
    }
    // A cart opened after the latest order (the next purchase begun before this event was
    // handled) is not the one the order closed: its timer stands, and so does a recovery
    // journey entered after the order, which is that cart's (the order, from before its entry,
    // is no event of it). One entered at or before the order was about the closed cart: it ends.
    const lastOrderMs = state.orders.lastAtMs;
    const newerCartSinceMs =
      trigger.name === 'Order Completed' &&
      state.cart !== null &&
      lastOrderMs !== null &&
      state.cart.updatedAtMs > lastOrderMs
        ? lastOrderMs
        : null;
    for (const m of [...memberships.values()]) {
      const journey = env.journeys.find(m.journeyId, m.version);
      const exits = journey?.definition.exitOn?.includes(trigger.name) === true;
      if (m.status !== 'active' && !exits) continue;
      const entry = journey?.definition.entry;
      if (
        newerCartSinceMs !== null &&
        entry !== undefined &&
        'trigger' in entry &&
        entry.trigger === 'cart-abandoned' &&
        m.enteredAtMs > newerCartSinceMs
      )
        continue;
      if (m.status !== 'active') {
        notes.push(...cancelFinished(m, eventExitReason(trigger.name)));
        continue;
      }
      if (exits) {
        notes.push(exitJourney(m, eventExitReason(trigger.name)));
        continue;
      }
      const seen = m.seenEvents.includes(trigger.name)
        ? m.seenEvents
        : [...m.seenEvents, trigger.name].slice(-50);
      const updated = { ...m, seenEvents: seen };
      memberships.set(m.journeyId, updated);
      changed.add(m.journeyId);
      if (journey !== undefined && m.waitingFor === trigger.name) {
        notes.push(`journey ${m.journeyId}: ${trigger.name} arrived`);
        notes.push(...advance(journey, updated, trigger));
      }
    }
    notes.push(...enterJourneys(trigger, trigger.name));
    if (trigger.name === 'Order Completed') {
      // With a newer cart open, the cart offers still due may be that cart's (its timer may
      // have run before the order was handled): they stand, and one made before the order, about
      // the cart it closed, is refused at hand-off (`superseded`: made before the order).
      if (newerCartSinceMs === null) {
        cancelWork(cartKey(id), 'order placed');
        notes.push(...cancelDecisions({ agents: ['cart'] }, 'order placed'));
      }
      const placed: Trigger = {
        kind: 'order-placed',
        orderCount: trigger.orderNumber ?? state.orders.count,
        revenue: computed.monetary,
      };
      if (trigger.reachedBefore === true)
        notes.push(
          `order ${String(placed.orderCount)} was reached before (an order cancelled and replaced): no milestone`,
        );
      else propose(milestoneAgent(view, placed, env, nowMs), notes);
      notes.push(...enterJourneys(placed, trigger.name));
    }
    if (env.policy.customEvents.some((c) => c.event === trigger.name))
      propose(
        customEventAgent(
          view,
          { kind: 'custom-event', name: trigger.name, properties: trigger.properties },
          env,
          nowMs,
        ),
        notes,
      );
    // After its own entries: a journey it starts may name it as an exit (the next order).
    eventsHandled.add(trigger.name);
    return notes;
  };

  const onStep = (trigger: Extract<Trigger, { kind: 'journey-step' }>): string[] => {
    if (ranThisRound.has(trigger.journeyId))
      return [
        `journey ${trigger.journeyId} moved on earlier in this round: a wake-up armed before it`,
      ];
    const m = memberships.get(trigger.journeyId);
    if (m?.status !== 'active' || m.version !== trigger.version || m.stepId !== trigger.stepId)
      return [`journey ${trigger.journeyId} is no longer at step ${trigger.stepId}`];
    const journey = env.journeys.find(m.journeyId, m.version);
    if (journey === undefined) {
      // Another process, started with a newer configuration, stored this version; this one
      // loaded its catalog before. The step waits for a process that knows it rather than
      // ending the customer's journey; only after several tries does it end.
      if (attempts + 1 < UNKNOWN_VERSION_TRIES) {
        deferred = `journey ${m.journeyId} version ${String(m.version)} is not known to this process: tried again later`;
        return [];
      }
      return [exitJourney(m, `version ${m.version} is unknown`)];
    }
    return advance(journey, m, trigger);
  };

  const handle = (trigger: Trigger): string[] => {
    const notes: string[] = [];
    switch (trigger.kind) {
      case 'event':
        return onEvent(trigger);
      case 'journey-step':
        return onStep(trigger);
      case 'cart-abandoned': {
        // Only the cart that armed the timer was abandoned: one emptied or changed since
        // without arming it again (a late order, a late Product Added) enters no journey, or
        // the next real cart would find the customer in it already. The agent says why.
        if (state.cart?.updatedAtMs !== trigger.cartUpdatedAtMs) {
          propose(cartAgent(view, trigger, env, nowMs), notes);
          return notes;
        }
        const journeys = enterJourneys(trigger);
        let handled = false;
        for (const j of env.journeys.current) handled ||= entryMatches(j, trigger);
        if (handled) return journeys;
        propose(cartAgent(view, trigger, env, nowMs), notes);
        return [...journeys, ...notes];
      }
      case 'signed-up':
      case 'order-placed':
        return enterJourneys(trigger);
      case 'stage-changed':
        propose(lifecycleAgent(view, trigger, env, nowMs), notes);
        return [...notes, ...enterJourneys(trigger)];
      case 'segment-changed':
        return enterJourneys(trigger);
      case 'inactive': {
        // The sweep found them inactive; they may have come back since it queued this.
        const lastActive = state.lastActiveAtMs ?? state.firstSeenAtMs;
        if (nowMs - lastActive < trigger.days * DAY_MS)
          return [
            `active again on ${new Date(lastActive).toISOString()}: no longer inactive for ${String(trigger.days)} days`,
          ];
        if (trigger.days === env.policy.winBack.dormantDays) {
          // One path per period of silence, the next 90 days after one ended early
          // (`dormantSince`): history for the time before a path must not start another.
          const pathAtMs = dormantPathAtMs;
          const since = dormantSince(lastActive, pathAtMs, trigger.days);
          if (pathAtMs !== null && (since === null || nowMs - since < trigger.days * DAY_MS))
            return [
              `a dormant path started on ${new Date(pathAtMs).toISOString()}, ${since === null ? 'no activity since' : `fewer than ${String(trigger.days)} days ago`}`,
            ];
          dormantPathAtMs = nowMs;
          // The first wave is decided now, with everything else due at this moment; the
          // later ones are timers.
          env.policy.winBack.waves.forEach((wave, i) => {
            const waveTrigger: Trigger = { kind: 'win-back-wave', wave: i, startedAtMs: nowMs };
            if (i === 0 && wave.day <= 1) {
              notes.push(...handle(waveTrigger));
              return;
            }
            out.schedule.push({
              key: winBackKey(id, i),
              customerId: id,
              dueAtMs: nowMs + Math.max(0, wave.day - 1) * DAY_MS,
              trigger: waveTrigger,
            });
          });
          notes.push(`dormant path started: ${env.policy.winBack.waves.length} waves`);
        }
        return [...notes, ...enterJourneys(trigger)];
      }
      case 'win-back-wave':
        propose(winBackAgent(view, trigger, env, nowMs), notes);
        return notes;
      case 'birthday':
      case 'anniversary':
        proposals.push(celebrationAgent(view, trigger, env, nowMs));
        return notes;
      case 'custom-event':
        propose(customEventAgent(view, trigger, env, nowMs), notes);
        return notes;
      case 'api':
        // API sends are decided by whoever asked: they never arrive as due work.
        return ['an API send is not scheduled work'];
      case 'profile-changed':
        return notes;
      case 'campaign':
        propose(campaignAgent(view, trigger, env, nowMs), notes);
        return notes;
    }
  };

  // Read through a call: `handle` sets it, which the compiler's narrowing cannot see.
  const deferral = (): string | null => deferred;
  for (const item of items) {
    attempts = item.attempts;
    deferred = null;
    const notes = handle(item.trigger);
    const waits = deferral();
    out.finished.push(
      waits === null
        ? { id: item.id, status: 'done', note: notes.length === 0 ? null : notes.join('; ') }
        : { id: item.id, status: 'pending', note: waits, retryAtMs: nowMs + RETRY_UNKNOWN_MS },
    );
  }

  // Stage and segment changes since this customer was last looked at. At the first look, the
  // change the ingest saw (a profile-changed item says what was before), else none: a customer
  // seen for the first time has not changed stage.
  const marks = input.marks ?? firstLookMarks(items);
  const stage = computed.lifecycleStage;
  if (marks === undefined || marks.stage !== stage || marks.segment !== segment) {
    // Handled here, with everything else due at this moment; logged as done work so the
    // customer's history shows each change.
    const changes: Trigger[] = [];
    if (marks !== undefined && marks.stage !== stage)
      changes.push({ kind: 'stage-changed', from: marks.stage, to: stage });
    if (marks !== undefined && marks.segment !== segment)
      changes.push({ kind: 'segment-changed', from: marks.segment, to: segment });
    for (const change of changes) {
      handle(change);
      out.schedule.push({
        key: `${id}|${change.kind}|${nowMs}`,
        customerId: id,
        dueAtMs: nowMs,
        trigger: change,
        mode: 'log',
      });
    }
    out.marks = { customerId: id, segment, stage, updatedAtMs: nowMs };
  }
  // A dormant path started now is noted with the marks, as they were if nothing changed.
  if (dormantPathAtMs !== (input.marks?.dormantPathAtMs ?? null))
    out.marks = {
      ...(out.marks ?? marks ?? { customerId: id, segment, stage }),
      updatedAtMs: nowMs,
      dormantPathAtMs,
    };

  // Every decision here read the customer's figures (stage, segment, journey conditions), so
  // each records which churn model, or the rules, made the churn risk among them.
  const scores: DecisionScores = {
    churnRisk: {
      value: computed.churnRisk,
      source: computed.churnModelVersion === null ? 'rules' : 'model',
      modelVersion: computed.churnModelVersion,
    },
  };
  const conversion = view.conversion;
  // A VIP gets no automated offer, whichever agent or journey makes it: a person reaches out.
  if (computed.vip)
    for (let i = 0; i < proposals.length; i += 1) {
      const p = proposals[i];
      if (p !== undefined && p.kind !== 'escalate' && p.incentive !== null)
        proposals[i] = vipOutreachInstead(p, computed.ltv);
    }
  out.decisions = arbitrate(id, proposals, env.policy, nowMs, env.nextId, (channel) => {
    const probability = channel === undefined ? undefined : conversion?.byChannel[channel];
    return channel === undefined || probability === undefined || conversion === null
      ? scores
      : { ...scores, conversion: { channel, probability, modelVersion: conversion.modelVersion } };
  });
  for (const j of changed) {
    const m = memberships.get(j);
    if (m !== undefined) out.memberships.push(m);
  }
  return out;
};
