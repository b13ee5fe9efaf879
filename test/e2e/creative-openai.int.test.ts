import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { loadConfig } from '../../src/app/load-config.js';
import type { ContentDocument } from '../../src/pipeline/content/index.js';
import { aDocument } from '../../src/pipeline/content/test-builders.js';
import {
  completion,
  serverError,
  startChatApi,
  type Answer,
} from '../support/chat-completions-api.js';
import {
  adminCall,
  ingestCall,
  startHerald,
  storeDocuments,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

// Creative campaigns written by the configured language model (`content.campaignWriter:
// openai`), against a local server speaking the chat-completions shape.
const T0 = Date.UTC(2026, 11, 1, 12);
const sqlite = storeFactories.find((f) => f.name === 'sqlite');

const documents: ContentDocument[] = [
  aDocument({
    id: 'DOC1',
    title: 'Widget Features',
    audience: ['All'],
    keywords: ['features', 'value', 'popular'],
    body: 'Our Widget comes with an analytics dashboard. Teams enjoy the shared calendar, and we hope you love it.',
  }),
];

// Grounded in DOC1: every claim is in it, the name is personalised and there is a call to action.
const written = {
  subject: 'Your Widget comes with an analytics dashboard',
  preheader: 'Teams enjoy the shared calendar',
  body: 'Hi {{ customer.firstName | default: "there" }}, we are happy to say your Widget comes with an analytics dashboard, and teams enjoy the shared calendar. We hope you love it. Thanks!',
  cta: 'See your dashboard',
  citations: ['DOC1'],
};

let herald: TestHerald | undefined;
afterEach(async () => {
  await herald?.close();
  herald = undefined;
});

const start = async (env: Record<string, string>) => {
  const clock = createVirtualClock(T0);
  if (sqlite === undefined) throw new Error('no SQLite store factory');
  const started = await startHerald(sqlite, {
    clock,
    env,
    // One attempt each, answered at once: the fallback is not kept waiting on retries.
    configYaml: 'content:\n  maxRetries: 0\n  timeoutSeconds: 2\n',
  });
  herald = started;
  await storeDocuments(started, documents, T0);
  for (const id of ['m1', 'm2', 'm3'])
    await ingestCall(started, clock, 'identify', {
      userId: id,
      traits: { email: `${id}@example.com`, firstName: `N${id}` },
    });
  return started;
};

const withModel = async (answers: Answer[], writer = 'openai') => {
  const api = await startChatApi(answers);
  const started = await start({
    HERALD_OPENAI_API_KEY: 'sk-test',
    HERALD_OPENAI_BASE_URL: api.baseUrl,
    HERALD_OPENAI_MODEL: 'gpt-test',
    HERALD_CAMPAIGN_WRITER: writer,
  });
  return { api, herald: started };
};

interface Launched {
  audience: number;
  variants: { id: string; subject: string; generator: string; citations: string[] }[];
  usage: { calls: number; promptTokens: number; completionTokens: number; costUsd: number };
  fallback: string | null;
}

const launch = async (h: TestHerald, id = 'spring') => {
  const created = await adminCall(h, 'POST', '/v1/campaigns', {
    id,
    template: 'upsell',
    channels: ['email'],
    creative: {},
  });
  expect([created.statusCode, created.body]).toEqual([202, expect.any(String)]);
  return created.json<Launched>();
};

const creativeEntry = async (h: TestHerald) =>
  (await h.services.store.scanAudit(0, 1000)).find((e) => e.kind === 'creative');

describe.skipIf(sqlite === undefined)('creative campaigns written by the language model', () => {
  it('asks the model once, sends its copy, and records who wrote it and what it cost', async () => {
    const { api, herald: h } = await withModel([completion([written, written, written])]);
    const body = await launch(h);
    expect(api.seen).toHaveLength(1);
    expect(api.seen[0]?.model).toBe('gpt-test');
    expect(body.fallback).toBeNull();
    expect(body.usage).toMatchObject({ calls: 1, promptTokens: 1000, completionTokens: 200 });
    // At the default prices: 1,000 × 0.00015 / 1,000 + 200 × 0.0006 / 1,000 dollars.
    expect(body.usage.costUsd).toBeCloseTo(0.00027, 8);
    expect(body.variants.length).toBeGreaterThan(0);
    for (const v of body.variants) {
      expect(v.generator).toBe('openai:gpt-test');
      expect(v.subject).toBe(written.subject);
      expect(v.citations).toEqual(['DOC1']);
    }
    const entry = await creativeEntry(h);
    expect(JSON.parse(entry?.data ?? 'null')).toMatchObject({
      campaignId: 'spring',
      usage: { calls: 1, promptTokens: 1000, completionTokens: 200 },
      fallback: null,
      variants: body.variants.map((v) => ({ id: v.id, generator: 'openai:gpt-test' })),
    });
    await h.services.worker.runDue();
    const messages = (await adminCall(h, 'GET', '/v1/messages?limit=50')).json<{
      messages: {
        status: string;
        customerId: string;
        content: { subject: string; body: string };
      }[];
    }>().messages;
    expect(messages).toHaveLength(3);
    for (const m of messages) {
      expect(m.status).toBe('queued');
      expect(m.content.subject).toBe(written.subject);
      expect(m.content.body).toContain(`Hi N${m.customerId}, we are happy to say`);
    }
  });

  it('launches with the composer’s copy when the model fails, naming why', async () => {
    const { api, herald: h } = await withModel([serverError]);
    const body = await launch(h);
    expect(api.seen).toHaveLength(1);
    expect(body.fallback).toMatch(/500/);
    expect(body.usage.calls).toBe(1);
    expect(body.variants.length).toBeGreaterThan(0);
    for (const v of body.variants) expect(v.generator).toBe('offline-composer');
    expect(JSON.parse((await creativeEntry(h))?.data ?? 'null')).toMatchObject({
      fallback: body.fallback,
    });
  });

  it('leaves campaigns to the composer unless asked, a key being configured', async () => {
    const { api, herald: h } = await withModel([completion([written])], 'composer');
    const body = await launch(h);
    expect(api.seen).toHaveLength(0);
    expect(body.usage.calls).toBe(0);
    for (const v of body.variants) expect(v.generator).toBe('offline-composer');
  });

  it('keeps one copy when the same campaign is launched twice at once', async () => {
    const other = { ...written, subject: 'Teams enjoy the shared calendar' };
    // The first request is answered last: the second launch stores its copy first.
    const slow: Answer = (res) => {
      setTimeout(() => {
        completion([written, written, written])(res);
      }, 300);
    };
    const { api, herald: h } = await withModel([slow, completion([other, other, other])]);
    const [a, b] = await Promise.all([launch(h), launch(h)]);
    expect(api.seen).toHaveLength(2);
    // Both answers name the copy kept, and each what its own call cost.
    expect(a.variants.map((v) => v.subject)).toEqual(b.variants.map((v) => v.subject));
    expect(a.variants[0]?.subject).toBe(other.subject);
    expect([a.usage.calls, b.usage.calls]).toEqual([1, 1]);
    const entries = (await h.services.store.scanAudit(0, 1000))
      .filter((e) => e.kind === 'creative')
      .map((e) => JSON.parse(e.data) as { discarded?: boolean });
    expect(entries.map((e) => e.discarded === true).sort()).toEqual([false, true]);
  });

  it('writes copy anew over copy a launch left without keeping its campaign', async () => {
    const { herald: h } = await withModel([completion([written, written, written])]);
    // A launch that wrote its copy and then failed before its campaign was kept.
    const stale = [{ id: 'stale-v1', subject: 'Last week’s copy' }];
    await h.services.store.transaction((tx) =>
      tx.setSetting('creative:spring', JSON.stringify(stale)),
    );
    const body = await launch(h);
    expect(body.variants.map((v) => v.subject)).toEqual(body.variants.map(() => written.subject));
  });

  it('asks the model nothing for a second campaign written from the same brief', async () => {
    const { api, herald: h } = await withModel([completion([written, written, written])]);
    const first = await launch(h, 'spring');
    const second = await launch(h, 'summer');
    // Each launch used to ask, and bill, again: the copy was kept for one launch's call only.
    expect(api.seen).toHaveLength(1);
    expect(first.usage.calls).toBe(1);
    expect(second.usage).toEqual({ calls: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 });
    expect(second.variants.map((v) => [v.subject, v.generator])).toEqual(
      first.variants.map((v) => [v.subject, v.generator]),
    );
  });

  it('records what the model cost when no variant it wrote can go', async () => {
    // Grounded, but with a word the brand forbids: the screen refuses every variant.
    const cheap = { ...written, body: `${written.body} Not cheap, just good.` };
    const { api, herald: h } = await withModel([
      completion([cheap, cheap, cheap]),
      completion([written, written, written]),
    ]);
    const refused = await adminCall(h, 'POST', '/v1/campaigns', {
      id: 'spring',
      template: 'upsell',
      channels: ['email'],
      creative: {},
    });
    expect(api.seen).toHaveLength(1);
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toMatch(
      /no variant passed .*the model's 1 call \(1000 prompt and 200 completion tokens, \$0\.0003\) are recorded in the audit log/,
    );
    // The bill was recorded nowhere, and a launch tried again billed again.
    expect(JSON.parse((await creativeEntry(h))?.data ?? 'null')).toMatchObject({
      campaignId: 'spring',
      launch: 'refused',
      variants: [],
      usage: { calls: 1, promptTokens: 1000, completionTokens: 200 },
    });
    // Tried again, the model is asked again: copy nothing could use is not kept (it was, and
    // every launch of the brief was refused from it until the process restarted).
    const again = await launch(h);
    expect(api.seen).toHaveLength(2);
    expect(again.usage.calls).toBe(1);
    expect(again.variants.map((v) => v.subject)).toContain(written.subject);
  });

  it('refuses the model as writer without a key, at start', () => {
    expect(() =>
      loadConfig({ HERALD_CAMPAIGN_WRITER: 'openai', HERALD_ADMIN_TOKEN: 'x'.repeat(32) }, null),
    ).toThrow(/\/content\/openaiApiKey: must be set \(HERALD_OPENAI_API_KEY\)/);
  });
});
