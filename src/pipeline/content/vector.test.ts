import { describe, expect, it } from 'vitest';
import { standInVector } from '../../../test/support/embeddings-api.js';
import type { EmbeddingModel, EmbeddingOutcome } from '../../ports/embedding-model.js';
import { createContentIndex, search } from './retrieve.js';
import { aDocument } from './test-builders.js';
import {
  cosine,
  MAX_PASSAGE_CHARS,
  MAX_PASSAGES,
  PASSAGE_CHARS,
  passagesOf,
  similaritiesTo,
  type VectorCache,
} from './vector.js';

const signal = new AbortController().signal;

/** An embedding model on the stand-in's vectors, counting the texts it is asked for. */
const aModel = (
  answer?: (texts: readonly string[]) => EmbeddingOutcome,
): EmbeddingModel & { asked: string[][] } => {
  const asked: string[][] = [];
  return {
    name: 'stand-in',
    cacheKey: 'stand-in',
    asked,
    embed(texts) {
      asked.push([...texts]);
      return Promise.resolve(
        answer?.(texts) ?? {
          ok: true,
          vectors: texts.map((t) => Float32Array.from(standInVector(t))),
          tokens: texts.length,
        },
      );
    },
  };
};

const sale = aDocument({
  id: 'SALE',
  title: 'Weekend Flash Sale',
  audience: ['All'],
  keywords: ['weekend'],
  body: 'The weekend flash sale brings deals on every plan. Deals end on Sunday.',
});
const training = aDocument({
  id: 'LEARN',
  title: 'Training Library',
  audience: ['All'],
  keywords: ['tutorials'],
  body: 'Courses and webinars for every skill level. Learning paths for new teams.',
});
const expired = aDocument({
  id: 'OLD',
  title: 'Clearance Bargains',
  audience: ['All'],
  keywords: ['clearance'],
  body: 'Clearance deals and bargains on last year’s plans.',
  expiresAt: '2025-12-01T00:00:00Z',
});
const vip = aDocument({
  id: 'VIP',
  title: 'Gold Discounts',
  audience: ['High-Value'],
  keywords: ['gold'],
  body: 'Gold members get discounts and deals first.',
});
const docs = [sale, training, expired, vip];
const at = Date.parse('2026-01-15T00:00:00Z');

describe('passages', () => {
  it('are the title with keywords, then whole sentences led by the title', () => {
    expect(passagesOf(sale)).toEqual([
      'Weekend Flash Sale. weekend',
      'Weekend Flash Sale: The weekend flash sale brings deals on every plan. Deals end on Sunday.',
    ]);
  });

  it('hold about PASSAGE_CHARS each, and a long body is cut into at most MAX_PASSAGES', () => {
    const sentence = 'Every plan has a dashboard with reports for the whole team this month. ';
    const medium = aDocument({ title: 'T', keywords: [], body: sentence.repeat(50) });
    const passages = passagesOf(medium);
    expect(passages[0]).toBe('T');
    expect(passages.length).toBeGreaterThan(3);
    for (const p of passages.slice(1)) expect(p.length).toBeLessThanOrEqual(PASSAGE_CHARS + 3);
    // Every sentence is in some passage, none cut.
    expect(passages.slice(1).join(' ').split(sentence.trim()).length - 1).toBe(50);

    const long = aDocument({ title: 'T', keywords: [], body: sentence.repeat(5_000) });
    const longPassages = passagesOf(long);
    expect(longPassages.length).toBeLessThanOrEqual(MAX_PASSAGES + 1);
    expect(longPassages.slice(1).join(' ').split(sentence.trim()).length - 1).toBe(5_000);

    const oneWord = aDocument({ title: 'T', keywords: [], body: 'x'.repeat(30_000) });
    for (const p of passagesOf(oneWord))
      expect(p.length).toBeLessThanOrEqual(MAX_PASSAGE_CHARS + 3);
  });
});

describe('cosine', () => {
  it('is 1 for the same direction, 0 for orthogonal vectors and for a zero vector', () => {
    expect(cosine(Float32Array.of(1, 2), Float32Array.of(2, 4))).toBeCloseTo(1, 6);
    expect(cosine(Float32Array.of(1, 0), Float32Array.of(0, 3))).toBe(0);
    expect(cosine(Float32Array.of(0, 0), Float32Array.of(1, 1))).toBe(0);
  });
});

describe('similarities to a query', () => {
  it('read each document at its closest passage, and embed each text once', async () => {
    const model = aModel();
    const cache: VectorCache = new Map();
    const first = await similaritiesTo(model, docs, 'doorbuster', cache, signal);
    if (!first.ok) throw new Error(first.reason);
    const sim = (id: string) => first.matches.get(id)?.similarity ?? Number.NaN;
    expect(sim('SALE')).toBeGreaterThan(0.5);
    expect(sim('LEARN')).toBe(0);
    expect(first.matches.get('SALE')?.passage).toContain('deals on every plan');
    expect(first.tokens).toBeGreaterThan(0);
    const second = await similaritiesTo(model, docs, 'doorbuster', cache, signal);
    expect(second).toEqual({ ...first, tokens: 0 });
    expect(model.asked).toHaveLength(1);
    // A new query is the only text asked for.
    await similaritiesTo(model, docs, 'webinars', cache, signal);
    expect(model.asked[1]).toEqual(['webinars']);
  });

  it('say why when the model fails or throws, and keep nothing', async () => {
    const cache: VectorCache = new Map();
    const failing = aModel(() => ({ ok: false, reason: 'server error: boom', retryable: true }));
    expect(await similaritiesTo(failing, docs, 'sale', cache, signal)).toEqual({
      ok: false,
      reason: 'server error: boom',
    });
    const throwing: EmbeddingModel = {
      name: 'x',
      cacheKey: 'x',
      embed: () => Promise.reject(new Error('bug')),
    };
    expect(await similaritiesTo(throwing, docs, 'sale', cache, signal)).toEqual({
      ok: false,
      reason: 'the embedding model failed: bug',
    });
    const short = aModel((texts) => ({
      ok: true,
      vectors: texts.slice(1).map(() => Float32Array.of(1)),
      tokens: 0,
    }));
    expect(await similaritiesTo(short, docs, 'sale', cache, signal)).toMatchObject({ ok: false });
    expect(cache.size).toBe(0);
  });

  it('ask again for everything when the model’s vectors change length', async () => {
    const cache: VectorCache = new Map();
    await similaritiesTo(aModel(), [sale], 'sale', cache, signal);
    const longer = aModel((texts) => ({
      ok: true,
      vectors: texts.map((t) => Float32Array.from([...standInVector(t), 0])),
      tokens: 1,
    }));
    const again = await similaritiesTo(longer, [sale], 'deals', cache, signal);
    expect(again.ok).toBe(true);
    expect(longer.asked.at(-1)).toEqual(['deals', ...passagesOf(sale)]);
    for (const v of cache.values()) expect(v.length).toBe(standInVector('x').length + 1);
  });
});

describe('hybrid retrieval', () => {
  const index = createContentIndex(docs);
  const base = { atMs: at, minScore: 0, topK: 10 };

  it('finds by meaning what shares no word with the query, within the filters', async () => {
    const found = await similaritiesTo(aModel(), docs, 'doorbuster', new Map(), signal);
    if (!found.ok) throw new Error(found.reason);
    expect(search(index, 'doorbuster', { ...base, audience: 'Standard' })).toEqual([]);
    const hybrid = search(index, 'doorbuster', {
      ...base,
      audience: 'Standard',
      similar: { matches: found.matches, minSimilarity: 0.35 },
    });
    // Not the expired clearance, not the High-Value document.
    expect(hybrid.map((r) => r.doc.id)).toEqual(['SALE']);
    expect(hybrid[0]).toMatchObject({ bm25: null, similarity: expect.any(Number) });
    expect(hybrid[0]?.score).toBeCloseTo(1 / 61, 10);
    expect(hybrid[0]?.snippet).toBe('The weekend flash sale brings deals on every plan.');
    // Below the threshold, nothing.
    expect(
      search(index, 'doorbuster', {
        ...base,
        audience: 'Standard',
        similar: { matches: found.matches, minSimilarity: 0.99 },
      }),
    ).toEqual([]);
  });

  it('fuses the two rankings by reciprocal rank: found by both ranks first', async () => {
    const found = await similaritiesTo(aModel(), docs, 'weekend deals', new Map(), signal);
    if (!found.ok) throw new Error(found.reason);
    const hybrid = search(index, 'weekend deals', {
      ...base,
      audience: 'High-Value',
      similar: { matches: found.matches, minSimilarity: 0.3 },
    });
    expect(hybrid.map((r) => r.doc.id)).toEqual(['SALE', 'VIP']);
    expect(hybrid[0]?.score).toBeCloseTo(2 / 61, 10);
    expect(hybrid[0]?.bm25).toBeGreaterThan(0);
    expect(hybrid[0]?.similarity).toBeGreaterThan(0.3);
    const terms = search(index, 'weekend deals', { ...base, audience: 'High-Value' });
    expect(terms[0]).not.toHaveProperty('bm25');
  });
});
