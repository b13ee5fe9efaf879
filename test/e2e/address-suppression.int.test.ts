import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import {
  adminCall,
  batchCall,
  ingestCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { receiptTemplate } from '../support/builders.js';

// One person, two customer records with one email address (a guest checkout and an account):
// what the address does — bounce — holds on both.

// 18:00 UTC: out of quiet hours in every US zone (14:00 in New York, 08:00 in Honolulu), where
// a +1 number with no state may be.
const T0 = Date.UTC(2026, 5, 3, 18);

interface Sent {
  decisionId: string;
  status: string;
  reasonCode: string | null;
  verdicts: { code: string; outcome: string; figures: Record<string, unknown> }[];
}

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(
    `an email address on several customer records (${factory.name})`,
    () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      beforeEach(async () => {
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, {
          clock,
          templates: { receipt: receiptTemplate },
        });
      });
      afterEach(async () => {
        await herald.close();
      });

      const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
        adminCall(herald, method, url, body);
      const send = async (userId: string, template = 'upsell') =>
        (await admin('POST', '/v1/sends', { userId, channel: 'email', template })).json<Sent>();
      const identify = (userId: string, email: string) =>
        ingestCall(herald, clock, 'identify', {
          userId,
          traits: { email, firstName: 'Kim' },
          context: { location: { country: 'US' } },
        });
      const bounce = async (userId: string, times: number) => {
        for (let i = 0; i < times; i += 1)
          await ingestCall(herald, clock, 'track', {
            userId,
            event: 'Email Bounced',
            properties: { bounce_type: 'hard' },
          });
      };
      const messageOf = async (id: string) =>
        (await admin('GET', `/v1/messages/${id}`)).json<{
          status: string;
          reasonCode: string | null;
        }>();

      it('counts the bounces of one batch against the address that bounced, not the one it ends with', async () => {
        const at = (minute: number) => new Date(T0 - 10 * 60_000 + minute * 60_000).toISOString();
        const batch = [
          {
            type: 'identify',
            userId: 'kim',
            messageId: 'i1',
            timestamp: at(0),
            traits: { email: 'kim@exmaple.com', firstName: 'Kim' },
            context: { location: { country: 'US' } },
          },
          ...[1, 2, 3].map((i) => ({
            type: 'track',
            userId: 'kim',
            messageId: `b${String(i)}`,
            timestamp: at(i),
            event: 'Email Bounced',
            properties: { bounce_type: 'hard' },
          })),
          // The typo corrected in the same batch.
          {
            type: 'identify',
            userId: 'kim',
            messageId: 'i2',
            timestamp: at(5),
            traits: { email: 'kim@example.com' },
          },
        ];
        await batchCall(herald, batch);
        expect((await send('kim', 'receipt')).status).toBe('queued');
        await identify('guest', 'kim@example.com');
        expect((await send('guest', 'receipt')).status).toBe('queued');
        await identify('typo', 'kim@exmaple.com');
        expect(await send('typo', 'receipt')).toMatchObject({
          status: 'blocked',
          reasonCode: 'suppressed_bounced',
        });
      });

      it('suppresses every record of an address that bounced hard often enough, counted across them', async () => {
        await identify('guest-2', 'kim@example.com');
        await identify('acct-2', 'Kim@Example.com');
        await identify('ned', 'ned@example.com');
        await bounce('guest-2', 3);
        expect(await send('guest-2')).toMatchObject({
          status: 'blocked',
          reasonCode: 'suppressed_bounced',
        });
        // The account never bounced: the address did, on the guest's record.
        const acct = await send('acct-2');
        expect(acct).toMatchObject({ status: 'blocked', reasonCode: 'suppressed_bounced' });
        expect(acct.verdicts.find((v) => v.code === 'suppressed_bounced')?.figures).toEqual({
          hardBounces: 0,
          addressHardBounces: 3,
          limit: 3,
        });
        // A receipt does not go to a dead mailbox either; another address is untouched.
        expect(await send('acct-2', 'receipt')).toMatchObject({
          status: 'blocked',
          reasonCode: 'suppressed_bounced',
        });
        expect(await send('ned')).toMatchObject({ status: 'queued' });
      });

      it('knows the address in any spelling the mail library would send to it', async () => {
        await identify('guest-3', 'kim@example.com');
        await bounce('guest-3', 3);
        // A full-width domain is the same mailbox: nodemailer sends to kim@example.com.
        await identify('acct-3', 'kim@ｅｘａｍｐｌｅ.com');
        expect(await send('acct-3')).toMatchObject({
          status: 'blocked',
          reasonCode: 'suppressed_bounced',
        });
        // One that hides a character (a soft hyphen, a control) is no address at all: the
        // library would drop it and write to kim@example.com.
        for (const [userId, email] of [
          ['acct-4', 'kim@exa\u00admple.com'],
          ['acct-5', 'ki\u0001m@example.com'],
        ] as const) {
          await identify(userId, email);
          const sent = await send(userId);
          expect(sent.status).toBe('blocked');
          expect(sent.reasonCode).not.toBe(null);
        }
      });

      it('adds up the bounces each record of the address had', async () => {
        await identify('guest-3', 'lou@example.com');
        await identify('acct-3', 'lou@example.com');
        await bounce('guest-3', 2);
        expect(await send('acct-3')).toMatchObject({ status: 'queued' });
        await bounce('acct-3', 1);
        for (const who of ['guest-3', 'acct-3'])
          expect(await send(who)).toMatchObject({
            status: 'blocked',
            reasonCode: 'suppressed_bounced',
          });
      });

      it('refuses at hand-off a message queued before the address bounced on another record', async () => {
        await identify('guest-4', 'max@example.com');
        await identify('acct-4', 'max@example.com');
        const queued = await send('acct-4', 'receipt');
        expect(queued.status).toBe('queued');
        await bounce('guest-4', 3);
        expect(await herald.services.dispatcher.runDue()).toBe(0);
        expect(await messageOf(queued.decisionId)).toMatchObject({
          status: 'blocked',
          reasonCode: 'suppressed_bounced',
        });
      });

      it('suppresses the address that bounced, not the one the customer gives instead', async () => {
        // A visitor who signs up later (a merge: the profile is rebuilt from every event).
        await ingestCall(herald, clock, 'page', { anonymousId: 'v-6', name: 'Home' });
        await identify('kim-6', 'kim@exmaple.com');
        await bounce('kim-6', 3);
        expect(await send('kim-6', 'receipt')).toMatchObject({ reasonCode: 'suppressed_bounced' });
        // The typo fixed, a minute later: receipts and marketing reach the new address.
        clock.set(T0 + 60_000);
        await identify('kim-6', 'kim@example.com');
        const receipt = await send('kim-6', 'receipt');
        expect(receipt.status).toBe('queued');
        expect(receipt.verdicts.map((v) => v.code)).not.toContain('suppressed_bounced');
        expect(await send('kim-6')).toMatchObject({ status: 'queued' });
        // As when the profile is rebuilt from its events, with the visitor's merged in.
        clock.set(T0 + 120_000);
        await ingestCall(herald, clock, 'identify', { userId: 'kim-6', anonymousId: 'v-6' });
        const profile = (await admin('GET', '/v1/profiles/kim-6')).json<{
          anonymousIds: string[];
          email: { hardBounces: number };
        }>();
        expect(profile).toMatchObject({ anonymousIds: ['v-6'], email: { hardBounces: 0 } });
        expect(await send('kim-6', 'receipt')).toMatchObject({ status: 'queued' });
        // And so they leave: two receipts and the upsell.
        expect(await herald.services.dispatcher.runDue()).toBe(3);
        // The mailbox that bounced is still dead: on another record, and on this one again.
        await identify('kim-guest-6', 'kim@exmaple.com');
        const guest = await send('kim-guest-6', 'receipt');
        expect(guest).toMatchObject({ status: 'blocked', reasonCode: 'suppressed_bounced' });
        expect(guest.verdicts.find((v) => v.code === 'suppressed_bounced')?.figures).toEqual({
          hardBounces: 0,
          addressHardBounces: 3,
          limit: 3,
        });
        clock.set(T0 + 180_000);
        await identify('kim-6', 'kim@exmaple.com');
        expect(await send('kim-6', 'receipt')).toMatchObject({ reasonCode: 'suppressed_bounced' });
      });

      it('keeps the address’s bounces through an erasure, as a keyed hash alone', async () => {
        await identify('guest-5', 'ivy@example.com');
        await identify('acct-5', 'ivy@example.com');
        await bounce('guest-5', 3);
        const erased = await admin('POST', '/v1/customers/guest-5/erase', { reason: 'request' });
        expect(erased.statusCode).toBe(200);
        // The record that bounced is gone; the mailbox is still dead, for the account and for a
        // record made afresh with the address.
        expect(await send('acct-5', 'receipt')).toMatchObject({ reasonCode: 'suppressed_bounced' });
        await identify('crm-5', 'IVY@example.com');
        expect(await send('crm-5', 'receipt')).toMatchObject({ reasonCode: 'suppressed_bounced' });
        // Only a keyed hash is kept: not the address, nor the plain SHA-256 of it.
        const plain = ['ivy@example.com', 'opt-out:email:ivy@example.com'].map((s) =>
          createHash('sha256').update(s).digest('hex'),
        );
        expect(await herald.services.store.transaction((tx) => tx.addressBounces(plain))).toEqual(
          new Map(),
        );
        expect(await herald.services.store.transaction((tx) => tx.anyAddressBounce())).toBe(true);
      });
    },
  );
}
