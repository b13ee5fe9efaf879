import { createHmac } from 'node:crypto';
import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminToken, startHerald, writeKey, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`official SDKs against Herald over ${factory.name}`, () => {
    let herald: TestHerald;
    beforeEach(async () => {
      herald = await startHerald(factory);
      await herald.listen();
    });
    afterEach(async () => {
      await herald.close();
    });
    const getProfile = async (userId: string) =>
      (
        await fetch(`${herald.url}/v1/profiles/${userId}`, {
          headers: { authorization: `Bearer ${adminToken}` },
        })
      ).json() as Promise<Record<string, unknown>>;

    it('takes every call from @segment/analytics-node unchanged', async () => {
      const errors: unknown[] = [];
      const analytics = new SegmentAnalytics({
        writeKey,
        host: herald.url,
        flushAt: 5,
        maxRetries: 1,
      });
      analytics.on('error', (error) => errors.push(error));
      analytics.identify({
        userId: 'seg-1',
        anonymousId: 'seg-anon',
        traits: { email: 'seg@example.com', address: { country: 'FR' } },
      });
      analytics.track({
        userId: 'seg-1',
        event: 'Order Completed',
        properties: { order_id: 'seg-o1', total: 99.5 },
      });
      analytics.page({ userId: 'seg-1', name: 'Home' });
      analytics.screen({ userId: 'seg-1', name: 'Cart' });
      analytics.group({ userId: 'seg-1', groupId: 'acme' });
      analytics.alias({ userId: 'seg-1', previousId: 'seg-old' });
      await analytics.closeAndFlush({ timeout: 10_000 });
      expect(errors).toEqual([]);
      const profile = await getProfile('seg-old');
      expect(profile).toMatchObject({
        userId: 'seg-1',
        anonymousIds: ['seg-anon'],
        traits: { email: 'seg@example.com' },
        location: { country: 'FR' },
      });
      expect(profile['computed']).toMatchObject({ frequency: 1, monetary: 99.5 });
      expect(profile['eventCount']).toBe(6);
    });

    it("takes a verified source's signed calls from @segment/analytics-node, and no others", async () => {
      const secret = 'link-secret-for-sdk-tests-000001';
      const serverKey = 'server-write-key-0001';
      const verified = await startHerald(factory, {
        env: {
          HERALD_WRITE_KEYS: `web=${writeKey},server=${serverKey}`,
          HERALD_VERIFIED_SOURCES: 'web',
          HERALD_LINK_SECRET: secret,
        },
      });
      try {
        const url = await verified.listen();
        const errors: unknown[] = [];
        const browserKey = new SegmentAnalytics({ writeKey, host: url, flushAt: 3, maxRetries: 0 });
        browserKey.on('error', (error) => errors.push(error));
        const userSignature = createHmac('sha256', secret).update('user:ana').digest('hex');
        // One batch: the signed call and a visitor's are stored, the forged one is rejected.
        browserKey.identify({
          userId: 'ana',
          traits: { email: 'ana@example.com' },
          context: { userSignature },
        });
        browserKey.identify({ userId: 'bo', traits: { email: 'attacker@example.com' } });
        browserKey.track({ anonymousId: 'visitor-1', event: 'Product Viewed' });
        await browserKey.closeAndFlush({ timeout: 10_000 });
        expect(errors).toEqual([]);
        const profile = (userId: string) =>
          fetch(`${url}/v1/profiles/${userId}`, {
            headers: { authorization: `Bearer ${adminToken}` },
          });
        expect(await (await profile('ana')).json()).toMatchObject({
          traits: { email: 'ana@example.com' },
        });
        expect((await profile('bo')).status).toBe(404);
        expect((await profile('anon:visitor-1')).status).toBe(200);
        const exported = await fetch(`${url}/v1/customers/ana/export`, {
          headers: { authorization: `Bearer ${adminToken}` },
        });
        expect(await exported.text()).not.toContain(userSignature);
        // The server's key is not verified: it vouches for its users itself.
        const serverSide = new SegmentAnalytics({ writeKey: serverKey, host: url, flushAt: 1 });
        serverSide.identify({ userId: 'bo', traits: { email: 'bo@example.com' } });
        await serverSide.closeAndFlush({ timeout: 10_000 });
        expect(await (await profile('bo')).json()).toMatchObject({
          traits: { email: 'bo@example.com' },
        });
      } finally {
        await verified.close();
      }
    });

    it('takes gzipped batches from @rudderstack/rudder-sdk-node unchanged', async () => {
      const failures: unknown[] = [];
      const client = new RudderAnalytics(writeKey, {
        dataPlaneUrl: herald.url,
        flushAt: 100,
        retryCount: 0,
        logLevel: 'error',
        errorHandler: (error: unknown) => failures.push(error),
      });
      client.identify({ userId: 'rs-1', anonymousId: 'rs-anon', traits: { plan: 'pro' } });
      for (let i = 0; i < 30; i += 1) {
        client.track({ userId: 'rs-1', event: 'Email Opened', properties: { i } });
      }
      client.track({
        userId: 'rs-1',
        event: 'Order Completed',
        properties: { order_id: 'rs-o1', revenue: 20 },
      });
      await client.flush();
      expect(failures).toEqual([]);
      const profile = await getProfile('rs-1');
      expect(profile).toMatchObject({
        userId: 'rs-1',
        anonymousIds: ['rs-anon'],
        traits: { plan: 'pro' },
        eventCount: 32,
      });
      expect(profile['computed']).toMatchObject({ frequency: 1, monetary: 20, engagementScore: 1 });
    });
  });
}
