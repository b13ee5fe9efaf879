import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { GenerationRequest } from '../../ports/language-model.js';
import { createVirtualClock } from '../clock/virtual-clock.js';
import { createOpenAiLanguageModel, type OpenAiLanguageModelOptions } from './openai.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  authorization: string | undefined;
  body: {
    model: string;
    temperature: number;
    response_format: unknown;
    messages: { role: string; content: string }[];
  };
  atMs: number;
}

type Answer = (res: ServerResponse) => void;

const clock = () => createVirtualClock(Date.UTC(2026, 11, 1, 9));

/** A stand-in for a chat-completions API on 127.0.0.1; answer i serves request i (the last repeats). */
const servers: { close: () => Promise<void> }[] = [];

const startApi = async (answers: Answer[], now: { nowMs(): number }) => {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        authorization: req.headers.authorization,
        body: JSON.parse(raw),
        atMs: now.nowMs(),
      });
      const answer = answers[Math.min(seen.length, answers.length) - 1];
      answer?.(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  });
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/v1`, seen };
};

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

const completion = (content: string, usage = { prompt_tokens: 1200, completion_tokens: 300 }) =>
  json(200, {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_764_579_600,
    model: 'herald-writer-2026-01',
    choices: [
      { index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null },
    ],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  });

const variant = {
  subject: 'Your plan now syncs offline',
  preheader: 'Work on the train, sync at the station',
  body: 'Offline mode keeps every edit and syncs when you are back online.',
  cta: 'Try offline mode',
  citations: ['kb-offline'],
};

const aRequest = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  segment: 'trial users in week 2',
  strategy: 'feature education',
  tone: 'warm',
  count: 1,
  snippets: [
    { docId: 'kb-offline', title: 'Offline mode', text: 'Edits made offline sync on reconnect.' },
    { docId: 'kb-pricing', title: 'Pricing', text: 'The Team plan costs 12 USD a seat.' },
  ],
  incentive: { percent: 15, code: 'WEEK2' },
  brand: { name: 'Acme Notes', voice: ['plain', 'no exclamation marks'] },
  maxSubjectLength: 60,
  ...overrides,
});

/** The model under test, on a virtual clock whose waits are recorded instead of slept. */
const aModel = (
  baseUrl: string,
  overrides: Partial<OpenAiLanguageModelOptions> = {},
  time = clock(),
) => {
  const waits: number[] = [];
  const model = createOpenAiLanguageModel({
    apiKey: 'sk-herald-test',
    baseUrl,
    model: 'herald-writer',
    temperature: 0.4,
    pricePer1kInputUsd: 0.5,
    pricePer1kOutputUsd: 1.5,
    random: { next: () => 0 },
    clock: time,
    wait: (ms) => {
      waits.push(ms);
      time.advance(ms);
      return Promise.resolve(true);
    },
    ...overrides,
  });
  return { model, waits };
};

const signal = () => new AbortController().signal;

describe('createOpenAiLanguageModel', () => {
  it('parses the variants and prices the usage of a good reply', async () => {
    const time = clock();
    const api = await startApi([completion(JSON.stringify({ variants: [variant] }))], time);
    const { model } = aModel(api.baseUrl);

    const outcome = await model.generate(aRequest(), signal());

    expect(outcome).toEqual({
      ok: true,
      variants: [variant],
      usage: { promptTokens: 1200, completionTokens: 300, costUsd: expect.closeTo(1.05, 9) },
      model: 'herald-writer-2026-01',
    });
  });

  it('names the model asked for as the writer when the reply names none', async () => {
    // An OpenAI-compatible server or proxy may leave "model" out of its completion.
    const time = clock();
    const api = await startApi(
      [
        json(200, {
          id: 'chatcmpl-2',
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: JSON.stringify({ variants: [variant] }) },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        }),
      ],
      time,
    );
    const outcome = await aModel(api.baseUrl).model.generate(aRequest(), signal());
    expect(outcome).toMatchObject({ ok: true, model: 'herald-writer' });
  });

  it('sends the model, temperature, JSON mode, the rules and the snippets with their ids', async () => {
    const time = clock();
    const api = await startApi([completion(JSON.stringify({ variants: [variant] }))], time);
    const { model } = aModel(api.baseUrl);

    await model.generate(aRequest(), signal());

    expect(api.seen).toHaveLength(1);
    const [request] = api.seen;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/v1/chat/completions');
    expect(request?.authorization).toBe('Bearer sk-herald-test');
    expect(request?.body).toMatchObject({
      model: 'herald-writer',
      temperature: 0.4,
      response_format: { type: 'json_object' },
    });
    const [system, user] = request?.body.messages ?? [];
    expect(system?.role).toBe('system');
    expect(system?.content).toContain('at most 60 characters');
    expect(system?.content).toContain('15% off with the code WEEK2');
    expect(system?.content).toContain('JSON');
    expect(user?.role).toBe('user');
    expect(user?.content).toContain('[1] doc id: kb-offline');
    expect(user?.content).toContain('Edits made offline sync on reconnect.');
    expect(user?.content).toContain('[2] doc id: kb-pricing');
  });

  it('forbids every offer when the request has no incentive', async () => {
    const time = clock();
    const api = await startApi([completion(JSON.stringify({ variants: [variant] }))], time);
    const { model } = aModel(api.baseUrl);

    await model.generate(aRequest({ incentive: null }), signal());

    expect(api.seen[0]?.body.messages[0]?.content).toContain('Mention no discount');
  });

  it('reports malformed JSON in the content as a non-retryable failure with its usage', async () => {
    const time = clock();
    const api = await startApi([completion('{"variants": [ {"subject": "Hi"')], time);
    const { model } = aModel(api.baseUrl);

    const outcome = await model.generate(aRequest(), signal());

    expect(outcome).toMatchObject({
      ok: false,
      retryable: false,
      usage: { promptTokens: 1200, completionTokens: 300 },
    });
    expect(outcome.ok ? '' : outcome.reason).toMatch(/^malformed reply: not JSON/);
    expect(api.seen).toHaveLength(1);
  });

  it('reports a 200 that is no chat completion (a proxy page, an error object) as malformed', async () => {
    const page: Answer = (res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Welcome to the proxy</body></html>');
    };
    for (const answer of [page, json(200, { error: { message: 'no such model' } })]) {
      const api = await startApi([answer], clock());
      const outcome = await aModel(api.baseUrl).model.generate(aRequest(), signal());
      expect(outcome).toMatchObject({ ok: false, retryable: false });
      expect(outcome.ok ? '' : outcome.reason).toBe('malformed reply: not a chat completion');
    }
    // A completion whose choice is missing or has no message.
    for (const [choices, reason] of [
      [[null], 'malformed reply: no choices'],
      [[{ index: 0, finish_reason: 'stop' }], 'malformed reply: a choice without a message'],
    ] as const) {
      const usage = { prompt_tokens: 10, completion_tokens: 0, total_tokens: 10 };
      const api = await startApi([json(200, { choices, usage })], clock());
      const outcome = await aModel(api.baseUrl).model.generate(aRequest(), signal());
      expect(outcome).toMatchObject({ ok: false, usage: { promptTokens: 10 } });
      expect(outcome.ok ? '' : outcome.reason).toBe(reason);
    }
  });

  it('reports a complete 200 whose body is not JSON as malformed, without retrying it', async () => {
    const time = clock();
    const notJson: Answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id":"chatcmpl-1","choices":[{"message":{"content":"');
    };
    const api = await startApi(
      [notJson, completion(JSON.stringify({ variants: [variant] }))],
      time,
    );
    const { model, waits } = aModel(api.baseUrl);

    const outcome = await model.generate(aRequest(), signal());

    expect(outcome).toMatchObject({ ok: false, retryable: false, usage: null });
    expect(outcome.ok ? '' : outcome.reason).toMatch(/^malformed reply: the body is not JSON \(/);
    expect(api.seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('still retries a body cut off by a dropped connection', async () => {
    const time = clock();
    const cutOff: Answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
      res.write('{"id":"chatcmpl-1","choices":[{"message":{"content":"', () => {
        res.destroy();
      });
    };
    const api = await startApi([cutOff, completion(JSON.stringify({ variants: [variant] }))], time);
    const { model, waits } = aModel(api.baseUrl);

    const outcome = await model.generate(aRequest(), signal());

    expect(outcome.ok).toBe(true);
    expect(api.seen).toHaveLength(2);
    expect(waits).toEqual([500]);
  });

  it('reports JSON of the wrong shape as malformed, naming the path', async () => {
    const time = clock();
    const wrong = { variants: [{ ...variant, citations: 'kb-offline' }] };
    const api = await startApi([completion(JSON.stringify(wrong))], time);
    const { model } = aModel(api.baseUrl);

    const outcome = await model.generate(aRequest(), signal());

    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? '' : outcome.reason).toMatch(/^malformed reply: \/variants\/0\/citations/);
    expect(outcome.ok ? true : outcome.retryable).toBe(false);
  });

  it('waits as long as Retry-After says after a 429, then succeeds', async () => {
    const time = clock();
    const api = await startApi(
      [
        json(429, { error: { message: 'slow down', type: 'requests' } }, { 'retry-after': '1' }),
        completion(JSON.stringify({ variants: [variant] })),
      ],
      time,
    );
    const { model, waits } = aModel(api.baseUrl, {}, time);

    const outcome = await model.generate(aRequest(), signal());

    expect(outcome.ok).toBe(true);
    expect(api.seen).toHaveLength(2);
    expect(waits).toEqual([1000]);
    const [first, second] = api.seen;
    expect((second?.atMs ?? 0) - (first?.atMs ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('gives up on a 429 whose Retry-After is longer than it will wait, as retryable', async () => {
    const time = clock();
    const api = await startApi(
      [json(429, { error: { message: 'quota' } }, { 'retry-after': '3600' })],
      time,
    );
    const { model, waits } = aModel(api.baseUrl);

    const outcome = await model.generate(aRequest(), signal());

    expect(outcome).toMatchObject({ ok: false, retryable: true, usage: null });
    expect(outcome.ok ? '' : outcome.reason).toContain('asked to wait 3600 s');
    expect(api.seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('retries a 500 with exponential backoff and ends retryable when retries run out', async () => {
    const time = clock();
    const api = await startApi([json(500, { error: { message: 'upstream broke' } })], time);
    const { model, waits } = aModel(api.baseUrl, { maxRetries: 2 });

    const outcome = await model.generate(aRequest(), signal());

    expect(outcome).toMatchObject({ ok: false, retryable: true, usage: null });
    expect(outcome.ok ? '' : outcome.reason).toMatch(/^server error: 500/);
    expect(api.seen).toHaveLength(3);
    expect(waits).toEqual([500, 1000]);
  });

  it('does not retry a 400', async () => {
    const time = clock();
    const api = await startApi([json(400, { error: { message: 'bad model' } })], time);
    const { model, waits } = aModel(api.baseUrl);

    const outcome = await model.generate(aRequest(), signal());

    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(outcome.ok ? '' : outcome.reason).toMatch(/^rejected: 400/);
    expect(api.seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('never quotes the API key a server echoes in its error, and quotes at most 300 characters', async () => {
    const key = 'sk-live-DO-NOT-LEAK-42';
    const time = clock();
    const api = await startApi(
      [
        json(401, {
          error: { message: `Incorrect API key provided: ${key}. ${'Check it. '.repeat(60)}` },
        }),
      ],
      time,
    );
    const { model } = aModel(api.baseUrl, { apiKey: key });

    const outcome = await model.generate(aRequest(), signal());

    expect(api.seen[0]?.authorization).toBe(`Bearer ${key}`);
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    const reason = outcome.ok ? '' : outcome.reason;
    expect(reason).not.toContain(key);
    expect(reason).toMatch(/^rejected: 401 Incorrect API key provided: sk-…REDACTED\. Check it\./);
    expect(reason).toMatch(/… \(\d+ more characters\)$/);
    expect(reason.length).toBeLessThan(400);
  });

  it('times out within the configured time when the server never answers', async () => {
    const time = clock();
    const api = await startApi([() => undefined], time);
    const { model } = aModel(api.baseUrl, { timeoutMs: 300, maxRetries: 0 });

    const started = performance.now();
    const outcome = await model.generate(aRequest(), signal());
    const elapsedMs = performance.now() - started;

    expect(outcome).toMatchObject({ ok: false, retryable: true, reason: 'timed out after 300 ms' });
    expect(elapsedMs).toBeGreaterThanOrEqual(250);
    expect(elapsedMs).toBeLessThan(2_000);
  });

  it('times out when the server sends headers and then stalls the body', async () => {
    const time = clock();
    const api = await startApi(
      [
        (res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"id":"chatcmpl-1",');
        },
      ],
      time,
    );
    const { model } = aModel(api.baseUrl, { timeoutMs: 300, maxRetries: 0 });

    const started = performance.now();
    const outcome = await model.generate(aRequest(), signal());

    expect(outcome).toMatchObject({ ok: false, retryable: true, reason: 'timed out after 300 ms' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('sends nothing when the caller has already aborted', async () => {
    const time = clock();
    const api = await startApi([completion(JSON.stringify({ variants: [variant] }))], time);
    const { model } = aModel(api.baseUrl);

    const outcome = await model.generate(aRequest(), AbortSignal.abort());

    expect(outcome).toMatchObject({ ok: false, reason: 'aborted' });
    expect(api.seen).toHaveLength(0);
  });

  it('stops waiting for a retry as soon as the caller aborts', async () => {
    const caller = new AbortController();
    const time = clock();
    const api = await startApi(
      [
        (res) => {
          json(429, { error: { message: 'slow down' } }, { 'retry-after': '5' })(res);
          res.on('finish', () => {
            setTimeout(() => {
              caller.abort();
            }, 50);
          });
        },
      ],
      time,
    );
    const model = createOpenAiLanguageModel({
      apiKey: 'sk-herald-test',
      baseUrl: api.baseUrl,
      model: 'herald-writer',
      pricePer1kInputUsd: 0.5,
      pricePer1kOutputUsd: 1.5,
      random: { next: () => 0 },
      clock: time,
    });

    const started = performance.now();
    const outcome = await model.generate(aRequest(), caller.signal);

    expect(outcome).toMatchObject({ ok: false, reason: 'aborted' });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(api.seen).toHaveLength(1);
  });
});
