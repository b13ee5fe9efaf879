import MiniSearch from 'minisearch';
import { AppError } from '../../core/errors.js';
import { usableAt, type ContentDocument } from './document.js';
import { toSentences, toTerms } from './text.js';

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
}

export interface RetrievedContent {
  doc: ContentDocument;
  score: number;
  /** The body sentence sharing the most distinct query terms (the first on a tie). */
  snippet: string;
}

// Title words say what a document is about more than any body sentence; keywords are curated.
const fieldBoost = { title: 3, keywords: 2, body: 1 };
const everyone = 'all';

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
  const hits = index.engine.search([...queryTerms].join(' '), {
    filter: (hit) => {
      const doc = index.byId.get(String(hit.id));
      return (
        doc !== undefined &&
        usableAt(doc, options.atMs) &&
        audienceMatches(doc, options.audience) &&
        (category === undefined || doc.category.toLowerCase() === category)
      );
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
  results.sort(
    (a, b) => b.score - a.score || (a.doc.id < b.doc.id ? -1 : a.doc.id > b.doc.id ? 1 : 0),
  );
  const floor = (results[0]?.score ?? 0) * (options.minRelativeScore ?? 0);
  return results.filter((r) => r.score >= floor).slice(0, options.topK);
};
