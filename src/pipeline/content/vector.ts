import type { EmbeddingModel } from '../../ports/embedding-model.js';
import type { ContentDocument } from './document.js';
import { toSentences } from './text.js';

/** A document's likeness in meaning to a query: its closest passage's cosine similarity. */
export interface VectorMatch {
  similarity: number;
  /**
   * The stretch of the body most alike to the query (the body itself when only the title and
   * keywords were alike, or the body has no passage): where a snippet is taken from.
   */
  passage: string;
}

/** A passage's length in characters when the document is short enough for 32 of them. */
export const PASSAGE_CHARS = 1_000;
/** At most this many passages a document: a longer body gets longer passages. */
export const MAX_PASSAGES = 32;
/**
 * The longest passage, in characters (about 6,000 tokens, under the 8,192 an OpenAI embedding
 * input may hold): only a body of more than 32 of them (about 768,000 characters) is cut.
 */
export const MAX_PASSAGE_CHARS = 24_000;

/** Vectors kept between calls, by model and text; the oldest go past `MAX_CACHED_VECTORS`. */
export type VectorCache = Map<string, Float32Array>;
const MAX_CACHED_VECTORS = 50_000;

/** `text` in pieces of at most `size` code points, cut at spaces where there are any. */
const piecesOf = (text: string, size: number): string[] => {
  const points = Array.from(text);
  const pieces: string[] = [];
  for (let from = 0; from < points.length;) {
    let to = Math.min(from + size, points.length);
    if (to < points.length) {
      const space = points.lastIndexOf(' ', to);
      if (space > from) to = space;
    }
    const piece = points.slice(from, to).join('').trim();
    if (piece !== '') pieces.push(piece);
    from = to;
  }
  return pieces;
};

/** One text a document is embedded as, and the stretch of its body it holds (none for the head). */
export interface Passage {
  text: string;
  body: string | null;
}

/** The body's sentences in runs of at most `size` characters (a longer sentence in pieces). */
const packed = (sentences: readonly string[], size: number): string[] => {
  const runs: string[] = [];
  let current = '';
  for (const sentence of sentences)
    for (const piece of sentence.length > size ? piecesOf(sentence, size) : [sentence]) {
      if (current !== '' && current.length + 1 + piece.length > size) {
        runs.push(current);
        current = '';
      }
      current = current === '' ? piece : `${current} ${piece}`;
    }
  if (current !== '') runs.push(current);
  return runs;
};

/**
 * What a document is embedded as: its title with its keywords, then its body in passages of
 * whole sentences (about `PASSAGE_CHARS` each, longer for a long body so that there are at most
 * `MAX_PASSAGES`), each led by the title so that a passage is read as part of its document.
 * Only a body longer than `MAX_PASSAGES` × `MAX_PASSAGE_CHARS` is cut (its end not embedded).
 */
export const passagesOf = (doc: ContentDocument): Passage[] => {
  const head = doc.keywords.length === 0 ? doc.title : `${doc.title}. ${doc.keywords.join(', ')}`;
  const sentences = toSentences(doc.body);
  let size = Math.min(
    MAX_PASSAGE_CHARS,
    Math.max(PASSAGE_CHARS, Math.ceil(doc.body.length / MAX_PASSAGES)),
  );
  let runs = packed(sentences, size);
  // Whole sentences leave room at the end of each run: longer runs until they fit.
  while (runs.length > MAX_PASSAGES && size < MAX_PASSAGE_CHARS) {
    size = Math.min(MAX_PASSAGE_CHARS, Math.ceil(size * 1.25));
    runs = packed(sentences, size);
  }
  return [
    { text: head, body: null },
    ...runs.slice(0, MAX_PASSAGES).map((body) => ({ text: `${doc.title}: ${body}`, body })),
  ];
};

// A run reads the same documents for each segment: their passages are cut once.
const cut = new WeakMap<ContentDocument, Passage[]>();
const passagesRead = (doc: ContentDocument): Passage[] => {
  const known = cut.get(doc);
  if (known !== undefined) return known;
  const passages = passagesOf(doc);
  cut.set(doc, passages);
  return passages;
};

/** The cosine of the angle between `a` and `b` (0 when either is all zeros). */
export const cosine = (a: Float32Array, b: Float32Array): number => {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa === 0 || bb === 0 ? 0 : dot / Math.sqrt(aa * bb);
};

const keyOf = (model: EmbeddingModel, text: string): string => `${model.cacheKey}\n${text}`;

export type Similarities =
  | {
      ok: true;
      /** By document id. */
      matches: Map<string, VectorMatch>;
      /** Tokens billed for the texts not in the cache (0 when all were). */
      tokens: number;
    }
  | { ok: false; reason: string };

/**
 * How alike in meaning each document is to `query`: every passage and the query embedded
 * (those in `cache` are not asked for again), each document's similarity its closest passage's.
 * A model that fails, or throws, gives `ok: false` with why: retrieval then reads terms alone.
 */
export const similaritiesTo = async (
  model: EmbeddingModel,
  docs: readonly ContentDocument[],
  query: string,
  cache: VectorCache,
  signal: AbortSignal,
): Promise<Similarities> => {
  const passages = new Map(docs.map((doc) => [doc.id, passagesRead(doc)]));
  const wanted = new Set<string>([query, ...[...passages.values()].flat().map((p) => p.text)]);
  const missing = [...wanted].filter((text) => !cache.has(keyOf(model, text)));
  let tokens = 0;
  if (missing.length > 0) {
    const answer = await model.embed(missing, signal).catch((error: unknown) => ({
      ok: false as const,
      reason: `the embedding model failed: ${error instanceof Error ? error.message : String(error)}`,
      retryable: true,
    }));
    if (!answer.ok) return { ok: false, reason: answer.reason };
    const dimensions = answer.vectors[0]?.length;
    if (answer.vectors.length !== missing.length)
      return {
        ok: false,
        reason: `the embedding model gave ${answer.vectors.length} vectors for ${missing.length} texts`,
      };
    if (answer.vectors.some((v) => v.length !== dimensions))
      return { ok: false, reason: 'the embedding model gave vectors of different lengths' };
    // Vectors of another length were made by another model (the server's changed under the
    // same name): none of them is compared with these; everything is asked for again.
    const cached = [...wanted].map((text) => cache.get(keyOf(model, text))).find(Boolean);
    if (cached !== undefined && cached.length !== dimensions) {
      cache.clear();
      const again = await similaritiesTo(model, docs, query, cache, signal);
      // Both calls were billed.
      return again.ok ? { ...again, tokens: again.tokens + answer.tokens } : again;
    }
    tokens = answer.tokens;
    for (const [i, text] of missing.entries()) {
      const vector = answer.vectors[i];
      if (vector !== undefined) cache.set(keyOf(model, text), vector);
    }
  }
  // The texts read now become the newest, so the oldest that go are ones no call needed lately.
  for (const text of wanted) {
    const key = keyOf(model, text);
    const vector = cache.get(key);
    if (vector === undefined) continue;
    cache.delete(key);
    cache.set(key, vector);
  }
  for (const key of cache.keys()) {
    if (cache.size <= Math.max(MAX_CACHED_VECTORS, wanted.size)) break;
    cache.delete(key);
  }
  const vectorOf = (text: string) => cache.get(keyOf(model, text));
  const asked = vectorOf(query);
  if (asked === undefined) return { ok: false, reason: 'the query was not embedded' };
  const matches = new Map<string, VectorMatch>();
  for (const doc of docs) {
    let similarity: number | null = null;
    let nearest: { similarity: number; body: string } | null = null;
    for (const passage of passages.get(doc.id) ?? []) {
      const vector = vectorOf(passage.text);
      if (vector === undefined || vector.length !== asked.length) continue;
      const alike = cosine(asked, vector);
      if (similarity === null || alike > similarity) similarity = alike;
      if (passage.body !== null && (nearest === null || alike > nearest.similarity))
        nearest = { similarity: alike, body: passage.body };
    }
    if (similarity !== null)
      matches.set(doc.id, { similarity, passage: nearest?.body ?? doc.body });
  }
  return { ok: true, matches, tokens };
};
