import type * as OpenAiSdk from 'openai';
import type { APIError } from 'openai';
import { onFirstUse } from '../../core/on-first-use.js';
import type { Clock } from '../../ports/clock.js';
import type { Random } from '../../ports/random.js';

export const sdk = onFirstUse<typeof OpenAiSdk>('openai');

/** A call that did not answer, or answered in a way that is no answer. */
export interface CallFailure {
  ok: false;
  reason: string;
  /** True when the same request may succeed later (rate limit, server error, timeout). */
  retryable: boolean;
}

export const failure = (reason: string, retryable: boolean): CallFailure => ({
  ok: false,
  reason,
  retryable,
});

// The caller's abort is not the server's fault: the same request may be tried again later.
export const aborted = (): CallFailure => failure('aborted', true);

export const waitOnTimer = (ms: number, signal: AbortSignal): Promise<boolean> =>
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
export const toAttemptFailure = (
  error: unknown,
  state: { aborted: boolean; timedOut: boolean; timeoutMs: number; apiKey: string },
): { failure: CallFailure; headers?: Headers } => {
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

/** How an OpenAI-compatible client calls and retries: the options both adapters share. */
export interface CallSettings {
  apiKey: string;
  /** Default `https://api.openai.com/v1`. */
  baseUrl?: string;
  /** Per attempt, from sending the request to the last byte of the reply. Default 20 s. */
  timeoutMs?: number;
  /** Further attempts after a 408, 429, 5xx, connection failure or timeout. Default 3. */
  maxRetries?: number;
  /** A Retry-After longer than this ends the call as retryable instead of waiting. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Jitter for the backoff between attempts. */
  random: Random;
  /** Reads a Retry-After given as an HTTP date. */
  clock: Clock;
  /** Resolves `false` if `signal` aborts first. Default: a timer. */
  wait?: (ms: number, signal: AbortSignal) => Promise<boolean>;
}

/** One endpoint's client and its retrying call, as `createOpenAiCaller` builds them. */
export interface OpenAiCaller {
  readonly baseUrl: string;
  /**
   * `request` with the client, retried as the settings say; its answer, or why there is none.
   * `request` gets the signal and timeout each attempt must use.
   */
  call<T>(
    request: (
      client: OpenAiSdk.OpenAI,
      options: { signal: AbortSignal; maxRetries: 0; timeout: number },
    ) => Promise<T>,
    signal: AbortSignal,
  ): Promise<{ ok: true; value: T } | CallFailure>;
}

/**
 * A client for an OpenAI-compatible API whose calls retry 408, 429 and 5xx answers, connection
 * failures and timeouts up to `maxRetries` times, waiting as long as Retry-After says or else
 * with jittered exponential backoff; a call never throws for what the server or the network
 * did, and stops waiting as soon as `signal` aborts.
 */
export const createOpenAiCaller = (settings: CallSettings): OpenAiCaller => {
  const timeoutMs = settings.timeoutMs ?? 20_000;
  const maxRetries = settings.maxRetries ?? 3;
  const maxRetryAfterMs = settings.maxRetryAfterMs ?? 60_000;
  const wait = settings.wait ?? waitOnTimer;
  const baseUrl = settings.baseUrl ?? 'https://api.openai.com/v1';
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new RangeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
  if (!Number.isInteger(maxRetries) || maxRetries < 0)
    throw new RangeError(`maxRetries must be a whole number, got ${maxRetries}`);
  // The SDK's own retries are off: its wait between attempts ignores the caller's signal and
  // any Retry-After length, and its timeout stops at the headers, not the end of the body.
  // Passing every credential field keeps it from filling them in from OPENAI_* variables.
  const client = new (sdk().OpenAI)({
    apiKey: settings.apiKey,
    baseURL: baseUrl,
    organization: null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: timeoutMs,
    logLevel: 'off',
  });
  return {
    baseUrl,
    async call(request, signal) {
      for (let retry = 0; ; retry += 1) {
        if (signal.aborted) return aborted();
        const deadline = AbortSignal.timeout(timeoutMs);
        let result;
        try {
          const value = await request(client, {
            signal: AbortSignal.any([signal, deadline]),
            maxRetries: 0,
            timeout: timeoutMs,
          });
          return { ok: true, value };
        } catch (error) {
          result = toAttemptFailure(error, {
            aborted: signal.aborted,
            timedOut: deadline.aborted,
            timeoutMs,
            apiKey: settings.apiKey,
          });
        }
        if (!result.failure.retryable || retry >= maxRetries) return result.failure;
        const askedMs = retryAfterMs(result.headers, settings.clock.nowMs());
        if (askedMs !== null && askedMs > maxRetryAfterMs)
          return failure(
            `${result.failure.reason} (asked to wait ${Math.ceil(askedMs / 1000)} s)`,
            true,
          );
        if (!(await wait(askedMs ?? backoffMs(retry, settings.random), signal))) return aborted();
      }
    },
  };
};
