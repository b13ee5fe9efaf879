import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../app/create-services.js';
import { loadConfig } from '../../app/load-config.js';
import { silentLogger } from '../../ports/logger.js';
import { keepModelsCurrent } from './serve.js';

describe('a process that decides without training (herald worker)', () => {
  let dir = '';
  let services: Services | undefined;
  afterEach(async () => {
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes up a conversion model another process registered', async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-models-'));
    services = await createServices(
      loadConfig({ HERALD_DATABASE_URL: `sqlite:${join(dir, 'herald.db')}` }, null),
      { logger: silentLogger },
    );
    expect(services.conversionModel.active()).toBe(false);
    // As `herald models train` or `serve`'s schedule registers one, through the database.
    await services.store.saveModel({
      kind: 'conversion',
      status: 'trained',
      reason: null,
      trainedAtMs: Date.UTC(2026, 11, 1),
      windowStartMs: null,
      windowEndMs: Date.UTC(2026, 11, 1),
      features: ['sends', 'conversions'],
      params: { email: { alpha: 1, beta: 99 } },
      metrics: {},
      details: {},
    });
    const timer = keepModelsCurrent(services, 20);
    try {
      await expect.poll(() => services?.conversionModel.active(), { timeout: 10_000 }).toBe(true);
    } finally {
      clearInterval(timer);
    }
    expect(services.conversionModel.score({ email: { sends: 0, conversions: 0 } })).toEqual({
      modelVersion: 1,
      byChannel: { email: 0.01 },
    });
  });
});
