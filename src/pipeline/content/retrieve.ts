import MiniSearch from 'minisearch';
import { AppError } from '../../core/errors.js';
import { usableAt, type ContentDocument } from './document.js';
import { toSentences, toTerms } from './text.js';
import type { VectorMatch } from './vector.js';

/** A BM25 full-text index over approved documents (title and keywords boosted over the body). */
export interface ContentIndex {
  readonly byId: ReadonlyMap<string, ContentDocument>;
  readonly engine: MiniSearch<ContentDocument>;
}

export interface SearchOptions {
  /** A segment's audience; a document for `All` matches every audience. Absent: no filter. */
  audience?: string;
  category?: string;
  /** Only documents usable at this moment (approved, not expired) are returned. */
  atMs: number;
  /** Raw BM25 score below which a result is dropped. */
  minScore: number;
  /**
   * Share of the best result's score (0–1) below which a result is dropped: raw BM25 scores
   * have no fixed scale, so how relevant a match is reads against the best one. Absent: 0.
   */
  minRelativeScore?: number;
  /**
   * A text of which every result must hold at least one term (in its title, keywords or body):
   * a campaign's own query, searched together with its segment's themes, so that a document
   * matching the themes alone is not retrieved for it. Absent: any match counts.
   */
  mustMatch?: string;
  topK: number;
  /**
   * Hybrid retrieval: each document's likeness in meaning to the query (to `mustMatch` when it
   * is given: the campaign's own words), by id. Documents at least `minSimilarity` alike are a
   * second ranking, fused with BM25's by reciprocal rank. Absent: BM25 alone.
   */
  similar?: { matches: ReadonlyMap<string, VectorMatch>; minSimilarity: number };
}

export interface RetrievedContent {
  doc: ContentDocument;
  score: number;
  /** The body sentence sharing the most distinct query terms (the first on a tie). */
  snippet: string;
  /** Hybrid retrieval only: the BM25 score (null when terms did not retrieve it). */
  bm25?: number | null;
  /** Hybrid retrieval only: the cosine similarity of its closest passage (null: not embedded). */
  similarity?: number | null;
}

// Title words say what a document is about more than any body sentence; keywords are curated.
const fieldBoost = { title: 3, keywords: 2, body: 1 };
const everyone = 'all';
/**
 * Reciprocal rank fusion's constant (Cormack, Clarke and Büttcher, 2009): a document's fused
 * score is the sum over the rankings holding it of 1 / (60 + its rank there).
 */
export const RRF_K = 60;

/** Indexes `docs`; documents are added in id order so scores never depend on input order. */
export const createContentIndex = (docs: readonly ContentDocument[]): ContentIndex => {
  const byId = new Map<string, ContentDocument>();
  for (const doc of docs) {
    if (byId.has(doc.id)) {
      throw new AppError('invalid-input', `duplicate content document id ${doc.id}`, {
        problems: [{ path: 'id', message: `${doc.id} appears more than once` }],
      });
    }
    byId.set(doc.id, doc);
  }
  const engine = new MiniSearch<ContentDocument>({
    fields: ['title', 'keywords', 'body'],
    storeFields: [],
    extractField: (doc, field) => {
      const value = doc[field as keyof ContentDocument];
      return Array.isArray(value) ? value.join(' ') : value;
    },
    tokenize: toTerms,
    processTerm: (term) => term,
    searchOptions: { boost: fieldBoost, combineWith: 'OR', prefix: false, fuzzy: false },
  });
  engine.addAll([...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  return { byId, engine };
};

const bestSentence = (body: string, queryTerms: ReadonlySet<string>): string => {
  let best = '';
  let bestShared = -1;
  for (const sentence of toSentences(body)) {
    const shared = new Set(toTerms(sentence).filter((term) => queryTerms.has(term))).size;
    if (shared > bestShared) {
      best = sentence;
      bestShared = shared;
    }
  }
  return best;
};

const byId = (a: RetrievedContent, b: RetrievedContent): number =>
  a.doc.id < b.doc.id ? -1 : a.doc.id > b.doc.id ? 1 : 0;

const audienceMatches = (doc: ContentDocument, audience: string | undefined): boolean => {
  if (audience === undefined) return true;
  const wanted = audience.toLowerCase();
  return doc.audience.some((a) => a.toLowerCase() === wanted || a.toLowerCase() === everyone);
};

/**
 * The `topK` documents matching `query` (and at least one term of `mustMatch`, when given) with
 * a score of at least `minScore` and at least `minRelativeScore` × the best one's, restricted to
 * the audience, category and validity asked for, best first (ties broken by id), each with a
 * snippet.
 */
export const search = (
  index: ContentIndex,
  query: string,
  options: SearchOptions,
): RetrievedContent[] => {
  const queryTerms = new Set(toTerms(query));
  if (queryTerms.size === 0 || options.topK <= 0) return [];
  const category = options.category?.toLowerCase();
  const required = options.mustMatch === undefined ? null : new Set(toTerms(options.mustMatch));
  const admits = (doc: ContentDocument): boolean =>
    usableAt(doc, options.atMs) &&
    audienceMatches(doc, options.audience) &&
    (category === undefined || doc.category.toLowerCase() === category);
  const hits = index.engine.search([...queryTerms].join(' '), {
    filter: (hit) => {
      const doc = index.byId.get(String(hit.id));
      return doc !== undefined && admits(doc);
    },
  });
  const results: RetrievedContent[] = [];
  for (const hit of hits) {
    const doc = index.byId.get(String(hit.id));
    if (doc === undefined || hit.score < options.minScore) continue;
    // Exact terms only (no prefix, no fuzziness): the query terms matched are the words found.
    if (required !== null && !hit.queryTerms.some((term) => required.has(term))) continue;
    results.push({ doc, score: hit.score, snippet: bestSentence(doc.body, queryTerms) });
  }
  results.sort((a, b) => b.score - a.score || byId(a, b));
  const floor = (results[0]?.score ?? 0) * (options.minRelativeScore ?? 0);
  const byTerms = results.filter((r) => r.score >= floor);
  if (options.similar === undefined) return byTerms.slice(0, options.topK);
  const { matches, minSimilarity } = options.similar;
  const byMeaning: RetrievedContent[] = [];
  for (const doc of index.byId.values()) {
    const match = matches.get(doc.id);
    if (match === undefined || match.similarity < minSimilarity || !admits(doc)) continue;
    byMeaning.push({
      doc,
      score: match.similarity,
      snippet: bestSentence(match.passage, queryTerms),
    });
  }
  byMeaning.sort((a, b) => b.score - a.score || byId(a, b));
  const fused = new Map<string, RetrievedContent>();
  const add = (ranking: readonly RetrievedContent[], terms: boolean) => {
    for (const [at, r] of ranking.entries()) {
      const known = fused.get(r.doc.id);
      const share = 1 / (RRF_K + at + 1);
      if (known !== undefined) {
        known.score += share;
        if (terms) known.snippet = r.snippet;
        continue;
      }
      fused.set(r.doc.id, {
        doc: r.doc,
        score: share,
        snippet: r.snippet,
        bm25: terms ? r.score : null,
        similarity: matches.get(r.doc.id)?.similarity ?? null,
      });
    }
  };
  add(byTerms, true);
  add(byMeaning, false);
  return [...fused.values()].sort((a, b) => b.score - a.score || byId(a, b)).slice(0, options.topK);
};
