import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeChannelAdapter,
  type Scenario,
} from '../../../test/contract/describe-channel-adapter.js';
import {
  formBodyOf,
  jsonBodyOf,
  startFakeHttpProvider,
  type CapturedRequest,
  type FakeAnswer,
  type FakeHttpProvider,
} from '../../../test/support/fake-http-provider.js';
import { toCustomerId } from '../../core/ids.js';
import type { ChannelAdapter, Delivery } from '../../ports/channel-adapter.js';
import { createFcmAdapter, type FcmAdapterOptions } from './fcm.js';

const PROJECT = 'herald-demo';
const CLIENT_EMAIL = 'herald-push@herald-demo.iam.gserviceaccount.com';
const SEND_PATH = `/v1/projects/${PROJECT}/messages:send`;
const TOKEN_PATH = '/token';
const HOUR_MS = 3_600_000;
const fcmError = (code: number, status: string, message: string, details: unknown[] = []) => ({
  error: { code, message, status, details },
});
const fcmDetail = (errorCode: string) => ({
  '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
  errorCode,
});

/** FCM's documented answers to a send, one per contract scenario. */
const answerSend = (scenario: Exclude<Scenario, 'hang'>, sent: number): FakeAnswer => {
  switch (scenario) {
    case 'accept':
      return { status: 200, body: { name: `projects/${PROJECT}/messages/0:17000${sent}` } };
    case 'rate-limited':
      return {
        status: 429,
        headers: { 'retry-after': '70' },
        body: fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', [fcmDetail('QUOTA_EXCEEDED')]),
      };
    case 'server-error':
      return {
        status: 503,
        body: fcmError(503, 'UNAVAILABLE', 'The service is unavailable.', [
          fcmDetail('UNAVAILABLE'),
        ]),
      };
    case 'rejected':
      return {
        status: 400,
        body: fcmError(400, 'INVALID_ARGUMENT', "Invalid value at 'message.data[0].value'", [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [
              {
                field: 'message.data[0].value',
                description: "Invalid value at 'message.data[0].value' (TYPE_STRING), 12",
              },
            ],
          },
        ]),
      };
    case 'bad-recipient':
      return {
        status: 404,
        body: fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', [
          fcmDetail('UNREGISTERED'),
        ]),
      };
  }
};

const fromBase64Url = (part: string): unknown =>
  JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Checks a service-account assertion the way Google's token endpoint does; null when good. */
const problemWithAssertion = (
  assertion: string,
  publicKey: KeyObject,
  expected: { aud: string; nowMs: number },
): string | null => {
  const [header, claims, signature, ...rest] = assertion.split('.');
  if (header === undefined || claims === undefined || signature === undefined || rest.length > 0) {
    return 'not a JWT';
  }
  const signed = Buffer.from(`${header}.${claims}`);
  if (!verify('RSA-SHA256', signed, publicKey, Buffer.from(signature, 'base64url'))) {
    return 'invalid JWT signature';
  }
  const h = fromBase64Url(header) as Record<string, unknown>;
  const c = fromBase64Url(claims) as Record<string, unknown>;
  if (h.alg !== 'RS256' || h.typ !== 'JWT') return 'unexpected JWT header';
  if (c.iss !== CLIENT_EMAIL) return 'wrong iss';
  if (c.aud !== expected.aud) return 'wrong aud';
  if (c.scope !== 'https://www.googleapis.com/auth/firebase.messaging') return 'wrong scope';
  const nowS = Math.floor(expected.nowMs / 1000);
  if (typeof c.iat !== 'number' || Math.abs(c.iat - nowS) > 60) return 'iat is not now';
  if (c.exp !== c.iat + 3600) return 'exp is not iat + 3600';
  return null;
};

/** The service account's key pair, made once: RSA generation is slow. */
const googleKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });

type TokenMode = 'grant' | 'invalid-grant' | 'invalid-client' | 'unavailable' | 'cut';

interface FcmFake {
  fake: FakeHttpProvider;
  adapter: ChannelAdapter;
  clock: { nowMs: number };
  /** Messages the fake accepted. */
  sent(): number;
  tokenRequests(): CapturedRequest[];
  sendRequests(): CapturedRequest[];
  setTokenMode(mode: TokenMode): void;
  /** Forget every access token issued so far (the next send with one gets a 401). */
  revokeTokens(): void;
  /** Answer every send this way, whatever the scenario, until cleared with null. */
  setSendAnswer(answer: FakeAnswer | null): void;
}

/** A fake Google: the OAuth token endpoint and the FCM send endpoint on one local server. */
const startFcmFake = async (
  adapterOptions: Partial<FcmAdapterOptions> & { signingKey?: KeyObject } = {},
): Promise<FcmFake> => {
  const keys = googleKeys;
  const clock = { nowMs: Date.UTC(2026, 0, 15, 9, 30, 0) };
  const issued = new Map<string, number>();
  let sentCount = 0;
  let tokenMode: TokenMode = 'grant';
  let sendAnswer: FakeAnswer | null = null;
  let tokenUri = '';

  const answerToken = (request: CapturedRequest): FakeAnswer => {
    if (tokenMode === 'unavailable') return { status: 503, body: 'Service Unavailable' };
    if (tokenMode === 'cut')
      return { status: 200, body: { access_token: 'ya29.lost', expires_in: 3600 }, cutBody: true };
    if (tokenMode === 'invalid-client') {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Unauthorized' } };
    }
    const form = formBodyOf(request);
    const assertion = form.get('assertion') ?? '';
    const problem =
      form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer'
        ? 'unsupported grant_type'
        : problemWithAssertion(assertion, keys.publicKey, { aud: tokenUri, nowMs: clock.nowMs });
    if (problem !== null || tokenMode === 'invalid-grant') {
      return {
        status: 400,
        body: { error: 'invalid_grant', error_description: problem ?? 'Invalid JWT Signature.' },
      };
    }
    const accessToken = `ya29.fake-${issued.size + 1}`;
    issued.set(accessToken, clock.nowMs + HOUR_MS);
    return {
      status: 200,
      body: { access_token: accessToken, expires_in: 3600, token_type: 'Bearer' },
    };
  };

  const fake = await startFakeHttpProvider((scenario, request) => {
    if (request.method === 'POST' && request.path === TOKEN_PATH) return answerToken(request);
    if (request.method !== 'POST' || request.path !== SEND_PATH) {
      return { status: 404, body: fcmError(404, 'NOT_FOUND', 'Not found') };
    }
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const expiresAtMs = bearer === undefined ? undefined : issued.get(bearer);
    if (expiresAtMs === undefined || clock.nowMs >= expiresAtMs) {
      return {
        status: 401,
        body: fcmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
      };
    }
    const answer = sendAnswer ?? answerSend(scenario, sentCount);
    if (answer.status === 200) sentCount += 1;
    return answer;
  });
  tokenUri = `${fake.baseUrl}${TOKEN_PATH}`;
  const privateKey = (adapterOptions.signingKey ?? keys.privateKey)
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
  const adapter = createFcmAdapter({
    serviceAccount: {
      project_id: PROJECT,
      client_email: CLIENT_EMAIL,
      private_key: privateKey,
      token_uri: tokenUri,
    },
    baseUrl: fake.baseUrl,
    // Longer than the other providers' fakes: a first send also signs a JWT and fetches a token,
    // which under a full test run on two cores took more than 200 ms.
    timeoutMs: 1000,
    now: () => clock.nowMs,
    ...adapterOptions,
  });
  const byPath = (path: string) => () => fake.requests().filter((r) => r.path === path);
  return {
    fake,
    adapter,
    clock,
    sent: () => sentCount,
    tokenRequests: byPath(TOKEN_PATH),
    sendRequests: byPath(SEND_PATH),
    setTokenMode: (mode) => {
      tokenMode = mode;
    },
    revokeTokens: () => {
      issued.clear();
    },
    setSendAnswer: (answer) => {
      sendAnswer = answer;
    },
  };
};

const aPush = (overrides: Partial<Delivery> = {}): Delivery => ({
  messageId: 'msg-0001',
  customerId: toCustomerId('u-42'),
  channel: 'push',
  class: 'marketing',
  template: 'back-in-stock',
  to: 'fcm-registration-token-abc',
  platform: 'android',
  content: {
    subject: 'Back in stock',
    preheader: null,
    body: 'The blue kettle is back.',
    html: null,
    from: null,
    replyTo: null,
    footerAddress: null,
    unsubscribeUrl: null,
  },
  ...overrides,
});

const signal = () => new AbortController().signal;

describeChannelAdapter({
  name: 'fcm',
  channel: 'push',
  delivery: aPush(),
  retryAfterMs: 70_000,
  start: async () => {
    const fcm = await startFcmFake();
    const { fake, adapter } = fcm;
    return {
      adapter,
      setScenario: (scenario) => {
        fake.setScenario(scenario);
      },
      accepted: () => fcm.sent(),
      stop: () => fake.stop(),
    };
  },
});

describe('fcm adapter against a fake Google', () => {
  let current: FcmFake | null = null;
  const start = async (options: Parameters<typeof startFcmFake>[0] = {}) => {
    current = await startFcmFake(options);
    return current;
  };
  afterEach(async () => {
    await current?.adapter.close();
    await current?.fake.stop();
    current = null;
  });

  it('refuses a payload over 4,096 bytes without asking FCM, and sends one under it', async () => {
    const fcm = await start();
    const withBody = (body: string) =>
      aPush({ platform: 'ios', content: { ...aPush().content, body } });
    const over = await fcm.adapter.send(withBody('x'.repeat(4100)), signal());
    expect(over).toMatchObject({
      kind: 'failed',
      reason: expect.stringMatching(
        /^the push payload is \d+ bytes, over the 4096 FCM and APNs take/,
      ) as unknown,
    });
    expect(fcm.sendRequests()).toHaveLength(0);
    expect((await fcm.adapter.send(withBody('x'.repeat(3500)), signal())).kind).toBe('sent');
  });

  it('takes a send whose 200 lost its body for sent: FCM has it, and a retry would show it twice', async () => {
    const fcm = await start();
    fcm.setSendAnswer({
      status: 200,
      body: { name: `projects/${PROJECT}/messages/0:1500415314455276%31bd1c9631bd1c96` },
      cutBody: true,
    });
    expect(await fcm.adapter.send(aPush(), signal())).toEqual({ kind: 'sent', providerId: null });
    expect(fcm.sendRequests()).toHaveLength(1);
  });

  describe('access token', () => {
    it('exchanges a signed assertion once and reuses the token across sends', async () => {
      const fcm = await start();
      const outcomes = [];
      for (let i = 0; i < 3; i += 1) outcomes.push(await fcm.adapter.send(aPush(), signal()));
      expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent', 'sent']);
      expect(fcm.tokenRequests()).toHaveLength(1);
      expect(fcm.sendRequests().map((r) => r.headers.authorization)).toEqual([
        'Bearer ya29.fake-1',
        'Bearer ya29.fake-1',
        'Bearer ya29.fake-1',
      ]);
    });

    it('shares one token request between sends made at the same time', async () => {
      const fcm = await start();
      const outcomes = await Promise.all([1, 2, 3].map(() => fcm.adapter.send(aPush(), signal())));
      expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent', 'sent']);
      expect(fcm.tokenRequests()).toHaveLength(1);
    });

    it('keeps the token for most of its hour and fetches a new one before it expires', async () => {
      const fcm = await start();
      await fcm.adapter.send(aPush(), signal());
      fcm.clock.nowMs += 58 * 60_000;
      await fcm.adapter.send(aPush(), signal());
      expect(fcm.tokenRequests()).toHaveLength(1);
      fcm.clock.nowMs += 90_000;
      const outcome = await fcm.adapter.send(aPush(), signal());
      expect(outcome.kind).toBe('sent');
      expect(fcm.tokenRequests()).toHaveLength(2);
      expect(fcm.sendRequests().at(-1)?.headers.authorization).toBe('Bearer ya29.fake-2');
    });

    it('fetches a new token once after a 401 and sends with it', async () => {
      const fcm = await start();
      await fcm.adapter.send(aPush(), signal());
      fcm.revokeTokens();
      const outcome = await fcm.adapter.send(aPush(), signal());
      expect(outcome.kind).toBe('sent');
      expect(fcm.tokenRequests()).toHaveLength(2);
      expect(fcm.sendRequests()).toHaveLength(3);
      expect(fcm.sent()).toBe(2);
    });

    it('gives up after exactly one refresh when FCM keeps answering 401, pausing the account', async () => {
      const fcm = await start();
      fcm.setSendAnswer({
        status: 401,
        body: fcmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
      });
      const outcome = await fcm.adapter.send(aPush(), signal());
      expect(outcome.kind).toBe('suspended');
      expect(fcm.tokenRequests()).toHaveLength(2);
      expect(fcm.sendRequests()).toHaveLength(2);
    });

    it('does not refresh for a 401 that blames the APNs credentials', async () => {
      const fcm = await start();
      fcm.setSendAnswer({
        status: 401,
        body: fcmError(401, 'UNAUTHENTICATED', 'Auth error from APNS or Web Push Service', [
          fcmDetail('THIRD_PARTY_AUTH_ERROR'),
        ]),
      });
      const outcome = await fcm.adapter.send(aPush({ platform: 'ios' }), signal());
      expect(outcome).toMatchObject({ kind: 'failed' });
      expect(outcome.kind === 'failed' && outcome.reason).toContain('THIRD_PARTY_AUTH_ERROR');
      expect(fcm.tokenRequests()).toHaveLength(1);
    });

    it('pauses the account when the token endpoint cannot verify our signature', async () => {
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const fcm = await start({ signingKey: stranger });
      const outcome = await fcm.adapter.send(aPush(), signal());
      expect(outcome.kind).toBe('suspended');
      expect(outcome.kind === 'suspended' && outcome.reason).toContain('invalid JWT signature');
      expect(fcm.sendRequests()).toHaveLength(0);
    });

    it.each([
      ['invalid-grant', 'suspended'],
      ['invalid-client', 'suspended'],
      ['unavailable', 'retry'],
      // Its 200 came, the token in its body did not: asked again, nothing is sent twice.
      ['cut', 'retry'],
    ] as const)('answers %s from the token endpoint with %s', async (mode, kind) => {
      const fcm = await start();
      fcm.setTokenMode(mode);
      expect((await fcm.adapter.send(aPush(), signal())).kind).toBe(kind);
      expect(fcm.sendRequests()).toHaveLength(0);
    });

    it('retries when the token endpoint cannot be reached', async () => {
      const fcm = await start();
      await fcm.fake.stop();
      const outcome = await fcm.adapter.send(aPush(), signal());
      expect(outcome.kind).toBe('retry');
      expect(outcome.kind === 'retry' && outcome.reason).toContain('token endpoint');
    });
  });

  describe('payload', () => {
    const lastMessage = (fcm: FcmFake) => {
      const body = jsonBodyOf(fcm.sendRequests().at(-1)) as { message: Record<string, unknown> };
      return body.message;
    };

    it('sends Android the high-priority android block and nothing for other platforms', async () => {
      const fcm = await start({ androidClickAction: 'OPEN_PRODUCT' });
      await fcm.adapter.send(aPush({ platform: 'android' }), signal());
      expect(lastMessage(fcm)).toEqual({
        token: 'fcm-registration-token-abc',
        notification: { title: 'Back in stock', body: 'The blue kettle is back.' },
        data: { herald_message_id: 'msg-0001' },
        android: { priority: 'HIGH', notification: { click_action: 'OPEN_PRODUCT' } },
      });
    });

    it('sends iOS an immediate APNs alert with the default sound', async () => {
      const fcm = await start();
      await fcm.adapter.send(aPush({ platform: 'ios' }), signal());
      expect(lastMessage(fcm)).toEqual({
        token: 'fcm-registration-token-abc',
        notification: { title: 'Back in stock', body: 'The blue kettle is back.' },
        data: { herald_message_id: 'msg-0001' },
        apns: {
          headers: { 'apns-priority': '10' },
          payload: {
            aps: {
              alert: { title: 'Back in stock', body: 'The blue kettle is back.' },
              sound: 'default',
            },
          },
        },
      });
    });

    it('sends the web a webpush block', async () => {
      const fcm = await start();
      await fcm.adapter.send(aPush({ platform: 'web' }), signal());
      const message = lastMessage(fcm);
      expect(message.webpush).toEqual({
        headers: { Urgency: 'high' },
        notification: { title: 'Back in stock', body: 'The blue kettle is back.' },
      });
      expect(Object.keys(message).sort()).toEqual(['data', 'notification', 'token', 'webpush']);
    });

    it('posts JSON with the bearer token to the project send path', async () => {
      const fcm = await start();
      const outcome = await fcm.adapter.send(aPush(), signal());
      const request = fcm.sendRequests()[0];
      expect(outcome).toEqual({
        kind: 'sent',
        providerId: `projects/${PROJECT}/messages/0:170000`,
      });
      expect(request?.method).toBe('POST');
      expect(request?.headers['content-type']).toMatch(/^application\/json/);
    });
  });

  describe('answers', () => {
    it('treats an invalid registration token as unreachable', async () => {
      const fcm = await start();
      fcm.setSendAnswer({
        status: 400,
        body: fcmError(
          400,
          'INVALID_ARGUMENT',
          'The registration token is not a valid FCM registration token',
          [fcmDetail('INVALID_ARGUMENT')],
        ),
      });
      expect((await fcm.adapter.send(aPush(), signal())).kind).toBe('unreachable');
    });

    it('fails a token that belongs to another sender', async () => {
      const fcm = await start();
      fcm.setSendAnswer({
        status: 403,
        body: fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', [
          fcmDetail('SENDER_ID_MISMATCH'),
        ]),
      });
      expect((await fcm.adapter.send(aPush(), signal())).kind).toBe('failed');
      expect(fcm.tokenRequests()).toHaveLength(1);
    });

    it('honours Retry-After on a 503', async () => {
      const fcm = await start();
      fcm.setSendAnswer({
        status: 503,
        headers: { 'retry-after': '30' },
        body: fcmError(503, 'UNAVAILABLE', 'The service is unavailable.', [
          fcmDetail('UNAVAILABLE'),
        ]),
      });
      expect(await fcm.adapter.send(aPush(), signal())).toMatchObject({
        kind: 'retry',
        afterMs: 30_000,
      });
    });

    it('retries a send that hangs after the token was granted', async () => {
      const fcm = await start();
      await fcm.adapter.send(aPush(), signal());
      fcm.fake.setScenario('hang');
      const outcome = await fcm.adapter.send(aPush(), signal());
      expect(outcome.kind).toBe('retry');
      expect(fcm.fake.lastRequest()?.path).toBe(SEND_PATH);
      expect(fcm.tokenRequests()).toHaveLength(1);
    });
  });
});
