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
  strategy: string;
  tone: string;
  /** How many variants to write. */
  count: number;
  snippets: SourceSnippet[];
  incentive: Incentive | null;
  brand: { name: string; voice: string[] };
  maxSubjectLength: number;
}

/** One piece of marketing copy as the model wrote it; not yet checked against the snippets. */
export interface GeneratedVariant {
  subject: string;
  preheader: string;
  body: string;
  cta: string;
  /** Doc ids of the snippets the copy says it draws on. */
  citations: string[];
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
   * Resolves with the variants, or with `ok: false` for anything the model or its transport
   * did (refusal, malformed reply, rate limit, server error, timeout, `signal` aborted); it
   * rejects only on a bug in Herald.
   */
  generate(request: GenerationRequest, signal: AbortSignal): Promise<GenerationOutcome>;
}
