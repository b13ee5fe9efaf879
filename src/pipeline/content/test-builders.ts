import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataDir } from '../../../test/support/shared-data.js';
import { parseDocument, type ContentDocument } from './document.js';

export { sharedDataDir, sharedDataNote } from '../../../test/support/shared-data.js';

export const aDocument = (overrides: Partial<ContentDocument> = {}): ContentDocument => ({
  id: 'DOC900',
  title: 'Premium Widget Features',
  category: 'Product',
  audience: ['High-Value'],
  keywords: ['premium', 'widget'],
  body: 'Our Premium Widget includes an analytics dashboard. Save 25% on your first year.',
  approvedAt: '2025-11-01T00:00:00Z',
  expiresAt: null,
  sourceUrl: null,
  version: '1.0',
  ...overrides,
});

const scenarioDir = (): string | undefined =>
  sharedDataDir === undefined ? undefined : join(sharedDataDir, 'personalization-scenario');

/** The 25 approved documents of the shared scenario, parsed; empty when the data is absent. */
export const loadScenarioDocuments = (): ContentDocument[] => {
  const dir = scenarioDir();
  if (dir === undefined) return [];
  const folder = join(dir, 'approved_content');
  return readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const parsed = parseDocument(readFileSync(join(folder, name), 'utf8'), name);
      if (!parsed.ok) throw new Error(`${name}: ${JSON.stringify(parsed.error.problems)}`);
      return parsed.value;
    });
};

/** The scenario's customers as `{ id, tier, lastEngagementDays }`; empty when the data is absent. */
export const loadScenarioCustomers = (): {
  id: string;
  tier: string;
  lastEngagementDays: number;
}[] => {
  const dir = scenarioDir();
  if (dir === undefined) return [];
  const [header, ...rows] = readFileSync(join(dir, 'customers.csv'), 'utf8').trim().split(/\r?\n/);
  const columns = (header ?? '').split(',');
  const at = (name: string) => columns.indexOf(name);
  return rows.map((row) => {
    const cells = row.split(',');
    return {
      id: cells[at('customer_id')] ?? '',
      tier: cells[at('tier')] ?? '',
      lastEngagementDays: Number(cells[at('last_engagement_days')]),
    };
  });
};
