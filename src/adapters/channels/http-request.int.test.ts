import { afterEach, describe, expect, it } from 'vitest';
import {
  startFakeHttpProvider,
  type FakeHttpProvider,
} from '../../../test/support/fake-http-provider.js';
import { retryAfterMsOf, sendHttpRequest, toRetryAfterMs } from './http-request.js';

describe('toRetryAfterMs', () => {
  const referenceMs = Date.UTC(2026, 4, 1, 8, 0, 0);
  it.each<[string | null, number | null]>([
    ['120', 120_000],
    [' 0 ', 0],
    [new Date(referenceMs + 45_000).toUTCString(), 45_000],
    [new Date(referenceMs - 45_000).toUTCString(), 0],
    ['soon', null],
    ['-5', null],
    [null, null],
  ])('reads %j as %j ms', (value, ms) => {
    expect(toRetryAfterMs(value, referenceMs)).toBe(ms);
  });

  it('cannot read an HTTP-date without a reference time', () => {
    expect(toRetryAfterMs(new Date(referenceMs).toUTCString(), null)).toBeNull();
  });
});

describe('sendHttpRequest', () => {
  let fake: FakeHttpProvider;
  afterEach(async () => {
    await fake.stop();
  });

  const request = (signal = new AbortController().signal) => ({
    url: `${fake.baseUrl}/v1/things?x=1`,
    headers: { 'content-type': 'application/json', 'x-test': 'yes' },
    body: JSON.stringify({ a: 1 }),
    timeoutMs: 150,
    signal,
  });

  it('returns the status, headers, text and parsed JSON of the answer', async () => {
    fake = await startFakeHttpProvider(() => ({
      status: 418,
      headers: { 'x-reply': 'teapot' },
      body: { short: 'and stout' },
    }));
    const attempt = await sendHttpRequest(request());
    expect(attempt.kind).toBe('answered');
    if (attempt.kind !== 'answered') return;
    expect(attempt.answer.status).toBe(418);
    expect(attempt.answer.headers.get('x-reply')).toBe('teapot');
    expect(attempt.answer.json).toEqual({ short: 'and stout' });
    expect(fake.lastRequest()).toMatchObject({
      method: 'POST',
      path: '/v1/things?x=1',
      headers: { 'x-test': 'yes' },
      body: '{"a":1}',
    });
  });

  it('keeps a body that is not JSON as text, with json null', async () => {
    fake = await startFakeHttpProvider(() => ({ status: 502, body: '<html>Bad Gateway</html>' }));
    const attempt = await sendHttpRequest(request());
    expect(attempt).toMatchObject({
      kind: 'answered',
      answer: { status: 502, text: '<html>Bad Gateway</html>', json: null },
    });
  });

  it('does not follow a redirect', async () => {
    fake = await startFakeHttpProvider(() => ({
      status: 307,
      headers: { location: 'http://127.0.0.1:9/elsewhere' },
    }));
    const attempt = await sendHttpRequest(request());
    expect(attempt).toMatchObject({ kind: 'answered', answer: { status: 307 } });
    expect(fake.requests()).toHaveLength(1);
  });

  it('asks to retry, naming the timeout, when no answer comes in time', async () => {
    fake = await startFakeHttpProvider(() => ({ status: 200 }));
    fake.setScenario('hang');
    expect(await sendHttpRequest(request())).toEqual({
      kind: 'retry',
      reason: 'no answer within 150 ms',
      afterMs: null,
    });
  });

  it("asks to retry when the caller's signal aborts the attempt", async () => {
    fake = await startFakeHttpProvider(() => ({ status: 200 }));
    fake.setScenario('hang');
    const controller = new AbortController();
    const sending = sendHttpRequest({ ...request(controller.signal), timeoutMs: 10_000 });
    await expect.poll(() => fake.requests().length).toBe(1);
    controller.abort();
    expect(await sending).toEqual({ kind: 'retry', reason: 'attempt aborted', afterMs: null });
  });

  it('asks to retry, naming the error, when the connection is refused', async () => {
    fake = await startFakeHttpProvider(() => ({ status: 200 }));
    await fake.stop();
    expect(await sendHttpRequest(request())).toEqual({
      kind: 'retry',
      reason: 'provider unreachable: ECONNREFUSED',
      afterMs: null,
    });
  });

  it('takes a 2xx whose body was cut off for an answer, with an empty body', async () => {
    fake = await startFakeHttpProvider(() => ({
      status: 201,
      headers: { 'x-message-id': 'abc' },
      body: { sid: 'SM1', status: 'queued' },
      cutBody: true,
    }));
    const attempt = await sendHttpRequest({ ...request(), timeoutMs: 2000 });
    expect(attempt).toMatchObject({
      kind: 'answered',
      answer: { status: 201, text: '', json: null, bodyLost: expect.any(String) },
    });
    if (attempt.kind === 'answered') expect(attempt.answer.headers.get('x-message-id')).toBe('abc');
  });

  it('keeps the status of a 429 or 5xx whose body was cut off, with its Retry-After', async () => {
    fake = await startFakeHttpProvider(() => ({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { code: 20429, message: 'Too Many Requests' },
      cutBody: true,
    }));
    const attempt = await sendHttpRequest({ ...request(), timeoutMs: 2000 });
    expect(attempt).toMatchObject({ kind: 'answered', answer: { status: 429, json: null } });
    if (attempt.kind === 'answered') expect(retryAfterMsOf(attempt.answer)).toBe(7000);
  });

  it('asks to retry when a refusal lost the body that says what it refuses', async () => {
    fake = await startFakeHttpProvider(() => ({
      status: 400,
      body: { code: 21211, message: 'invalid number' },
      cutBody: true,
    }));
    expect(await sendHttpRequest({ ...request(), timeoutMs: 2000 })).toMatchObject({
      kind: 'retry',
      reason: expect.stringMatching(/^provider answered 400, its body cut off: /),
      afterMs: null,
    });
  });

  it('ends a hanging request when the fake stops', async () => {
    fake = await startFakeHttpProvider(() => ({ status: 200 }));
    fake.setScenario('hang');
    const sending = sendHttpRequest({ ...request(), timeoutMs: 10_000 });
    await expect.poll(() => fake.requests().length).toBe(1);
    await fake.stop();
    expect(await sending).toMatchObject({ kind: 'retry', afterMs: null });
  });
});
