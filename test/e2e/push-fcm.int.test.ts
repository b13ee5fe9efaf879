import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import {
  jsonBodyOf,
  startFakeHttpProvider,
  type FakeHttpProvider,
} from '../support/fake-http-provider.js';
import { adminCall, batchCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 15);
const PROJECT = 'herald-demo';

/**
 * Google as push needs it: the OAuth token endpoint (it grants any assertion: the adapter's own
 * tests check the assertion) and FCM's send, which answers UNREGISTERED for a token of an app
 * that was removed (`stale-…`) and a message name for any other.
 */
const fcm = (): Promise<FakeHttpProvider> =>
  startFakeHttpProvider((_scenario, request) => {
    if (request.path === '/token')
      return { status: 200, body: { access_token: 'ya29.test', expires_in: 3600 } };
    const body = jsonBodyOf(request) as { message: { token: string } };
    // A device on a platform the project's credentials no longer reach (an expired APNs key).
    if (body.message.token.startsWith('apns-'))
      return {
        status: 401,
        body: {
          error: {
            code: 401,
            message: 'Auth error from APNS or Web Push Service',
            status: 'UNAUTHENTICATED',
            details: [
              {
                '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
                errorCode: 'THIRD_PARTY_AUTH_ERROR',
              },
            ],
          },
        },
      };
    if (body.message.token.startsWith('stale-'))
      return {
        status: 404,
        body: {
          error: {
            code: 404,
            message: 'Requested entity was not found.',
            status: 'NOT_FOUND',
            details: [
              {
                '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
                errorCode: 'UNREGISTERED',
              },
            ],
          },
        },
      };
    return { status: 200, body: { name: `projects/${PROJECT}/messages/0:1` } };
  });

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`push over FCM (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    let google: FakeHttpProvider;
    let dir: string;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      google = await fcm();
      dir = mkdtempSync(join(tmpdir(), 'herald-fcm-'));
      const account = join(dir, 'service-account.json');
      writeFileSync(
        account,
        JSON.stringify({
          type: 'service_account',
          project_id: PROJECT,
          client_email: `push@${PROJECT}.iam.gserviceaccount.com`,
          private_key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
          token_uri: `${google.baseUrl}/token`,
        }),
      );
      herald = await startHerald(factory, {
        clock,
        env: { HERALD_FCM_SERVICE_ACCOUNT_FILE: account, HERALD_FCM_BASE_URL: google.baseUrl },
      });
    });
    afterEach(async () => {
      await herald.close();
      await google.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const signIn = (userId: string, token: string, atMs: number) =>
      batchCall(herald, [
        {
          type: 'identify',
          userId,
          messageId: `in-${userId}-${token}`,
          timestamp: new Date(atMs).toISOString(),
          traits: { firstName: userId, consent: { push: { marketing: true } } },
          context: { device: { token, type: 'android' } },
        },
      ]);
    /** Sends a push to the customer, then runs the dispatcher `rounds` times; the decision's id. */
    const pushTo = async (userId: string, rounds = 3) => {
      const { decisionId } = (
        await adminCall(herald, 'POST', '/v1/sends', {
          userId,
          channel: 'push',
          template: 'upsell',
          data: {},
        })
      ).json<{ decisionId: string }>();
      for (let round = 0; round < rounds; round += 1) await herald.services.dispatcher.runDue();
      return decisionId;
    };
    const tokensTried = () =>
      google
        .requests()
        .filter((r) => r.path.endsWith('/messages:send'))
        .map((r) => (jsonBodyOf(r) as { message: { token: string } }).message.token);

    it('goes to the next device when the newest one’s token is no longer registered', async () => {
      await signIn('amy', 'phone-token', T0 - 3_600_000);
      await signIn('amy', 'stale-tablet-token', T0 - 60_000);
      const decisionId = await pushTo('amy');
      expect(tokensTried()).toEqual(['stale-tablet-token', 'phone-token']);
      // Marketing: FCM keeps it for an offline phone no longer than it may be late (24 h).
      const sends = google.requests().filter((r) => r.path.endsWith('/messages:send'));
      expect(jsonBodyOf(sends.at(-1))).toMatchObject({ message: { android: { ttl: '86400s' } } });
      expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
        status: 'sent',
        recipient: 'phone-token',
        attempts: 2,
      });
      const profile = await herald.services.store.getProfile(
        (await herald.services.store.resolveUserId('amy')) ?? ('' as never),
      );
      expect(profile?.state.devices?.map((d) => d.token)).toEqual(['phone-token']);
    });

    // A sequence counts outside transactions: PostgreSQL only.
    it.skipIf(factory.name !== 'postgres')(
      'goes to the next device when the write of the dead token’s outcome failed once',
      async () => {
        await herald.raw(`CREATE SEQUENCE refused_once;
          CREATE FUNCTION refuse_once() RETURNS trigger AS $$
          BEGIN
            IF nextval('refused_once') = 1 THEN RAISE EXCEPTION 'refused once'; END IF;
            RETURN NEW;
          END $$ LANGUAGE plpgsql;
          CREATE TRIGGER refuse_once BEFORE UPDATE ON messages FOR EACH ROW
            WHEN (OLD.status = 'sending' AND NEW.status <> 'sending') EXECUTE FUNCTION refuse_once();`);
        await signIn('amy', 'phone-token', T0 - 3_600_000);
        await signIn('amy', 'stale-tablet-token', T0 - 60_000);
        const decisionId = await pushTo('amy');
        // Written the second time as the first would have: the tablet's dead token is not
        // the customer's last device (it was failed as if it were).
        expect(tokensTried()).toEqual(['stale-tablet-token', 'phone-token']);
        expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
          status: 'sent',
          recipient: 'phone-token',
        });
      },
    );

    it('goes to the next device when the newest one’s platform cannot be reached, and keeps it', async () => {
      await signIn('amy', 'phone-token', T0 - 3_600_000);
      await signIn('amy', 'apns-iphone-token', T0 - 60_000);
      const decisionId = await pushTo('amy');
      expect(tokensTried()).toEqual(['apns-iphone-token', 'phone-token']);
      expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
        status: 'sent',
        recipient: 'phone-token',
        attempts: 2,
      });
      // The iPhone is still theirs: the next push tries it first again (the key may be fixed).
      const profile = await herald.services.store.getProfile(
        (await herald.services.store.resolveUserId('amy')) ?? ('' as never),
      );
      expect(profile?.state.devices?.map((d) => d.token).sort()).toEqual([
        'apns-iphone-token',
        'phone-token',
      ]);
    });

    it('records as a settled push’s recipient no device it had found refusing', async () => {
      await signIn('cy', 'phone-token', T0 - 3_600_000);
      await signIn('cy', 'apns-iphone-token', T0 - 60_000);
      // The iPhone refuses it; back in the outbox for the phone.
      const decisionId = await pushTo('cy', 1);
      expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
        status: 'queued',
        staleTokens: ['apns-iphone-token'],
      });
      // A dispatcher claims it, FCM takes it (a report came), and the dispatcher dies before it
      // writes back: the next claim settles it as sent.
      const now = clock.nowMs();
      await herald.raw(
        `UPDATE messages SET status = 'sending', lease_until_ms = ${String(now - 1)}, sent_at_ms = ${String(now)} WHERE id = '${decisionId}'`,
      );
      await herald.services.dispatcher.runDue();
      expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
        status: 'sent',
        recipient: 'phone-token',
      });
    });

    it('fails a push whose only device’s platform cannot be reached', async () => {
      await signIn('bo', 'apns-only-token', T0 - 60_000);
      const decisionId = await pushTo('bo');
      expect(tokensTried()).toEqual(['apns-only-token']);
      expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
        status: 'failed',
        reasonCode: 'provider_rejected',
      });
    });

    it('does not try a dead token again when the profile still lists it', async () => {
      await signIn('cai', 'phone-token', T0 - 3_600_000);
      // The tablet's clock runs ahead: its device is stamped after the provider's answer, so
      // the answer does not take it off the profile.
      await signIn('cai', 'stale-tablet-token', T0 + 10 * 60_000);
      const decisionId = await pushTo('cai', 4);
      expect(tokensTried()).toEqual(['stale-tablet-token', 'phone-token']);
      expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
        status: 'sent',
        recipient: 'phone-token',
      });
    });

    it('fails a push whose only device is no longer registered', async () => {
      await signIn('bea', 'stale-only-token', T0 - 60_000);
      const decisionId = await pushTo('bea');
      expect(tokensTried()).toEqual(['stale-only-token']);
      expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
        status: 'failed',
        reasonCode: 'unreachable',
      });
    });
  });
}
