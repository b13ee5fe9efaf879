/**
 * One HTTP attempt against a channel provider, shared by the HTTP channel adapters. In: a
 * request, the adapter's timeout and the caller's abort signal. Out: the provider's answer, or
 * a `retry` outcome when there was none (timeout, abort, refused or reset connection) or when
 * an answer refusing the message lost the body that says why.
 */
import type { DeliveryOutcome } from '../../ports/channel-adapter.js';

export interface HttpRequest {
  url: string;
  method?: 'POST' | 'PUT' | 'GET';
  headers: Record<string, string>;
  /** A string is sent as is; form fields are sent `application/x-www-form-urlencoded`. */
  body?: string | URLSearchParams;
  /** The whole attempt, body included, is abandoned after it. */
  timeoutMs: number;
  signal: AbortSignal;
}

/** What a provider answered. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The body as text (at most `maxBodyChars` of it). */
  text: string;
  /** The body parsed as JSON, or null when it is empty or not JSON. */
  json: unknown;
  /**
   * Why the body could not be read whole (the connection reset or timed out after the status
   * line): `text` is then empty and `json` null. Only a 2xx, 429 or 5xx answer comes back so.
   */
  bodyLost?: string;
}

export type HttpAttempt =
  { kind: 'answered'; answer: HttpAnswer } | { kind: 'retry'; reason: string; afterMs: null };

/** Provider error bodies are short; a longer one is cut here before it reaches a reason. */
export const maxBodyChars = 16_384;

const describeNetworkError = (error: unknown): string => {
  const cause = error instanceof Error ? error.cause : undefined;
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : undefined;
  if (typeof code === 'string') return code;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
};

const parseJson = (text: string): unknown => {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
};

/**
 * Sends one request and reads the whole answer. Never throws for a network failure: a timeout,
 * the caller's abort, a refused or dropped connection all come back as `retry`. Redirects are
 * not followed (a provider API that redirects is misconfigured; the answer is the 3xx itself).
 */
export const sendHttpRequest = async (request: HttpRequest): Promise<HttpAttempt> => {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const whyFailed = (error: unknown): string =>
    request.signal.aborted
      ? 'attempt aborted'
      : timeout.aborted
        ? `no answer within ${request.timeoutMs} ms`
        : `provider unreachable: ${describeNetworkError(error)}`;
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method ?? 'POST',
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: AbortSignal.any([request.signal, timeout]),
    });
  } catch (error) {
    return { kind: 'retry', reason: whyFailed(error), afterMs: null };
  }
  const { status, headers } = response;
  try {
    const text = (await response.text()).slice(0, maxBodyChars);
    return { kind: 'answered', answer: { status, headers, text, json: parseJson(text) } };
  } catch (error) {
    const lost = whyFailed(error).replace(/^no answer/, 'no whole body');
    // The status line came: a 2xx means the provider took the message, and none of them takes an
    // idempotency key, so a retry would send it a second time. It is answered, its body empty
    // (adapters read their id from it, or a header). A 429 or 5xx says all that is needed
    // (retry, after its Retry-After). Any other refusal says in its body what it refuses — the
    // message, the recipient or Herald's account —, which is lost: nothing was taken, so a retry
    // sends nothing twice and hears the reason whole.
    if ((status >= 200 && status < 300) || status === 429 || status >= 500)
      return {
        kind: 'answered',
        answer: { status, headers, text: '', json: null, bodyLost: lost },
      };
    return {
      kind: 'retry',
      reason: `provider answered ${status}, its body cut off: ${lost}`,
      afterMs: null,
    };
  }
};

/**
 * The wait a `Retry-After` value asks for (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date
 * measured from `referenceMs`. Null when absent or unreadable; never negative.
 */
export const toRetryAfterMs = (value: string | null, referenceMs: number | null): number | null => {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP-date form starts with a day name; Date.parse alone would take "-5" for a year.
  if (!/^[A-Za-z]{3}/.test(trimmed)) return null;
  const atMs = Date.parse(trimmed);
  if (Number.isNaN(atMs) || referenceMs === null) return null;
  return Math.max(0, atMs - referenceMs);
};

/**
 * The answer's own `Date` header in ms, the reference for waits given as points in time: the
 * provider's clock measures both, so skew between it and Herald's clock does not matter.
 */
export const answerDateMs = (answer: HttpAnswer): number | null => {
  const date = answer.headers.get('date');
  if (date === null) return null;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? null : ms;
};

/** The wait the answer's `Retry-After` header asks for, or null. */
export const retryAfterMsOf = (answer: HttpAnswer): number | null =>
  toRetryAfterMs(answer.headers.get('retry-after'), answerDateMs(answer));

/**
 * `retry` for a 429 or 5xx answer, naming the status and the provider's words; `throttled`
 * (by default for a 429) when the provider refused it for its own rate limit.
 */
export const toRetryOutcome = (
  answer: HttpAnswer,
  detail: string,
  afterMs: number | null,
  throttled = answer.status === 429,
): DeliveryOutcome => ({
  kind: 'retry',
  reason: `provider answered ${answer.status}${detail === '' ? '' : `: ${detail}`}`,
  afterMs,
  ...(throttled ? { throttled: true as const } : {}),
});

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A field of a parsed JSON object, or undefined when the value is not an object. */
export const fieldOf = (value: unknown, key: string): unknown =>
  isRecord(value) ? value[key] : undefined;
