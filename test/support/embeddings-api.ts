import type { ServerResponse } from 'node:http';
import { startLocalApi, type Answer } from './chat-completions-api.js';

/**
 * Concepts of the stand-in embedding model below. It is a test fixture, not a model: each word
 * of a concept counts along that concept's axis, so texts about the same thing in other words
 * point the same way, as a real model's vectors do.
 */
const concepts: readonly (readonly string[])[] = [
  ['sale', 'sales', 'discount', 'discounts', 'deal', 'deals', 'doorbuster', 'bargain', 'clearance'],
  ['security', 'secure', 'protection', 'encryption', 'safe', 'safety', 'threat', 'safeguard'],
  ['learn', 'learning', 'training', 'tutorials', 'course', 'courses', 'webinars', 'skills'],
  ['team', 'teams', 'collaboration', 'sharing', 'together', 'coworkers', 'colleagues'],
  ['analytics', 'dashboard', 'insights', 'reporting', 'reports', 'metrics', 'charts'],
];
/** Axes for every other word, hashed: they make texts differ without making them alike. */
const OTHER_AXES = 16;
const OTHER_WEIGHT = 0.25;
export const STAND_IN_DIMENSIONS = concepts.length + OTHER_AXES;

const axisOf = new Map(concepts.flatMap((words, axis) => words.map((w) => [w, axis] as const)));

const hashed = (word: string): number => {
  let h = 0;
  for (const ch of word) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return concepts.length + (h % OTHER_AXES);
};

/** The stand-in's vector for `text`. */
export const standInVector = (text: string): number[] => {
  const vector = new Array<number>(STAND_IN_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
    const axis = axisOf.get(word);
    if (axis === undefined) vector[hashed(word)] = (vector[hashed(word)] ?? 0) + OTHER_WEIGHT;
    else vector[axis] = (vector[axis] ?? 0) + 1;
  }
  return vector;
};

/** An embeddings request as the stand-in received it. */
export interface EmbeddingsRequest {
  url: string | undefined;
  authorization: string | undefined;
  body: { model: string; input: string[]; encoding_format?: string; dimensions?: number };
}

/** Answers an embeddings request with the stand-in's vectors, in OpenAI's shape. */
export const embeddings =
  (request: () => EmbeddingsRequest | undefined): Answer =>
  (res: ServerResponse) => {
    const input = request()?.body.input ?? [];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        object: 'list',
        data: input.map((text, index) => ({
          object: 'embedding',
          index,
          embedding: standInVector(text),
        })),
        model: request()?.body.model,
        usage: {
          prompt_tokens: input.join(' ').split(/\s+/).length,
          total_tokens: input.join(' ').split(/\s+/).length,
        },
      }),
    );
  };

/**
 * A server on 127.0.0.1 speaking OpenAI's embeddings shape with the stand-in's vectors, unless
 * `answers` says otherwise (answer i serves request i, the last repeats); closed after each test.
 */
export const startEmbeddingsApi = async (
  answers?: Answer[],
): Promise<{ baseUrl: string; seen: EmbeddingsRequest[] }> => {
  const seen: EmbeddingsRequest[] = [];
  const last = () => seen.at(-1);
  const baseUrl = await startLocalApi(answers ?? [embeddings(last)], (request) => {
    seen.push(request as EmbeddingsRequest);
  });
  return { baseUrl, seen };
};
