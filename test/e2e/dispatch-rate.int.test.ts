import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/adapters/storage/sqlite/create-sqlite-store.js';
import { toCustomerId } from '../../src/core/ids.js';
import type { ProfileState } from '../../src/core/profile.js';
import { createDispatcher, type DispatchIo } from '../../src/pipeline/deliver/create-dispatcher.js';
import { deliverPolicySchema, type DeliverPolicy } from '../../src/pipeline/deliver/policy.js';
import type { ChannelAdapter } from '../../src/ports/channel-adapter.js';
import { silentLogger } from '../../src/ports/logger.js';
import { aSentMessage } from '../support/builders.js';

const T0 = Date.UTC(2026, 5, 3, 12);

describe('the provider rate limits, on the store’s token buckets', () => {
  it.each([
    [3600, 3400],
    [30, 28],
  ])(
    'let no more than the hourly figure (%i) through in any hour, however long it was idle',
    async (perHour, atLeast) => {
      const dir = mkdtempSync(join(tmpdir(), 'herald-buckets-'));
      const store = await createSqliteStore({
        file: join(dir, 'buckets.db'),
        synchronous: 'normal',
      });
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
        // A long backlog, claimed 100 at a time; what gets no token is put back (here: dropped).
        let next = 0;
        const io: DispatchIo = {
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
          rateLimits: { test: { perHour } },
        }) as DeliverPolicy;
        const dispatcher = createDispatcher(
          [adapter],
          io,
          policy,
          { nowMs: () => now },
          silentLogger,
        );
        // The campaign's first hour, the dispatcher running every ten seconds.
        for (let tick = 0; tick < 360; tick++) {
          now = T0 + tick * 10_000;
          await dispatcher.runDue(now);
        }
        expect(sent.length).toBeLessThanOrEqual(perHour);
        expect(sent.length).toBeGreaterThanOrEqual(atLeast);
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
