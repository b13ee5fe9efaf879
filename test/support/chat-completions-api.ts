import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

/** How the stand-in answers one request. */
export type Answer = (res: ServerResponse) => void;

/** A request's JSON body as the stand-in received it. */
export interface ChatRequest {
  model: string;
  temperature: number;
  messages: { role: string; content: string }[];
}

const servers: { close: () => Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A request as a local stand-in received it: where, with what key, and its JSON body. */
export interface LocalRequest {
  url: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

/**
 * A JSON API stand-in on 127.0.0.1: answer i serves request i (the last repeats), each request
 * handed to `keep` first; closed after each test. Answers its base URL (`…/v1`).
 */
export const startLocalApi = async (
  answers: Answer[],
  keep: (request: LocalRequest) => void = () => undefined,
): Promise<string> => {
  let served = 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      keep({
        url: req.url,
        authorization: req.headers.authorization,
        body: raw === '' ? null : JSON.parse(raw),
      });
      served += 1;
      answers[Math.min(served, answers.length) - 1]?.(res);
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
  return `http://127.0.0.1:${String(port)}/v1`;
};

/**
 * A server on 127.0.0.1 speaking OpenAI's chat-completions shape: answer i serves request i
 * (the last repeats); closed after each test.
 */
export const startChatApi = async (
  answers: Answer[],
): Promise<{ baseUrl: string; seen: ChatRequest[] }> => {
  const seen: ChatRequest[] = [];
  const baseUrl = await startLocalApi(answers, (request) => {
    seen.push(request.body as ChatRequest);
  });
  return { baseUrl, seen };
};

/** A `200` whose one choice holds `{ variants }` as JSON, billed 1,000 + 200 tokens. */
export const completion =
  (variants: object[]): Answer =>
  (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-test',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: JSON.stringify({ variants }) },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200 },
      }),
    );
  };

/** A server error, as OpenAI words one. */
export const serverError: Answer = (res) => {
  res.writeHead(500, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } }));
};

/** No answer at all: the client's timeout ends the call. */
export const hang: Answer = () => undefined;
