import { describe, expect, it } from 'vitest';
import {
  AuditJson,
  chainEntries,
  GENESIS_HASH,
  hashEntry,
  verifyChain,
  type AuditDraft,
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
