import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createDispatcher } from '../../src/pipeline/deliver/index.js';
import { createDispatchIo } from '../../src/pipeline/deliver-messages.js';
import type { ChannelAdapter } from '../../src/ports/channel-adapter.js';
import { silentLogger } from '../../src/ports/logger.js';
import { startSmtpServer } from '../support/smtp-server.js';
import { startHerald, type TestHerald, ingestCall, adminCall } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const PUBLIC = 'https://herald.example.com';
const unfold = (raw: string): string => raw.replace(/\r?\n[ \t]+/g, ' ');
const listUnsubscribeOf = (raw: string | undefined): string =>
  /^List-Unsubscribe: <([^>]+)>/m.exec(unfold(raw ?? ''))?.[1] ?? '';

// One address on two customer records (a guest checkout and an account): an unsubscribe through
// either, made while a batch is being sent, stops the account's queued marketing at the check
// before its attempt — the address's opt-out is read again there, as the profile is.
for (const factory of storeFactories)
  describe.skipIf(!factory.available)(
    `an address that opts out between claim and attempt (${factory.name})`,
    () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
      beforeEach(async () => {
        clock = createVirtualClock(T0);
        smtp = await startSmtpServer(5000);
        await smtp.adapter.close();
        herald = await startHerald(factory, {
          clock,
          env: {
            HERALD_SMTP_URL: `smtp://127.0.0.1:${String(smtp.port)}`,
            HERALD_PUBLIC_URL: PUBLIC,
            HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
            HERALD_EMAIL_FROM: 'Herald Store <marketing@mail.example.com>',
          },
        });
      });
      afterEach(async () => {
        await herald.close();
        await smtp.stop();
      });
      const ingest = (route: string, body: object) => ingestCall(herald, clock, route, body);
      const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
        adminCall(herald, method, url, body);
      const send = async (userId: string, template: string) =>
        (await admin('POST', '/v1/sends', { userId, channel: 'email', template, data: {} })).json<{
          decisionId: string;
          status: string;
        }>();

      for (const who of ['acct-42', 'guest-7'] as const)
        it(`refuses acct-42's queued marketing when ${who} unsubscribes mid-batch`, async () => {
          await ingest('identify', { userId: 'guest-7', traits: { email: 'pat@example.com' } });
          await ingest('identify', { userId: 'acct-42', traits: { email: 'pat@example.com' } });
          await ingest('identify', { userId: 'zed', traits: { email: 'zed@example.com' } });
          await send(who, 'welcome-1');
          await herald.services.dispatcher.runDue();
          const unsubscribe = listUnsubscribeOf(smtp.messages[0]).slice(PUBLIC.length);
          expect(unsubscribe).not.toBe('');
          clock.set(T0 + 1000);
          await send('zed', 'upsell');
          clock.set(T0 + 2000);
          const queued = await send('acct-42', 'upsell');
          expect(queued.status).toBe('queued');
          const s = herald.services;
          const io = createDispatchIo({
            store: s.store,
            policy: { ...s.config.deliverPolicy, recheckAfterSeconds: 0, concurrency: 1 },
            guardPolicy: s.config.guardPolicy,
            quietHours: s.config.decidePolicy.quietHours,
            random: Math.random,
            emit: async (events, nowMs) => {
              await s.recorder.record(events, nowMs);
            },
          });
          const went: string[] = [];
          const adapter: ChannelAdapter = {
            name: 'smtp',
            channel: 'email',
            async send(d) {
              went.push(d.to);
              // While the first message of the batch is with the relay, the address unsubscribes
              // (through the link of mail it got earlier).
              if (went.length === 1) {
                const r = await herald.app.inject({
                  method: 'POST',
                  url: unsubscribe,
                  headers: { 'content-type': 'application/x-www-form-urlencoded' },
                  payload: 'List-Unsubscribe=One-Click',
                });
                expect(r.statusCode).toBe(200);
              }
              return { kind: 'sent', providerId: null };
            },
            close: () => Promise.resolve(),
          };
          clock.set(T0 + 3000);
          const d = createDispatcher(
            [adapter],
            io,
            { ...s.config.deliverPolicy, recheckAfterSeconds: 0, concurrency: 1 },
            clock,
            silentLogger,
          );
          await d.runDue();
          const view = (await admin('GET', `/v1/messages/${queued.decisionId}`)).json<{
            status: string;
            reasonCode: string | null;
          }>();
          expect(went).toEqual(['zed@example.com']);
          expect(view).toMatchObject({ status: 'blocked', reasonCode: 'unsubscribed' });
        });
    },
  );
