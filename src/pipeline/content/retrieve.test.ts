import { describe, expect, it } from 'vitest';
import { createContentIndex, search } from './retrieve.js';
import {
  aDocument,
  loadScenarioCustomers,
  loadScenarioDocuments,
  sharedDataDir,
  sharedDataNote,
} from './test-builders.js';

const at = Date.parse('2026-01-15T00:00:00Z');
const base = { atMs: at, minScore: 0, topK: 10 };

const docs = [
  aDocument({
    id: 'D1',
    title: 'Premium Widget Features',
    keywords: ['premium', 'analytics'],
    body: 'Advanced tools for teams. The premium analytics dashboard shows live data. Support is included.',
  }),
  aDocument({
    id: 'D2',
    title: 'Getting Started Guide',
    category: 'Support',
    audience: ['New Customer'],
    keywords: ['onboarding'],
    body: 'Welcome aboard. Our analytics tour takes ten minutes.',
  }),
  aDocument({
    id: 'D3',
    title: 'Referral Rewards',
    category: 'Promotion',
    audience: ['All'],
    keywords: ['referral'],
    body: 'Share and earn credits. Analytics of your referrals are in the dashboard.',
  }),
  aDocument({
    id: 'D4',
    title: 'Expired Analytics Offer',
    audience: ['All'],
    body: 'Analytics analytics analytics.',
    expiresAt: '2026-01-01T00:00:00Z',
  }),
];

describe('search', () => {
  const index = createContentIndex(docs);

  it('ranks a title and keyword match above a body-only match', () => {
    const ids = search(index, 'premium analytics', base).map((r) => r.doc.id);
    expect(ids[0]).toBe('D1');
    expect(ids).toContain('D3');
  });

  it('gives documents for All to every audience and hides other audiences', () => {
    const ids = search(index, 'analytics', { ...base, audience: 'New Customer' }).map(
      (r) => r.doc.id,
    );
    expect(ids.sort()).toEqual(['D2', 'D3']);
  });

  it('filters by category and leaves out expired or not yet approved documents', () => {
    expect(
      search(index, 'analytics', { ...base, category: 'promotion' }).map((r) => r.doc.id),
    ).toEqual(['D3']);
    expect(search(index, 'analytics', base).map((r) => r.doc.id)).not.toContain('D4');
    const early = Date.parse('2025-10-01T00:00:00Z');
    expect(search(index, 'analytics', { ...base, atMs: early })).toEqual([]);
  });

  it('drops results under minScore and keeps topK', () => {
    const all = search(index, 'premium analytics', base);
    const cut = all[1]?.score ?? 0;
    const kept = search(index, 'premium analytics', { ...base, minScore: cut });
    expect(kept.every((r) => r.score >= cut)).toBe(true);
    expect(kept.length).toBeLessThan(all.length);
    expect(search(index, 'premium analytics', { ...base, topK: 1 })).toHaveLength(1);
  });

  it('drops results under minRelativeScore × the best score among those kept', () => {
    const all = search(index, 'premium analytics', base);
    const [best, second] = all;
    if (best === undefined || second === undefined) throw new Error('two results expected');
    const share = second.score / best.score;
    const atSecond = search(index, 'premium analytics', {
      ...base,
      minRelativeScore: share - 1e-9,
    });
    expect(atSecond.map((r) => r.doc.id)).toEqual(all.slice(0, 2).map((r) => r.doc.id));
    const above = search(index, 'premium analytics', { ...base, minRelativeScore: share + 1e-9 });
    expect(above.map((r) => r.doc.id)).toEqual([best.doc.id]);
    // Relative to the best match the audience may see, not to one it may not.
    const forNew = search(index, 'premium analytics', {
      ...base,
      audience: 'New Customer',
      minRelativeScore: 0.99,
    });
    expect(forNew).toHaveLength(1);
  });

  it('keeps only documents holding a term of mustMatch, however well the rest match', () => {
    // D1 and D2 match the themes ("premium analytics") only; D3 also says "referral".
    const themed = search(index, 'referral premium analytics', base).map((r) => r.doc.id);
    expect(themed).toEqual(expect.arrayContaining(['D1', 'D2', 'D3']));
    const asked = { ...base, mustMatch: 'referral' };
    expect(search(index, 'referral premium analytics', asked).map((r) => r.doc.id)).toEqual(['D3']);
    // The share of the best match reads against the documents kept: D1 scores above D3.
    expect(
      search(index, 'referral premium analytics', { ...asked, minRelativeScore: 0.99 }).map(
        (r) => r.doc.id,
      ),
    ).toEqual(['D3']);
    for (const mustMatch of ['doorbuster', 'the and of'])
      expect(search(index, 'premium analytics', { ...base, mustMatch })).toEqual([]);
  });

  it('matches an accented word whichever Unicode form the document or the query is in', () => {
    const decomposed = 'Cre\u0300me Bru\u0302le\u0301e'; // as macOS and some editors save it
    const dessert = aDocument({
      id: 'D5',
      title: `${decomposed} Week`,
      keywords: [decomposed.toLowerCase()],
      body: `Our ${decomposed} is back.`,
    });
    const withDessert = createContentIndex([...docs, dessert]);
    for (const query of ['crème brûlée', decomposed, 'ＣＲÈＭＥ'])
      expect([query, search(withDessert, query, base).map((r) => r.doc.id)]).toEqual([
        query,
        ['D5'],
      ]);
    expect(search(withDessert, 'bru', base)).toEqual([]);
  });

  it('picks the sentence sharing the most query terms as snippet', () => {
    const [first] = search(index, 'premium analytics dashboard', base);
    expect(first?.snippet).toBe('The premium analytics dashboard shows live data.');
  });

  it('orders equal scores by id whatever the input order', () => {
    const twins = [
      aDocument({ id: 'B', title: 'Same', keywords: [], body: 'Same words here.' }),
      aDocument({ id: 'A', title: 'Same', keywords: [], body: 'Same words here.' }),
    ];
    const ids = search(createContentIndex(twins), 'same words', base).map((r) => r.doc.id);
    expect(ids).toEqual(['A', 'B']);
    const reversed = search(createContentIndex([...twins].reverse()), 'same words', base);
    expect(reversed.map((r) => r.doc.id)).toEqual(['A', 'B']);
  });

  it('returns nothing for a query of stop words only', () => {
    expect(search(index, 'the and of', base)).toEqual([]);
  });

  it('refuses duplicate ids', () => {
    expect(() => createContentIndex([docs[0] ?? aDocument(), docs[0] ?? aDocument()])).toThrow(
      /D1/,
    );
  });
});

describe.skipIf(sharedDataDir === undefined)('search over the scenario content', () => {
  const scenario = loadScenarioDocuments();
  const index = createContentIndex(scenario);
  // The scenario's tiers, read as the content team's audiences.
  const audienceOfTier: Record<string, string> = {
    Gold: 'High-Value',
    Silver: 'Standard',
    Bronze: 'New Customer',
  };

  it('finds the premium widget document for gold customers', () => {
    const [first] = search(index, 'premium widget features', {
      ...base,
      audience: 'High-Value',
      topK: 3,
    });
    expect(first?.doc.id).toBe('DOC001');
    expect(first?.snippet).toMatch(/Premium Widget/);
  });

  it('keeps a document off a campaign query none of whose words it holds', () => {
    const themes = 'features value popular new';
    const found = (query: string) =>
      search(index, `${query} ${themes}`, {
        ...base,
        audience: 'Standard',
        minRelativeScore: 0.1,
        mustMatch: query,
        topK: 3,
      }).map((r) => r.doc.id);
    // "Automation Workflows" (DOC013) matched the segment's themes only.
    expect(found('referral')).toEqual(['DOC011']);
    // "Flash Sale Weekend Special" starts on a Friday: one of the query's words is enough.
    expect(found('black friday doorbuster')).toEqual(['DOC017']);
    expect(found('doorbuster')).toEqual([]);
  });

  it('serves every customer only documents for their audience or for All', () => {
    const customers = loadScenarioCustomers();
    expect(customers).toHaveLength(250);
    for (const customer of customers) {
      const audience = audienceOfTier[customer.tier] ?? 'Standard';
      const results = search(index, 'upgrade premium support analytics', { ...base, audience });
      expect(results.length).toBeGreaterThan(0);
      for (const { doc } of results) {
        expect(doc.audience.some((a) => a === audience || a === 'All')).toBe(true);
      }
    }
  });
});
if (sharedDataDir === undefined) it.skip(sharedDataNote, () => undefined);
