import { describe, expect, it } from 'vitest';
import { hang, serverError, type Answer } from '../../../test/support/chat-completions-api.js';
import {
  embeddings,
  standInVector,
  startEmbeddingsApi,
  STAND_IN_DIMENSIONS,
  type EmbeddingsRequest,
} from '../../../test/support/embeddings-api.js';
import { createVirtualClock } from '../clock/virtual-clock.js';
import {
  createOpenAiEmbeddingModel,
  readEmbeddings,
  type OpenAiEmbeddingOptions,
} from './openai-embeddings.js';

const signal = new AbortController().signal;

const aModel = (baseUrl: string, overrides: Partial<OpenAiEmbeddingOptions> = {}) =>
  createOpenAiEmbeddingModel({
    apiKey: 'sk-test-embeddings-key',
    baseUrl,
    model: 'embed-test',
    timeoutMs: 500,
    maxRetries: 0,
    random: { next: () => 0 },
    clock: createVirtualClock(Date.UTC(2026, 11, 7)),
    wait: () => Promise.resolve(true),
    ...overrides,
  });

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

describe('the OpenAI-compatible embedding model', () => {
  it('asks for floats of its model, in batches, and gives one vector per text in order', async () => {
    const api = await startEmbeddingsApi();
    const texts = ['flash sale', 'team training', 'secure data', 'dashboard', 'doorbuster'];
    const answer = await aModel(api.baseUrl, { batchSize: 2, dimensions: 21 }).embed(texts, signal);
    expect(api.seen.map((r) => r.body.input)).toEqual([
      ['flash sale', 'team training'],
      ['secure data', 'dashboard'],
      ['doorbuster'],
    ]);
    expect(api.seen[0]).toMatchObject({
      url: '/v1/embeddings',
      authorization: 'Bearer sk-test-embeddings-key',
      body: { model: 'embed-test', encoding_format: 'float', dimensions: 21 },
    });
    if (!answer.ok) throw new Error(answer.reason);
    expect(answer.vectors.map((v) => Array.from(v))).toEqual(texts.map(standInVector));
    expect(answer.vectors[0]).toHaveLength(STAND_IN_DIMENSIONS);
    expect(answer.tokens).toBe(4 + 3 + 1);
  });

  it('puts vectors in input order when the server lists them in another', async () => {
    const holder: { seen?: EmbeddingsRequest[] } = {};
    const reversed: Answer = (res) => {
      const input = holder.seen?.at(-1)?.body.input ?? [];
      json(200, {
        object: 'list',
        data: input.map((text, index) => ({ index, embedding: standInVector(text) })).reverse(),
        usage: { prompt_tokens: 3, total_tokens: 3 },
      })(res);
    };
    const api = await startEmbeddingsApi([reversed]);
    holder.seen = api.seen;
    const answer = await aModel(api.baseUrl).embed(['sale', 'training', 'secure'], signal);
    if (!answer.ok) throw new Error(answer.reason);
    expect(answer.vectors.map((v) => Array.from(v))).toEqual(
      ['sale', 'training', 'secure'].map(standInVector),
    );
  });

  it('waits out a 429 and tries again', async () => {
    const holder: { seen?: EmbeddingsRequest[] } = {};
    const api = await startEmbeddingsApi([
      json(429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '1' }),
      embeddings(() => holder.seen?.at(-1)),
    ]);
    holder.seen = api.seen;
    const waits: number[] = [];
    const answer = await aModel(api.baseUrl, {
      maxRetries: 2,
      wait: (ms) => {
        waits.push(ms);
        return Promise.resolve(true);
      },
    }).embed(['sale'], signal);
    expect(waits).toEqual([1000]);
    expect(api.seen).toHaveLength(2);
    expect(answer.ok).toBe(true);
  });

  it('fails, retryable, on a server error and a timeout, and names a rejected key', async () => {
    const broken = await startEmbeddingsApi([serverError]);
    expect(await aModel(broken.baseUrl).embed(['sale'], signal)).toMatchObject({
      ok: false,
      retryable: true,
      reason: expect.stringContaining('server error'),
    });
    const silent = await startEmbeddingsApi([hang]);
    expect(await aModel(silent.baseUrl).embed(['sale'], signal)).toEqual({
      ok: false,
      retryable: true,
      reason: 'timed out after 500 ms',
    });
    const refused = await startEmbeddingsApi([
      json(401, { error: { message: 'Incorrect API key provided: sk-test-embeddings-key' } }),
    ]);
    const answer = await aModel(refused.baseUrl, { maxRetries: 3 }).embed(['sale'], signal);
    expect(answer).toMatchObject({ ok: false, retryable: false });
    if (answer.ok) return;
    expect(answer.reason).toContain('rejected');
    expect(answer.reason).not.toContain('sk-test-embeddings-key');
    expect(refused.seen).toHaveLength(1);
  });

  it('refuses a malformed reply, not retried, saying what is wrong', async () => {
    const cases: [unknown, string][] = [
      [{ error: 'nope' }, 'not an embedding list'],
      [{ data: [{ index: 0, embedding: [1, 2] }] }, '1 vectors for 2 texts'],
      [
        {
          data: [
            { index: 0, embedding: [1, 2] },
            { index: 0, embedding: [1, 2] },
          ],
        },
        'index 0 appears twice',
      ],
      [
        {
          data: [
            { index: 0, embedding: [1, 2] },
            { index: 1, embedding: [1, 2, 3] },
          ],
        },
        "item 1's embedding has 3 dimensions, not 2",
      ],
      [
        {
          data: [
            { index: 0, embedding: [1, 'x'] },
            { index: 1, embedding: [1, 2] },
          ],
        },
        "item 0's embedding holds something other than finite numbers",
      ],
      [
        {
          data: [
            { index: 0, embedding: [] },
            { index: 1, embedding: [1, 2] },
          ],
        },
        'item 0 has no embedding (an array of numbers)',
      ],
      [
        {
          data: [
            { index: 5, embedding: [1] },
            { index: 1, embedding: [1] },
          ],
        },
        'item 0 has no index between 0 and 1',
      ],
    ];
    for (const [body, error] of cases) {
      const api = await startEmbeddingsApi([json(200, body)]);
      const answer = await aModel(api.baseUrl, { maxRetries: 2 }).embed(['a', 'b'], signal);
      expect(answer).toEqual({ ok: false, retryable: false, reason: `malformed reply: ${error}` });
      expect(api.seen).toHaveLength(1);
    }
  });

  it('refuses vectors whose length differs from the first batch or the dimensions asked', () => {
    expect(readEmbeddings({ data: [{ index: 0, embedding: [1, 2, 3] }] }, 1, 2)).toEqual({
      ok: false,
      error: "item 0's embedding has 3 dimensions, not 2",
    });
    expect(readEmbeddings({ data: [{ embedding: [0.5, 2] }] }, 1, null)).toMatchObject({
      ok: true,
      tokens: 0,
    });
  });

  it('asks nothing of the server for no texts', async () => {
    const api = await startEmbeddingsApi();
    expect(await aModel(api.baseUrl).embed([], signal)).toEqual({
      ok: true,
      vectors: [],
      tokens: 0,
    });
    expect(api.seen).toHaveLength(0);
  });
});
