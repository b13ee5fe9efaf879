import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Scenario } from '../contract/describe-channel-adapter.js';

/** One request as the fake provider received it. */
export interface CapturedRequest {
  method: string;
  /** Path and query, e.g. `/v3/mail/send`. */
  path: string;
  /** Lower-cased names, as Node gives them. */
  headers: IncomingHttpHeaders;
  /** The raw body as text. */
  body: string;
}

/** How the fake answers one request. A `body` that is not a string is sent as JSON. */
export interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /**
   * The connection drops after the status line, the headers and the first few bytes of the
   * body (a reset mid-answer): the client gets the status, never the whole body.
   */
  cutBody?: true;
}

/**
 * Answers a request in the current scenario, in the provider's documented shapes. `hang` is
 * handled by the fake itself (the request is read and never answered).
 */
export type RespondFn = (
  scenario: Exclude<Scenario, 'hang'>,
  request: CapturedRequest,
) => FakeAnswer;

/** A local stand-in for a provider's HTTP API on 127.0.0.1. */
export interface FakeHttpProvider {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  baseUrl: string;
  /** Every request from now on is answered this way (initially `accept`). */
  setScenario(scenario: Scenario): void;
  /** Requests answered with a 2xx status so far. */
  accepted(): number;
  /** Every request received so far, oldest first. */
  requests(): readonly CapturedRequest[];
  /** The latest request received, or undefined before the first. */
  lastRequest(): CapturedRequest | undefined;
  /** Closes the server and destroys open sockets, so hanging requests end too. */
  stop(): Promise<void>;
}

/** Starts a fake provider on a free port of 127.0.0.1. */
export const startFakeHttpProvider = async (respond: RespondFn): Promise<FakeHttpProvider> => {
  let scenario: Scenario = 'accept';
  let acceptedCount = 0;
  const received: CapturedRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request: CapturedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
      };
      received.push(request);
      if (scenario === 'hang') return;
      const answer = respond(scenario, request);
      const headers: Record<string, string> = { ...answer.headers };
      let payload = '';
      if (typeof answer.body === 'string') payload = answer.body;
      else if (answer.body !== undefined) {
        payload = JSON.stringify(answer.body);
        headers['content-type'] ??= 'application/json';
      }
      if (answer.status >= 200 && answer.status < 300) acceptedCount += 1;
      if (answer.cutBody === true) {
        // Promises more than it sends, so the client cannot take the part for the whole.
        headers['content-length'] = String(Buffer.byteLength(payload) + 100);
        res.writeHead(answer.status, headers);
        res.flushHeaders();
        res.write(payload.slice(0, 8), () => res.socket?.destroy());
        return;
      }
      res.writeHead(answer.status, headers);
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | null = null;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    setScenario: (next) => {
      scenario = next;
    },
    accepted: () => acceptedCount,
    requests: () => received,
    lastRequest: () => received.at(-1),
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      return stopping;
    },
  };
};

/** The request body parsed as JSON. */
export const jsonBodyOf = (request: CapturedRequest | undefined): unknown =>
  JSON.parse(request?.body ?? 'null');

/** The request body parsed as form fields. */
export const formBodyOf = (request: CapturedRequest | undefined): URLSearchParams =>
  new URLSearchParams(request?.body ?? '');
