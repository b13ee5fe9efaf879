import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../src/core/ids.js';
import type { ProfileState } from '../../src/core/profile.js';
import { createDispatcher, type DispatchIo } from '../../src/pipeline/deliver/create-dispatcher.js';
import { deliverPolicySchema, type DeliverPolicy } from '../../src/pipeline/deliver/policy.js';
import type { ChannelAdapter } from '../../src/ports/channel-adapter.js';
import { silentLogger } from '../../src/ports/logger.js';
import { aSentMessage } from '../support/builders.js';
import { sqliteFactory, storeFactories, type StoreFactory } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);

/**
 * How many messages go to a provider in an hour under these limits, from a backlog that never
 * runs dry, the dispatcher running every `tickMs`: the store's own token buckets count.
 */
const sentInAnHour = async (
  factory: StoreFactory,
  limits: { perSecond?: number; perHour?: number },
  tickMs: number,
): Promise<number> => {
  const { store, cleanup } = await factory.make();
  try {
    let now = T0;
    const sent: string[] = [];
    const adapter: ChannelAdapter = {
      name: 'test',
      channel: 'email',
      send: (delivery) => {
        sent.push(delivery.messageId);
        return Promise.resolve({ kind: 'sent', providerId: null });
      },
      close: () => Promise.resolve(),
    };
    // A long backlog, claimed as many at a time as the limit's tokens allow.
    let next = 0;
    const io: DispatchIo = {
      countDue: (_channel, _nowMs, limit) => Promise.resolve(limit),
      claim: (_channel, _nowMs, limit) =>
        Promise.resolve(
          Array.from({ length: limit }, () => {
            next += 1;
            const id = `m${String(next)}`;
            return {
              message: aSentMessage(id, `c-${id}`, T0, {
                status: 'sending',
                attempts: 0,
                sentAtMs: null,
                content: {
                  subject: 'Hi',
                  preheader: null,
                  body: 'Hi',
                  html: null,
                  from: 'a@example.com',
                  replyTo: null,
                  footerAddress: null,
                  unsubscribeUrl: null,
                },
              }),
              state: {
                customerId: toCustomerId(`c-${id}`),
                traits: { email: `${id}@example.com` },
              } as unknown as ProfileState,
            };
          }),
        ),
      takeTokens: (bucket, want, perSecond, burst, nowMs) =>
        store.transaction((tx) => tx.takeTokens(bucket, want, perSecond, burst, nowMs)),
      recheck: () => Promise.resolve(null),
      finish: () => Promise.resolve(),
      handOff: () => null,
    };
    const policy = Value.Default(deliverPolicySchema, {
      batchSize: 100,
      rateLimits: { test: limits },
    }) as DeliverPolicy;
    const dispatcher = createDispatcher([adapter], io, policy, { nowMs: () => now }, silentLogger);
    // The campaign's first hour.
    for (let tick = 0; tick * tickMs < 3_600_000; tick++) {
      now = T0 + tick * tickMs;
      await dispatcher.runDue(now);
    }
    return sent.length;
  } finally {
    await cleanup();
  }
};

describe('the provider rate limits, on the store’s token buckets', () => {
  it.each([
    [3600, 3400],
    [30, 28],
  ])(
    'let no more than the hourly figure (%i) through in any hour, however long it was idle',
    async (perHour, atLeast) => {
      // The dispatcher running every ten seconds.
      const sent = await sentInAnHour(sqliteFactory, { perHour }, 10_000);
      expect(sent).toBeLessThanOrEqual(perHour);
      expect(sent).toBeGreaterThanOrEqual(atLeast);
    },
  );

  for (const factory of storeFactories)
    it.skipIf(!factory.available).each([
      [0.5, 1800],
      [0.25, 900],
    ])(
      `send at a per-second limit below one (%f a second): one each time a whole token fills, %i an hour (${factory.name})`,
      async (perSecond, hourly) => {
        // The dispatcher running every second.
        const sent = await sentInAnHour(factory, { perSecond }, 1_000);
        // The bucket starts with its one token: at most one more than the hour's share.
        expect(sent).toBeLessThanOrEqual(hourly + 1);
        expect(sent).toBeGreaterThanOrEqual(hourly);
      },
    );
});
