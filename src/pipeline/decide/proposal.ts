import type { ConversionView, Decision, DecisionAgent } from '../../core/decision.js';
import type { CustomerId } from '../../core/ids.js';
import type { ComputedProfile, ProfileState } from '../../core/profile.js';
import type { StoreTx } from '../../ports/store.js';
import type { DecidePolicy } from './policy.js';
import type { JourneyCatalog } from './journeys/journey-catalog.js';

/** What an agent wants to do; arbitration turns the winners into decisions. */
export interface Proposal extends Omit<
  Decision,
  'id' | 'customerId' | 'status' | 'alternatives' | 'createdAtMs'
> {
  agent: DecisionAgent;
  /** `send` is a message and competes in arbitration; `web` and `escalate` do not. */
  kind: 'send' | 'web' | 'escalate';
}

/** A customer as the agents see them: facts, figures at `now`, and their segment. */
export interface CustomerView {
  customerId: CustomerId;
  state: ProfileState;
  computed: ComputedProfile;
  segment: string;
  /** The customer's conversion probability per channel, when a conversion model is trained. */
  conversion: ConversionView | null;
}

/** Everything the decide core needs besides the customer; the same for a whole batch. */
export interface DecideEnv {
  policy: DecidePolicy;
  journeys: JourneyCatalog;
  /** The profile stage's figures for a state at a moment (passed in: stages do not import each other). */
  computeProfile: (state: ProfileState, nowMs: number) => ComputedProfile;
  /**
   * Opens and clicks of everyone by local hour of week, each customer's in their own zone (168
   * shares summing to 1), or null.
   */
  population: number[] | null;
  nextId: () => string;
  /**
   * Hard bounces after which the customer's email address is no channel for them: the guard's
   * `autoOptOutHardBounces` (passed in), so an agent offers email exactly when the guardrail
   * would let it go.
   */
  emailBounceLimit: number;
  /**
   * Consent sources that are no explicit act of the customer (the guard's
   * `gdpr.impliedSources`, passed in): a text or WhatsApp grant from one is no opt-in, as the
   * guard refuses it.
   */
  impliedConsentSources: readonly string[];
  /**
   * The names of the templates whose class is `transactional` (the render stage's, passed in): a
   * message that keeps that class (`classOfMessage`) leaves at once — no quiet hours, no best
   * hour — as the guard will let it.
   */
  transactionalTemplates: ReadonlySet<string>;
  /**
   * The conversion model in force (the predict stage's, passed in): a customer's sends and
   * credited sends per channel → their probability per channel. Absent or inactive: expected
   * values are confidence × value at stake alone.
   */
  conversion?: {
    active(): boolean;
    score(
      counts: Readonly<Record<string, { sends: number; conversions: number }>>,
    ): ConversionView | null;
    /** Sends this recent are left out: their attribution window is still open. */
    windowMs: number;
  };
  /**
   * The next stages, in the same transaction as the decisions: guard and record them, and
   * withdraw the messages of decisions a later event cancelled.
   */
  onDecided?: OnDecided;
}

export interface DecidedBatch {
  decisions: Decision[];
  cancelled: { decisionIds: string[]; reason: string }[];
  profiles: ReadonlyMap<CustomerId, ProfileState>;
}

export type OnDecided = (tx: StoreTx, batch: DecidedBatch, nowMs: number) => Promise<void>;
