import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAiModerator } from './openai-moderator.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

/** A stand-in for the Moderations API on 127.0.0.1; closed after each test. */
const servers: { close: () => Promise<void> }[] = [];

const startApi = async (answer: (req: IncomingMessage, res: ServerResponse) => void) => {
  const seen: Seen[] = [];
  const aborted: string[] = [];
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
      });
      res.on('close', () => {
        if (!res.writableFinished) aborted.push(req.url ?? '');
      });
      answer(req, res);
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
  return { baseUrl: `http://127.0.0.1:${port}/v1`, seen, aborted };
};

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const result = (category_scores: Record<string, number>) => ({
  flagged: false,
  categories: {},
  category_scores,
});

const signal = () => new AbortController().signal;

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('createOpenAiModerator', () => {
  it('posts every text in one request and maps the scores', async () => {
    const api = await startApi((_req, res) => {
      json(res, 200, {
        id: 'modr-1',
        model: 'omni-moderation-latest',
        results: [
          result({ harassment: 0.25, 'hate/threatening': 0.01 }),
          result({ harassment: 0.05, 'violence/graphic': 0.92 }),
        ],
      });
    });
    const moderator = createOpenAiModerator({ apiKey: 'sk-test', baseUrl: api.baseUrl });
    await expect(moderator.moderate(['Subject', 'Body'], signal())).resolves.toEqual([
      { category: 'violence', severity: 'high', score: 0.92 },
      { category: 'harassment', severity: 'low', score: 0.25 },
    ]);
    expect(api.seen).toEqual([
      {
        method: 'POST',
        url: '/v1/moderations',
        authorization: 'Bearer sk-test',
        body: { model: 'omni-moderation-latest', input: ['Subject', 'Body'] },
      },
    ]);
  });

  it('rejects with the status when the API answers 500', async () => {
    const api = await startApi((_req, res) => {
      json(res, 500, { error: { message: 'The server had an error' } });
    });
    const moderator = createOpenAiModerator({ apiKey: 'k', baseUrl: api.baseUrl, model: 'm' });
    await expect(moderator.moderate(['x'], signal())).rejects.toThrow(
      'moderation API answered 500',
    );
    expect(api.seen[0]?.body).toEqual({ model: 'm', input: ['x'] });
  });

  it('aborts a slow answer at its timeout', async () => {
    // The stand-in never answers; only the moderator's own timeout can end the request.
    const api = await startApi(() => undefined);
    const moderator = createOpenAiModerator({ apiKey: 'k', baseUrl: api.baseUrl, timeoutMs: 50 });
    await expect(moderator.moderate(['x'], signal())).rejects.toThrow(
      'moderation API did not answer within 50 ms',
    );
    await expect.poll(() => api.aborted).toEqual(['/v1/moderations']);
  });

  it("stops when the caller's signal aborts", async () => {
    const api = await startApi(() => undefined);
    const moderator = createOpenAiModerator({ apiKey: 'k', baseUrl: api.baseUrl });
    const controller = new AbortController();
    const pending = moderator.moderate(['x'], controller.signal);
    await expect.poll(() => api.seen.length).toBe(1);
    controller.abort(new Error('message withdrawn'));
    await expect(pending).rejects.toThrow('message withdrawn');
  });

  it('rejects a body without a result per input', async () => {
    const api = await startApi((_req, res) => {
      json(res, 200, { results: [result({})] });
    });
    const moderator = createOpenAiModerator({ apiKey: 'k', baseUrl: api.baseUrl });
    await expect(moderator.moderate(['a', 'b'], signal())).rejects.toThrow('no results');
  });
});
