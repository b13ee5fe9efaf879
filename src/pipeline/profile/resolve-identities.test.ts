import { describe, expect, it } from 'vitest';
import type { HeraldEvent } from '../../core/event.js';
import { anonymousCustomerId, toCustomerId, type CustomerId } from '../../core/ids.js';
import type { IdentityKey } from '../../ports/store.js';
import { identityKeysOf, resolveIdentities } from './resolve-identities.js';
import { anEvent, t0 } from './test-builders.js';

const u = toCustomerId;
const anon = anonymousCustomerId;
const noLinks = new Map<IdentityKey, CustomerId>();

const userEvent = (userId: string, anonymousId: string | null = null, atMs = t0): HeraldEvent =>
  anEvent({ userId, anonymousId, timestampMs: atMs });
const anonEvent = (anonymousId: string, atMs = t0): HeraldEvent =>
  anEvent({ userId: null, anonymousId, timestampMs: atMs });
const alias = (userId: string, previousId: string, atMs = t0): HeraldEvent =>
  anEvent({ type: 'alias', name: null, userId, previousId, timestampMs: atMs });

const customersOf = (events: HeraldEvent[], known = noLinks): string[] =>
  resolveIdentities(events, known).drafts.map((d) => d.customerId);

describe('resolveIdentities', () => {
  it('files a known user’s event under their user id and an anonymous one under anon:<id>', () => {
    const plan = resolveIdentities([userEvent('ada'), anonEvent('dev-1')], noLinks);
    expect(plan.drafts.map((d) => d.customerId)).toEqual(['ada', 'anon:dev-1']);
    expect(plan.drafts[0]).toMatchObject({ userId: 'ada', timestampMs: t0 });
    expect(plan.links).toEqual([]);
    expect(plan.merges).toEqual([]);
  });

  it('files an anonymous event under the customer its device is linked to', () => {
    const known = new Map<IdentityKey, CustomerId>([['a:dev-1', u('ada')]]);
    expect(customersOf([anonEvent('dev-1')], known)).toEqual(['ada']);
  });

  it('links a new device to the user who identifies on it and merges its history', () => {
    const plan = resolveIdentities([userEvent('ada', 'dev-1', t0 + 5)], noLinks);
    expect(plan.drafts.map((d) => d.customerId)).toEqual(['ada']);
    expect(plan.links).toEqual([{ key: 'a:dev-1', customerId: 'ada', linkedAtMs: t0 + 5 }]);
    expect(plan.merges).toEqual([{ from: anon('dev-1'), to: u('ada') }]);
  });

  it('files the device’s later events in the batch under the user', () => {
    expect(customersOf([userEvent('ada', 'dev-1'), anonEvent('dev-1')])).toEqual(['ada', 'ada']);
  });

  it('files the device’s earlier events in the same batch under the user too', () => {
    expect(
      customersOf([anonEvent('dev-1'), anonEvent('dev-1'), userEvent('ada', 'dev-1')]),
    ).toEqual(['ada', 'ada', 'ada']);
  });

  it('keeps the first link of a device: a second user on it neither relinks nor merges', () => {
    const known = new Map<IdentityKey, CustomerId>([['a:dev-1', u('ada')]]);
    const plan = resolveIdentities([userEvent('bob', 'dev-1'), anonEvent('dev-1')], known);
    expect(plan.drafts.map((d) => d.customerId)).toEqual(['bob', 'ada']);
    expect(plan.links).toEqual([]);
    expect(plan.merges).toEqual([]);
  });

  it('keeps the first link made within the batch', () => {
    const plan = resolveIdentities(
      [userEvent('ada', 'dev-1'), userEvent('bob', 'dev-1'), anonEvent('dev-1')],
      noLinks,
    );
    expect(plan.drafts.map((d) => d.customerId)).toEqual(['ada', 'bob', 'ada']);
    expect(plan.links.map((l) => l.key)).toEqual(['a:dev-1']);
  });

  it('does not link a device that is already the user’s', () => {
    const known = new Map<IdentityKey, CustomerId>([['a:dev-1', u('ada')]]);
    const plan = resolveIdentities([userEvent('ada', 'dev-1')], known);
    expect(plan.links).toEqual([]);
    expect(plan.merges).toEqual([]);
  });

  it('never merges into a customer the same batch merged away', () => {
    // Earlier: B-old was aliased into B. This batch aliases B into A, then B-old identifies
    // on device Z: Z's history goes to A, where B (and B-old) now are.
    const known = new Map<IdentityKey, CustomerId>([['u:B-old', u('B')]]);
    const plan = resolveIdentities([alias('A', 'B'), userEvent('B-old', 'Z')], known);
    expect(plan.merges).toContainEqual({ from: anon('Z'), to: u('A') });
    expect(plan.merges.filter((m) => m.to === u('B'))).toEqual([]);
    expect(plan.links).toContainEqual({ key: 'a:Z', customerId: u('A'), linkedAtMs: t0 });
    expect(plan.drafts.map((d) => d.customerId)).toEqual(['A', 'A']);
  });

  it('merges the previous id of an alias into the user, as a user id and as a device', () => {
    const plan = resolveIdentities([alias('ada', 'old-ada', t0 + 9)], noLinks);
    expect(plan.drafts.map((d) => d.customerId)).toEqual(['ada']);
    expect(plan.links).toEqual([
      { key: 'u:old-ada', customerId: 'ada', linkedAtMs: t0 + 9 },
      { key: 'a:old-ada', customerId: 'ada', linkedAtMs: t0 + 9 },
    ]);
    expect(plan.merges).toEqual([
      { from: u('old-ada'), to: u('ada') },
      { from: anon('old-ada'), to: u('ada') },
    ]);
  });

  it('links the device an alias was sent from to the user, and merges its history', () => {
    const fromDevice = { ...alias('ada', 'old-ada', t0 + 9), anonymousId: 'dev-1' };
    const plan = resolveIdentities([anonEvent('dev-1'), fromDevice, anonEvent('dev-1')], noLinks);
    expect(plan.drafts.map((d) => d.customerId)).toEqual(['ada', 'ada', 'ada']);
    expect(plan.links).toContainEqual({ key: 'a:dev-1', customerId: 'ada', linkedAtMs: t0 + 9 });
    expect(plan.merges).toContainEqual({ from: anon('dev-1'), to: u('ada') });
    // A device linked to someone else already stays theirs.
    const known = new Map<IdentityKey, CustomerId>([['a:dev-1', u('zoe')]]);
    expect(resolveIdentities([fromDevice], known).links.map((l) => l.key)).not.toContain('a:dev-1');
  });

  it('files the aliased user id’s events under the new user, before and after the alias', () => {
    expect(
      customersOf([userEvent('old-ada'), alias('ada', 'old-ada'), userEvent('old-ada')]),
    ).toEqual(['ada', 'ada', 'ada']);
  });

  it('files a device linked to a user that is merged away under the user it merged into', () => {
    const plan = resolveIdentities(
      [userEvent('old-ada', 'dev-1'), alias('ada', 'old-ada'), anonEvent('dev-1')],
      noLinks,
    );
    expect(plan.drafts.map((d) => d.customerId)).toEqual(['ada', 'ada', 'ada']);
  });

  it('files an alias under the customer its user id is already merged into', () => {
    const known = new Map<IdentityKey, CustomerId>([['u:ada', u('ada-main')]]);
    const plan = resolveIdentities([alias('ada', 'guest-7')], known);
    expect(plan.drafts.map((d) => d.customerId)).toEqual(['ada-main']);
    expect(plan.merges).toContainEqual({ from: u('guest-7'), to: u('ada-main') });
  });

  it('does not merge a previous id already linked elsewhere, nor a user into itself', () => {
    const known = new Map<IdentityKey, CustomerId>([
      ['u:old', u('zoe')],
      ['a:old', u('zoe')],
    ]);
    expect(resolveIdentities([alias('ada', 'old')], known).merges).toEqual([]);
    const self = resolveIdentities([alias('ada', 'ada')], noLinks);
    expect(self.merges).not.toContainEqual({ from: u('ada'), to: u('ada') });
  });

  it('skips an event without any id', () => {
    const plan = resolveIdentities([anEvent({ userId: null, anonymousId: null })], noLinks);
    expect(plan.drafts).toEqual([]);
  });

  it('leaves the known links it is given untouched', () => {
    const known = new Map<IdentityKey, CustomerId>([['a:dev-0', u('ada')]]);
    resolveIdentities([userEvent('bob', 'dev-1'), alias('bob', 'old-bob')], known);
    expect([...known]).toEqual([['a:dev-0', 'ada']]);
  });
});

describe('identityKeysOf', () => {
  it('lists every key the batch needs once, previous ids as both user and device', () => {
    expect(
      identityKeysOf([
        userEvent('ada', 'dev-1'),
        anonEvent('dev-1'),
        alias('ada', 'old'),
        anEvent({ userId: null, anonymousId: null }),
      ]).sort(),
    ).toEqual(['a:dev-1', 'a:old', 'u:ada', 'u:old']);
  });
});
