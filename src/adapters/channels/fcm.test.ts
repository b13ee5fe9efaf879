import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import type { Delivery } from '../../ports/channel-adapter.js';
import { pushLinkOf, pushPayloadBytes } from '../../core/push-payload.js';
import {
  createFcmAdapter,
  fcmPayloadBytes,
  toFcmMessage,
  toFcmOutcome,
  toServiceAccountJwt,
  toTokenResult,
} from './fcm.js';
import type { HttpAnswer } from './http-request.js';

const anAnswer = (status: number, json: unknown, headers: Record<string, string> = {}) =>
  ({
    status,
    headers: new Headers(headers),
    text: json === null ? '' : JSON.stringify(json),
    json,
  }) satisfies HttpAnswer;

const fcmError = (code: number, status: string, message: string, errorCode?: string) => ({
  error: {
    code,
    message,
    status,
    details:
      errorCode === undefined
        ? []
        : [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }],
  },
});

const aPush = (overrides: Partial<Delivery> = {}): Delivery => ({
  messageId: 'msg-7',
  customerId: toCustomerId('u-7'),
  channel: 'push',
  class: 'transactional',
  template: null,
  to: 'token-7',
  content: {
    subject: null,
    preheader: null,
    body: 'Your order shipped.',
    html: null,
    from: null,
    replyTo: null,
    footerAddress: null,
    unsubscribeUrl: null,
  },
  ...overrides,
});

describe('toServiceAccountJwt', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const account = { client_email: 'svc@p.iam.gserviceaccount.com', token_uri: 'https://t/token' };
  const jwt = toServiceAccountJwt(account, privateKey, 1_767_000_000_999);
  const [header = '', claims = '', signature = ''] = jwt.split('.');
  const decode = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString());

  it('signs header and claims with RS256 so the public key verifies them', () => {
    const signed = Buffer.from(`${header}.${claims}`);
    expect(verify('RSA-SHA256', signed, publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
    expect(decode(header)).toEqual({ alg: 'RS256', typ: 'JWT' });
  });

  it('claims the messaging scope for an hour from now, in whole seconds', () => {
    expect(decode(claims)).toEqual({
      iss: 'svc@p.iam.gserviceaccount.com',
      scope: 'https://www.googleapis.com/auth/firebase.messaging',
      aud: 'https://t/token',
      iat: 1_767_000_000,
      exp: 1_767_003_600,
    });
  });

  it('uses URL-safe base64 without padding', () => {
    expect(jwt).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });
});

describe('pushPayloadBytes, as the guard counts a push before its device is chosen', () => {
  it('is the payload of the platform where it is largest, as the adapter builds it', () => {
    const content = { ...aPush().content, subject: 'Back in stock', body: 'Your size is back.' };
    const bytes = (platform?: 'ios' | 'android' | 'web') =>
      fcmPayloadBytes(
        toFcmMessage(aPush(platform === undefined ? { content } : { content, platform })),
      );
    const judged = pushPayloadBytes(content, aPush().messageId);
    expect(judged).toBe(Math.max(bytes('ios'), bytes('android'), bytes('web'), bytes()));
    const linked = { ...content, body: 'Back: https://shop.example.com/p/7?utm_source=herald.' };
    const linkedBytes = (platform: 'ios' | 'android' | 'web') =>
      fcmPayloadBytes(toFcmMessage(aPush({ content: linked, platform })));
    expect(pushPayloadBytes(linked, aPush().messageId)).toBe(
      Math.max(linkedBytes('ios'), linkedBytes('android'), linkedBytes('web')),
    );
  });
});

describe('the page a push opens', () => {
  const withBody = (body: string, platform?: 'web') =>
    toFcmMessage(
      aPush({
        content: { ...aPush().content, body },
        ...(platform === undefined ? {} : { platform }),
      }),
    );

  it('is the first https link of its text, for an app in data and for the web as fcm_options', () => {
    const body =
      'Your size is back (https://shop.example.com/p/7?utm_source=herald&utm_id=m7). See also https://shop.example.com/b';
    const link = 'https://shop.example.com/p/7?utm_source=herald&utm_id=m7';
    expect(withBody(body).data).toEqual({ herald_message_id: 'msg-7', link });
    expect(withBody(body, 'web').webpush).toMatchObject({ fcm_options: { link } });
    for (const [text, link] of [
      ['Shop now: https://shop.example.com/sale.', 'https://shop.example.com/sale'],
      [
        'Ends tonight: “https://shop.example.com/sale?utm_source=herald”',
        'https://shop.example.com/sale?utm_source=herald',
      ],
      ['See https://shop.example.com/sale… hurry', 'https://shop.example.com/sale'],
      ['**https://shop.example.com/sale**', 'https://shop.example.com/sale'],
      ['(https://shop.example.com/w/(summer))', 'https://shop.example.com/w/(summer)'],
      ['(see https://shop.example.com/a).', 'https://shop.example.com/a'],
      ['«https://shop.example.com/fr»', 'https://shop.example.com/fr'],
    ])
      expect(pushLinkOf(text ?? '')).toBe(link);
  });

  it('is none when the text links nowhere, or only over plain http', () => {
    for (const body of ['Your order shipped.', 'See http://shop.example.com/p/7']) {
      expect(withBody(body).data).toEqual({ herald_message_id: 'msg-7' });
      expect(withBody(body, 'web').webpush).not.toHaveProperty('fcm_options');
    }
  });
});

describe('toFcmMessage', () => {
  it('sends only the common notification when the platform is unknown', () => {
    expect(toFcmMessage(aPush())).toEqual({
      token: 'token-7',
      notification: { body: 'Your order shipped.' },
      data: { herald_message_id: 'msg-7' },
    });
  });

  it('leaves the title out of the APNs alert when there is no subject', () => {
    const message = toFcmMessage(aPush({ platform: 'ios' }));
    expect(message.apns).toMatchObject({
      payload: { aps: { alert: { body: 'Your order shipped.' } } },
    });
    expect(JSON.stringify(message)).not.toContain('"title"');
  });

  it('tells FCM, on each platform, to keep the message for an offline device no longer than it is worth', () => {
    const nowMs = Date.UTC(2026, 5, 3, 12);
    const until = { worthForMs: 3 * 3_600_000 + 999 };
    expect(toFcmMessage(aPush({ ...until, platform: 'android' }), {}, nowMs).android).toEqual({
      priority: 'HIGH',
      ttl: '10800s',
    });
    expect(toFcmMessage(aPush({ ...until, platform: 'ios' }), {}, nowMs).apns).toMatchObject({
      headers: { 'apns-priority': '10', 'apns-expiration': String(nowMs / 1000 + 10800) },
    });
    expect(toFcmMessage(aPush({ ...until, platform: 'web' }), {}, nowMs).webpush).toMatchObject({
      headers: { Urgency: 'high', TTL: '10800' },
    });
    // A device of no known platform: all three, each ignored by the other platforms.
    expect(toFcmMessage(aPush(until), {}, nowMs)).toMatchObject({
      android: { ttl: '10800s' },
      apns: { headers: { 'apns-expiration': String(nowMs / 1000 + 10800) } },
      webpush: { headers: { TTL: '10800' } },
    });
    // At most FCM's four weeks; nothing said when nothing ends it (FCM's default).
    const far = aPush({ worthForMs: 90 * 86_400_000, platform: 'android' });
    expect(toFcmMessage(far, {}, nowMs).android).toMatchObject({ ttl: '2419200s' });
    expect(toFcmMessage(aPush({ platform: 'android' }), {}, nowMs).android).toEqual({
      priority: 'HIGH',
    });
  });

  it('counts an iOS payload as APNs gets it: the data beside aps, and FCM’s own keys', () => {
    const message = toFcmMessage(aPush({ platform: 'ios' }));
    const apns = message.apns as { payload: Record<string, unknown> };
    expect(fcmPayloadBytes(message)).toBe(
      Buffer.byteLength(JSON.stringify({ ...apns.payload, herald_message_id: 'msg-7' })) + 160,
    );
  });

  it('sends no android notification block without a click action', () => {
    expect(toFcmMessage(aPush({ platform: 'android' })).android).toEqual({ priority: 'HIGH' });
  });
});

describe('toFcmOutcome', () => {
  it('reports the message name as the provider id', () => {
    expect(toFcmOutcome(anAnswer(200, { name: 'projects/p/messages/1' }))).toEqual({
      kind: 'sent',
      providerId: 'projects/p/messages/1',
    });
  });

  it('reports a 200 without a name as sent with no id', () => {
    expect(toFcmOutcome(anAnswer(200, null))).toEqual({ kind: 'sent', providerId: null });
  });

  it.each([
    [
      404,
      fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED'),
      'unreachable',
    ],
    [
      400,
      fcmError(
        400,
        'INVALID_ARGUMENT',
        'The registration token is not a valid FCM registration token',
        'INVALID_ARGUMENT',
      ),
      'unreachable',
    ],
    [400, fcmError(400, 'INVALID_ARGUMENT', 'Message is too big', 'INVALID_ARGUMENT'), 'failed'],
    [403, fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH'), 'failed'],
    [401, fcmError(401, 'UNAUTHENTICATED', 'APNs auth error', 'THIRD_PARTY_AUTH_ERROR'), 'failed'],
    [
      401,
      fcmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
      'suspended',
    ],
    [403, fcmError(403, 'PERMISSION_DENIED', 'Permission denied.'), 'suspended'],
    [404, fcmError(404, 'NOT_FOUND', 'Project not found.'), 'failed'],
    [429, fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', 'QUOTA_EXCEEDED'), 'retry'],
    [503, fcmError(503, 'UNAVAILABLE', 'Unavailable.', 'UNAVAILABLE'), 'retry'],
    [500, fcmError(500, 'INTERNAL', 'Internal error.', 'INTERNAL'), 'retry'],
    [502, null, 'retry'],
    [400, null, 'failed'],
  ])('maps %i %j to %s', (status, body, kind) => {
    expect(toFcmOutcome(anAnswer(status, body)).kind).toBe(kind);
  });

  it('treats a BadRequest on message.token as an unreachable recipient', () => {
    const body = {
      error: {
        code: 400,
        message: "Invalid value at 'message.token'",
        status: 'INVALID_ARGUMENT',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [
              { field: 'message.token', description: 'Invalid registration token' },
            ],
          },
        ],
      },
    };
    expect(toFcmOutcome(anAnswer(400, body)).kind).toBe('unreachable');
  });

  it('names the FCM error code in the reason', () => {
    const outcome = toFcmOutcome(
      anAnswer(403, fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH')),
    );
    expect(outcome).toEqual({
      kind: 'failed',
      reason: 'FCM answered 403: SENDER_ID_MISMATCH: SenderId mismatch',
    });
  });

  it('takes the wait from Retry-After in seconds', () => {
    const answer = anAnswer(503, fcmError(503, 'UNAVAILABLE', 'Unavailable.', 'UNAVAILABLE'), {
      'retry-after': '12',
    });
    expect(toFcmOutcome(answer)).toMatchObject({ kind: 'retry', afterMs: 12_000 });
  });

  it('waits at least a minute once the sending quota is spent, when the quota refills', () => {
    const quota = fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', 'QUOTA_EXCEEDED');
    expect(toFcmOutcome(anAnswer(429, quota))).toMatchObject({ kind: 'retry', afterMs: 60_000 });
    // A shorter Retry-After does not bring it forward; a longer one is kept.
    for (const [header, afterMs] of [
      ['12', 60_000],
      ['90', 90_000],
    ] as const)
      expect(toFcmOutcome(anAnswer(429, quota, { 'retry-after': header }))).toMatchObject({
        kind: 'retry',
        afterMs,
      });
    // Google's front end reports a project's per-minute quota without an FcmError detail.
    const project = fcmError(
      429,
      'RESOURCE_EXHAUSTED',
      "Quota exceeded for quota metric 'Send requests'",
    );
    expect(toFcmOutcome(anAnswer(429, project))).toMatchObject({ kind: 'retry', afterMs: 60_000 });
  });

  it('asks for no particular wait when FCM names none', () => {
    expect(toFcmOutcome(anAnswer(503, null))).toMatchObject({ kind: 'retry', afterMs: null });
  });
});

describe('toTokenResult', () => {
  it('reads the access token and its lifetime', () => {
    expect(
      toTokenResult(
        anAnswer(200, { access_token: 'ya29.x', expires_in: 3599, token_type: 'Bearer' }),
      ),
    ).toEqual({ ok: true, value: { value: 'ya29.x', expiresInMs: 3_599_000 } });
  });

  it.each([
    [400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }, 'suspended'],
    [401, { error: 'invalid_client', error_description: 'Unauthorized' }, 'suspended'],
    [200, { token_type: 'Bearer' }, 'failed'],
    [500, null, 'retry'],
    [503, null, 'retry'],
    [429, { error: 'rate_limit_exceeded' }, 'retry'],
  ])('maps %i %j to %s', (status, body, kind) => {
    const result = toTokenResult(anAnswer(status, body));
    expect(result.ok ? 'ok' : result.error.kind).toBe(kind);
  });

  it('says the service account was refused, with Google’s words', () => {
    const result = toTokenResult(
      anAnswer(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }),
    );
    expect(result.ok ? null : result.error).toEqual({
      kind: 'suspended',
      reason:
        'token endpoint refused the service account (400): invalid_grant: Invalid JWT Signature.',
    });
  });
});

describe('createFcmAdapter', () => {
  const account = (private_key: string) => ({
    project_id: 'p',
    client_email: 'svc@p.iam.gserviceaccount.com',
    private_key,
    token_uri: 'https://oauth2.example/token',
  });
  const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();

  it('reads a key whose line breaks were escaped as \\n', () => {
    const escaped = rsaPem.replace(/\n/g, '\\n');
    expect(createFcmAdapter({ serviceAccount: account(escaped) }).name).toBe('fcm');
  });

  it('refuses at once a private key that is not a key', () => {
    expect(() => createFcmAdapter({ serviceAccount: account('not a key') })).toThrow();
  });

  it('refuses at once a key that cannot sign RS256', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect(() => createFcmAdapter({ serviceAccount: account(ec) })).toThrow(/RSA/);
  });
});
