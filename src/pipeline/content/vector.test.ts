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
      { text: 'Weekend Flash Sale. weekend', body: null },
      {
        text: 'Weekend Flash Sale: The weekend flash sale brings deals on every plan. Deals end on Sunday.',
        body: 'The weekend flash sale brings deals on every plan. Deals end on Sunday.',
      },
    ]);
  });

  it('hold about PASSAGE_CHARS each, and a long body is cut into at most MAX_PASSAGES', () => {
    const sentence = 'Every plan has a dashboard with reports for the whole team this month. ';
    const texts = (body: string) =>
      passagesOf(aDocument({ title: 'T', keywords: [], body })).map((p) => p.text);
    const medium = texts(sentence.repeat(50));
    expect(medium[0]).toBe('T');
    expect(medium.length).toBeGreaterThan(3);
    for (const p of medium.slice(1)) expect(p.length).toBeLessThanOrEqual(PASSAGE_CHARS + 3);
    // Every sentence is in some passage, none cut.
    const count = (passages: string[], of: string) =>
      passages.slice(1).join(' ').split(of.trim()).length - 1;
    expect(count(medium, sentence)).toBe(50);
    const long = texts(sentence.repeat(5_000));
    expect(long.length).toBeLessThanOrEqual(MAX_PASSAGES + 1);
    expect(count(long, sentence)).toBe(5_000);
    for (const p of texts('x'.repeat(30_000)))
      expect(p.length).toBeLessThanOrEqual(MAX_PASSAGE_CHARS + 3);
  });

  it('hold the whole of a body under 32 × 24,000 characters, whatever its sentences', () => {
    // Whole sentences leave room at each passage's end: sized for 31 exactly, 8 of 200 were
    // left out, and 28 of 60 long ones.
    for (const [length, times] of [
      [150, 200],
      [170, 180],
      [1_700, 60],
      [23_000, 32],
    ] as const) {
      const sentence = `${'word '.repeat(length / 5 - 1)}end.`;
      const numbered = Array.from({ length: times }, (_, i) => `S${i} ${sentence}`);
      const passages = passagesOf(
        aDocument({ title: 'T', keywords: [], body: numbered.join(' ') }),
      );
      expect(passages.length).toBeLessThanOrEqual(MAX_PASSAGES + 1);
      const held = passages.map((p) => p.body ?? '').join(' ');
      expect([length, held.includes(`S${times - 1} `)]).toEqual([length, true]);
    }
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

  it('keep the vectors a call needs, going past the cache’s size with the oldest others', async () => {
    const model = aModel();
    const cache: VectorCache = new Map();
    await similaritiesTo(model, [sale], 'doorbuster', cache, signal);
    for (let i = 0; cache.size < 50_000; i += 1) cache.set(`other\n${i}`, Float32Array.of(1));
    // The sale's vectors were the oldest: read again now, they are the newest.
    await similaritiesTo(model, [sale], 'doorbuster', cache, signal);
    const found = await similaritiesTo(model, [sale, training], 'bargain deals', cache, signal);
    if (!found.ok) throw new Error(found.reason);
    expect(found.matches.get('SALE')?.similarity).toBeGreaterThan(0.5);
    expect(cache.size).toBe(50_000);
    expect(model.asked).toHaveLength(2);
  });

  it('take the snippet from the body, even when the title and keywords were closest', async () => {
    const tagged = aDocument({
      id: 'TAGGED',
      title: 'Deals',
      audience: ['All'],
      keywords: ['bargain', 'clearance'],
      body: 'Everything in the store is marked down from Friday to Sunday. Come early.',
    });
    const found = await similaritiesTo(aModel(), [tagged], 'doorbuster', new Map(), signal);
    if (!found.ok) throw new Error(found.reason);
    expect(found.matches.get('TAGGED')?.passage).toBe(tagged.body);
    const [hit] = search(createContentIndex([tagged]), 'doorbuster', {
      atMs: at,
      minScore: 0,
      topK: 3,
      similar: { matches: found.matches, minSimilarity: 0.35 },
    });
    expect(hit?.snippet).toBe('Everything in the store is marked down from Friday to Sunday.');
  });

  it('ask again for everything when the model’s vectors change length', async () => {
    const cache: VectorCache = new Map();
    await similaritiesTo(aModel(), [sale], 'sale', cache, signal);
    const longer = aModel((texts) => ({
      ok: true,
      vectors: texts.map((t) => Float32Array.from([...standInVector(t), 0])),
      tokens: texts.length,
    }));
    const again = await similaritiesTo(longer, [sale], 'deals', cache, signal);
    expect(again.ok).toBe(true);
    expect(longer.asked).toEqual([['deals'], ['deals', ...passagesOf(sale).map((p) => p.text)]]);
    // Both calls were billed: a text a token.
    expect(again).toMatchObject({ tokens: 1 + 1 + passagesOf(sale).length });
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
