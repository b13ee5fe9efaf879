// Data-subject rights: access (export), erasure and the CCPA do-not-sell/share flag, each
// written down in the audit log.
import type { AuditEntry } from '../core/audit.js';
import { AppError } from '../core/errors.js';
import type { StoredEvent } from '../core/event.js';
import { mergedCustomerIds, type CustomerId } from '../core/ids.js';
import type { MessageRecord } from '../core/message.js';
import type { ComputedProfile, ProfileState } from '../core/profile.js';
import type { Membership, WorkRecord } from '../ports/decide-store.js';
import type { Conversion } from '../ports/record-store.js';
import type { Decision } from '../core/decision.js';
import type { ErasureCounts } from '../ports/record-store.js';
import type { EventCursor, Store, StoreTx } from '../ports/store.js';
import type { HeraldEvent, JsonObject } from '../core/event.js';
import {
  emailSpellings,
  normalisePhone,
  phoneForms,
  sameEmail,
  samePhone,
  textOf,
} from '../core/recipient.js';
import { heraldEvent, heraldIdentify } from './deliver-messages.js';
import {
  deviceIdentitiesOf,
  erasedAtOf,
  identitiesOf,
  phoneIdentities,
  rememberErased,
} from './erased-identities.js';
import { appendAudit } from './record/index.js';

export interface CustomerExport {
  customerId: CustomerId;
  exportedAt: string;
  profile: ProfileState | null;
  /** What Herald works out about them (GDPR art. 15(1)(h), profiling): RFM, churn risk … */
  computed: ComputedProfile | null;
  /**
   * What the trained models say of them, as the profile API shows it: P(alive), expected
   * purchases, CLV, the churn risk's scorer, the conversion probability per channel.
   */
  predicted: unknown;
  events: StoredEvent[];
  decisions: Decision[];
  messages: MessageRecord[];
  /** Where they are in each journey. */
  journeys: Membership[];
  /** The experiments they were assigned to, with the arm. */
  experiments: Awaited<ReturnType<Store['unitsOfCustomer']>>;
  /** Orders credited to messages they got. */
  conversions: Conversion[];
  /** Every order recorded for them, those they cancelled marked. */
  orders: Awaited<ReturnType<Store['ordersOfCustomer']>>;
  /** Work scheduled for them (journey steps, cart timers, win-back waves, campaign sends). */
  work: WorkRecord[];
  /** The answers kept for API sends to them, by the caller's `Idempotency-Key`. */
  apiSends: { key: string; answer: unknown; createdAt: string }[];
  /** What the capture channel kept of messages to them (the development channel). */
  captured: {
    messageId: string;
    channel: string;
    recipient: string;
    payload: string;
    capturedAt: string;
  }[];
  audit: (Omit<AuditEntry, 'data'> & { data: unknown })[];
}

/** Rows read at a time for the long lists of an export. */
const EXPORT_PAGE = 1_000;

/**
 * Everything Herald holds about a customer (GDPR art. 15), and the export is audited.
 * `figures` works out the profile's figures as the profile stage does (the profile API's
 * `computed`), `predictions` what the trained models say of them (its `predicted`): profiling
 * the customer has a right to see as much as staff do.
 *
 * The answer is the JSON text of a `CustomerExport`, in pieces: the long lists (events,
 * decisions, messages) are read a page at a time and written as they are read, so a customer
 * with millions of events is exported whole in bounded memory. The customer is looked up, and
 * the access recorded, before the first piece: one not found is an error, not a cut answer.
 */
export const exportCustomer = async (
  store: Store,
  customerId: CustomerId,
  by: string,
  nowMs: number,
  figures: (state: ProfileState, nowMs: number) => ComputedProfile,
  predictions: (
    customerId: CustomerId,
    computed: ComputedProfile,
    nowMs: number,
  ) => Promise<unknown>,
): Promise<AsyncIterable<string>> => {
  const profile = await store.getProfile(customerId);
  if (profile === undefined) throw new AppError('not-found', `no customer ${customerId}`);
  const links = await store.transaction(async (tx) => {
    // Under the customer's lock, as an erasure takes it: a customer erased since the check
    // above is not found, rather than given a pseudonym again by the export's audit entry.
    await tx.lock([customerId]);
    if (!(await tx.loadProfiles([customerId])).has(customerId))
      throw new AppError('not-found', `no customer ${customerId}`);
    await appendAudit(
      tx,
      [{ kind: 'access-export', customerId, atMs: nowMs, data: { by, request: 'gdpr-access' } }],
      nowMs,
    );
    return tx.identityKeysOf(customerId);
  });
  const computed = figures(profile.state, nowMs);
  const predicted = await predictions(customerId, computed, nowMs);
  // A merge hands the customer's rows over, but experiment units stay under the id they were
  // drawn for (the visitor they were before identifying, a user id aliased since).
  // One after another: a kiosk's thousands of visitor ids read all at once took seconds longer,
  // every other request waiting (each read woke every waiting one).
  const experiments: Awaited<ReturnType<typeof store.unitsOfCustomer>> = [];
  for (const id of mergedCustomerIds(customerId, links))
    experiments.push(...(await store.unitsOfCustomer(id)));
  // The short lists are read before the first byte: a read that fails then is an error status,
  // not an answer cut short. Only the paged lists are read while the answer is written.
  const rest = {
    journeys: await store.listMemberships(customerId),
    experiments,
    conversions: await store.listConversions({ customerId, limit: Number.MAX_SAFE_INTEGER }),
    orders: await store.ordersOfCustomer(customerId),
    work: await store.listWork(customerId, Number.MAX_SAFE_INTEGER),
    apiSends: (await store.idempotentAnswersOf(customerId)).map((a) => ({
      key: a.key,
      answer: JSON.parse(a.response) as unknown,
      createdAt: new Date(a.createdAtMs).toISOString(),
    })),
    audit: await auditTrailOf(store, customerId),
  };
  return exportPieces(store, customerId, nowMs, profile.state, computed, predicted, rest);
};

/** `"name":value` (a value JSON has no text for, `undefined`, as `null`). */
const member = (name: keyof CustomerExport, value: unknown): string =>
  `${JSON.stringify(name)}:${(JSON.stringify(value) as string | undefined) ?? 'null'}`;

/** A list's items, a page at a time, as the text between its brackets. */
async function* listed<T, C>(
  page: (cursor: C | null) => Promise<T[]>,
  cursorOf: (last: T) => C,
  seen: (items: T[]) => Promise<void> | void = () => undefined,
): AsyncGenerator<string> {
  let cursor: C | null = null;
  let first = true;
  for (;;) {
    const items = await page(cursor);
    if (items.length === 0) return;
    await seen(items);
    yield `${first ? '' : ','}${items.map((item) => JSON.stringify(item)).join(',')}`;
    first = false;
    const last = items.at(-1);
    if (items.length < EXPORT_PAGE || last === undefined) return;
    cursor = cursorOf(last);
  }
}

async function* exportPieces(
  store: Store,
  customerId: CustomerId,
  nowMs: number,
  profile: ProfileState,
  computed: ComputedProfile,
  predicted: unknown,
  rest: Pick<
    CustomerExport,
    'journeys' | 'experiments' | 'conversions' | 'orders' | 'work' | 'apiSends' | 'audit'
  >,
): AsyncGenerator<string> {
  yield `{${[
    member('customerId', customerId),
    member('exportedAt', new Date(nowMs).toISOString()),
    member('profile', profile),
    member('computed', computed),
    member('predicted', predicted),
  ].join(',')},"events":[`;
  yield* listed(
    (after: EventCursor | null) => store.eventsOfCustomer(customerId, after, EXPORT_PAGE),
    (e) => ({ timestampMs: e.timestampMs, seq: e.seq }),
  );
  yield '],"decisions":[';
  yield* listed(
    (before: { createdAtMs: number; id: string } | null) =>
      store.listDecisions({
        customerId,
        limit: EXPORT_PAGE,
        ...(before === null ? {} : { before }),
      }),
    (d) => ({ createdAtMs: d.createdAtMs, id: d.id }),
  );
  yield '],"messages":[';
  const captured: CustomerExport['captured'] = [];
  yield* listed(
    (beforeId: string | null) =>
      store.listMessages({
        customerId,
        limit: EXPORT_PAGE,
        ...(beforeId === null ? {} : { beforeId }),
      }),
    (m) => m.id,
    // What the capture channel kept of them: a development channel's copies, few.
    async (messages) => {
      captured.push(...(await capturedOf(store, messages)));
    },
  );
  yield `],${[
    member('journeys', rest.journeys),
    member('experiments', rest.experiments),
    member('conversions', rest.conversions),
    member('orders', rest.orders),
    member('work', rest.work),
    member('apiSends', rest.apiSends),
    member('captured', captured),
    member('audit', rest.audit),
  ].join(',')}}`;
}

/** What the capture channel kept of these messages. */
const capturedOf = async (
  store: Pick<Store, 'capturedMessage'>,
  messages: readonly MessageRecord[],
): Promise<CustomerExport['captured']> => {
  const found: CustomerExport['captured'] = [];
  for (const m of messages) {
    const copy = await store.capturedMessage(m.id);
    if (copy !== undefined)
      found.push({
        messageId: m.id,
        channel: copy.channel,
        recipient: copy.recipient,
        payload: copy.payload,
        capturedAt: new Date(copy.atMs).toISOString(),
      });
  }
  return found;
};

/**
 * A customer's audit entries, with their data parsed: those about each of their pseudonyms
 * (their own, and those of customers merged into them).
 */
export const auditTrailOf = async (
  store: Pick<Store, 'auditOf' | 'pseudonymsOfCustomer'>,
  customerId: CustomerId,
): Promise<CustomerExport['audit']> =>
  (await store.auditOf(await store.pseudonymsOfCustomer(customerId))).map((e) => ({
    ...e,
    data: JSON.parse(e.data) as unknown,
  }));

/**
 * Erases a customer (GDPR art. 17): events, orders, identities, profile, decisions, messages
 * and journey state are deleted, and the links from the customer to their audit pseudonyms
 * (their own, and those of customers merged into them) go with them — the audit trail stays
 * whole (the chain still verifies) but no longer leads to anyone. A keyed hash of each identity
 * removed stays (`rememberErased`), so that the person named again gets no marketing until they
 * opt in anew. Runs at once, well within any configured deadline.
 */
export const eraseCustomer = async (
  store: Store,
  customerId: CustomerId,
  by: string,
  reason: string,
  nowMs: number,
): Promise<{ subject: string; erased: ErasureCounts }> => {
  const done = await eraseInTransaction(store, customerId, by, reason, nowMs);
  await store.purgeErased();
  return done;
};

const eraseInTransaction = (
  store: Store,
  customerId: CustomerId,
  by: string,
  reason: string,
  nowMs: number,
): Promise<{ subject: string; erased: ErasureCounts }> =>
  store.transaction(async (tx) => {
    await tx.lock([customerId]);
    const subject = (await tx.pseudonymsOf([customerId], nowMs)).get(customerId);
    if (subject === undefined) throw new Error('no pseudonym');
    // Read before they go: what the person is known by, to know them again (only as hashes).
    const identified = (await tx.identifyTraitsOf([customerId])).get(customerId) ?? [];
    const profile = (await tx.loadProfiles([customerId])).get(customerId);
    const links = await tx.identityKeysOf(customerId);
    // An anonymous visitor has no links of their own: their anonymous ids are theirs.
    const own = new Set([
      ...links,
      ...(profile === undefined
        ? []
        : profile.userId === null
          ? profile.anonymousIds.map((id) => `a:${id}`)
          : [`u:${profile.userId}`]),
    ]);
    const identities = [
      // Their user and anonymous ids only where they lead to them: a profile also lists the
      // family computer's anonymous id another user identified on first, and an alias whose id
      // was merged into someone else — those are the other person's, who keeps their marketing.
      ...identitiesOf('keep', profile, links, identified).filter(
        (identity) => !/^[ua]:/.test(identity) || own.has(identity),
      ),
      // Their push devices too: another customer once signed in on one gets no push there.
      ...deviceIdentitiesOf(profile, await tx.deviceTokensOwnedBy(customerId)),
    ];
    const erased = await tx.eraseCustomer(customerId);
    if (erased.profiles === 0 && erased.events === 0)
      throw new AppError('not-found', `no customer ${customerId}`);
    await rememberErased(tx, identities, nowMs);
    await appendAudit(
      tx,
      [
        {
          kind: 'erasure',
          customerId: null,
          subject,
          atMs: nowMs,
          data: {
            by,
            reason,
            request: 'gdpr-erasure',
            erased,
            // How many identities are kept as keyed hashes to know the person again.
            identitiesKept: identities.length,
          },
        },
      ],
      nowMs,
    );
    return { subject, erased };
  });

/**
 * Sets the CCPA do-not-sell/share flag by recording it as events from Herald, so the profile
 * keeps it through every rebuild: an explicit consent fact (`Consent Updated`, `web`/`sale`) —
 * which, like an unsubscribe, no identify resending `doNotSell: false` can undo, only another
 * request — and the `preferences.doNotSell` trait; the request's audit entry commits with them
 * (`record` runs `within` in their transaction), so neither is kept without the other.
 */
export const setDoNotSell = async (
  store: Store,
  record: (
    events: readonly HeraldEvent[],
    nowMs: number,
    within: (tx: StoreTx) => Promise<void>,
  ) => Promise<unknown>,
  customerId: CustomerId,
  value: boolean,
  by: string,
  nowMs: number,
): Promise<void> => {
  if ((await store.getProfile(customerId)) === undefined)
    throw new AppError('not-found', `no customer ${customerId}`);
  await record(
    [
      heraldEvent(
        customerId,
        'Consent Updated',
        `do-not-sell-consent:${customerId}:${String(nowMs)}`,
        { channel: 'web', purpose: 'sale', granted: !value, source: 'ccpa-request' },
        nowMs,
      ),
      heraldIdentify(
        customerId,
        `do-not-sell:${customerId}:${String(nowMs)}`,
        { preferences: { doNotSell: value } },
        nowMs,
      ),
    ],
    nowMs,
    async (tx) => {
      // Under the customer's lock, which recording the events took, as an erasure takes it: a
      // customer erased since the check above had their events left out, and gets no audit
      // entry (and so no pseudonym) back either.
      await tx.lock([customerId]);
      if (!(await tx.loadProfiles([customerId])).has(customerId))
        throw new AppError('not-found', `no customer ${customerId}`);
      await appendAudit(
        tx,
        [
          {
            kind: 'do-not-sell',
            customerId,
            atMs: nowMs,
            data: { by, value, request: 'ccpa-do-not-sell' },
          },
        ],
        nowMs,
      );
    },
  );
};

/** A customer record found by an email address or a phone number, and how it was found. */
export interface FoundRecord {
  customerId: CustomerId;
  userId: string | null;
  anonymousIds: string[];
  /**
   * `email`, `phone` (the profile's traits now), `earlier-traits` (an `identify` of theirs gave
   * it before: an address changed since, or a visitor merged into them), `messages` (a message
   * went to it).
   */
  matchedBy: ('email' | 'phone' | 'earlier-traits' | 'messages')[];
}

const FIND_PAGE = 1000;

/**
 * Every customer record that holds an email address or a phone number — in its traits now, in
 * an earlier `identify` of theirs, or as the recipient of a message Herald made — for a
 * data-subject request that names a person by their address, not by an id: a guest checkout
 * under an anonymous id and an account are two records Herald never linked. Addresses are
 * compared in any case; numbers in any spelling of one (`samePhone`: `+1 415 555 0123`,
 * `001 415 555 0123`, and the national `(415) 555-0123`). Also says whether an erasure removed
 * the address already. Reads every profile a page at a time and every `identify` call's text
 * once (a request is rare, and no index of addresses is kept): about as long as a daily sweep.
 */
/** `text` with A–Z in lower case and nothing else changed, as SQLite's `lower()` does. */
const asciiLower = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

export const findCustomersByContact = async (
  store: Store,
  contact: { email?: string; phone?: string },
): Promise<{ customers: FoundRecord[]; erased: { identity: string; erasedAt: string }[] }> => {
  const email = contact.email?.trim().toLowerCase() ?? '';
  const phone = contact.phone === undefined ? '' : normalisePhone(contact.phone);
  if (email === '' && (contact.phone?.trim() ?? '') === '')
    throw new AppError(
      'invalid-input',
      'name an email address or a phone number to look for (email, phone)',
    );
  if (contact.phone !== undefined && phone.replace('+', '') === '')
    throw new AppError('invalid-input', `phone: "${contact.phone}" holds no digits to look for`);
  /** Which of the address and the number traits hold. */
  const matches = (traits: JsonObject): ('email' | 'phone')[] => {
    const found: ('email' | 'phone')[] = [];
    const address = textOf(traits['email']);
    if (email !== '' && address !== null && sameEmail(address, email)) found.push('email');
    const number = textOf(traits['phone']);
    if (phone !== '' && number !== null && samePhone(normalisePhone(number), phone))
      found.push('phone');
    return found;
  };
  const found = new Map<CustomerId, FoundRecord>();
  const note = (state: ProfileState, by: FoundRecord['matchedBy'][number]) => {
    const record = found.get(state.customerId) ?? {
      customerId: state.customerId,
      userId: state.userId,
      anonymousIds: [...state.anonymousIds],
      matchedBy: [],
    };
    if (!record.matchedBy.includes(by)) record.matchedBy.push(by);
    found.set(state.customerId, record);
  };
  for (let after: CustomerId | null = null; ;) {
    const ids = await store.listCustomerIds(after, FIND_PAGE);
    if (ids.length === 0) break;
    const profiles = await store.transaction((tx) => tx.loadProfiles(ids));
    for (const state of profiles.values()) for (const by of matches(state.traits)) note(state, by);
    after = ids.at(-1) ?? null;
    if (ids.length < FIND_PAGE) break;
  }
  // Earlier traits: the identify calls whose text holds the address's local part and `@`, or
  // the number's last digits however it was written, read and checked; a visitor merged into
  // a customer has their calls moved to them. The local part alone, since the domain may be
  // written in another case or form (`Jo@BÜCHER.de`, `ana@ｅｘａｍｐｌｅ.com`, punycode), in
  // both the cases a database may lower it to (SQLite lowers A–Z only).
  const emails = email === '' ? [] : emailSpellings(email);
  const asked = contact.email?.trim() ?? '';
  const local = asked.slice(0, Math.max(0, asked.lastIndexOf('@')));
  // A letter beyond A–Z keeps the case it was written in where the database lowers A–Z only:
  // the local part is looked for as written in lower case, in capitals and capitalised (`åsa`,
  // `ÅSA`, `Åsa`), not as any character — `анна@` would be `____@`, every customer a candidate.
  const texts =
    email === ''
      ? []
      : local === ''
        ? emails
        : [
            ...new Set(
              [
                local.toLowerCase(),
                local.toUpperCase(),
                `${local.charAt(0).toUpperCase()}${local.slice(1).toLowerCase()}`,
              ].flatMap((form) => [`${asciiLower(form)}@`, `${form.toLowerCase()}@`]),
            ),
          ];
  const digits = phone.replace(/\D/g, '');
  const identified = (
    await store.customersIdentifiedWith(texts, digits === '' ? [] : [digits.slice(-4)])
  ).filter((id) => found.get(id) === undefined);
  for (let i = 0; i < identified.length; i += FIND_PAGE) {
    const page = identified.slice(i, i + FIND_PAGE);
    // Their identify calls only: a candidate's whole history (a bot's) was read and parsed.
    const { calls, profiles } = await store.transaction(async (tx) => ({
      calls: await tx.identifyTraitsOf(page),
      profiles: await tx.loadProfiles(page),
    }));
    for (const [id, traits] of calls) {
      const state = profiles.get(id);
      if (state === undefined) continue;
      if (traits.some((t) => matches(t).length > 0)) note(state, 'earlier-traits');
    }
  }
  // Messages keep the address they went to: a record whose traits have changed since.
  const recipients = [
    ...new Set([...emails, ...(asked === '' ? [] : [asciiLower(asked)]), ...phoneForms(phone)]),
  ];
  const messaged = await store.customersMessagedAt(recipients);
  if (messaged.length > 0) {
    const profiles = await store.transaction((tx) => tx.loadProfiles(messaged));
    for (const state of profiles.values()) note(state, 'messages');
  }
  // Erased: kept as keyed hashes of the address as each record spelled it.
  const identities = [...emails.map((form) => `email:${form}`), ...phoneIdentities(phone, 'find')];
  const erased = await store.transaction((tx) => erasedAtOf(tx, identities));
  return {
    customers: [...found.values()].sort((a, b) => (a.customerId < b.customerId ? -1 : 1)),
    erased: [...erased].map(([identity, atMs]) => ({
      identity,
      erasedAt: new Date(atMs).toISOString(),
    })),
  };
};
