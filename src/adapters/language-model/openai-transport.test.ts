import { describe, expect, it } from 'vitest';
import { backoffMs, retryAfterMs, redactApiKey, toProviderText } from './openai-transport.js';

const nowMs = Date.UTC(2026, 11, 1, 9, 0, 0);

describe('retryAfterMs', () => {
  it('reads Retry-After in seconds', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }), nowMs)).toBe(2000);
  });

  it('reads Retry-After as an HTTP date', () => {
    const headers = new Headers({ 'retry-after': 'Tue, 01 Dec 2026 09:00:30 GMT' });
    expect(retryAfterMs(headers, nowMs)).toBe(30_000);
  });

  it('prefers retry-after-ms', () => {
    const headers = new Headers({ 'retry-after-ms': '250', 'retry-after': '2' });
    expect(retryAfterMs(headers, nowMs)).toBe(250);
  });

  it('is null when the server did not say or said nonsense', () => {
    expect(retryAfterMs(undefined, nowMs)).toBeNull();
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), nowMs)).toBeNull();
  });
});

describe('backoffMs', () => {
  it('doubles from 0.5 s up to 8 s', () => {
    const none = { next: () => 0 };
    expect([0, 1, 2, 3, 4, 5].map((retry) => backoffMs(retry, none))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
  });

  it('takes off at most a quarter at random', () => {
    expect(backoffMs(1, { next: () => 0.999 })).toBeCloseTo(750.25, 2);
  });
});

describe('toProviderText', () => {
  const key = 'sk-live-DO-NOT-LEAK-42';

  it('replaces every occurrence of the API key, and any other OpenAI-looking key', () => {
    expect(
      toProviderText(`401 Incorrect API key provided: ${key}. Bearer ${key} was sent.`, key),
    ).toBe('401 Incorrect API key provided: sk-…REDACTED. Bearer sk-…REDACTED was sent.');
    expect(redactApiKey('proxy saw sk-proj-abcdefghijklmnopqrstu', key)).toBe(
      'proxy saw sk-…REDACTED',
    );
    expect(redactApiKey('token local-key-123456 refused', 'local-key-123456')).toBe(
      'token …REDACTED refused',
    );
    // A placeholder key for a local server is too short to hide anything by replacing it.
    expect(redactApiKey('ollama: model not found', 'ollama')).toBe('ollama: model not found');
  });

  it('quotes at most 300 characters of the server, redacted before it is cut', () => {
    const long = `${'x'.repeat(290)}${key}${'y'.repeat(500)}`;
    const quoted = toProviderText(long, key);
    expect(quoted).not.toContain('sk-live');
    expect(quoted).toBe(`${'x'.repeat(290)}sk-…REDACT… (502 more characters)`);
  });
});
