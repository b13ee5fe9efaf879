// What an erasure leaves behind so that it is not undone by the next event: a keyed hash of each
// identity it removed. The person's data is gone, but their tracking library, CRM sync or shop
// will name them again (the same user id, email or phone), and the customer made anew would
// have no unsubscribe, no complaint and no consent on record: outside the EU, nothing would stop
// marketing to someone who had withdrawn from it and then asked to be forgotten. The guard looks
// the hashes up (`erasedSinceOf`) and the compliance guardrail holds back marketing until the
// person opts in again, explicitly, after the erasure.
import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../core/event.js';
import type { CustomerId } from '../core/ids.js';
import type { ProfileState } from '../core/profile.js';
import {
  ERASURE_KEY,
  keptIdentityHash as hashOf,
  numberStartIdentity,
  numberStopIdentity,
  optOutIdentity,
} from '../core/kept-identity.js';
import {
  emailKey,
  internationalParts,
  normalisePhone,
  phoneForms,
  textOf,
} from '../core/recipient.js';
import type { StoreTx } from '../ports/store.js';

export { ERASURE_KEY };

type Tx = Pick<
  StoreTx,
  | 'lock'
  | 'getSetting'
  | 'setSetting'
  | 'addErasedIdentities'
  | 'erasedIdentities'
  | 'anyErasedIdentity'
  | 'addAddressBounces'
  | 'addressBounces'
  | 'anyAddressBounce'
>;

/**
 * Whether identities are wanted to keep (an erasure's) or to find (a returning person's): a phone
 * is kept and found under keys that match as `samePhone` does — whatever the spelling, and never
 * across two country codes.
 */
export type IdentityUse = 'keep' | 'find';

/**
 * The keys of a phone number (as `normalisePhone` writes it). Kept: as spelled; an international
 * one also by its country code and national digits (`phone-intl:44:2079460000`, whatever the
 * spelling: `+44 (0)20 …` and `+44 20 …` are one), and by its national spellings (`415 …`,
 * `0415 …`, `1415 …`) as `phone-national:`, which a number written without its country code is
 * found by. Found: a national number as spelled and among those national spellings; an
 * international one by its code and digits, and in every spelling of it as a national number was
 * kept (or any number was before 2026-12-07, as spelled) — so `+1 415 …` never finds
 * `+44 415 …`, whose national digits it shares, and two national numbers only when equal.
 */
export const phoneIdentities = (number: string, use: IdentityUse): string[] => {
  if (number.replace('+', '') === '') return [];
  const parts = internationalParts(number);
  if (parts === null)
    return use === 'keep' ? [`phone:${number}`] : [`phone:${number}`, `phone-national:${number}`];
  const forms = phoneForms(number);
  return [
    ...new Set([
      `phone-intl:${parts.code}:${parts.national}`,
      ...(use === 'keep'
        ? [
            `phone:${number}`,
            ...forms.filter((f) => !f.startsWith('+')).map((f) => `phone-national:${f}`),
          ]
        : forms.map((f) => `phone:${f}`)),
    ]),
  ];
};

/**
 * The email (in lower case, and as it is sent to: erased as `ana@example.com`, the address comes
 * back as no one else spelled `ana@ｅｘａｍｐｌｅ.com`) and phone (`phoneIdentities`) that traits
 * name.
 */
const contactsIn = (traits: JsonObject, keys: Set<string>, use: IdentityUse): void => {
  const email = textOf(traits['email']);
  if (email !== null) {
    keys.add(`email:${email.toLowerCase()}`);
    keys.add(`email:${emailKey(email)}`);
  }
  const phone = textOf(traits['phone']);
  for (const key of phoneIdentities(phone === null ? '' : normalisePhone(phone), use))
    keys.add(key);
};

/**
 * The identities a profile is known by: its user ids (its own and those aliased to it), its
 * anonymous ids, its email (in lower case) and its phone (as messages are addressed), plus any
 * identity links given (`u:<user id>`, `a:<anonymous id>`, as the identity table keeps them) and
 * the emails and phones of earlier traits (`pastTraits`: an address changed since, or left by a
 * visitor merged into the customer), which a CRM sync may bring back as well.
 */
export const identitiesOf = (
  use: IdentityUse,
  profile: ProfileState | undefined,
  links: readonly string[] = [],
  pastTraits: readonly JsonObject[] = [],
) => {
  const keys = new Set(links);
  for (const traits of pastTraits) contactsIn(traits, keys, use);
  if (profile === undefined) return [...keys];
  if (profile.userId !== null) keys.add(`u:${profile.userId}`);
  for (const id of profile.aliases) keys.add(`u:${id}`);
  for (const id of profile.anonymousIds) keys.add(`a:${id}`);
  contactsIn(profile.traits, keys, use);
  return [...keys];
};

/** Remembers, in the erasing transaction, the identities of the customer being erased. */
export const rememberErased = async (
  tx: Tx,
  identities: readonly string[],
  atMs: number,
): Promise<void> => {
  if (identities.length === 0) return;
  const key = await keyToKeep(tx);
  await tx.addErasedIdentities(
    identities.map((identity) => hashOf(key, identity)),
    atMs,
  );
};

/**
 * The key hashes are kept with, made by the first transaction to keep one. Two first ones at
 * once (PostgreSQL) would each make a key, the later overwriting the earlier, whose hashes
 * would then match nothing: one makes it under the lock, the other reads it. Once made it never
 * changes, so only a transaction that finds none takes the lock.
 */
const keyToKeep = async (tx: Tx): Promise<string> => {
  const made = await tx.getSetting(ERASURE_KEY);
  if (made !== null) return made;
  await tx.lock([ERASURE_KEY]);
  const key = (await tx.getSetting(ERASURE_KEY)) ?? randomBytes(32).toString('base64url');
  await tx.setSetting(ERASURE_KEY, key);
  return key;
};

/**
 * The key the kept hashes were made with, once `kept` says some are. It is written in the
 * transaction that wrote the first hash: without it no hash can be matched, and letting every
 * message through as if nothing had been kept would not be safe.
 */
const keyOfKept = async (tx: Pick<Tx, 'getSetting'>, what: string): Promise<string> => {
  const key = await tx.getSetting(ERASURE_KEY);
  if (key === null) throw new Error(`${what} are kept but the ${ERASURE_KEY} setting is missing`);
  return key;
};

/** The key the kept hashes were made with, or null while no identity was ever erased. */
const keptKey = async (tx: Pick<Tx, 'getSetting' | 'anyErasedIdentity'>): Promise<string | null> =>
  (await tx.anyErasedIdentity()) ? keyOfKept(tx, 'erased identities') : null;

// An email address's opt-out is the address's, whoever's record it was sent from (CAN-SPAM
// ties it to the address): kept as a keyed hash beside the erased identities, under a name no
// erased identity has (`optOutIdentity`), so it also outlives an erasure. The address's hard
// bounces are kept under the same hash, in a table of their own (`rememberAddressBounces`).

// The key kept before addresses were normalised (trimmed, lower case): the same for plain ASCII
// addresses; for an internationalised domain, opt-outs and bounces recorded then are read too.
const writtenIdentity = (address: string) => `opt-out:email:${address.trim().toLowerCase()}`;

/**
 * Remembers, in the transaction that records it, that an email address unsubscribed from
 * marketing (through a message's own link, or a complaint): every customer record with that
 * address is held back from email marketing until it opts in again, explicitly, after.
 */
export const rememberAddressOptOut = (tx: Tx, address: string, atMs: number): Promise<void> =>
  address.trim() === '' ? Promise.resolve() : rememberErased(tx, [optOutIdentity(address)], atMs);

/**
 * Remembers, in the transaction that records it, that a phone number texted STOP (`numbers`: the
 * forms it may be written in): an SMS STOP opts the number out of everything from the sender
 * (CTIA; Twilio refuses its next text, error 21610), on every customer record that has it — a
 * household's phone, a guest checkout — until the number texts START, or the record opts in to
 * texts at this number, explicitly, after. Kept as the address's opt-out is, and outlives an
 * erasure.
 */
export const rememberNumberStops = (
  tx: Tx,
  numbers: readonly string[],
  atMs: number,
): Promise<void> => rememberErased(tx, numbersKept(numbers, numberStopIdentity), atMs);

/** Remembers that a phone number texted START, which lifts its STOPs before (Twilio's rule). */
export const rememberNumberStarts = (
  tx: Tx,
  numbers: readonly string[],
  atMs: number,
): Promise<void> => rememberErased(tx, numbersKept(numbers, numberStartIdentity), atMs);

const numbersKept = (numbers: readonly string[], identity: (n: string) => string): string[] => [
  ...new Set(
    numbers.filter((n) => normalisePhone(n).replace('+', '') !== '').map((n) => identity(n)),
  ),
];

/**
 * Hard bounces reported on a customer record count against its email address, on every record
 * that has it: a mailbox that does not exist is dead whoever's record a message to it came
 * from. Kept as the address's opt-out is: a count and the latest time under the same keyed
 * hash of the address (`address_bounces`), no customer id, and it outlives an erasure. `bounces`
 * names each address as the record had it (any case, any spaces around it); blank ones count
 * nothing.
 */
export const rememberAddressBounces = async (
  tx: Tx,
  bounces: readonly { address: string; count: number; atMs: number }[],
): Promise<void> => {
  const counted = bounces.filter((b) => b.address.trim() !== '' && b.count > 0);
  if (counted.length === 0) return;
  const key = await keyToKeep(tx);
  const byHash = new Map<string, { hash: string; count: number; atMs: number }>();
  for (const b of counted) {
    const hash = hashOf(key, optOutIdentity(b.address));
    const known = byHash.get(hash);
    byHash.set(
      hash,
      known === undefined
        ? { hash, count: b.count, atMs: b.atMs }
        : { hash, count: known.count + b.count, atMs: Math.max(known.atMs, b.atMs) },
    );
  }
  await tx.addAddressBounces([...byHash.values()]);
};

/** What is kept of each profile's email address on any record of it (`addressFactsOf`). */
export interface AddressFacts {
  /** When the address last opted out of marketing, for those that did. */
  optOuts: Map<CustomerId, number>;
  /** How many hard bounces the address has had, for those that had any since they are kept. */
  hardBounces: Map<CustomerId, number>;
  /**
   * When the customer's phone number texted STOP, on any record of it, for those whose STOP no
   * START from the number has lifted since (`rememberNumberStops`).
   */
  numberStops: Map<CustomerId, number>;
}

/** One customer's share of `AddressFacts`, as the consent rules read it. */
export const keptFactsOf = (facts: AddressFacts, customerId: CustomerId) => ({
  addressOptedOutAtMs: facts.optOuts.get(customerId) ?? null,
  addressHardBounces: facts.hardBounces.get(customerId) ?? null,
  numberStoppedAtMs: facts.numberStops.get(customerId) ?? null,
});

/**
 * For each profile with an email address, what is kept of the address on any customer record:
 * its opt-out and its hard bounces; and for each with a phone number, its STOP not lifted by a
 * START since. One hash per address (two per number), and one lookup per table for the batch;
 * nothing is hashed while nothing was ever kept.
 */
export const addressFactsOf = async (
  tx: Tx,
  profiles: readonly ProfileState[],
): Promise<AddressFacts> => {
  const facts: AddressFacts = {
    optOuts: new Map(),
    hardBounces: new Map(),
    numberStops: new Map(),
  };
  const addressed = profiles.flatMap((p) => {
    const email = textOf(p.traits['email']);
    return email === null ? [] : [{ customerId: p.customerId, email }];
  });
  const phoned = profiles.flatMap((p) => {
    const phone = textOf(p.traits['phone']);
    return phone === null || normalisePhone(phone).replace('+', '') === ''
      ? []
      : [{ customerId: p.customerId, phone }];
  });
  if (addressed.length === 0 && phoned.length === 0) return facts;
  const optOuts = await tx.anyErasedIdentity();
  const hardBounces = addressed.length > 0 && (await tx.anyAddressBounce());
  if (!optOuts && !hardBounces) return facts;
  const key = await keyOfKept(tx, 'address facts');
  if (optOuts && phoned.length > 0) {
    const stops = phoned.map((p) => hashOf(key, numberStopIdentity(p.phone)));
    const starts = phoned.map((p) => hashOf(key, numberStartIdentity(p.phone)));
    const kept = await tx.erasedIdentities([...stops, ...starts]);
    phoned.forEach((p, i) => {
      const stoppedAt = kept.get(stops[i] ?? '');
      const startedAt = kept.get(starts[i] ?? '');
      if (stoppedAt !== undefined && (startedAt === undefined || startedAt <= stoppedAt))
        facts.numberStops.set(p.customerId, stoppedAt);
    });
  }
  if (addressed.length === 0) return facts;
  // One key for a plain ASCII address, two for an internationalised one: hashed once each.
  const hashesOf = addressed.map((a) =>
    [...new Set([optOutIdentity(a.email), writtenIdentity(a.email)])].map((id) => hashOf(key, id)),
  );
  const hashes = hashesOf.flat();
  // An opt-out's latest time, the bounces' sum, over the address's keys.
  const collect = (
    kept: ReadonlyMap<string, number>,
    into: Map<CustomerId, number>,
    join: (a: number, b: number) => number,
  ) => {
    addressed.forEach((a, i) => {
      for (const hash of hashesOf[i] ?? []) {
        const value = kept.get(hash);
        if (value === undefined) continue;
        const held = into.get(a.customerId);
        into.set(a.customerId, held === undefined ? value : join(held, value));
      }
    });
  };
  if (optOuts) collect(await tx.erasedIdentities(hashes), facts.optOuts, Math.max);
  if (hardBounces) collect(await tx.addressBounces(hashes), facts.hardBounces, (x, y) => x + y);
  return facts;
};

/**
 * For each profile known by an identity erased before, the latest such erasure. Nothing is
 * hashed while no identity was ever erased.
 */
/**
 * Of these identities (`email:<address>`, `phone:<number>`, `u:<user id>` …), those an erasure
 * removed, with when each was (last) erased: a data-subject request may find the person's
 * record gone already.
 */
export const erasedAtOf = async (
  tx: Tx,
  identities: readonly string[],
): Promise<Map<string, number>> => {
  const found = new Map<string, number>();
  const key = identities.length === 0 ? null : await keptKey(tx);
  if (key === null) return found;
  const byHash = new Map(identities.map((identity) => [hashOf(key, identity), identity]));
  for (const [hash, atMs] of await tx.erasedIdentities([...byHash.keys()])) {
    const identity = byHash.get(hash);
    if (identity !== undefined) found.set(identity, atMs);
  }
  return found;
};

export const erasedSinceOf = async (
  tx: Tx & Pick<StoreTx, 'identityKeysOf'>,
  profiles: readonly ProfileState[],
): Promise<Map<CustomerId, number>> => {
  const found = new Map<CustomerId, number>();
  const key = profiles.length === 0 ? null : await keptKey(tx);
  if (key === null) return found;
  // A known user is known again by their user ids, email and phone — not by an anonymous id
  // they share with whoever else used the same computer, who may be the one erased.
  const known = profiles.map((p) =>
    identitiesOf('find', p)
      .filter((identity) => p.userId === null || !identity.startsWith('a:'))
      .map((identity) => ({ identity, hash: hashOf(key, identity) })),
  );
  const erased = await tx.erasedIdentities(known.flat().map((k) => k.hash));
  if (erased.size === 0) return found;
  for (const [i, profile] of profiles.entries()) {
    let links: Set<string> | null = null;
    for (const { identity, hash } of known[i] ?? []) {
      const atMs = erased.get(hash);
      if (atMs === undefined || atMs <= (found.get(profile.customerId) ?? -Infinity)) continue;
      // An alias whose id was merged into someone else first is listed, but stays theirs (as
      // the erasure keeps it): read only when it matched, whether it leads to this customer.
      if (
        profile.userId !== null &&
        identity.startsWith('u:') &&
        identity !== `u:${profile.userId}`
      ) {
        links ??= new Set(await tx.identityKeysOf(profile.customerId));
        if (!links.has(identity)) continue;
      }
      found.set(profile.customerId, atMs);
    }
  }
  return found;
};

/** The identity an erasure keeps of a push device's token (never one of `identitiesOf`). */
const deviceIdentity = (token: string) => `device:${token}`;

/**
 * The identities an erasure keeps of the push devices the profile lists, and of those `owned`
 * (`device_tokens`: a device they last signed in on that their list of the latest five no longer
 * holds — before 2026-12-07 such a device was forgotten, and the customer who used it before
 * them got their pushes on it). Apart from `identitiesOf`: another customer still listing the
 * token (the device once signed into their account) is not known by it, and keeps their
 * marketing.
 */
export const deviceIdentitiesOf = (
  profile: ProfileState | undefined,
  owned: readonly string[] = [],
): string[] =>
  [...new Set([...(profile?.devices ?? []).map((d) => d.token), ...owned])].map(deviceIdentity);

/**
 * Of `tokens` (none of them held by a customer now, in `device_tokens`), those a customer
 * erased since held: the device is the erased person's, and another customer who once signed
 * in on it gets no push there until it names them again. Nothing is hashed while no identity
 * was ever erased.
 */
export const erasedTokensOf = async (
  tx: Pick<Tx, 'getSetting' | 'anyErasedIdentity' | 'erasedIdentities'>,
  tokens: readonly string[],
): Promise<Set<string>> => {
  const found = new Set<string>();
  const key = tokens.length === 0 ? null : await keptKey(tx);
  if (key === null) return found;
  const hashes = tokens.map((token) => hashOf(key, deviceIdentity(token)));
  const erased = await tx.erasedIdentities(hashes);
  tokens.forEach((token, i) => {
    if (erased.has(hashes[i] ?? '')) found.add(token);
  });
  return found;
};
