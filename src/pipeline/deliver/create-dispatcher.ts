import { setImmediate as nextTurn } from 'node:timers/promises';
import { deliverableUntilMs, type MessageRecord } from '../../core/message.js';
import { createPollingLoop, type PollingLoop } from '../../core/polling-loop.js';
import type { Channel, ProfileState } from '../../core/profile.js';
import type { ChannelAdapter, DeliveryOutcome } from '../../ports/channel-adapter.js';
import { refusesData } from '../../ports/store.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import { createCircuit, type Circuit } from './circuit-breaker.js';
import type { DeliverPolicy } from './policy.js';
import { recipientOf } from '../../core/recipient.js';

/** A claimed message with its recipient's current profile. */
export interface Claimed {
  message: MessageRecord;
  state: ProfileState | undefined;
}

/** What became of one claimed message in this round. */
export type Finished =
  | {
      message: MessageRecord;
      kind: 'outcome';
      provider: string;
      to: string;
      outcome: DeliveryOutcome;
    }
  /** Not sent: refused at hand-off (consent changed, no address …). */
  | { message: MessageRecord; kind: 'refused'; code: string; reason: string }
  /**
   * Not sent and not attempted: back to the outbox until `untilMs` (rate limit, open circuit,
   * a hold at hand-off); due from `dueAtMs` on when the hold moves that (quiet hours). A hold
   * at hand-off names its code (`holdCode`), which the message carries while it waits.
   */
  | {
      message: MessageRecord;
      kind: 'released';
      untilMs: number;
      dueAtMs?: number;
      holdCode?: string;
    };

/** Said of an outcome the store refused the provider's own words of. */
const UNSTORABLE_ANSWER = "the provider's answer could not be stored";

/**
 * `f` without what the provider said (its id for the message, its words), or null when it holds
 * none: what is kept of an outcome the store refuses.
 */
const withoutProviderWords = (f: Finished): Finished | null => {
  if (f.kind !== 'outcome') return null;
  const o = f.outcome;
  if (o.kind === 'sent')
    return o.providerId === null ? null : { ...f, outcome: { ...o, providerId: null } };
  return o.reason === UNSTORABLE_ANSWER
    ? null
    : { ...f, outcome: { ...o, reason: UNSTORABLE_ANSWER } };
};

/** The dispatcher's I/O, given by the composition (the store, the guard's hand-off check). */
export interface DispatchIo {
  claim(channel: Channel, nowMs: number, limit: number, leaseUntilMs: number): Promise<Claimed[]>;
  /** How many messages `claim` could claim now, up to `limit`. */
  countDue(channel: Channel, nowMs: number, limit: number): Promise<number>;
  takeTokens(
    bucket: string,
    want: number,
    perSecond: number,
    burst: number,
    nowMs: number,
  ): Promise<number>;
  /**
   * Writes outcomes back (and what they teach: bounces, dead tokens); one transaction. Only to
   * messages still under this round's claim (`leaseUntilMs`): one claimed again since belongs
   * to another dispatcher.
   */
  finish(results: readonly Finished[], nowMs: number, leaseUntilMs: number): Promise<void>;
  /**
   * The message's customer as they are right before its attempt, or null when the message is
   * no longer `sending` (its customer was erased meanwhile): a batch can take minutes, and an
   * unsubscribe or an erasure in between must count.
   */
  recheck(message: MessageRecord): Promise<{ state: ProfileState | undefined } | null>;
  /**
   * A reason not to send after all, judged on the current profile at `nowMs`, or a moment to
   * wait for (quiet hours, a paused sending domain), with the due time it moves the message to
   * if it does; null to go.
   */
  handOff(
    message: MessageRecord,
    state: ProfileState | undefined,
    nowMs: number,
  ):
    | { code: string; reason: string }
    | { holdUntilMs: number; holdCode: string; reason: string; dueAtMs?: number }
    | null;
}

/** `runDue` sends everything due now, round after round, and returns how many went. */
export interface Dispatcher extends PollingLoop<number> {
  circuits(): Record<string, Circuit['state']>;
}

/**
 * The deliver stage's loop. Each round, per channel: claim due outbox rows (leased, so a
 * dispatcher that dies gives them back), take tokens from the provider's shared rate-limit
 * buckets (what has no token goes back to the outbox), check each at hand-off, send with up
 * to `concurrency` in flight, and write each outcome back at once (outcomes that arrive while a write runs share the
 * next) — between a provider's acceptance and that write is the only moment a crash can
 * cause a second send. A provider that keeps failing opens its circuit.
 */
export const createDispatcher = (
  adapters: readonly ChannelAdapter[],
  io: DispatchIo,
  policy: DeliverPolicy,
  clock: Clock,
  logger: Logger,
): Dispatcher => {
  const circuits = new Map(
    adapters.map((a) => [
      a.name,
      createCircuit(policy.circuit.failures, policy.circuit.cooldownSeconds * 1000),
    ]),
  );

  const limitFor = (adapter: ChannelAdapter) => policy.rateLimits[adapter.name];
  const expiryOf = (message: MessageRecord): { worthForMs?: number } => {
    const until = deliverableUntilMs(message, policy.maxLatenessHours);
    return until === null ? {} : { worthForMs: Math.max(0, until - clock.nowMs()) };
  };
  /**
   * What an attempt leaves of its claim for writing its outcome back: half of what the lease
   * holds beyond an attempt, at most 30 s (the write waits its turn behind others).
   */
  const writeBackMs = Math.min((policy.leaseSeconds - policy.timeoutSeconds) * 500, 30_000);

  /**
   * The per-second bucket holds a second's worth, at least one token: a bucket that never holds
   * a whole token (a limit of 0.5 a second, filling towards half of one) gives none, and nothing
   * would ever be sent. With one, 0.5 a second sends one every 2 s.
   */
  const secondBurst = (perSecond: number) => Math.max(1, perSecond);

  /** Takes tokens from the per-second and per-hour buckets; returns what both gave. */
  const tokens = async (adapter: ChannelAdapter, want: number, nowMs: number): Promise<number> => {
    const limit = limitFor(adapter);
    let got = want;
    if (limit?.perSecond !== undefined)
      got = await io.takeTokens(
        `${adapter.name}/s`,
        got,
        limit.perSecond,
        secondBurst(limit.perSecond),
        nowMs,
      );
    if (limit?.perHour !== undefined && got > 0) {
      // A bucket holding a minute's worth (at least one token), filled at the rest of the hour's
      // rate: at most `perHour` in any hour, for a limit of 2 or more. (Holding an hour's worth
      // would let an idle hour's tokens and the next hour's refill through together: about
      // twice the figure.)
      const burst = Math.max(1, limit.perHour / 60);
      const hourly = await io.takeTokens(
        `${adapter.name}/h`,
        got,
        Math.max(limit.perHour - burst, 1) / 3600,
        burst,
        nowMs,
      );
      // What the hour refused goes back to the second's bucket.
      if (hourly < got && limit.perSecond !== undefined)
        await io.takeTokens(
          `${adapter.name}/s`,
          hourly - got,
          limit.perSecond,
          secondBurst(limit.perSecond),
          nowMs,
        );
      got = hourly;
    }
    return got;
  };

  /**
   * Gives back tokens taken for messages that never reached the provider (held for quiet hours
   * or a paused domain, refused at hand-off, released unsent): taken and kept, a paused
   * domain's held backlog would spend the provider's limit that receipts wait on.
   */
  const giveBack = async (adapter: ChannelAdapter, unused: number, nowMs: number) => {
    const limit = limitFor(adapter);
    if (unused <= 0 || limit === undefined) return;
    if (limit.perSecond !== undefined)
      await io.takeTokens(
        `${adapter.name}/s`,
        -unused,
        limit.perSecond,
        secondBurst(limit.perSecond),
        nowMs,
      );
    if (limit.perHour !== undefined) {
      const burst = Math.max(1, limit.perHour / 60);
      await io.takeTokens(
        `${adapter.name}/h`,
        -unused,
        Math.max(limit.perHour - burst, 1) / 3600,
        burst,
        nowMs,
      );
    }
  };

  const roundFor = async (
    adapter: ChannelAdapter,
    nowMs: number,
  ): Promise<{ sent: number; full: boolean }> => {
    const circuit = circuits.get(adapter.name);
    try {
      return await sendRound(adapter, circuit, nowMs);
    } finally {
      // A probe that ended without reaching the provider (refused at hand-off, no token, an
      // error) must not leave the circuit half-open for good: the next round probes again.
      if (circuit?.state === 'half-open') circuit.unused();
    }
  };

  const sendRound = async (
    adapter: ChannelAdapter,
    circuit: Circuit | undefined,
    nowMs: number,
  ): Promise<{ sent: number; full: boolean }> => {
    const wanted = circuit?.allowance(nowMs, policy.batchSize) ?? policy.batchSize;
    if (wanted === 0) return { sent: 0, full: false };
    // The rate limit's tokens first, then as many messages as they allow: what the limit holds
    // back stays in the outbox where it was, due first, and is claimed first when tokens come
    // (claimed and given back with a later send time, it was overtaken by newer messages).
    // Tokens are taken for what is due, no more: an idle outbox takes and gives back none.
    const due =
      limitFor(adapter) === undefined ? wanted : await io.countDue(adapter.channel, nowMs, wanted);
    const allowed = due === 0 ? 0 : await tokens(adapter, due, nowMs);
    if (allowed === 0) {
      circuit?.unused();
      return { sent: 0, full: false };
    }
    // From the moment of the claim: a round can start well after the `nowMs` it was given
    // (another channel's round went first).
    const leaseUntilMs = clock.nowMs() + policy.leaseSeconds * 1000;
    let claimed: Awaited<ReturnType<DispatchIo['claim']>>;
    try {
      claimed = await io.claim(adapter.channel, nowMs, allowed, leaseUntilMs);
    } catch (error) {
      await giveBack(adapter, allowed, clock.nowMs()).catch(() => undefined);
      throw error;
    }
    const claimedAt = performance.now();
    // Tokens for messages that were not there go back at once: held through the round (a slow
    // provider's), they would keep other dispatchers on the database from sending.
    if (claimed.length < allowed) await giveBack(adapter, allowed - claimed.length, clock.nowMs());
    if (claimed.length === 0) {
      circuit?.unused();
      return { sent: 0, full: false };
    }
    const pending: Finished[] = [];
    // Group commit: an outcome is written as soon as no write is in progress; outcomes that
    // arrive during a write go together in the next one. The window in which a crash can
    // send a message twice is one write long.
    let writing: Promise<void> | null = null;
    let writeError: unknown = null;
    // A read before an attempt failed: the database is in trouble, send nothing more.
    let readFailed = false;
    // A write of several outcomes failed: from then on each is written alone, so that one the
    // store refuses (a provider's answer it cannot hold) keeps none of the others unwritten.
    let apart = false;
    /**
     * Writes `batch`; an outcome written alone whose data the store refuses (`refusesData`: not
     * a connection lost or a timeout, which is tried again as written) is written again without
     * the provider's own words (its id, its reason), the only parts of an outcome from outside
     * Herald. Written so, the store answers and refused those words: a message the provider
     * took stays `sent` (never sent again), and any other answer keeps its kind.
     */
    const writeBack = async (batch: Finished[]) => {
      const write = (outcomes: Finished[]) => io.finish(outcomes, clock.nowMs(), leaseUntilMs);
      try {
        await write(batch);
      } catch (error) {
        const [only] = batch;
        // A write that failed for any other reason keeps the provider's id: its reports about
        // the message find it by that id (Twilio's 30001 puts an unsent text back in the queue).
        const plain =
          batch.length === 1 && only !== undefined && refusesData(error)
            ? withoutProviderWords(only)
            : null;
        if (plain === null) throw error;
        try {
          await write([plain]);
        } catch {
          // Refused too: the store is in trouble, not the provider's answer.
          throw error;
        }
        logger.error(
          { err: error, messageId: plain.message.id, provider: adapter.name },
          "the store refused a provider's answer: its outcome was written without the provider's words",
        );
      }
    };
    const flush = (): Promise<void> => {
      if (writing !== null || pending.length === 0) return writing ?? Promise.resolve();
      const batch = pending.splice(0, apart ? 1 : pending.length);
      writing = writeBack(batch)
        .then(() => {
          writeError = null;
        })
        .catch((error: unknown) => {
          // Not lost: the outcomes wait for the next write (a provider's acceptance that is
          // never written back would send the message again after its lease). One written
          // alone waits behind the others: the store may take them, and not it.
          if (apart) pending.push(...batch);
          else pending.unshift(...batch);
          if (batch.length > 1) apart = true;
          writeError = error;
          logger.error({ err: error, outcomes: batch.length }, 'writing delivery outcomes failed');
        })
        .finally(() => {
          writing = null;
        });
      return writing;
    };
    // Outcomes not written back are sent again by whoever claims the messages next: keep trying,
    // at most two seconds apart, until they are written — past the claim's lease too. Dropped,
    // they would be sent again for certain (by this process, once the lease ran out); kept, only
    // by another process that reaches the database while this one cannot. The round, and so
    // this dispatcher, waits meanwhile: a process asked to stop then waits for the database,
    // saying so, until it comes back or the process is killed.
    const leaseEndsAt = performance.now() + (leaseUntilMs - clock.nowMs());
    let saidPastLease = false;
    const flushAll = async () => {
      for (let attempt = 0; writing !== null || pending.length > 0;) {
        await (writing ?? flush());
        if (writeError !== null && pending.length > 0) {
          attempt += 1;
          if (!saidPastLease && performance.now() >= leaseEndsAt) {
            saidPastLease = true;
            logger.error(
              { outcomes: pending.length, channel: adapter.channel, provider: adapter.name },
              'delivery outcomes still not written back past their claim: trying on (another dispatcher may now claim and send these messages again)',
            );
          }
          await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** attempt)));
        }
      }
    };
    const queue = [...claimed];
    let sent = 0;
    let attempted = 0;
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const { message } = next;
        let { state } = next;
        if (writeError !== null || readFailed || circuit?.state === 'open') {
          // Outcomes cannot be written back now: send nothing more that could be forgotten.
          // Or the provider's circuit opened during the batch: the rest waits out its
          // cooldown instead of spending an attempt each on a provider that is down. Either
          // way what is left goes back to the outbox unsent, without an attempt.
          pending.push({ message, kind: 'released', untilMs: clock.nowMs() });
          void flush();
          continue;
        }
        if (performance.now() - claimedAt >= policy.recheckAfterSeconds * 1000) {
          let fresh: Awaited<ReturnType<DispatchIo['recheck']>>;
          try {
            fresh = await io.recheck(message);
          } catch (error) {
            // Never let one worker's error end the round: the others' outcomes must still
            // be written back, or what the provider accepted is sent again after the lease.
            logger.error({ err: error }, 'reading a message again before its attempt failed');
            readFailed = true;
            pending.push({ message, kind: 'released', untilMs: clock.nowMs() });
            void flush();
            continue;
          }
          // Gone since the claim (erased): nothing to send, nothing to write back.
          if (fresh === null) continue;
          state = fresh.state;
        }
        const check = io.handOff(message, state, clock.nowMs());
        const refusal = check !== null && 'code' in check ? check : null;
        const recipient = state === undefined ? null : recipientOf(state, message.channel);
        if (clock.nowMs() + policy.timeoutSeconds * 1000 + writeBackMs > leaseUntilMs) {
          // The claim would run out during the attempt, or before its outcome is written back,
          // and another dispatcher could send the message too: it goes back to the outbox unsent.
          pending.push({ message, kind: 'released', untilMs: clock.nowMs() });
        } else if (check !== null && 'holdUntilMs' in check) {
          // Quiet hours came while it waited (a retry, a backlog), or its sending domain was
          // paused since it was judged: it goes back to the outbox until the moment named.
          pending.push({
            message,
            kind: 'released',
            untilMs: check.holdUntilMs,
            holdCode: check.holdCode,
            ...(check.dueAtMs === undefined ? {} : { dueAtMs: check.dueAtMs }),
          });
        } else if (refusal !== null || recipient === null || message.content === null) {
          pending.push({
            message,
            kind: 'refused',
            ...(refusal ??
              (message.content === null
                ? { code: 'no_content', reason: 'the message has no content' }
                : {
                    code: 'no_recipient',
                    reason: `no ${message.channel} address on the profile`,
                  })),
          });
        } else {
          attempted += 1;
          const outcome = await adapter
            .send(
              {
                messageId: message.id,
                customerId: message.customerId,
                channel: message.channel,
                class: message.class,
                template: message.template,
                to: recipient.to,
                ...(recipient.platform === undefined ? {} : { platform: recipient.platform }),
                content: message.content,
                ...expiryOf(message),
                attempt: message.attempts + 1,
              },
              AbortSignal.timeout(policy.timeoutSeconds * 1000),
            )
            .catch((error: unknown): DeliveryOutcome => ({
              kind: 'retry',
              reason: `adapter error: ${error instanceof Error ? error.message : String(error)}`,
              afterMs: null,
            }));
          if (outcome.kind === 'suspended') {
            // Not this message's fault: it waits, unsent, until the account works again.
            logger.error(
              { provider: adapter.name, reason: outcome.reason },
              'the provider refused Herald itself (credentials, account or sender): delivery paused',
            );
            circuit?.trip(clock.nowMs());
          } else if (outcome.kind === 'retry' && outcome.throttled === true) {
            // The provider's rate limit: every message would get the same answer until it
            // says, so nothing more goes until then (the rest of the batch goes back unsent).
            logger.warn(
              { provider: adapter.name, afterMs: outcome.afterMs, reason: outcome.reason },
              'the provider is rate-limiting Herald: delivery paused for its wait',
            );
            circuit?.pause(clock.nowMs(), outcome.afterMs ?? 0);
          } else if (outcome.kind === 'retry') circuit?.failure(clock.nowMs());
          else circuit?.success();
          if (outcome.kind === 'sent') sent += 1;
          pending.push({
            message,
            kind: 'outcome',
            provider: adapter.name,
            to: recipient.to,
            outcome,
          });
        }
        void flush();
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(policy.concurrency, Math.max(1, queue.length)) }, worker),
    );
    await flushAll();
    try {
      await giveBack(adapter, claimed.length - attempted, clock.nowMs());
    } catch (error) {
      // Kept, they only slow the provider's next rounds: nothing to undo for the messages.
      logger.error({ err: error }, 'giving back unused rate-limit tokens failed');
    }
    // A full batch means more may be waiting — unless the rate limit ran out: then the rest
    // waits for the next round's tokens.
    return { sent, full: allowed === wanted && claimed.length === allowed };
  };

  const drain = async (
    nowMs: number,
    _collect: boolean,
    stopping: () => boolean,
  ): Promise<number> => {
    let total = 0;
    for (;;) {
      let more = false;
      for (const adapter of adapters) {
        // Asked to stop: the rounds already run have written their outcomes back; the rest of
        // the outbox waits, claimed by no one, for the next start.
        if (stopping()) return total;
        const { sent, full } = await roundFor(adapter, nowMs);
        if (full) more = true;
        total += sent;
      }
      if (!more) return total;
      // The event loop's turn between rounds (a capture channel never waits on I/O): signals
      // and requests are heard while a backlog drains.
      await nextTurn();
      if (stopping()) return total;
      nowMs = clock.nowMs();
    }
  };

  const loop = createPollingLoop(drain, 0, {
    pollMs: policy.pollMs,
    nowMs: () => clock.nowMs(),
    onError: (error) => {
      logger.error({ err: error }, 'dispatch round failed');
    },
  });
  return {
    ...loop,
    circuits: () => Object.fromEntries([...circuits].map(([name, c]) => [name, c.state])),
  };
};
