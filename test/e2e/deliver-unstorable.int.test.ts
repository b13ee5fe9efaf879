import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import {
  formBodyOf,
  startFakeHttpProvider,
  type FakeHttpProvider,
} from '../support/fake-http-provider.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { postAsTwilio, TWILIO_ACCOUNT_SID, twilioEnv } from '../support/twilio.js';

// 18:00 UTC: out of quiet hours in every US zone.
const T0 = Date.UTC(2026, 5, 3, 18);
const accountSid = TWILIO_ACCOUNT_SID;

interface MessageView {
  status: string;
  attempts: number;
  providerId: string | null;
}

/** What the dispatch round came to, or `stalled` when it had not ended within `ms`. */
const within = async <T>(ms: number, work: Promise<T>): Promise<T | 'stalled'> => {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((resolve) => {
    timer = setTimeout(() => {
      resolve('stalled');
    }, ms);
  });
  try {
    return await Promise.race([work, stalled]);
  } finally {
    clearTimeout(timer);
  }
};

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`an outcome the store refuses (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    let twilio: FakeHttpProvider;
    /** Twilio's message id for a text to each number; a made-up one otherwise. */
    let sids: Map<string, string>;
    beforeEach(async () => {
      sids = new Map();
      twilio = await startFakeHttpProvider((_scenario, request) => {
        const to = formBodyOf(request).get('To') ?? '';
        const sid = sids.get(to) ?? `SM${String(twilio.requests().length).padStart(32, '0')}`;
        return {
          status: 201,
          body: { sid, account_sid: accountSid, to, status: 'queued', error_code: null },
        };
      });
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, {
        clock,
        env: {
          HERALD_PUBLIC_URL: 'https://herald.example.com',
          HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
          ...twilioEnv(twilio.baseUrl),
        },
      });
    });
    afterEach(async () => {
      await herald.close();
      await twilio.stop();
    });

    const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
      adminCall(herald, method, url, body);
    const textTo = async (userId: string, phone: string) => {
      await ingestCall(herald, clock, 'identify', {
        userId,
        traits: { phone, consent: { sms: { marketing: true } } },
      });
      const answer = await admin('POST', '/v1/sends', {
        userId,
        channel: 'sms',
        template: 'upsell',
        data: {},
      });
      return answer.json<{ decisionId: string }>().decisionId;
    };
    const message = async (id: string) =>
      (await admin('GET', `/v1/messages/${id}`)).json<MessageView>();

    it('writes a text Twilio took as sent when its id holds a NUL, and the others with it', async () => {
      const phones = ['+14155550141', '+14155550142', '+14155550143'];
      const ids = [];
      for (const [i, phone] of phones.entries()) ids.push(await textTo(`u${String(i)}`, phone));
      sids.set('+14155550141', 'SM\u0000bad');
      expect(await within(8000, herald.services.dispatcher.runDue())).toBe(3);
      for (const id of ids)
        expect(await message(id)).toMatchObject({ status: 'sent', attempts: 1 });
      expect((await message(ids[0] ?? '')).providerId).toBe('SMbad');
      // Long after the claim's lease: nothing is sent a second time.
      clock.set(T0 + 3_600_000);
      await herald.services.dispatcher.runDue();
      expect(twilio.requests()).toHaveLength(3);
    }, 20_000);

    it('writes the others of a round, and the one the store refuses without its id', async () => {
      // Any rule the store holds a provider's id to, as a column limit or a CHECK does.
      await herald.raw(
        factory.name === 'postgres'
          ? "ALTER TABLE messages ADD CONSTRAINT no_refused CHECK (provider_id <> 'SMrefused')"
          : `CREATE TRIGGER no_refused BEFORE UPDATE OF provider_id ON messages
               WHEN NEW.provider_id = 'SMrefused' BEGIN SELECT RAISE(ABORT, 'refused'); END`,
      );
      const phones = ['+14155550144', '+14155550145', '+14155550146'];
      const ids = [];
      for (const [i, phone] of phones.entries()) ids.push(await textTo(`v${String(i)}`, phone));
      sids.set('+14155550145', 'SMrefused');
      expect(await within(8000, herald.services.dispatcher.runDue())).toBe(3);
      for (const id of ids)
        expect(await message(id)).toMatchObject({ status: 'sent', attempts: 1 });
      expect((await message(ids[1] ?? '')).providerId).toBeNull();
      expect((await message(ids[2] ?? '')).providerId).toMatch(/^SM0+\d$/);
      clock.set(T0 + 3_600_000);
      await herald.services.dispatcher.runDue();
      expect(twilio.requests()).toHaveLength(3);
    }, 20_000);

    // A sequence counts outside transactions: PostgreSQL only.
    it.runIf(factory.name === 'postgres')(
      'keeps the provider’s id through writes that failed for a reason of their own',
      async () => {
        // Two statement timeouts (a failover, a dropped connection alike), then the write goes.
        await herald.raw(`CREATE SEQUENCE flaky_writes;
          CREATE FUNCTION flaky() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.status = 'sent' AND OLD.status = 'sending' AND nextval('flaky_writes') <= 2 THEN
              RAISE EXCEPTION 'canceling statement due to statement timeout' USING ERRCODE = '57014';
            END IF;
            RETURN NEW;
          END $$;
          CREATE TRIGGER flaky BEFORE UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION flaky();`);
        const id = await textTo('x0', '+14155550150');
        sids.set('+14155550150', 'SM0123456789abcdef0123456789abcdef');
        expect(await within(8000, herald.services.dispatcher.runDue())).toBe(1);
        // Written without it, Twilio's report that the text never left (30001) found no message
        // to put back in the queue, and it stayed failed.
        expect(await message(id)).toMatchObject({
          status: 'sent',
          providerId: 'SM0123456789abcdef0123456789abcdef',
        });
        const reported = await postAsTwilio(
          herald,
          { publicUrl: 'https://herald.example.com', token: 'twilio-auth-token-0001' },
          `/webhooks/twilio/status?message=${id}&attempt=1`,
          new URLSearchParams({
            MessageSid: 'SM0123456789abcdef0123456789abcdef',
            MessageStatus: 'failed',
            ErrorCode: '30001',
            To: '+14155550150',
          }),
        );
        expect(reported.statusCode).toBe(204);
        expect((await message(id)).status).toBe('queued');
      },
      20_000,
    );

    it('writes the others first while the store refuses one outcome however it is written', async () => {
      // The store takes no `sent` for one number, with or without the provider's words.
      await herald.raw(
        factory.name === 'postgres'
          ? "ALTER TABLE messages ADD CONSTRAINT no_sent CHECK (NOT (status = 'sent' AND recipient = '+14155550148'))"
          : `CREATE TRIGGER no_sent BEFORE UPDATE OF status ON messages
               WHEN NEW.status = 'sent' AND NEW.recipient = '+14155550148'
               BEGIN SELECT RAISE(ABORT, 'refused'); END`,
      );
      const phones = ['+14155550147', '+14155550148', '+14155550149'];
      const ids = [];
      for (const [i, phone] of phones.entries()) ids.push(await textTo(`w${String(i)}`, phone));
      const round = herald.services.dispatcher.runDue();
      // The round waits on the refused one (its provider took it: it must be written), but
      // not before the others are: they stood behind it, unwritten, before.
      let written: string[] = [];
      for (let i = 0; i < 80 && written.length < 2; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        written = [];
        for (const id of ids) if ((await message(id)).status === 'sent') written.push(id);
      }
      expect(written).toEqual([ids[0], ids[2]]);
      await herald.raw(
        factory.name === 'postgres'
          ? 'ALTER TABLE messages DROP CONSTRAINT no_sent'
          : 'DROP TRIGGER no_sent',
      );
      expect(await within(8000, round)).toBe(3);
      expect(await message(ids[1] ?? '')).toMatchObject({ status: 'sent', attempts: 1 });
      expect(twilio.requests()).toHaveLength(3);
    }, 20_000);
  });
}
