import type { EmbeddingModel, EmbeddingOutcome } from '../../ports/embedding-model.js';
import { createOpenAiCaller, failure, type CallSettings } from './openai-transport.js';

export interface OpenAiEmbeddingOptions extends CallSettings {
  model: string;
  /** Asked of models that can shorten their vectors (`text-embedding-3-*`); absent: the model's own. */
  dimensions?: number;
  /** Texts per request. Default 64 (the API takes up to 2,048). */
  batchSize?: number;
}

type Vectors = Extract<EmbeddingOutcome, { ok: true }>;

/**
 * The vectors of one reply in input order, or what is wrong with it: one finite vector for
 * each of `count` inputs, each input's index once, every vector `length` long when given.
 */
export const readEmbeddings = (
  reply: unknown,
  count: number,
  length: number | null,
): Vectors | { ok: false; error: string } => {
  const data = (reply as { data?: unknown } | null)?.data;
  if (typeof reply !== 'object' || reply === null || !Array.isArray(data))
    return { ok: false, error: 'not an embedding list' };
  if (data.length !== count)
    return { ok: false, error: `${data.length} vectors for ${count} texts` };
  const vectors: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(count);
  let dimensions = length;
  for (const [at, item] of data.entries()) {
    const { index, embedding } = (item ?? {}) as { index?: unknown; embedding?: unknown };
    // A server that leaves the index out answers in input order.
    const slot = index === undefined ? at : index;
    if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= count)
      return { ok: false, error: `item ${at} has no index between 0 and ${count - 1}` };
    if (vectors[slot] !== undefined) return { ok: false, error: `index ${slot} appears twice` };
    if (!Array.isArray(embedding) || embedding.length === 0)
      return { ok: false, error: `item ${at} has no embedding (an array of numbers)` };
    if (!embedding.every((x) => typeof x === 'number' && Number.isFinite(x)))
      return {
        ok: false,
        error: `item ${at}'s embedding holds something other than finite numbers`,
      };
    dimensions ??= embedding.length;
    if (embedding.length !== dimensions)
      return {
        ok: false,
        error: `item ${at}'s embedding has ${embedding.length} dimensions, not ${dimensions}`,
      };
    vectors[slot] = Float32Array.from(embedding as number[]);
  }
  const tokens = (reply as { usage?: { prompt_tokens?: unknown } }).usage?.prompt_tokens;
  return {
    ok: true,
    vectors: vectors as Float32Array[],
    tokens: typeof tokens === 'number' && Number.isFinite(tokens) ? tokens : 0,
  };
};

/**
 * Vectors from an OpenAI-compatible embeddings API (`POST /embeddings`, floats asked for:
 * servers other than OpenAI's seldom speak base64), in requests of `batchSize` texts, each
 * retried as the chat adapter's calls are. Any request failing fails the whole call.
 */
export const createOpenAiEmbeddingModel = (options: OpenAiEmbeddingOptions): EmbeddingModel => {
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 2048)
    throw new RangeError(`batchSize must be a whole number from 1 to 2048, got ${batchSize}`);
  const caller = createOpenAiCaller(options);
  return {
    name: 'openai-embeddings',
    cacheKey: JSON.stringify([
      'openai-embeddings',
      caller.baseUrl,
      options.model,
      options.dimensions ?? null,
    ]),
    async embed(texts, signal) {
      const vectors: Float32Array[] = [];
      let tokens = 0;
      for (let from = 0; from < texts.length; from += batchSize) {
        const input = texts.slice(from, from + batchSize);
        const result = await caller.call(
          (client, call) =>
            client.embeddings.create(
              {
                model: options.model,
                input,
                encoding_format: 'float',
                ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
              },
              call,
            ),
          signal,
        );
        if (!result.ok) return result;
        const read = readEmbeddings(
          result.value,
          input.length,
          vectors[0]?.length ?? options.dimensions ?? null,
        );
        if (!read.ok) return failure(`malformed reply: ${read.error}`, false);
        vectors.push(...read.vectors);
        tokens += read.tokens;
      }
      return { ok: true, vectors, tokens };
    },
  };
};
