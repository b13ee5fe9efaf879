import { describe, expect, it } from 'vitest';
import { createUsageLedger } from './usage-ledger.js';

describe('createUsageLedger', () => {
  it('adds up tokens and cost per campaign', () => {
    const ledger = createUsageLedger();
    ledger.record('spring-sale', { promptTokens: 1000, completionTokens: 200, costUsd: 0.8 });
    ledger.record('win-back', { promptTokens: 50, completionTokens: 5, costUsd: 0.01 });
    ledger.record('spring-sale', { promptTokens: 500, completionTokens: 100, costUsd: 0.4 });

    expect(ledger.totalFor('spring-sale')).toEqual({
      promptTokens: 1500,
      completionTokens: 300,
      costUsd: expect.closeTo(1.2, 9),
    });
    expect(ledger.totals().map((t) => t.campaignId)).toEqual(['spring-sale', 'win-back']);
  });

  it('reports zero for a campaign with nothing recorded', () => {
    expect(createUsageLedger().totalFor('none-yet')).toEqual({
      promptTokens: 0,
      completionTokens: 0,
      costUsd: 0,
    });
  });

  it('hands out copies that cannot change the ledger', () => {
    const ledger = createUsageLedger();
    ledger.record('spring-sale', { promptTokens: 10, completionTokens: 1, costUsd: 0.1 });
    ledger.totalFor('spring-sale').promptTokens = 999;
    const [first] = ledger.totals();
    if (first) first.usage.promptTokens = 999;

    expect(ledger.totalFor('spring-sale').promptTokens).toBe(10);
  });
});
