import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { receiptTemplate } from '../support/builders.js';

// A data-subject request names a person by their address: every record of it is found — an
// account, a guest checkout Herald never linked to it, one whose address changed after a
// message went to it — and an erasure of the address is said.

const T0 = Date.UTC(2026, 5, 3, 12);

interface Found {
  customers: {
    customerId: string;
    userId: string | null;
    anonymousIds: string[];
    matchedBy: string[];
  }[];
  erased: { identity: string; erasedAt: string }[];
}

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`finding a person's records (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, { clock, templates: { receipt: receiptTemplate } });
    });
    afterEach(async () => {
      await herald.close();
    });
    const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
      adminCall(herald, method, url, body);
    const find = async (query: string) => {
      const answer = await admin('GET', `/v1/customers?${query}`);
      expect(answer.statusCode).toBe(200);
      return answer.json<Found>();
    };

    it('finds every record with the address, in its traits or as a message recipient', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'jo-account',
        traits: { email: 'Jo@Example.com', phone: '+14155550123' },
      });
      // A guest checkout: an anonymous visitor who gave the same address, never linked.
      await ingestCall(herald, clock, 'identify', {
        anonymousId: 'guest-77',
        traits: { email: ' jo@example.com ' },
      });
      // An older record, messaged at the address before it changed.
      await ingestCall(herald, clock, 'identify', {
        userId: 'jo-old',
        traits: { email: 'jo@example.com' },
      });
      const sent = await admin('POST', '/v1/sends', {
        userId: 'jo-old',
        channel: 'email',
        template: 'receipt',
      });
      expect(sent.json<{ status: string }>().status).toBe('queued');
      expect(await herald.services.dispatcher.runDue()).toBe(1);
      clock.advance(60_000);
      await ingestCall(herald, clock, 'identify', {
        userId: 'jo-old',
        traits: { email: 'jo.new@example.com' },
      });
      await ingestCall(herald, clock, 'identify', {
        userId: 'someone-else',
        traits: { email: 'other@example.com' },
      });

      const byEmail = await find('email=JO%40example.com');
      expect(
        byEmail.customers.map((c) => [c.userId ?? c.anonymousIds[0], c.matchedBy]).sort(),
      ).toEqual([
        ['guest-77', ['email']],
        ['jo-account', ['email']],
        ['jo-old', ['earlier-traits', 'messages']],
      ]);
      expect(byEmail.erased).toEqual([]);
      const byPhone = await find('phone=%2B14155550123');
      expect(byPhone.customers.map((c) => [c.userId, c.matchedBy])).toEqual([
        ['jo-account', ['phone']],
      ]);
      expect((await find('email=nobody%40example.com')).customers).toEqual([]);
    });

    it('finds an internationalised address as written and as it was sent to', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'jo-idn',
        traits: { email: 'jo@bücher.de' },
      });
      await admin('POST', '/v1/sends', { userId: 'jo-idn', channel: 'email', template: 'receipt' });
      expect(await herald.services.dispatcher.runDue()).toBe(1);
      clock.advance(60_000);
      await ingestCall(herald, clock, 'identify', {
        userId: 'jo-idn',
        traits: { email: 'jo@example.com' },
      });
      // The message went to jo@xn--bcher-kva.de: either spelling finds every trace.
      for (const query of ['jo%40b%C3%BCcher.de', 'jo%40xn--bcher-kva.de'])
        expect((await find(`email=${query}`)).customers.map((c) => c.matchedBy)).toEqual([
          ['earlier-traits', 'messages'],
        ]);
    });

    it('finds an address in earlier traits, and a number in any spelling of it', async () => {
      // A guest who gave the address, then signed in: merged into the account, which has
      // another address in its traits now.
      await ingestCall(herald, clock, 'identify', {
        anonymousId: 'guest-1',
        traits: { email: 'guest_1@example.com' },
      });
      clock.advance(1000);
      await ingestCall(herald, clock, 'identify', {
        userId: 'acct',
        anonymousId: 'guest-1',
        traits: { email: 'acct@example.com' },
      });
      // An address changed, never messaged.
      await ingestCall(herald, clock, 'identify', {
        userId: 'u2',
        traits: { email: 'old@example.com' },
      });
      clock.advance(1000);
      await ingestCall(herald, clock, 'identify', {
        userId: 'u2',
        traits: { email: 'new@example.com' },
      });
      // One number written three ways, and another whose last digits are the same.
      for (const [userId, phone] of [
        ['p1', '(415) 555-0123'],
        ['p2', '+1 415 555 0123'],
        ['p3', '001 415 555 0123'],
        // The same national digits in another country: another person.
        ['p4', '+44 415 555 0123'],
        // The trunk 0 written after the code, as UK numbers often are.
        ['p5', '+44 (0)20 7946 0000'],
      ] as const)
        await ingestCall(herald, clock, 'identify', { userId, traits: { phone } });

      const guest = await find('email=GUEST_1%40example.com');
      expect(guest.customers.map((c) => [c.userId, c.matchedBy])).toEqual([
        ['acct', ['earlier-traits']],
      ]);
      expect((await find('email=old%40example.com')).customers.map((c) => c.userId)).toEqual([
        'u2',
      ]);
      // `_` is a letter, not a wildcard: a near address finds nothing.
      expect((await find('email=guestx1%40example.com')).customers).toEqual([]);
      for (const spelling of ['%2B14155550123', '001%20415%20555%200123'])
        expect((await find(`phone=${spelling}`)).customers.map((c) => c.userId).sort()).toEqual([
          'p1',
          'p2',
          'p3',
        ]);
      expect((await find('phone=%2B44%2020%207946%200000')).customers.map((c) => c.userId)).toEqual(
        ['p5'],
      );
      // A national number names no country: it finds that number in every country.
      expect((await find('phone=(415)%20555-0123')).customers.map((c) => c.userId).sort()).toEqual([
        'p1',
        'p2',
        'p3',
        'p4',
      ]);
    });

    it('finds earlier traits written with digits in pairs, a capital beyond A–Z or full-width letters', async () => {
      const earlier = [
        ['fr', { phone: '+33 6 12 34 56 78' }],
        // Found before the number's digits were read without separators: not to be lost.
        ['us', { phone: '+1 415 555–2671' }],
        ['jo', { email: 'Jo@BÜCHER.de' }],
        ['ana', { email: 'ana@ｅｘａｍｐｌｅ.com' }],
        ['asa', { email: 'ÅSA@example.se' }],
        ['anna', { email: 'Анна@example.ru' }],
      ] as const;
      for (const [userId, traits] of earlier)
        await ingestCall(herald, clock, 'identify', { userId, traits });
      clock.advance(60_000);
      for (const [userId] of earlier)
        await ingestCall(herald, clock, 'identify', {
          userId,
          traits: { email: `${userId}.new@example.com`, phone: '+15555550199' },
        });
      // Each was missed: the number's last digits are not together as written, SQLite lowers
      // A–Z only (in the domain, and in the local part), and the full-width domain is no spelling of
      // the address's.
      for (const [query, userId] of [
        ['phone=%2B33612345678', 'fr'],
        ['phone=%2B14155552671', 'us'],
        ['phone=%2B33%206%2012%2034%2056%2078', 'fr'],
        [`email=${encodeURIComponent('jo@bücher.de')}`, 'jo'],
        [`email=${encodeURIComponent('Jo@BÜCHER.de')}`, 'jo'],
        ['email=ana%40example.com', 'ana'],
        // A capital beyond A–Z in the local part, asked for in lower case.
        [`email=${encodeURIComponent('åsa@example.se')}`, 'asa'],
        [`email=${encodeURIComponent('анна@example.ru')}`, 'anna'],
      ] as const)
        expect([query, (await find(query)).customers.map((c) => [c.userId, c.matchedBy])]).toEqual([
          query,
          [[userId, ['earlier-traits']]],
        ]);
    });

    it('says when an erasure removed the address, and names what to look for', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'ana',
        traits: { email: 'ana@example.com' },
      });
      expect(
        (await admin('POST', '/v1/customers/ana/erase', { reason: 'request' })).statusCode,
      ).toBe(200);
      const found = await find('email=ana%40example.com');
      expect(found.customers).toEqual([]);
      expect(found.erased).toEqual([
        { identity: 'email:ana@example.com', erasedAt: new Date(T0).toISOString() },
      ]);
      const nothing = await admin('GET', '/v1/customers');
      expect(nothing.statusCode).toBe(400);
      expect(nothing.body).toContain('name an email address or a phone number');
      expect((await admin('GET', '/v1/customers?phone=abc')).statusCode).toBe(400);
    });
  });
}
