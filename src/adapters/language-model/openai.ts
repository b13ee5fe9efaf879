import type * as OpenAiSdk from 'openai';
import type { APIError } from 'openai';
import { onFirstUse } from '../../core/on-first-use.js';
import type { Clock } from '../../ports/clock.js';
import type {
  GenerationOutcome,
  GenerationRequest,
  LanguageModel,
  Usage,
} from '../../ports/language-model.js';
import type { Random } from '../../ports/random.js';
import { toChatMessages } from './chat-prompt.js';
import { parseVariants } from './parse-variants.js';

const sdk = onFirstUse<typeof OpenAiSdk>('openai');

export interface OpenAiLanguageModelOptions {
  apiKey: string;
  /** Default `https://api.openai.com/v1`; any server speaking chat completions will do. */
  baseUrl?: string;
  model: string;
  /** Default 0.7. */
  temperature?: number;
  /** Per attempt, from sending the request to the last byte of the reply. Default 20 s. */
  timeoutMs?: number;
  /** Further attempts after a 408, 429, 5xx, connection failure or timeout. Default 3. */
  maxRetries?: number;
  /** A Retry-After longer than this ends the call as retryable instead of waiting. Default 60 s. */
  maxRetryAfterMs?: number;
  pricePer1kInputUsd: number;
  pricePer1kOutputUsd: number;
  /** Jitter for the backoff between attempts. */
  random: Random;
  /** Reads a Retry-After given as an HTTP date. */
  clock: Clock;
  /** Resolves `false` if `signal` aborts first. Default: a timer. */
  wait?: (ms: number, signal: AbortSignal) => Promise<boolean>;
}

type Failure = Extract<GenerationOutcome, { ok: false }>;

const failure = (reason: string, retryable: boolean, usage: Usage | null = null): Failure => ({
  ok: false,
  reason,
  retryable,
  usage,
});

// The caller's abort is not the server's fault: the same request may be tried again later.
const aborted = (): Failure => failure('aborted', true);

const waitOnTimer = (ms: number, signal: AbortSignal): Promise<boolean> =>
  new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/**
 * How long the server asked us to wait: `retry-after-ms`, else `Retry-After` in seconds or as
 * an HTTP date (RFC 9110 §10.2.3); `null` when it did not say.
 */
export const retryAfterMs = (headers: Headers | undefined, nowMs: number): number | null => {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after')?.trim();
  if (value === undefined || value === '') return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Number.parseFloat(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
};

/**
 * Exponential backoff for attempt `retry` (0 for the first retry): 0.5 s doubling up to 8 s,
 * less up to a quarter at random so that callers rate-limited together do not retry together.
 */
export const backoffMs = (retry: number, random: Random): number =>
  Math.min(500 * 2 ** retry, 8_000) * (1 - 0.25 * random.next());

const toUsage = (
  usage: { prompt_tokens: number; completion_tokens: number } | undefined,
  options: OpenAiLanguageModelOptions,
): Usage => {
  const promptTokens = usage?.prompt_tokens ?? 0;
  const completionTokens = usage?.completion_tokens ?? 0;
  return {
    promptTokens,
    completionTokens,
    costUsd:
      (promptTokens * options.pricePer1kInputUsd + completionTokens * options.pricePer1kOutputUsd) /
      1000,
  };
};

/** The most of a server's own text a failure reason quotes, in characters. */
const PROVIDER_TEXT_MAX_CHARS = 300;

// A key shorter than this is a placeholder for a local server ("ollama", "none"): replacing
// every occurrence of it would garble the reason and hide nothing.
const MIN_REDACTED_KEY_CHARS = 8;

/**
 * `text` with every occurrence of the API key replaced (`sk-…REDACTED`), and anything else that
 * looks like an OpenAI key (`sk-` and 16 characters or more) too: a server or proxy that echoes
 * the Authorization header in its error ("Incorrect API key provided: sk-…") would otherwise put
 * the key on stdout and in `--out`.
 */
export const redactApiKey = (text: string, apiKey: string): string => {
  const mask = apiKey.startsWith('sk-') ? 'sk-…REDACTED' : '…REDACTED';
  const keyless = apiKey.length >= MIN_REDACTED_KEY_CHARS ? text.split(apiKey).join(mask) : text;
  return keyless.replace(/\bsk-[A-Za-z0-9_-]{16,}/g, 'sk-…REDACTED');
};

/** A server's own text as a failure reason quotes it: redacted, then cut to 300 characters. */
export const toProviderText = (text: string, apiKey: string): string => {
  const characters = Array.from(redactApiKey(text, apiKey));
  return characters.length <= PROVIDER_TEXT_MAX_CHARS
    ? characters.join('')
    : `${characters.slice(0, PROVIDER_TEXT_MAX_CHARS).join('')}… (${String(characters.length - PROVIDER_TEXT_MAX_CHARS)} more characters)`;
};

/** What a failed attempt means; `headers` carries Retry-After when the server sent one. */
const toAttemptFailure = (
  error: unknown,
  state: { aborted: boolean; timedOut: boolean; timeoutMs: number; apiKey: string },
): { failure: Failure; headers?: Headers } => {
  if (state.aborted) return { failure: aborted() };
  if (state.timedOut || error instanceof sdk().APIConnectionTimeoutError)
    return { failure: failure(`timed out after ${state.timeoutMs} ms`, true) };
  const quote = (text: string) => toProviderText(text, state.apiKey);
  const status = error instanceof sdk().APIError ? (error as APIError).status : undefined;
  if (status !== undefined) {
    const retryable = status === 408 || status === 429 || status >= 500;
    const what = status === 429 ? 'rate limited' : retryable ? 'server error' : 'rejected';
    const { message, headers } = error as APIError;
    return {
      failure: failure(`${what}: ${quote(message)}`, retryable),
      ...(headers && { headers }),
    };
  }
  // The whole body arrived and is not JSON (the SDK's `response.json()` threw): the server
  // answered, badly. Asking again is not a transport retry; the tokens it may have billed
  // cannot be read from it.
  if (error instanceof SyntaxError || (error instanceof Error && error.name === 'SyntaxError'))
    return {
      failure: failure(`malformed reply: the body is not JSON (${quote(error.message)})`, false),
    };
  // Connection refused or reset, or a body cut off mid-way: the server may do better next time.
  const message = error instanceof Error ? error.message : String(error);
  return { failure: failure(`request failed: ${quote(message)}`, true) };
};

/**
 * Marketing copy from an OpenAI-compatible chat-completions API in JSON mode. Retries 408,
 * 429 and 5xx answers, connection failures and timeouts up to `maxRetries` times, waiting as
 * long as Retry-After says or else with jittered exponential backoff; never throws for what
 * the server or the network did, and stops waiting as soon as `signal` aborts.
 */
export const createOpenAiLanguageModel = (options: OpenAiLanguageModelOptions): LanguageModel => {
  const temperature = options.temperature ?? 0.7;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const maxRetries = options.maxRetries ?? 3;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const wait = options.wait ?? waitOnTimer;
  const baseUrl = options.baseUrl ?? 'https://api.openai.com/v1';
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new RangeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
  if (!Number.isInteger(maxRetries) || maxRetries < 0)
    throw new RangeError(`maxRetries must be a whole number, got ${maxRetries}`);
  // The SDK's own retries are off: its wait between attempts ignores the caller's signal and
  // any Retry-After length, and its timeout stops at the headers, not the end of the body.
  // Passing every credential field keeps it from filling them in from OPENAI_* variables.
  const client = new (sdk().OpenAI)({
    apiKey: options.apiKey,
    baseURL: baseUrl,
    organization: null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: timeoutMs,
    logLevel: 'off',
  });

  const attempt = async (request: GenerationRequest, signal: AbortSignal) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const completion = await client.chat.completions.create(
        {
          model: options.model,
          temperature,
          response_format: { type: 'json_object' },
          messages: toChatMessages(request),
        },
        { signal: AbortSignal.any([signal, deadline]), maxRetries: 0, timeout: timeoutMs },
      );
      return { completion } as const;
    } catch (error) {
      return toAttemptFailure(error, {
        aborted: signal.aborted,
        timedOut: deadline.aborted,
        timeoutMs,
        apiKey: options.apiKey,
      });
    }
  };

  return {
    name: 'openai',
    cacheKey: JSON.stringify(['openai', baseUrl, options.model, temperature]),
    async generate(request, signal) {
      for (let retry = 0; ; retry += 1) {
        if (signal.aborted) return aborted();
        const result = await attempt(request, signal);
        if ('failure' in result) {
          if (!result.failure.retryable || retry >= maxRetries) return result.failure;
          const askedMs = retryAfterMs(result.headers, options.clock.nowMs());
          if (askedMs !== null && askedMs > maxRetryAfterMs)
            return failure(
              `${result.failure.reason} (asked to wait ${Math.ceil(askedMs / 1000)} s)`,
              true,
            );
          if (!(await wait(askedMs ?? backoffMs(retry, options.random), signal))) return aborted();
          continue;
        }
        const { completion } = result;
        // A proxy or a wrong base URL can answer 200 with a page or an error object: the SDK
        // hands that over as it came (text, or JSON of another shape).
        if (
          typeof completion !== 'object' ||
          (completion as unknown) === null ||
          !Array.isArray((completion as { choices?: unknown }).choices)
        )
          return failure('malformed reply: not a chat completion', false);
        const usage = toUsage(completion.usage, options);
        const choice = completion.choices[0] as
          (typeof completion.choices)[number] | null | undefined;
        if (typeof choice !== 'object' || choice === null)
          return failure('malformed reply: no choices', false, usage);
        if (typeof (choice.message as unknown) !== 'object' || (choice.message as unknown) === null)
          return failure('malformed reply: a choice without a message', false, usage);
        if (choice.finish_reason === 'length')
          return failure('malformed reply: cut off at the token limit', false, usage);
        const content = choice.message.content;
        if (content === null || content === '')
          return failure(
            `malformed reply: no content${choice.message.refusal ? ` (refused: ${toProviderText(choice.message.refusal, options.apiKey)})` : ''}`,
            false,
            usage,
          );
        const variants = parseVariants(content, request.count);
        if (!variants.ok)
          return failure(
            `malformed reply: ${toProviderText(variants.error, options.apiKey)}`,
            false,
            usage,
          );
        // A compatible server or proxy may leave the model out: the one asked for wrote it.
        const model =
          typeof completion.model === 'string' && completion.model !== ''
            ? completion.model
            : options.model;
        return { ok: true, variants: variants.value, usage, model };
      }
    },
  };
};
