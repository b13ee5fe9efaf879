import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readScenarioCustomers } from './content.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-scenario-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const file = (text: string) => {
  const path = join(dir, `${String(Math.random()).slice(2)}.csv`);
  writeFileSync(path, text);
  return path;
};

describe('readScenarioCustomers', () => {
  it('reads the scenario’s columns', () => {
    const path = file(
      'customer_id,tier,purchase_frequency,avg_order_value,last_engagement_days\nc1,Gold,4,120.5,3\n',
    );
    expect(readScenarioCustomers(path)).toEqual([
      {
        id: 'c1',
        tier: 'Gold',
        purchaseFrequency: 4,
        avgOrderValue: 120.5,
        lastEngagementDays: 3,
      },
    ]);
  });

  it('names the columns a file lacks once, with the ones it has, not a bad value per row', () => {
    const path = file('customer_id,email,country\nc1,a@x.io,DE\nc2,b@x.io,FR\n');
    expect(() => readScenarioCustomers(path)).toThrow(
      `customers file ${path} has no column "purchase_frequency", "avg_order_value", "last_engagement_days"; its columns are "customer_id", "email", "country" (it needs customer_id, purchase_frequency, avg_order_value, last_engagement_days, and tier when there is one)`,
    );
  });

  it('still names a bad value where the column is there', () => {
    const path = file(
      'customer_id,purchase_frequency,avg_order_value,last_engagement_days\nc1,four,1,2\n',
    );
    expect(() => readScenarioCustomers(path)).toThrow(/invalid customers/);
  });
});
