import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalApi } from '../../test/support/chat-completions-api.js';
import { silentLogger } from '../ports/logger.js';
import { createServices } from './create-services.js';
import { loadConfig } from './load-config.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

/** A stand-in for the Moderations API that finds graphic violence in anything, and who asked. */
const startModerationApi = async () => {
  const asked: { url: string | undefined; authorization: string | undefined }[] = [];
  const baseUrl = await startLocalApi(
    [
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'modr-1',
            model: 'omni-moderation-latest',
            results: [
              { flagged: true, categories: {}, category_scores: { 'violence/graphic': 0.95 } },
            ],
          }),
        );
      },
    ],
    ({ url, authorization }) => {
      asked.push({ url, authorization });
    },
  );
  return { baseUrl, asked };
};

const servicesWith = async (env: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-moderator-'));
  const services = await createServices(
    loadConfig({ HERALD_DATABASE_URL: `sqlite:${join(dir, 'herald.db')}`, ...env }, null),
    { logger: silentLogger },
  );
  closing.push(async () => {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return services;
};

describe('the moderator generated copy is screened by (content.moderator)', () => {
  it('asks the Moderations API with the configured key when set to openai', async () => {
    const api = await startModerationApi();
    const services = await servicesWith({
      HERALD_MODERATOR: 'openai',
      HERALD_OPENAI_API_KEY: 'sk-moderation-test',
      HERALD_OPENAI_BASE_URL: api.baseUrl,
    });
    const { moderator } = services.writing(T0);
    const findings = await moderator.moderate(
      ['A calm note about our new notebooks.'],
      new AbortController().signal,
    );
    expect(findings).toEqual([expect.objectContaining({ category: 'violence', severity: 'high' })]);
    expect(api.asked).toEqual([
      { url: '/v1/moderations', authorization: 'Bearer sk-moderation-test' },
    ]);
  });

  it('uses the local lexicon by default, asking no one', async () => {
    const api = await startModerationApi();
    const services = await servicesWith({
      HERALD_OPENAI_API_KEY: 'sk-moderation-test',
      HERALD_OPENAI_BASE_URL: api.baseUrl,
    });
    const { moderator } = services.writing(T0);
    expect(
      await moderator.moderate(
        ['A calm note about our new notebooks.'],
        new AbortController().signal,
      ),
    ).toEqual([]);
    expect(api.asked).toEqual([]);
  });

  it('refuses openai without a key at start, naming the setting', () => {
    expect(() => loadConfig({ HERALD_MODERATOR: 'openai' }, null)).toThrow(
      /content\/openaiApiKey: must be set \(HERALD_OPENAI_API_KEY\) when content\.moderator \(HERALD_MODERATOR\) is openai/,
    );
  });
});
