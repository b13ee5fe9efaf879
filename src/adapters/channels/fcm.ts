/**
 * Push through Firebase Cloud Messaging's HTTP v1 API. In: a push delivery (a device's
 * registration token and its platform). Out: what FCM made of it.
 *
 * Sources (firebase.google.com/docs, developers.google.com/identity):
 * - Send: `POST https://fcm.googleapis.com/v1/projects/{project_id}/messages:send` with
 *   `{ message }`; the answer is the Message, whose `name` is
 *   `projects/{project_id}/messages/{message_id}` (reference/fcm/rest/v1/projects.messages/send,
 *   …/projects.messages). Scope `https://www.googleapis.com/auth/firebase.messaging`.
 * - Message: one target (`token`), a cross-platform `notification { title, body }`, string-only
 *   `data`, and per-platform `android` (AndroidConfig: `priority` NORMAL|HIGH, `notification`
 *   with `click_action`), `apns` (ApnsConfig: string `headers`, `payload.aps`) and `webpush`
 *   (WebpushConfig: `headers`, `notification`).
 * - Errors: a google.rpc.Status `{ error: { code, message, status, details } }` whose details
 *   may hold a `type.googleapis.com/google.firebase.fcm.v1.FcmError` with an `errorCode`:
 *   UNREGISTERED (404), INVALID_ARGUMENT (400; an invalid registration token comes as
 *   INVALID_ARGUMENT "The registration token is not a valid FCM registration token"),
 *   SENDER_ID_MISMATCH (403), QUOTA_EXCEEDED (429), UNAVAILABLE (503), INTERNAL (500),
 *   THIRD_PARTY_AUTH_ERROR (401: the APNs certificate or web push key, not our token; the
 *   message fails, since Android messages still go). Our own credentials refused (a 401 after a
 *   fresh token, PERMISSION_DENIED, the token endpoint's invalid_grant or invalid_client) are
 *   the account's fault, not the message's: `suspended`.
 *   (reference/fcm/rest/v1/ErrorCode, cloud-messaging/error-codes).
 * - OAuth for service accounts: an RS256 JWT `{ iss, scope, aud: token_uri, iat, exp ≤ iat +
 *   3600 }` exchanged at `token_uri` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
 *   for `{ access_token, expires_in }` (identity/protocols/oauth2/service-account).
 * FCM takes no idempotency key: a retried send after a lost answer may show twice.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { APNS_FCM_KEYS_BYTES, PUSH_PAYLOAD_LIMIT, pushDataOf } from '../../core/push-payload.js';
import { err, ok, type Result } from '../../core/result.js';
import type { ChannelAdapter, Delivery, DeliveryOutcome } from '../../ports/channel-adapter.js';
import {
  fieldOf,
  retryAfterMsOf,
  sendHttpRequest,
  toRetryOutcome,
  type HttpAnswer,
} from './http-request.js';

/** The fields Herald reads from a Firebase service-account key file. */
export interface FcmServiceAccount {
  project_id: string;
  client_email: string;
  private_key: string;
  token_uri: string;
}

export interface FcmAdapterOptions {
  serviceAccount: FcmServiceAccount;
  /** Default `https://fcm.googleapis.com`. */
  baseUrl?: string;
  /** Per HTTP attempt (token exchange and send alike). Default 10 s. */
  timeoutMs?: number;
  /** Epoch ms; signs the JWT and ages the cached access token. Default `Date.now`. */
  now?: () => number;
  /** Android: the intent action opened when the notification is tapped. */
  androidClickAction?: string;
}

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google's documented maximum assertion lifetime. */
const ASSERTION_LIFETIME_S = 3600;
/** Refresh this long before the access token's expiry so no send carries a dying token. */
const REFRESH_MARGIN_MS = 60_000;

/** The signed service-account assertion exchanged at `token_uri` for an access token. */
export const toServiceAccountJwt = (
  account: Pick<FcmServiceAccount, 'client_email' | 'token_uri'>,
  privateKey: KeyObject,
  nowMs: number,
): string => {
  const iat = Math.floor(nowMs / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({
    iss: account.client_email,
    scope: FCM_SCOPE,
    aud: account.token_uri,
    iat,
    exp: iat + ASSERTION_LIFETIME_S,
  })}`;
  const signature = sign('RSA-SHA256', Buffer.from(unsigned), privateKey).toString('base64url');
  return `${unsigned}.${signature}`;
};

/** The longest FCM keeps a message for a device that is offline: four weeks, in seconds. */
const FCM_MAX_TTL_S = 28 * 24 * 3600;

/**
 * How long FCM may keep the message for a device that is offline, from its `worthForMs`
 * (firebase.google.com/docs/cloud-messaging/customize-messages/setting-message-lifespan: four
 * weeks when not told): seconds, and the moment as APNs takes it (`apns-expiration`, epoch
 * seconds of the wall clock). Null when nothing ends it.
 */
const lifespanOf = (
  delivery: Delivery,
  nowMs: number,
): { seconds: number; epochSeconds: number } | null => {
  if (delivery.worthForMs === undefined) return null;
  const seconds = Math.min(FCM_MAX_TTL_S, Math.max(0, Math.floor(delivery.worthForMs / 1000)));
  return { seconds, epochSeconds: Math.floor(nowMs / 1000) + seconds };
};

/**
 * The `message` FCM sends: the common notification plus only the device platform's block, each
 * with the message's lifespan when it has one (`android.ttl`, APNs' `apns-expiration`, Web
 * Push's `TTL`); a device of no known platform gets the lifespan on all three.
 */
export const toFcmMessage = (
  delivery: Delivery,
  options: Pick<FcmAdapterOptions, 'androidClickAction'> = {},
  nowMs: number = Date.now(),
): Record<string, unknown> => {
  const { subject, body } = delivery.content;
  const titled = subject === null ? { body } : { title: subject, body };
  const data = pushDataOf(body, delivery.messageId);
  const message: Record<string, unknown> = { token: delivery.to, notification: titled, data };
  const life = lifespanOf(delivery, nowMs);
  const androidTtl = life === null ? {} : { ttl: `${String(life.seconds)}s` };
  const apnsExpiration = life === null ? {} : { 'apns-expiration': String(life.epochSeconds) };
  const webTtl = life === null ? {} : { TTL: String(life.seconds) };
  switch (delivery.platform) {
    case 'android':
      message.android = {
        priority: 'HIGH',
        ...androidTtl,
        ...(options.androidClickAction === undefined
          ? {}
          : { notification: { click_action: options.androidClickAction } }),
      };
      break;
    case 'ios':
      // APNs: priority 10 delivers immediately and requires a visible alert, which we send.
      message.apns = {
        headers: { 'apns-priority': '10', ...apnsExpiration },
        payload: { aps: { alert: titled, sound: 'default' } },
      };
      break;
    case 'web':
      // Web Push (RFC 8030 §5.3): Urgency `high` for a user-visible notification.
      message.webpush = {
        headers: { Urgency: 'high', ...webTtl },
        notification: titled,
        // The page a click on the notification opens (WebpushFcmOptions.link, https only).
        ...(data['link'] === undefined ? {} : { fcm_options: { link: data['link'] } }),
      };
      break;
    case undefined:
      if (life !== null) {
        message.android = androidTtl;
        message.apns = { headers: apnsExpiration };
        message.webpush = { headers: webTtl };
      }
      break;
  }
  return message;
};

/** What FCM (and APNs, for iOS) take of a notification (the guard refuses longer ones first). */
export const FCM_PAYLOAD_LIMIT = PUSH_PAYLOAD_LIMIT;

/**
 * The bytes of a message's payload as FCM counts it (its notification and data), and of the
 * APNs payload an iOS message becomes (its payload, the data as keys beside `aps`, and room for
 * FCM's own keys): the larger.
 */
export const fcmPayloadBytes = (message: Record<string, unknown>): number => {
  const data = message['data'] as Record<string, unknown> | undefined;
  const fcm = Buffer.byteLength(JSON.stringify({ notification: message['notification'], data }));
  const apns = message['apns'] as { payload?: Record<string, unknown> } | undefined;
  return Math.max(
    fcm,
    apns?.payload === undefined
      ? 0
      : Buffer.byteLength(JSON.stringify({ ...apns.payload, ...data })) + APNS_FCM_KEYS_BYTES,
  );
};

interface FcmErrorFacts {
  /** The FcmError `errorCode`, else the google.rpc `status`, else null. */
  code: string | null;
  message: string;
  /** FCM named the registration token itself as invalid. */
  badToken: boolean;
}

const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

const toFcmErrorFacts = (json: unknown): FcmErrorFacts => {
  const error = fieldOf(json, 'error');
  const status = fieldOf(error, 'status');
  const rawMessage = fieldOf(error, 'message');
  const message = typeof rawMessage === 'string' ? rawMessage : '';
  const rawDetails = fieldOf(error, 'details');
  const details: unknown[] = Array.isArray(rawDetails) ? rawDetails : [];
  const fcmCode = details
    .filter((d) => fieldOf(d, '@type') === FCM_ERROR_TYPE)
    .map((d) => fieldOf(d, 'errorCode'))
    .find((c): c is string => typeof c === 'string');
  const violations = details
    .filter((d) => fieldOf(d, '@type') === BAD_REQUEST_TYPE)
    .flatMap((d) => {
      const list = fieldOf(d, 'fieldViolations');
      return Array.isArray(list) ? (list as unknown[]) : [];
    });
  const badToken =
    violations.some((v) => fieldOf(v, 'field') === 'message.token') ||
    (fcmCode === 'INVALID_ARGUMENT' && /registration token/i.test(message));
  const code = fcmCode ?? (typeof status === 'string' ? status : null);
  return { code, message, badToken };
};

const describeAnswer = (answer: HttpAnswer, facts: FcmErrorFacts): string =>
  [facts.code, facts.message || answer.text.slice(0, 200)].filter(Boolean).join(': ');

/**
 * How long to wait after FCM's sending quota ran out: it refuses every send until the quota
 * refills, in the following minute (cloud-messaging/throttling-and-quotas), and asks for
 * exponential backoff from at least a minute (reference/fcm/rest/v1/ErrorCode) — a retry after
 * the dispatcher's own backoff (seconds) would only spend an attempt on another 429. A longer
 * Retry-After is kept. The same for a 429 `RESOURCE_EXHAUSTED` whose details name no FcmError
 * (a per-minute project quota reported by Google's front end, `RATE_LIMIT_EXCEEDED`).
 */
export const FCM_QUOTA_WAIT_MS = 60_000;
const quotaWaitMs = (answer: HttpAnswer): number =>
  Math.max(retryAfterMsOf(answer) ?? 0, FCM_QUOTA_WAIT_MS);

/** What an FCM send answer means for the delivery (a 401 reaching here is final). */
export const toFcmOutcome = (answer: HttpAnswer): DeliveryOutcome => {
  if (answer.status >= 200 && answer.status < 300) {
    const name = fieldOf(answer.json, 'name');
    return { kind: 'sent', providerId: typeof name === 'string' ? name : null };
  }
  const facts = toFcmErrorFacts(answer.json);
  const reason = `FCM answered ${answer.status}: ${describeAnswer(answer, facts)}`;
  switch (facts.code) {
    case 'UNREGISTERED':
      return { kind: 'unreachable', reason };
    case 'INVALID_ARGUMENT':
      return facts.badToken ? { kind: 'unreachable', reason } : { kind: 'failed', reason };
    case 'QUOTA_EXCEEDED':
    case 'RESOURCE_EXHAUSTED':
      return toRetryOutcome(answer, describeAnswer(answer, facts), quotaWaitMs(answer));
    case 'UNAVAILABLE':
    case 'INTERNAL':
      return toRetryOutcome(answer, describeAnswer(answer, facts), retryAfterMsOf(answer));
    case 'SENDER_ID_MISMATCH':
      return { kind: 'failed', reason };
    // The APNs key or web push credentials: the device's platform cannot be reached, the
    // customer's device on another may.
    case 'THIRD_PARTY_AUTH_ERROR':
      return { kind: 'failed', reason, device: true };
    default:
      break;
  }
  if (facts.badToken) return { kind: 'unreachable', reason };
  // Our credentials, refused even after a fresh token (401), or a service account without the
  // permission to send (403): every message would get the same answer.
  if (answer.status === 401 || (answer.status === 403 && facts.code === 'PERMISSION_DENIED'))
    return { kind: 'suspended', reason };
  if (answer.status === 429 || answer.status === 408 || answer.status >= 500) {
    return toRetryOutcome(answer, describeAnswer(answer, facts), retryAfterMsOf(answer));
  }
  return { kind: 'failed', reason };
};

interface AccessToken {
  value: string;
  expiresInMs: number;
}

/** What the token endpoint's answer means: a token, or the outcome for the delivery. */
export const toTokenResult = (answer: HttpAnswer): Result<AccessToken, DeliveryOutcome> => {
  // The token is the body: asking again costs nothing (no message went), unlike a send.
  if (answer.status === 200 && answer.bodyLost !== undefined)
    return err({
      kind: 'retry',
      reason: `token endpoint: answered 200, its body cut off: ${answer.bodyLost}`,
      afterMs: null,
    });
  if (answer.status === 200) {
    const value = fieldOf(answer.json, 'access_token');
    const expiresIn = fieldOf(answer.json, 'expires_in');
    if (typeof value === 'string' && value !== '' && typeof expiresIn === 'number') {
      return ok({ value, expiresInMs: expiresIn * 1000 });
    }
    return err({ kind: 'failed', reason: 'token endpoint answered 200 without an access token' });
  }
  const code = fieldOf(answer.json, 'error');
  const description = fieldOf(answer.json, 'error_description');
  const detail = [code, description].filter((d) => typeof d === 'string' && d !== '').join(': ');
  if (answer.status === 429 || answer.status === 408 || answer.status >= 500) {
    const retry = toRetryOutcome(answer, detail, retryAfterMsOf(answer));
    return err(
      retry.kind === 'retry' ? { ...retry, reason: `token endpoint: ${retry.reason}` } : retry,
    );
  }
  // 400 invalid_grant / 401 invalid_client: the service account or its key is wrong, for
  // every message alike.
  return err({
    kind: 'suspended',
    reason: `token endpoint refused the service account (${answer.status})${detail === '' ? '' : `: ${detail}`}`,
  });
};

/** Resolves with `work`, or with `aborted` as soon as `signal` aborts. */
const raceAbort = <T>(work: Promise<T>, signal: AbortSignal, aborted: T): Promise<T> => {
  if (signal.aborted) return Promise.resolve(aborted);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      resolve(aborted);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
};

const ABORTED: Result<never, DeliveryOutcome> = err({
  kind: 'retry',
  reason: 'attempt aborted',
  afterMs: null,
});

/**
 * Builds the FCM adapter. Throws at once when the service account's private key cannot be
 * read (a configuration error); `send` itself never throws.
 */
export const createFcmAdapter = (options: FcmAdapterOptions): ChannelAdapter => {
  const account = options.serviceAccount;
  const baseUrl = (options.baseUrl ?? 'https://fcm.googleapis.com').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? (() => Date.now());
  // Keys pasted into env files often carry literal `\n` for the PEM's line breaks.
  const privateKey = createPrivateKey(account.private_key.replace(/\\n/g, '\n'));
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new Error('FCM service account private_key must be an RSA key (RS256)');
  }
  const sendUrl = `${baseUrl}/v1/projects/${encodeURIComponent(account.project_id)}/messages:send`;
  const idle = new AbortController().signal;

  let cached: { value: string; refreshAtMs: number } | null = null;
  let pending: Promise<Result<string, DeliveryOutcome>> | null = null;

  const fetchToken = async (): Promise<Result<string, DeliveryOutcome>> => {
    const requestedAtMs = now();
    const attempt = await sendHttpRequest({
      url: account.token_uri,
      headers: { accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: JWT_BEARER_GRANT,
        assertion: toServiceAccountJwt(account, privateKey, requestedAtMs),
      }),
      timeoutMs,
      // Shared by every send waiting for it: each waiter races its own signal instead.
      signal: idle,
    });
    if (attempt.kind === 'retry') {
      return err({ ...attempt, reason: `token endpoint: ${attempt.reason}` });
    }
    const token = toTokenResult(attempt.answer);
    if (!token.ok) return token;
    cached = {
      value: token.value.value,
      refreshAtMs: requestedAtMs + token.value.expiresInMs - REFRESH_MARGIN_MS,
    };
    return ok(token.value.value);
  };

  const accessToken = (signal: AbortSignal): Promise<Result<string, DeliveryOutcome>> => {
    if (cached !== null && now() < cached.refreshAtMs) return Promise.resolve(ok(cached.value));
    pending ??= fetchToken().finally(() => {
      pending = null;
    });
    return raceAbort(pending, signal, ABORTED);
  };

  const post = async (message: Record<string, unknown>, token: string, signal: AbortSignal) =>
    sendHttpRequest({
      url: sendUrl,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json; charset=utf-8',
      },
      body: JSON.stringify({ message }),
      timeoutMs,
      signal,
    });

  return {
    name: 'fcm',
    channel: 'push',
    async send(delivery, signal) {
      if (delivery.to.trim() === '') return { kind: 'unreachable', reason: 'no push token' };
      // FCM refuses it whatever is tried again: no request, and the reason says what to shorten.
      const message = toFcmMessage(delivery, options, now());
      const bytes = fcmPayloadBytes(message);
      if (bytes > FCM_PAYLOAD_LIMIT)
        return {
          kind: 'failed',
          reason: `the push payload is ${String(bytes)} bytes, over the ${String(FCM_PAYLOAD_LIMIT)} FCM and APNs take: shorten the title or body`,
        };
      for (let refreshed = false; ; refreshed = true) {
        const token = await accessToken(signal);
        if (!token.ok) return token.error;
        const attempt = await post(message, token.value, signal);
        if (attempt.kind === 'retry') return attempt;
        const { answer } = attempt;
        // A 401 usually means our access token expired or was revoked early: fetch a new one
        // once. THIRD_PARTY_AUTH_ERROR is also a 401 but blames the APNs/web push credentials.
        const staleToken =
          answer.status === 401 && toFcmErrorFacts(answer.json).code !== 'THIRD_PARTY_AUTH_ERROR';
        if (!staleToken || refreshed) return toFcmOutcome(answer);
        if (cached?.value === token.value) cached = null;
      }
    },
    close: () => Promise.resolve(),
  };
};
