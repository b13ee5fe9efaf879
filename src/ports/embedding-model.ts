/** Vectors for texts, one per text in the order given, all of one length. */
export type EmbeddingOutcome =
  | {
      ok: true;
      vectors: Float32Array[];
      /** Tokens the server billed for the texts (0 when it did not say). */
      tokens: number;
    }
  | {
      ok: false;
      reason: string;
      /** True when the same request may succeed later (rate limit, server error, timeout). */
      retryable: boolean;
    };

/** Turns text into vectors whose cosine similarity says how alike two texts are in meaning. */
export interface EmbeddingModel {
  readonly name: string;
  /**
   * What besides the text shapes a vector (the model id, its endpoint, the dimensions asked
   * for): vectors kept under one key are never compared with another's.
   */
  readonly cacheKey: string;
  /**
   * Resolves with one vector per text, or with `ok: false` for anything the model or its
   * transport did (malformed reply, rate limit, server error, timeout, `signal` aborted); it
   * rejects only on a bug in Herald.
   */
  embed(texts: readonly string[], signal: AbortSignal): Promise<EmbeddingOutcome>;
}
