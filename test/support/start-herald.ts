import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createServices, type Services } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { createServer } from '../../src/http/create-server.js';
import type { ContentDocument } from '../../src/pipeline/content/index.js';
import { createDispatchIo } from '../../src/pipeline/deliver-messages.js';
import type { Clock } from '../../src/ports/clock.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { RawSql, StoreFactory } from './stores.js';

export const writeKey = 'test-write-key-0001';
export const adminToken = 'test-admin-token-0001';

export interface TestHerald {
  app: FastifyInstance;
  services: Services;
  /** SQL straight on the database, bypassing Herald (tamper tests). */
  raw: RawSql;
  /** Base URL once `listen()` was called. */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** What a sender of marketing email must configure (CAN-SPAM): the footer's address, https links. */
export const testSender = {
  HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
  HERALD_PUBLIC_URL: 'https://herald.example.com',
};

/** A Herald API on a fresh store, driven with `inject()` or, after `listen()`, over real HTTP. */
export const startHerald = async (
  factory: StoreFactory,
  options: {
    clock?: Clock;
    env?: Record<string, string>;
    configYaml?: string;
    /** Templates by name (`receipt`: its YAML), in a folder of their own removed on close. */
    templates?: Record<string, string>;
  } = {},
): Promise<TestHerald> => {
  const templatesDir =
    options.templates === undefined ? null : mkdtempSync(join(tmpdir(), 'herald-templates-'));
  for (const [name, yaml] of Object.entries(options.templates ?? {}))
    writeFileSync(join(templatesDir ?? '', `${name}.yaml`), yaml);
  const config = loadConfig(
    {
      HERALD_WRITE_KEYS: `web=${writeKey}`,
      HERALD_ADMIN_TOKEN: adminToken,
      HERALD_DATABASE_URL: 'sqlite::memory:',
      // Configured as a sender must be: a customer whose country is unknown gets CAN-SPAM's
      // footer and an https unsubscribe link.
      ...testSender,
      ...(templatesDir === null ? {} : { HERALD_TEMPLATES_DIR: templatesDir }),
      ...options.env,
    },
    options.configYaml ?? null,
  );
  // The store seals audit entries with the configured key, as createServices opens one.
  const { store, cleanup, raw } = await factory.make({ auditKey: config.auditKey });
  const services = await createServices(config, {
    store,
    logger: silentLogger,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const app = createServer(services);
  const herald: TestHerald = {
    app,
    services,
    raw,
    url: '',
    async listen() {
      herald.url = await app.listen({ port: 0, host: '127.0.0.1' });
      return herald.url;
    },
    async close() {
      await app.close();
      await cleanup();
      if (templatesDir !== null) rmSync(templatesDir, { recursive: true, force: true });
    },
  };
  return herald;
};

export const basicAuth = (key: string = writeKey): string =>
  `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

let calls = 0;

/**
 * One Segment call (`route`: track, identify, alias …) to Herald's tracking API with a fresh
 * messageId and the clock's time (the body may set either), expected to be accepted.
 */
export const ingestCall = async (
  herald: TestHerald,
  clock: Clock,
  route: string,
  body: object,
): Promise<void> => {
  calls += 1;
  const response = await herald.app.inject({
    method: 'POST',
    url: `/v1/${route}`,
    headers: { 'content-type': 'application/json', authorization: basicAuth() },
    payload: JSON.stringify({
      messageId: `call-${String(calls)}`,
      timestamp: new Date(clock.nowMs()).toISOString(),
      ...body,
    }),
  });
  expect(response.statusCode).toBe(200);
};

/** A `POST /v1/batch` of these calls with the test write key, expected to answer 200. */
export const batchCall = async (herald: TestHerald, batch: readonly object[]): Promise<void> => {
  const response = await herald.app.inject({
    method: 'POST',
    url: '/v1/batch',
    headers: { 'content-type': 'application/json', authorization: basicAuth() },
    payload: JSON.stringify({ batch }),
  });
  expect(response.statusCode).toBe(200);
};

/** An admin API call with the admin token, and a JSON body when one is given. */
export const adminCall = (
  herald: TestHerald,
  method: 'GET' | 'POST',
  url: string,
  body?: object,
): Promise<LightMyRequestResponse> =>
  herald.app.inject({
    method,
    url,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

/** An admin GET with the test admin token, expected to answer 200; its JSON. */
export const adminGet = async <T>(herald: TestHerald, url: string): Promise<T> => {
  const response = await herald.app.inject({
    url,
    headers: { authorization: `Bearer ${adminToken}` },
  });
  expect(response.statusCode).toBe(200);
  return response.json<T>();
};

/**
 * The dispatcher's store I/O over a test Herald's services, for driving claims and outcomes by
 * hand: its events recorded as the running dispatcher records them, unless `emit` says
 * otherwise.
 */
export const dispatchIoOf = (
  herald: TestHerald,
  emit: Parameters<typeof createDispatchIo>[0]['emit'] = async (events, nowMs) => {
    await herald.services.recorder.record(events, nowMs);
  },
) => {
  const { store, config } = herald.services;
  return createDispatchIo({
    store,
    policy: config.deliverPolicy,
    guardPolicy: config.guardPolicy,
    quietHours: config.decidePolicy.quietHours,
    random: () => 0.5,
    emit,
  });
};

/** Stores `documents` in the content library as `herald content import` would, imported at `atMs`. */
export const storeDocuments = async (
  herald: TestHerald,
  documents: readonly ContentDocument[],
  atMs: number,
): Promise<void> => {
  for (const document of documents)
    await herald.services.store.saveDocument({
      id: document.id,
      version: document.version,
      hash: createHash('sha256').update(JSON.stringify(document)).digest('hex'),
      document,
      importedAtMs: atMs,
    });
};
