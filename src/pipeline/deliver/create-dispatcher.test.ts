import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import type { MessageRecord } from '../../core/message.js';
import type { ProfileState } from '../../core/profile.js';
import type { ChannelAdapter, DeliveryOutcome } from '../../ports/channel-adapter.js';
import { silentLogger } from '../../ports/logger.js';
import { aSentMessage } from '../../../test/support/builders.js';
import {
  createDispatcher,
  type Claimed,
  type DispatchIo,
  type Finished,
} from './create-dispatcher.js';
import { deliverPolicySchema, type DeliverPolicy } from './policy.js';

const T0 = Date.UTC(2026, 5, 3, 12);

/** A message the dispatcher has claimed and not yet sent. */
const aMessage = (id: string): MessageRecord =>
  aSentMessage(id, `c-${id}`, T0, {
    agent: 'api',
    template: 'welcome-1',
    campaignId: null,
    status: 'sending',
    content: {
      subject: 'Hi',
      preheader: null,
      body: 'Hi https://shop.example.com',
      html: null,
      from: 'a@example.com',
      replyTo: null,
      footerAddress: null,
      unsubscribeUrl: null,
    },
    attempts: 0,
    recipient: null,
    provider: null,
    sentAtMs: null,
  });

const aState = (id: string): ProfileState =>
  ({
    customerId: toCustomerId(`c-${id}`),
    traits: { email: `${id}@example.com` },
  }) as unknown as ProfileState;

/**
 * An outbox in memory: what the dispatcher claims, and everything it writes back (the first
 * `failedWrites` writes fail, as a database that went away would).
 */
const memoryIo = (ids: string[], overrides: Partial<DispatchIo> = {}, failedWrites = 0) => {
  const queue = [...ids];
  const written: Finished[] = [];
  let failures = failedWrites;
  const io: DispatchIo = {
    claim: (_channel, _nowMs, limit): Promise<Claimed[]> =>
      Promise.resolve(
        queue.splice(0, limit).map((id) => ({ message: aMessage(id), state: aState(id) })),
      ),
    countDue: (_channel, _nowMs, limit) => Promise.resolve(Math.min(limit, queue.length)),
    takeTokens: (_bucket, want) => Promise.resolve(want),
    recheck: (message) => Promise.resolve({ state: aState(message.id) }),
    finish: (results) => {
      if (failures > 0) {
        failures -= 1;
        return Promise.reject(new Error('connection reset'));
      }
      written.push(...results);
      return Promise.resolve();
    },
    handOff: () => null,
    ...overrides,
  };
  return { io, written, queue };
};

const anAdapter = (answer: () => DeliveryOutcome): ChannelAdapter & { sent: string[] } => {
  const sent: string[] = [];
  return {
    name: 'test',
    channel: 'email',
    sent,
    send: (d) => {
      sent.push(d.messageId);
      return Promise.resolve(answer());
    },
    close: () => Promise.resolve(),
  };
};

const policy = (overrides: object = {}): DeliverPolicy =>
  Value.Default(deliverPolicySchema, { rateLimits: {}, ...overrides }) as DeliverPolicy;

const clock = { nowMs: () => T0 };

/** A rate-limit bucket holding `tokens`, never refilled: what it gives, and what is left. */
const bucketOf = (tokens: number) => {
  let left = tokens;
  return {
    take: (_bucket: string, want: number): Promise<number> => {
      const got = want < 0 ? want : Math.min(want, left);
      left -= got;
      return Promise.resolve(got);
    },
    left: () => left,
  };
};

/** A dispatcher for `adapter` limited to two messages a second. */
const twoASecond = (io: DispatchIo, adapter: ChannelAdapter) =>
  createDispatcher(
    [adapter],
    io,
    policy({ rateLimits: { test: { perSecond: 2 } } }),
    clock,
    silentLogger,
  );

describe('the dispatcher', () => {
  it('stops after the round in progress when asked to, and leaves the rest in the outbox', async () => {
    const { io, written, queue } = memoryIo(Array.from({ length: 50 }, (_, i) => `m${String(i)}`));
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    const asked: { stop: Promise<void> | null } = { stop: null };
    const dispatcher = createDispatcher(
      [
        {
          ...adapter,
          // The stop comes while the first round sends: SIGTERM in the middle of a backlog.
          send: (d, signal) => {
            asked.stop ??= dispatcher.stop();
            return adapter.send(d, signal);
          },
        },
      ],
      io,
      policy({ batchSize: 10 }),
      clock,
      silentLogger,
    );
    dispatcher.start();
    while (asked.stop === null) await new Promise((resolve) => setTimeout(resolve, 5));
    await asked.stop;
    // The round's batch is sent and written back, no more.
    expect(adapter.sent).toHaveLength(10);
    expect(written).toHaveLength(10);
    expect(queue).toHaveLength(40);
    // Run again, it sends the rest.
    expect(await dispatcher.runDue()).toBe(40);
  });

  it('keeps outcomes whose write failed and writes them again: nothing sent is forgotten', async () => {
    const { io, written } = memoryIo(['a', 'b', 'c'], {}, 1);
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    const dispatcher = createDispatcher([adapter], io, policy(), clock, silentLogger);
    expect(await dispatcher.runDue()).toBe(3);
    expect(written.map((w) => w.message.id).sort()).toEqual(['a', 'b', 'c']);
    expect(adapter.sent).toHaveLength(3);
  });

  it('keeps writing outcomes back past the claim’s lease rather than forget what was sent', async () => {
    // Three failed writes take 350 ms of back-off: past a lease of 300 ms.
    const { io, written } = memoryIo(['a', 'b'], {}, 3);
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    const dispatcher = createDispatcher(
      [adapter],
      io,
      policy({ leaseSeconds: 0.3, timeoutSeconds: 0.05 }),
      clock,
      silentLogger,
    );
    expect(await dispatcher.runDue()).toBe(2);
    // In any order: once a write of several failed, each is written alone, a failed one behind.
    expect(written.map((w) => [w.message.id, w.kind]).sort()).toEqual([
      ['a', 'outcome'],
      ['b', 'outcome'],
    ]);
  });

  it('sends nothing more while outcomes cannot be written, and gives the rest back unsent', async () => {
    const { io, written } = memoryIo(['a', 'b', 'c', 'd', 'e'], {}, 2);
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    const slow: ChannelAdapter = {
      ...adapter,
      send: async (d, signal) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return adapter.send(d, signal);
      },
    };
    const dispatcher = createDispatcher(
      [slow],
      io,
      policy({ concurrency: 1 }),
      clock,
      silentLogger,
    );
    await dispatcher.runDue();
    // The first write failed while the second send was under way; none started after it.
    expect(adapter.sent).toEqual(['a', 'b']);
    expect(written.map((w) => `${w.message.id}:${w.kind}`).sort()).toEqual([
      'a:outcome',
      'b:outcome',
      'c:released',
      'd:released',
      'e:released',
    ]);
  });

  it('stops sending a batch to a provider once its circuit opens, and gives the rest back', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `m${String(i)}`);
    const { io, written } = memoryIo(ids);
    const adapter = anAdapter(() => ({ kind: 'retry', reason: 'down', afterMs: null }));
    const dispatcher = createDispatcher(
      [adapter],
      io,
      policy({ concurrency: 1, circuit: { failures: 10, cooldownSeconds: 60 } }),
      clock,
      silentLogger,
    );
    await dispatcher.runDue();
    expect(adapter.sent).toHaveLength(10);
    expect(dispatcher.circuits()).toEqual({ test: 'open' });
    expect(written.filter((w) => w.kind === 'released')).toHaveLength(90);
  });

  it('dead-letters nothing when the provider refuses Herald itself, and pauses it', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `m${String(i)}`);
    const { io, written } = memoryIo(ids);
    const adapter = anAdapter(() => ({ kind: 'suspended', reason: 'API key revoked' }));
    const dispatcher = createDispatcher(
      [adapter],
      io,
      policy({ concurrency: 1 }),
      clock,
      silentLogger,
    );
    await dispatcher.runDue();
    expect(adapter.sent).toEqual(['m0']);
    expect(dispatcher.circuits()).toEqual({ test: 'open' });
    expect(written.map((w) => (w.kind === 'outcome' ? w.outcome.kind : w.kind))).toEqual([
      'suspended',
      ...ids.slice(1).map(() => 'released'),
    ]);
  });

  it('sends nothing to a customer erased after the claim, and writes nothing back for them', async () => {
    const { io, written } = memoryIo(['kept', 'erased'], {
      recheck: (m) => Promise.resolve(m.id === 'erased' ? null : { state: aState(m.id) }),
    });
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    const fresh = policy({ recheckAfterSeconds: 0 });
    await createDispatcher([adapter], io, fresh, clock, silentLogger).runDue();
    expect(adapter.sent).toEqual(['kept']);
    expect(written.map((w) => w.message.id)).toEqual(['kept']);
  });

  it('hands off on the profile read again once a batch has run a while, not as claimed', async () => {
    const erasedSince = (id: string) =>
      memoryIo([id], {
        recheck: () => Promise.resolve({ state: undefined }),
        handOff: (_m, state) =>
          state === undefined ? { code: 'no_profile', reason: 'gone' } : null,
      }).io;
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    // Within the second after the claim, the profile read with it is fresh enough.
    await createDispatcher([adapter], erasedSince('a'), policy(), clock, silentLogger).runDue();
    const late = policy({ recheckAfterSeconds: 0 });
    await createDispatcher([adapter], erasedSince('b'), late, clock, silentLogger).runDue();
    expect(adapter.sent).toEqual(['a']);
  });

  it('writes back what was sent when a read before an attempt fails, and sends nothing more', async () => {
    const { io, written } = memoryIo(['a', 'b', 'c', 'd'], {
      recheck: (m) =>
        m.id === 'b'
          ? Promise.reject(new Error('db hiccup'))
          : Promise.resolve({ state: aState(m.id) }),
    });
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    const fresh = policy({ concurrency: 1, recheckAfterSeconds: 0 });
    await createDispatcher([adapter], io, fresh, clock, silentLogger).runDue();
    expect(adapter.sent).toEqual(['a']);
    expect(written.map((w) => `${w.message.id}:${w.kind}`).sort()).toEqual([
      'a:outcome',
      'b:released',
      'c:released',
      'd:released',
    ]);
  });

  it('gives a message the hand-off holds back to the outbox until the moment it names', async () => {
    const { io, written } = memoryIo(['quiet', 'now'], {
      handOff: (m) =>
        m.id === 'quiet'
          ? { holdUntilMs: T0 + 3_600_000, holdCode: 'quiet_hours', reason: 'night' }
          : null,
    });
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    await createDispatcher([adapter], io, policy(), clock, silentLogger).runDue();
    expect(adapter.sent).toEqual(['now']);
    expect(written.find((w) => w.message.id === 'quiet')).toMatchObject({
      kind: 'released',
      untilMs: T0 + 3_600_000,
      holdCode: 'quiet_hours',
    });
  });

  it('gives back the rate-limit tokens of messages held at hand-off, for those behind them', async () => {
    // A bucket of two a second; the two held (a paused domain's marketing) come first.
    const bucket = bucketOf(2);
    const { io, written, queue } = memoryIo(['held-1', 'held-2', 'receipt'], {
      takeTokens: bucket.take,
      handOff: (m) =>
        m.id.startsWith('held')
          ? { holdUntilMs: T0 + 900_000, holdCode: 'domain_paused', reason: 'domain paused' }
          : null,
    });
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    const dispatcher = twoASecond(io, adapter);
    await dispatcher.runDue();
    expect(adapter.sent).toEqual([]);
    expect(written.map((w) => w.message.id)).toEqual(['held-1', 'held-2']);
    // Given back: the receipt, left in the outbox for want of a token, finds one next round.
    expect(bucket.left()).toBe(2);
    expect(queue).toEqual(['receipt']);
    await dispatcher.runDue();
    expect(adapter.sent).toEqual(['receipt']);
  });

  it('takes no tokens while nothing is due', async () => {
    const asked: number[] = [];
    const { io } = memoryIo([], {
      takeTokens: (_bucket, want) => {
        asked.push(want);
        return Promise.resolve(want);
      },
    });
    await twoASecond(
      io,
      anAdapter(() => ({ kind: 'sent', providerId: null })),
    ).runDue();
    expect(asked).toEqual([]);
  });

  it('gives back at once the tokens of messages that were not there to claim', async () => {
    // Ten a second, shared with other dispatchers; one message due here, its send slow. The
    // count said ten were due (another dispatcher on the database claimed nine meanwhile).
    const bucket = bucketOf(10);
    const { io } = memoryIo(['only'], {
      takeTokens: bucket.take,
      countDue: (_channel, _nowMs, limit) => Promise.resolve(Math.min(limit, 10)),
    });
    let leftDuringSend = -1;
    const adapter = anAdapter(() => {
      leftDuringSend = bucket.left();
      return { kind: 'sent', providerId: null };
    });
    await createDispatcher(
      [adapter],
      io,
      policy({ rateLimits: { test: { perSecond: 10 } } }),
      clock,
      silentLogger,
    ).runDue();
    // While it is sent, the others may take the nine it does not need.
    expect(leftDuringSend).toBe(9);
    expect(bucket.left()).toBe(9);
  });

  it('claims only as many messages as the rate limit has tokens for, leaving the rest in order', async () => {
    const { io, written, queue } = memoryIo(['due-1', 'due-2', 'due-3', 'due-4'], {
      takeTokens: bucketOf(2).take,
    });
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    await twoASecond(io, adapter).runDue();
    expect(adapter.sent).toEqual(['due-1', 'due-2']);
    // Never claimed, never moved: nothing queued since can overtake them.
    expect(written.filter((w) => w.kind === 'released')).toEqual([]);
    expect(queue).toEqual(['due-3', 'due-4']);
  });

  it('puts a held message back due from the moment its hold names, when it names one', async () => {
    const { io, written } = memoryIo(['quiet', 'paused'], {
      handOff: (m) =>
        m.id === 'quiet'
          ? {
              holdUntilMs: T0 + 3_600_000,
              holdCode: 'quiet_hours',
              reason: 'night',
              dueAtMs: T0 + 3_000_000,
            }
          : { holdUntilMs: T0 + 900_000, holdCode: 'domain_paused', reason: 'domain paused' },
    });
    const adapter = anAdapter(() => ({ kind: 'sent', providerId: null }));
    await createDispatcher([adapter], io, policy(), clock, silentLogger).runDue();
    expect(adapter.sent).toEqual([]);
    expect(written.find((w) => w.message.id === 'quiet')).toEqual(
      expect.objectContaining({
        kind: 'released',
        untilMs: T0 + 3_600_000,
        dueAtMs: T0 + 3_000_000,
      }),
    );
    const paused = written.find((w) => w.message.id === 'paused');
    expect(paused).toMatchObject({ kind: 'released', untilMs: T0 + 900_000 });
    expect(paused).not.toHaveProperty('dueAtMs');
  });

  it('gives a half-open circuit its probe again when the probe never reached the provider', async () => {
    let fail = true;
    const adapter = anAdapter(() =>
      fail ? { kind: 'retry', reason: 'down', afterMs: null } : { kind: 'sent', providerId: null },
    );
    const refused = new Set(['p1']);
    const { io, queue } = memoryIo(['f1'], {
      handOff: (m) => (refused.has(m.id) ? { code: 'unsubscribed', reason: 'gone' } : null),
    });
    let now = T0;
    const dispatcher = createDispatcher(
      [adapter],
      io,
      policy({ circuit: { failures: 1, cooldownSeconds: 1 } }),
      { nowMs: () => now },
      silentLogger,
    );
    await dispatcher.runDue();
    expect(dispatcher.circuits()).toEqual({ test: 'open' });
    fail = false;
    now += 1000;
    queue.push('p1'); // the probe: refused at hand-off
    await dispatcher.runDue();
    expect(dispatcher.circuits()).not.toEqual({ test: 'half-open' });
    queue.push('ok');
    await dispatcher.runDue();
    expect(dispatcher.circuits()).toEqual({ test: 'closed' });
    expect(adapter.sent).toEqual(['f1', 'ok']);
  });

  it('sends nothing whose claim would run out during the attempt', async () => {
    let now = T0;
    const adapter = anAdapter(() => {
      now += 9_000; // a slow provider: 9 s per message
      return { kind: 'sent', providerId: null };
    });
    const { io, written } = memoryIo(['a', 'b', 'c']);
    const dispatcher = createDispatcher(
      [adapter],
      io,
      policy({ concurrency: 1, leaseSeconds: 30, timeoutSeconds: 5 }),
      { nowMs: () => now },
      silentLogger,
    );
    await dispatcher.runDue(T0);
    // a at 0 s, b at 9 s; c would start at 18 s, its 5 s attempt and the 12.5 s kept for the
    // write-back going past a 30 s lease: released.
    expect(adapter.sent).toEqual(['a', 'b']);
    expect(written.find((w) => w.message.id === 'c')?.kind).toBe('released');
  });

  it('leaves an attempt room on its claim to write its outcome back', async () => {
    let now = T0;
    const adapter = anAdapter(() => {
      now += 9_990; // just inside the 10 s an attempt may take
      return { kind: 'sent', providerId: null };
    });
    const { io, written } = memoryIo(['a', 'b']);
    const dispatcher = createDispatcher(
      [adapter],
      io,
      policy({ concurrency: 1, leaseSeconds: 20, timeoutSeconds: 10 }),
      { nowMs: () => now },
      silentLogger,
    );
    await dispatcher.runDue(T0);
    // b would start at 9.99 s and could end at 19.99 s of a 20 s lease, its outcome written
    // after the claim ran out (another dispatcher may have sent it by then): released.
    expect(adapter.sent).toEqual(['a']);
    expect(written.find((w) => w.message.id === 'b')?.kind).toBe('released');
  });

  it('keeps a provider paused at its rate limit when an attempt in flight succeeds after it', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `m${String(i)}`);
    const { io } = memoryIo(ids);
    const sent: string[] = [];
    const adapter: ChannelAdapter = {
      name: 'test',
      channel: 'email',
      send: async (d) => {
        sent.push(d.messageId);
        if (d.messageId === 'm0')
          return {
            kind: 'retry',
            reason: 'provider answered 429',
            afterMs: 120_000,
            throttled: true,
          };
        // Taken just before the limit was met; its answer comes after the 429.
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { kind: 'sent', providerId: null };
      },
      close: () => Promise.resolve(),
    };
    const dispatcher = createDispatcher(
      [adapter],
      io,
      policy({ batchSize: 2, concurrency: 2, circuit: { failures: 5, cooldownSeconds: 60 } }),
      clock,
      silentLogger,
    );
    await dispatcher.runDue();
    // Before, the success closed the circuit and the rest went into the limit.
    expect(sent).toEqual(['m0', 'm1']);
    expect(dispatcher.circuits()).toEqual({ test: 'open' });
  });
});
