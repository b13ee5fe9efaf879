// Writes docs/configuration.md from the configuration schema (`npm run docs:config`).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './render-config-docs.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'configuration.md');
writeFileSync(target, renderConfigDocs());
console.log(`wrote ${target}`);
