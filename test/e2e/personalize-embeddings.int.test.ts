import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import type { ContentDocument } from '../../src/pipeline/content/index.js';
import { aDocument } from '../../src/pipeline/content/test-builders.js';
import type { PersonalizeResult } from '../../src/pipeline/personalize.js';
import { serverError } from '../support/chat-completions-api.js';
import { startEmbeddingsApi } from '../support/embeddings-api.js';
import { runHerald } from '../support/run-cli.js';
import { sharedDataDir, sharedDataNote } from '../support/shared-data.js';
import {
  adminCall,
  ingestCall,
  startHerald,
  storeDocuments,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

// Hybrid retrieval with an embedding model configured, against a local server speaking
// OpenAI's embeddings shape whose vectors come from a stand-in (test/support/embeddings-api.ts).
const scenario =
  sharedDataDir === undefined ? undefined : join(sharedDataDir, 'personalization-scenario');
if (scenario === undefined) console.warn(sharedDataNote);

describe.skipIf(scenario === undefined)('herald personalize with an embedding model', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-embeddings-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const personalize = async (name: string, baseUrl: string | null) => {
    const out = join(dir, `${name}.json`);
    const outcome = await runHerald(
      [
        'personalize',
        '--customers',
        join(scenario ?? '', 'customers.csv'),
        '--content',
        join(scenario ?? '', 'approved_content'),
        '--out',
        out,
      ],
      {
        cwd: dir,
        timeoutMs: 60_000,
        env: {
          HERALD_DATABASE_URL: `sqlite:${join(dir, `${name}.db`)}`,
          ...(baseUrl === null
            ? {}
            : {
                HERALD_EMBEDDING_MODEL: 'embed-test',
                HERALD_EMBEDDING_BASE_URL: baseUrl,
                HERALD_EMBEDDING_API_KEY: 'local-key',
              }),
          HERALD_OPENAI_API_KEY: '',
        },
      },
    );
    expect([outcome.code, outcome.stderr]).toEqual([0, '']);
    return {
      stdout: outcome.stdout,
      result: JSON.parse(readFileSync(out, 'utf8')) as PersonalizeResult,
    };
  };

  it('retrieves by terms and meaning, embeds each text once, and prints every similarity', async () => {
    const api = await startEmbeddingsApi();
    const { stdout, result } = await personalize('hybrid', api.baseUrl);
    expect(result.segments.length).toBeGreaterThan(1);
    for (const s of result.segments) {
      expect(s.vectors).toMatchObject({ used: true, tokens: expect.any(Number) });
      // The ten most alike, most alike first, whatever their audience: to tune the threshold on.
      const nearest = s.vectors?.used === true ? s.vectors.nearest : [];
      expect(nearest).toHaveLength(10);
      const alike = nearest.map((d) => d.similarity);
      expect(alike).toEqual([...alike].sort((a, b) => b - a));
      expect(s.variants).toHaveLength(3);
      for (const r of s.retrieved) {
        expect(r).toHaveProperty('bm25');
        expect(r.similarity).toEqual(expect.any(Number));
      }
    }
    // The library's passages once, then each segment's query: no text asked for twice.
    const asked = api.seen.flatMap((r) => r.body.input);
    expect(new Set(asked).size).toBe(asked.length);
    expect(api.seen.every((r) => r.body.model === 'embed-test')).toBe(true);
    expect(api.seen[0]?.authorization).toBe('Bearer local-key');
    expect(stdout).toMatch(/retrieved \(hybrid, \d+ embedding tokens\): DOC\d+ 0\.\d{4} \(bm25/);
    expect(stdout).toMatch(/nearest in meaning: DOC\d+ -?\d\.\d{3}, /);
  }, 60_000);

  it('retrieves by terms alone when the model fails, and says why', async () => {
    const api = await startEmbeddingsApi([serverError]);
    const failed = await personalize('failed', api.baseUrl);
    const plain = await personalize('plain', null);
    for (const [i, s] of failed.result.segments.entries()) {
      expect(s.vectors).toEqual({ used: false, reason: expect.stringMatching(/^server error/) });
      const same = plain.result.segments[i];
      expect(same).not.toHaveProperty('vectors');
      expect(s.retrieved).toEqual(same?.retrieved);
    }
    expect(failed.stdout).toContain('retrieved (terms alone: server error');
    // One call and its three retries (the default), for the first segment only.
    expect(api.seen).toHaveLength(4);
  }, 60_000);
});

const T0 = Date.UTC(2026, 11, 1, 12);
const sqlite = storeFactories.find((f) => f.name === 'sqlite');

const documents: ContentDocument[] = [
  aDocument({
    id: 'SALE',
    title: 'Weekend Flash Sale',
    audience: ['All'],
    keywords: ['weekend', 'deals'],
    body: 'Our weekend flash sale comes with an analytics dashboard. Teams enjoy the shared calendar, and we hope you love it.',
  }),
  aDocument({
    id: 'LEARN',
    title: 'Training Library',
    audience: ['All'],
    keywords: ['tutorials', 'webinars'],
    body: 'Courses and webinars for every skill level. We hope you love them.',
  }),
];

describe.skipIf(sqlite === undefined)('a creative campaign with an embedding model', () => {
  let herald: TestHerald | undefined;
  afterEach(async () => {
    await herald?.close();
    herald = undefined;
  });

  const start = async (env: Record<string, string>) => {
    const clock = createVirtualClock(T0);
    if (sqlite === undefined) throw new Error('no SQLite store factory');
    const started = await startHerald(sqlite, { clock, env });
    herald = started;
    await storeDocuments(started, documents, T0);
    await ingestCall(started, clock, 'identify', {
      userId: 'd1',
      traits: { email: 'd1@example.com', firstName: 'Dee' },
    });
    return started;
  };

  const launch = (h: TestHerald) =>
    adminCall(h, 'POST', '/v1/campaigns', {
      id: 'doorbusters',
      template: 'upsell',
      channels: ['email'],
      creative: { query: 'doorbuster' },
    });

  it('writes from a document alike in meaning to a query none of its words match', async () => {
    const plain = await launch(await start({}));
    expect(plain.statusCode).toBe(409);
    expect(plain.body).toContain('holds any of its words"');
    await herald?.close();

    const api = await startEmbeddingsApi();
    const h = await start({
      HERALD_EMBEDDING_MODEL: 'embed-test',
      HERALD_EMBEDDING_BASE_URL: api.baseUrl,
      HERALD_OPENAI_API_KEY: 'sk-openai-secret-key',
    });
    const created = await launch(h);
    expect([created.statusCode, created.body]).toEqual([202, expect.any(String)]);
    const variants = created.json<{ variants: { citations: string[] }[] }>().variants;
    expect(variants.length).toBeGreaterThan(0);
    for (const v of variants) expect(v.citations).toEqual(['SALE']);
    // No key of its own: a server of its own is asked without one, never with OpenAI's.
    expect(api.seen[0]?.authorization).toBe('Bearer none');
  });

  it('still refuses a query alike to nothing, saying meaning was read too', async () => {
    const api = await startEmbeddingsApi();
    const h = await start({
      HERALD_EMBEDDING_MODEL: 'embed-test',
      HERALD_EMBEDDING_BASE_URL: api.baseUrl,
    });
    const refused = await adminCall(h, 'POST', '/v1/campaigns', {
      id: 'zebras',
      template: 'upsell',
      channels: ['email'],
      creative: { query: 'zebras' },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('holds any of its words or is alike to it in meaning');
  });

  it('does not say meaning was read when the model could not answer', async () => {
    const api = await startEmbeddingsApi([serverError]);
    const h = await start({
      HERALD_EMBEDDING_MODEL: 'embed-test',
      HERALD_EMBEDDING_BASE_URL: api.baseUrl,
    });
    const refused = await launch(h);
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('holds any of its words"');
  }, 30_000);
});
