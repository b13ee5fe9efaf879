/** A passage of Herald's own content that generated copy may draw facts from. */
export interface SourceSnippet {
  docId: string;
  title: string;
  text: string;
}

/** The one offer a variant may make; `null` means the copy must make none. */
export interface Incentive {
  percent: number;
  code: string;
}

/** What Herald asks a language model to write for one campaign. */
export interface GenerationRequest {
  segment: string;
  /**
   * The strategies, comma-separated, in the order the variants take them (the list repeats
   * when `count` is longer): variant i is written for strategy i.
   */
  strategy: string;
  tone: string;
  /** How many variants to write. */
  count: number;
  snippets: SourceSnippet[];
  incentive: Incentive | null;
  brand: { name: string; voice: string[] };
  /** The longest subject, in characters: the guard policy's, which blocks a longer one. */
  maxSubjectLength: number;
  /** Text every body must hold (the guard policy's signature); absent: none is required. */
  signature?: string;
  /**
   * The strategies that won the segment's finished tests, best first (the creative agent's
   * learnings); absent or empty when nothing was learned.
   */
  learned?: string[];
}

/** One piece of marketing copy as the model wrote it; not yet checked against the snippets. */
export interface GeneratedVariant {
  subject: string;
  preheader: string;
  body: string;
  cta: string;
  /** Doc ids of the snippets the copy says it draws on. */
  citations: string[];
  /** The strategy the model says it wrote the variant for, when it said. */
  strategy?: string;
}

/** What the model billed for its reply. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export type GenerationOutcome =
  | { ok: true; variants: GeneratedVariant[]; usage: Usage; model: string }
  | {
      ok: false;
      reason: string;
      /** True when the same request may succeed later (rate limit, server error, timeout). */
      retryable: boolean;
      /** Set when the model answered and billed tokens, e.g. for a malformed reply. */
      usage: Usage | null;
    };

/** Writes marketing copy variants from Herald's snippets. */
export interface LanguageModel {
  readonly name: string;
  /**
   * Everything besides the request that shapes the copy (the model id, its temperature, the
   * endpoint): copy cached under one key is never served for another.
   */
  readonly cacheKey: string;
  /**
   * Resolves with exactly `request.count` variants, or with `ok: false` for anything the model or its transport
   * did (refusal, malformed reply, rate limit, server error, timeout, `signal` aborted); it
   * rejects only on a bug in Herald.
   */
  generate(request: GenerationRequest, signal: AbortSignal): Promise<GenerationOutcome>;
}
