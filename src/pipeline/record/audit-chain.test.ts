import { describe, expect, it } from 'vitest';
import { toAuditKey } from '../../core/audit.js';
import {
  AuditJson,
  chainEntries,
  GENESIS_HASH,
  hashEntry,
  KEY_NEEDED_REASON,
  sealEntry,
  UNSEALED_HEAD_REASON,
  verifyChain,
  verifyChainEnd,
  type AuditDraft,
  type AuditEntry,
} from './audit-chain.js';

const t0 = Date.UTC(2026, 5, 3, 12);
const drafts: AuditDraft[] = Array.from({ length: 5 }, (_, i) => ({
  atMs: t0 + i,
  kind: 'decision',
  subject: `p${i % 2}`,
  data: {
    decisionId: `d${i}`,
    verdicts: [{ guardrail: 'spam', outcome: 'pass' }],
    percent: 10 + i,
  },
}));

describe('the audit chain', () => {
  const chain = chainEntries(null, drafts);

  it('numbers entries from 1 and links each to the one before', () => {
    expect(chain.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(chain[0]?.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < chain.length; i += 1) expect(chain[i]?.prevHash).toBe(chain[i - 1]?.hash);
    expect(verifyChain(chain)).toEqual({ ok: true, entries: 5, lastHash: chain[4]?.hash });
  });

  it('stores data already written as JSON as it is, chained like the rest', () => {
    const written = drafts.map((d) => ({ ...d, data: new AuditJson(JSON.stringify(d.data)) }));
    const same = chainEntries(null, written);
    expect(same.map((e) => e.data)).toEqual(chain.map((e) => e.data));
    expect(same.map((e) => e.hash)).toEqual(chain.map((e) => e.hash));
    const text = '{"b":1, "a":2}';
    const [kept] = chainEntries(null, [{ ...drafts[0], data: new AuditJson(text) } as AuditDraft]);
    expect(kept?.data).toBe(text);
    expect(verifyChain(kept === undefined ? [] : [kept]).ok).toBe(true);
  });

  it('commits to the stored text of each entry', () => {
    const [first] = chain;
    if (first === undefined) throw new Error('empty chain');
    expect(JSON.parse(first.data)).toEqual(drafts[0]?.data);
    expect(hashEntry(GENESIS_HASH, first)).toBe(first.hash);
    // The same data written with its keys in another order is another text: another hash.
    const reordered = {
      ...first,
      data: JSON.stringify({
        percent: 10,
        decisionId: 'd0',
        verdicts: [{ guardrail: 'spam', outcome: 'pass' }],
      }),
    };
    expect(hashEntry(GENESIS_HASH, reordered)).not.toBe(first.hash);
  });

  it('names the entry whose content was changed', () => {
    const tampered = chain.map((e) =>
      e.seq === 3 ? { ...e, data: e.data.replace('"percent":12', '"percent":50') } : e,
    );
    expect(verifyChain(tampered)).toEqual({
      ok: false,
      brokenAtSeq: 3,
      reason: 'its content does not match its hash',
    });
  });

  it('names a rewritten entry even when its hash was recomputed', () => {
    const rewritten = chain.map((e) => {
      if (e.seq !== 2) return e;
      const changed = { ...e, subject: 'someone-else' };
      return { ...changed, hash: hashEntry(e.prevHash, changed) };
    });
    expect(verifyChain(rewritten)).toMatchObject({
      ok: false,
      brokenAtSeq: 3,
      reason: 'does not follow the entry before it',
    });
  });

  it('names a deleted entry', () => {
    expect(verifyChain(chain.filter((e) => e.seq !== 4))).toMatchObject({
      ok: false,
      brokenAtSeq: 5,
    });
  });

  it('continues a chain from its last entry and verifies it page by page', () => {
    const more = chainEntries(chain[4] ?? null, drafts.slice(0, 2));
    expect(more.map((e) => e.seq)).toEqual([6, 7]);
    expect(verifyChain(more, chain[4] ?? null)).toMatchObject({ ok: true, entries: 2 });
    expect(verifyChain(more)).toMatchObject({ ok: false, brokenAtSeq: 6 });
  });
});

describe('the audit chain sealed with the audit key', () => {
  const key = toAuditKey('an-audit-key-of-at-least-32-characters');
  const plain = chainEntries(null, drafts.slice(0, 2));
  const sealed = chainEntries(plain[1] ?? null, drafts.slice(2), key);
  const chain = [...plain, ...sealed];
  const last = (entries: readonly AuditEntry[]) => entries[entries.length - 1] ?? null;
  /** What someone with insert rights but not the key would add: a review, correctly chained. */
  const forged = (after: AuditEntry | null, hash: (prev: string, e: ForgedFields) => string) => {
    const fields: ForgedFields = {
      seq: (after?.seq ?? 0) + 1,
      atMs: (after?.atMs ?? t0) + 1,
      kind: 'review',
      subject: 'p0',
      data: JSON.stringify({ decisionId: 'd2', action: 'approve', by: 'rita', override: true }),
    };
    const prevHash = after?.hash ?? GENESIS_HASH;
    return { ...fields, prevHash, hash: hash(prevHash, fields) };
  };
  type ForgedFields = Omit<AuditEntry, 'prevHash' | 'hash'>;

  it('verifies a chain of plain entries followed by sealed ones, marked `k1:`', () => {
    expect(plain.map((e) => e.hash)).toEqual(
      chainEntries(null, drafts.slice(0, 2)).map((e) => e.hash),
    );
    for (const e of plain) expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    for (const e of sealed) expect(e.hash).toMatch(/^k1:[0-9a-f]{64}$/);
    // The next entry commits to the seal as stored, prefix and all.
    expect(sealed[1]?.prevHash).toBe(sealed[0]?.hash);
    expect(verifyChain(chain, null, key)).toEqual({
      ok: true,
      entries: 5,
      lastHash: sealed[2]?.hash,
    });
  });

  it('verifies a chain sealed from its first entry, page by page', () => {
    const all = chainEntries(null, drafts, key);
    expect(verifyChain(all, null, key)).toMatchObject({ ok: true, entries: 5 });
    expect(verifyChain(all.slice(3), all[2] ?? null, key)).toMatchObject({ ok: true, entries: 2 });
  });

  it('seals with the key: the same entries under another key or none have other hashes', () => {
    const other = chainEntries(plain[1] ?? null, drafts.slice(2), toAuditKey('x'.repeat(32)));
    expect(other.map((e) => e.hash)).not.toEqual(sealed.map((e) => e.hash));
    const first = sealed[0];
    if (first === undefined) throw new Error('empty chain');
    expect(first.hash).not.toBe(`k1:${hashEntry(first.prevHash, first)}`);
  });

  it('breaks at a plain entry appended after sealed ones, even correctly chained', () => {
    const append = forged(last(chain), hashEntry);
    expect(verifyChain([...chain, append], null, key)).toEqual({
      ok: false,
      brokenAtSeq: 6,
      reason: 'not sealed with the audit key, after sealed entries',
    });
    // Between sealed entries too: everything after the first seal must be sealed.
    const inserted = forged(sealed[0] ?? null, hashEntry);
    const after = chainEntries(inserted, drafts.slice(0, 1), key);
    expect(verifyChain([...plain, sealed[0] as AuditEntry, inserted, ...after], null, key)).toEqual(
      { ok: false, brokenAtSeq: 4, reason: 'not sealed with the audit key, after sealed entries' },
    );
  });

  it('breaks at an entry sealed with another key, or with a made-up seal', () => {
    const otherKey = toAuditKey('another-audit-key-of-32-characters!');
    const reason =
      'its seal does not match its content under the audit key (altered, or sealed with another key)';
    const wrongKey = forged(last(chain), (prev, e) => sealEntry(otherKey, prev, e));
    expect(verifyChain([...chain, wrongKey], null, key)).toEqual({
      ok: false,
      brokenAtSeq: 6,
      reason,
    });
    const madeUp = forged(last(chain), (prev, e) => `k1:${hashEntry(prev, e)}`);
    expect(verifyChain([...chain, madeUp], null, key)).toEqual({
      ok: false,
      brokenAtSeq: 6,
      reason,
    });
    // The whole chain checked with a key it was not sealed with fails at its first seal.
    expect(verifyChain(chain, null, otherKey)).toEqual({ ok: false, brokenAtSeq: 3, reason });
  });

  it('breaks at a sealed entry whose content was changed', () => {
    const tampered = chain.map((e) =>
      e.seq === 4 ? { ...e, data: e.data.replace('"percent":13', '"percent":50') } : e,
    );
    expect(verifyChain(tampered, null, key)).toMatchObject({ ok: false, brokenAtSeq: 4 });
  });

  it('does not report a chain with sealed entries as holding without the key', () => {
    expect(verifyChain(chain)).toEqual({
      ok: false,
      uncheckedFromSeq: 3,
      reason: KEY_NEEDED_REASON,
    });
    expect(KEY_NEEDED_REASON).toMatch(/HERALD_AUDIT_KEY/);
    // The plain entries before the first seal are still checked.
    const broken = chain.map((e) => (e.seq === 2 ? { ...e, kind: 'review' } : e));
    expect(verifyChain(broken)).toMatchObject({ ok: false, brokenAtSeq: 2 });
    // A page that starts after a sealed entry cannot be passed either.
    expect(verifyChain(sealed.slice(1), sealed[0] ?? null)).toMatchObject({
      ok: false,
      uncheckedFromSeq: 4,
    });
  });

  it('verifies a plain chain with the key configured: entries from before the key stay plain', () => {
    expect(verifyChain(plain, null, key)).toMatchObject({ ok: true, entries: 2 });
  });

  it('ends a chain with the key configured only at a sealed entry', () => {
    expect(verifyChainEnd(last(chain), key)).toBeNull();
    // An empty log holds; without the key nothing is asked of the last entry.
    expect(verifyChainEnd(null, key)).toBeNull();
    expect(verifyChainEnd(last(plain), null)).toBeNull();
    // Entries from before the key, and none after: verify says what to do.
    expect(verifyChainEnd(last(plain), key)).toEqual({
      ok: false,
      brokenAtSeq: 2,
      reason: UNSEALED_HEAD_REASON,
    });
    expect(UNSEALED_HEAD_REASON).toMatch(/verify again after it/);
  });

  it('fails a chain whose sealed entries were rewritten without the key as a plain chain', () => {
    // Everything from the first seal on re-chained in plain SHA-256, entry 4 made an approval
    // that overrode the guardrails: every hash holds, so only the end can tell.
    let prev = last(plain);
    const rewritten = sealed.map((e) => {
      const fields = {
        seq: e.seq,
        atMs: e.atMs,
        kind: e.seq === 4 ? 'review' : e.kind,
        subject: e.subject,
        data:
          e.seq === 4
            ? JSON.stringify({ decisionId: 'd3', action: 'approve', by: 'rita', override: true })
            : e.data,
      };
      const prevHash = prev?.hash ?? GENESIS_HASH;
      const entry = { ...fields, prevHash, hash: hashEntry(prevHash, fields) };
      prev = entry;
      return entry;
    });
    const whole = [...plain, ...rewritten];
    expect(verifyChain(whole, null, key)).toMatchObject({ ok: true, entries: 5 });
    expect(verifyChainEnd(last(whole), key)).toEqual({
      ok: false,
      brokenAtSeq: 5,
      reason: UNSEALED_HEAD_REASON,
    });
  });
});
