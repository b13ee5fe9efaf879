import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { configFields, loadConfig } from '../../src/app/load-config.js';
import { exampleConfigYaml, renderConfigDocs } from '../../scripts/render-config-docs.js';

const docPath = join(dirname(fileURLToPath(import.meta.url)), '../../docs/configuration.md');

describe('docs/configuration.md', () => {
  it('matches the configuration schema (run npm run docs:config when it does not)', () => {
    const committed = readFileSync(docPath, 'utf8');
    expect(committed, 'docs/configuration.md is stale: run npm run docs:config').toBe(
      renderConfigDocs(),
    );
  });

  it('lists every setting with its environment variable', () => {
    const doc = renderConfigDocs();
    for (const { path, schema } of configFields()) {
      expect(doc).toContain(`| \`${path.join('.')}\``);
      if (schema.env !== undefined) expect(doc).toContain(`\`${schema.env}\``);
    }
  });

  it('is already formatted the way npm run format:check wants it', async () => {
    const doc = renderConfigDocs();
    const options = (await resolveConfig(docPath)) ?? {};
    expect(await format(doc, { ...options, filepath: docPath })).toBe(doc);
  });

  it('shows an example file that Herald accepts once its example token is replaced', () => {
    expect(() => loadConfig({}, exampleConfigYaml)).toThrow(/admin\/token: is the example/);
    const config = loadConfig(
      { HERALD_ADMIN_TOKEN: 'a-token-of-our-own-32-characters' },
      exampleConfigYaml,
    );
    expect(config.http.port).toBe(8080);
    expect(config.profilePolicy.engagement.halfLifeDays).toBe(45);
    expect(config.profilePolicy.engagement.click).toBe(0.5);
    expect(config.sweepIntervalMinutes).toBe(15);
  });
});
