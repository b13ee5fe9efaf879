import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../core/ids.js';
import { aProfile } from './guard/test-builders.js';
import {
  rememberNumberStarts,
  rememberNumberStops,
  addressFactsOf,
  ERASURE_KEY,
  erasedSinceOf,
  identitiesOf,
  rememberAddressBounces,
  rememberAddressOptOut,
  rememberErased,
} from './erased-identities.js';

/** The calls the module makes, over maps, counting the lookups. */
const memoryTx = () => {
  const settings = new Map<string, string>();
  const erased = new Map<string, number>();
  const bounced = new Map<string, { count: number; atMs: number }>();
  const links = new Map<string, string[]>();
  let lookups = 0;
  const locked: string[] = [];
  return {
    settings,
    erased,
    bounced,
    locked,
    lookups: () => lookups,
    lock: (keys: readonly string[]) => {
      locked.push(...keys);
      return Promise.resolve();
    },
    getSetting: (key: string) => Promise.resolve(settings.get(key) ?? null),
    setSetting: (key: string, value: string) => {
      settings.set(key, value);
      return Promise.resolve();
    },
    addErasedIdentities: (hashes: readonly string[], atMs: number) => {
      for (const h of hashes) erased.set(h, Math.max(atMs, erased.get(h) ?? 0));
      return Promise.resolve();
    },
    erasedIdentities: (hashes: readonly string[]) => {
      lookups += 1;
      return Promise.resolve(
        new Map(hashes.flatMap((h) => (erased.has(h) ? [[h, erased.get(h) ?? 0] as const] : []))),
      );
    },
    anyErasedIdentity: () => Promise.resolve(erased.size > 0),
    addAddressBounces: (bounces: readonly { hash: string; count: number; atMs: number }[]) => {
      for (const b of bounces) {
        const known = bounced.get(b.hash);
        bounced.set(b.hash, {
          count: (known?.count ?? 0) + b.count,
          atMs: Math.max(known?.atMs ?? b.atMs, b.atMs),
        });
      }
      return Promise.resolve();
    },
    addressBounces: (hashes: readonly string[]) => {
      lookups += 1;
      return Promise.resolve(
        new Map(
          hashes.flatMap((h) => {
            const kept = bounced.get(h);
            return kept === undefined ? [] : [[h, kept.count] as const];
          }),
        ),
      );
    },
    anyAddressBounce: () => Promise.resolve(bounced.size > 0),
    /** The identity links of each customer (`u:` and `a:` keys that lead to them). */
    links,
    identityKeysOf: (id: string) => Promise.resolve(links.get(id) ?? []),
  };
};

const lea = aProfile({
  customerId: toCustomerId('lea'),
  userId: 'lea',
  aliases: ['lea-old'],
  anonymousIds: ['anon-1'],
  traits: { email: ' Lea@Example.COM ', phone: '+44 (0)20 7946 0000' },
});

describe('erased identities', () => {
  it('knows a profile by its user ids, anonymous ids, email in lower case and phone as sent to', () => {
    expect(identitiesOf('keep', lea, ['u:lea', 'a:anon-2']).sort()).toEqual([
      'a:anon-1',
      'a:anon-2',
      'email:lea@example.com',
      'phone-intl:44:2079460000',
      'phone-national:02079460000',
      'phone-national:2079460000',
      'phone-national:442079460000',
      'phone:+4402079460000',
      'u:lea',
      'u:lea-old',
    ]);
    expect(identitiesOf('keep', undefined, ['u:x'])).toEqual(['u:x']);
    // Earlier traits: an address changed since, one left by a visitor merged in.
    expect(
      identitiesOf(
        'keep',
        lea,
        [],
        [{ email: 'Old@Example.com' }, { phone: '+1 415 555 0100' }, { email: 5 }],
      )
        .filter((k) => !identitiesOf('keep', lea).includes(k))
        .sort(),
    ).toEqual([
      'email:old@example.com',
      'phone-intl:1:4155550100',
      'phone-national:04155550100',
      'phone-national:14155550100',
      'phone-national:4155550100',
      'phone:+14155550100',
    ]);
    expect(identitiesOf('keep', aProfile({ userId: null, traits: { phone: ' - ' } }))).toEqual([]);
  });

  it('does not take an alias that leads to someone else for the customer who lists it', async () => {
    const tx = memoryTx();
    // bee owned the id `ay` (its first alias) and was erased.
    await rememberErased(tx, ['u:ay'], 2_000);
    // cee's profile lists `ay` too — a later alias of it, ignored: the first link won.
    const cee = aProfile({ customerId: toCustomerId('cee'), userId: 'cee', aliases: ['ay'] });
    tx.links.set('cee', ['u:cee']);
    // ann's alias of it leads to her (she was given `ay` after bee's links were gone).
    const ann = aProfile({ customerId: toCustomerId('ann'), userId: 'ann', aliases: ['ay'] });
    tx.links.set('ann', ['u:ann', 'u:ay']);
    expect(await erasedSinceOf(tx, [cee, ann])).toEqual(new Map([[toCustomerId('ann'), 2_000]]));
  });

  it('keeps keyed hashes only, and finds the person again by any one identity', async () => {
    const tx = memoryTx();
    expect(await erasedSinceOf(tx, [lea])).toEqual(new Map());
    expect(tx.lookups()).toBe(0);
    await rememberErased(tx, identitiesOf('keep', lea), 1_000);
    const key = tx.settings.get(ERASURE_KEY) ?? '';
    expect(key).toMatch(/^[\w-]{43}$/);
    // The key was made under its lock: a concurrent first erasure reads it, not makes another.
    expect(tx.locked).toEqual([ERASURE_KEY]);
    // Hashes only, and keyed: the plain SHA-256 of an identity (what anyone could compute
    // from a guessed address) is not among them.
    expect(tx.erased.size).toBe(9);
    for (const h of tx.erased.keys()) expect(h).toMatch(/^[0-9a-f]{64}$/);
    for (const identity of identitiesOf('keep', lea))
      expect(tx.erased.has(createHash('sha256').update(identity).digest('hex'))).toBe(false);

    const byEmail = aProfile({
      customerId: toCustomerId('crm-1'),
      userId: 'crm-1',
      traits: { email: 'LEA@example.com' },
    });
    const stranger = aProfile({ customerId: toCustomerId('ned'), userId: 'ned' });
    expect(await erasedSinceOf(tx, [byEmail, stranger])).toEqual(
      new Map([[toCustomerId('crm-1'), 1_000]]),
    );
    // Erased again later (named again, then erased again): the later time counts.
    await rememberErased(tx, ['email:lea@example.com'], 5_000);
    expect((await erasedSinceOf(tx, [byEmail])).get(toCustomerId('crm-1'))).toBe(5_000);
    // Another database (another key) makes other hashes of the same identities.
    const other = memoryTx();
    await rememberErased(other, identitiesOf('keep', lea), 1_000);
    expect([...other.erased.keys()].some((h) => tx.erased.has(h))).toBe(false);
  });

  it('finds an erased phone again in any spelling of it, never under another country code', async () => {
    const someone = (id: string, phone: string) =>
      aProfile({ customerId: toCustomerId(id), userId: id, traits: { phone } });
    for (const [erased, back] of [
      ['+1 415 555 0199', '+1 415 555 0199'],
      ['+1 415 555 0199', '(415) 555-0199'],
      ['+1 415 555 0199', '1-415-555-0199'],
      ['+44 7911 123456', '+44 (0)7911 123456'],
      ['(415) 555-0199', '+1 415 555 0199'],
    ] as const) {
      const tx = memoryTx();
      await rememberErased(tx, identitiesOf('keep', someone('zed', erased)), 1_000);
      const guest = someone('zed-guest', back);
      expect(await erasedSinceOf(tx, [guest]), `${erased} → ${back}`).toEqual(
        new Map([[toCustomerId('zed-guest'), 1_000]]),
      );
    }
    // `+1 415 …` and `+44 415 …` share their national digits, and are two phones.
    const tx = memoryTx();
    await rememberErased(tx, identitiesOf('keep', someone('zed', '+1 415 555 0199')), 1_000);
    expect(await erasedSinceOf(tx, [someone('uk', '+44 415 555 0199')])).toEqual(new Map());
    // Kept before 2026-12-07, as spelled alone: found by every spelling of the number still.
    const before = memoryTx();
    await rememberErased(before, ['phone:+4402079460000'], 1_000);
    expect(await erasedSinceOf(before, [someone('back', '+44 20 7946 0000')])).toEqual(
      new Map([[toCustomerId('back'), 1_000]]),
    );
    // Two national spellings name no country: only the same one matches.
    const local = memoryTx();
    await rememberErased(local, identitiesOf('keep', someone('zed', '415 555 0199')), 1_000);
    expect(await erasedSinceOf(local, [someone('other', '0415 555 0199')])).toEqual(new Map());
  });

  it('counts an address’s hard bounces on every record of it, as a keyed hash alone', async () => {
    const tx = memoryTx();
    const guest = aProfile({ customerId: toCustomerId('guest'), traits: { email: 'kim@x.com' } });
    const account = aProfile({
      customerId: toCustomerId('acct'),
      traits: { email: ' KIM@X.com ' },
    });
    const other = aProfile({ customerId: toCustomerId('ned'), traits: { email: 'ned@x.com' } });
    // Nothing kept yet: nothing is hashed or looked up.
    expect(await addressFactsOf(tx, [guest, account, other])).toEqual({
      optOuts: new Map(),
      hardBounces: new Map(),
      numberStops: new Map(),
    });
    expect(tx.lookups()).toBe(0);
    await rememberAddressBounces(tx, [
      { address: 'kim@x.com', count: 2, atMs: 1_000 },
      { address: 'Kim@X.com', count: 1, atMs: 3_000 },
      { address: '  ', count: 4, atMs: 3_000 },
    ]);
    // The key made under its lock; one row for the address, whatever its case.
    expect(tx.locked).toEqual([ERASURE_KEY]);
    expect([...tx.bounced.values()]).toEqual([{ count: 3, atMs: 3_000 }]);
    const [hash] = [...tx.bounced.keys()];
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    // Keyed: not the plain SHA-256 of the address, nor of its opt-out's name.
    for (const name of ['kim@x.com', 'opt-out:email:kim@x.com'])
      expect(hash).not.toBe(createHash('sha256').update(name).digest('hex'));
    // The key made, a later bounce takes no lock.
    await rememberAddressBounces(tx, [{ address: 'kim@x.com', count: 1, atMs: 4_000 }]);
    expect(tx.locked).toEqual([ERASURE_KEY]);
    const facts = await addressFactsOf(tx, [guest, account, other]);
    expect(facts.hardBounces).toEqual(
      new Map([
        [toCustomerId('guest'), 4],
        [toCustomerId('acct'), 4],
      ]),
    );
    // One lookup of the bounces for the batch; no opt-out kept, none looked up.
    expect(tx.lookups()).toBe(1);
    expect(facts.optOuts).toEqual(new Map());
    // The opt-out is kept under the same hash of the address, in its own table.
    await rememberAddressOptOut(tx, 'KIM@x.com', 5_000);
    expect([...tx.erased.keys()]).toEqual([hash]);
    expect((await addressFactsOf(tx, [account])).optOuts).toEqual(
      new Map([[toCustomerId('acct'), 5_000]]),
    );
  });

  it("holds a number's STOP on every record of it until a START after it, as a keyed hash alone", async () => {
    const tx = memoryTx();
    const texted = aProfile({
      customerId: toCustomerId('mum'),
      traits: { phone: '+1 415 555 0100' },
    });
    const household = aProfile({
      customerId: toCustomerId('kid'),
      traits: { phone: '+14155550100' },
    });
    const other = aProfile({ customerId: toCustomerId('ned'), traits: { phone: '+14155550199' } });
    const stopsOf = async (...profiles: (typeof texted)[]) =>
      (await addressFactsOf(tx, profiles)).numberStops;
    expect(await stopsOf(texted, household, other)).toEqual(new Map());
    expect(tx.lookups()).toBe(0);
    await rememberNumberStops(tx, ['+14155550100', '4155550100', ' '], 1_000);
    // Two forms, two hashes; a blank number keeps nothing. Keyed, not the plain SHA-256.
    expect(tx.erased.size).toBe(2);
    for (const h of tx.erased.keys())
      expect(h).not.toBe(createHash('sha256').update('opt-out:sms:+14155550100').digest('hex'));
    const held = new Map([
      [toCustomerId('mum'), 1_000],
      [toCustomerId('kid'), 1_000],
    ]);
    expect(await stopsOf(texted, household, other)).toEqual(held);
    // A START before the STOP lifts nothing; one after it lifts it; a STOP again holds again.
    await rememberNumberStarts(tx, ['+14155550100'], 500);
    expect(await stopsOf(texted, household)).toEqual(held);
    await rememberNumberStarts(tx, ['+14155550100'], 2_000);
    expect(await stopsOf(texted, household)).toEqual(new Map());
    await rememberNumberStops(tx, ['+14155550100'], 3_000);
    expect((await stopsOf(household)).get(toCustomerId('kid'))).toBe(3_000);
  });

  it('refuses to judge when hashes are kept but their key is gone', async () => {
    const tx = memoryTx();
    await rememberErased(tx, ['u:lea'], 1_000);
    tx.settings.delete(ERASURE_KEY);
    await expect(erasedSinceOf(tx, [lea])).rejects.toThrow(/erasure_key setting is missing/);
    const bounced = memoryTx();
    await rememberAddressBounces(bounced, [{ address: 'lea@example.com', count: 1, atMs: 1 }]);
    bounced.settings.delete(ERASURE_KEY);
    await expect(addressFactsOf(bounced, [lea])).rejects.toThrow(/erasure_key setting is missing/);
  });
});
