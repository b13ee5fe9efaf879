import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../../core/ids.js';
import type { MessageOutcome } from '../../../ports/model-store.js';
import { seededRandom } from '../../../ports/random.js';
import { predictConversion, toConversionDraft } from './train-conversion-model.js';

const DAY_MS = 86_400_000;
const cutoffMs = Date.UTC(2026, 5, 1);

/**
 * 400 customers sent email over 200 days (rates 2–12 %, strategy A converting better than B),
 * and 50 sms sends with one conversion; plus email sends in the last 7 days that all converted
 * (too young to count: their attribution window is still open).
 */
const outcomes = (): MessageOutcome[] => {
  const random = seededRandom(23);
  const out: MessageOutcome[] = [];
  for (let c = 0; c < 400; c++) {
    const rate = 0.02 + (c % 6) * 0.02;
    for (let i = 0; i < 10; i++) {
      const variant = i % 2 === 0 ? 'a' : 'b';
      out.push({
        customerId: toCustomerId(`c${c}`),
        channel: 'email',
        sentAtMs: cutoffMs - (10 + Math.floor(random.next() * 200)) * DAY_MS,
        variant: c < 200 ? variant : null,
        converted: random.next() < rate * (variant === 'a' && c < 200 ? 1.5 : 1),
      });
    }
  }
  for (let c = 0; c < 50; c++)
    out.push({
      customerId: toCustomerId(`c${c}`),
      channel: 'sms',
      sentAtMs: cutoffMs - 30 * DAY_MS,
      variant: null,
      converted: c === 0,
    });
  for (let c = 0; c < 100; c++)
    out.push({
      customerId: toCustomerId(`late${c}`),
      channel: 'email',
      sentAtMs: cutoffMs - 3 * DAY_MS,
      variant: null,
      converted: true,
    });
  return out;
};

describe('toConversionDraft', () => {
  const data = outcomes();
  const draft = toConversionDraft(data, { nowMs: cutoffMs, attributionWindowDays: 7 });

  it('fits a Beta prior per channel with enough sends, and says why others are left out', () => {
    expect(draft).toMatchObject({ kind: 'conversion', status: 'trained' });
    expect(Object.keys(draft.params)).toEqual(['email']);
    expect(draft.details['skipped']).toEqual({
      sms: '50 sends, 1 credited with an order (needs ≥ 200 and ≥ 5)',
    });
    // The sends of the last 7 days are left out, so the rate is not inflated by them.
    expect(draft.metrics['email.sends']).toBe(4000);
    const rate = draft.metrics['email.rate'] ?? 0;
    expect(rate).toBeGreaterThan(0.05);
    expect(rate).toBeLessThan(0.09);
    expect(draft.metrics['email.priorMean']).toBeCloseTo(rate, 2);
    expect(draft.windowEndMs).toBe(cutoffMs - 7 * DAY_MS);
  });

  it('leaves out a channel whose customers had one send each: the prior strength is not learnt', () => {
    // 1,000 customers, one welcome email each, 50 credited with an order.
    const once = Array.from({ length: 1000 }, (_, c): MessageOutcome => ({
      customerId: toCustomerId(`w${String(c)}`),
      channel: 'email',
      sentAtMs: cutoffMs - 30 * DAY_MS,
      variant: null,
      converted: c % 20 === 0,
    }));
    const single = toConversionDraft(once, { nowMs: cutoffMs, attributionWindowDays: 7 });
    expect(single.status).toBe('insufficient-data');
    expect(single.details['skipped']).toEqual({
      email:
        "0 customers with two sends or more (needs ≥ 20): one send each tells the channel's rate, not how much customers differ",
    });
  });

  it('measures the probabilities on the last 30 days of sends, against simpler rates', () => {
    // 300 customers, 30 emails each over 200 days; every other one converts on 30 %, the rest 2 %.
    const random = seededRandom(29);
    const sends: MessageOutcome[] = [];
    for (let c = 0; c < 300; c++)
      for (let i = 0; i < 30; i++)
        sends.push({
          customerId: toCustomerId(`h${c}`),
          channel: 'email',
          sentAtMs: cutoffMs - (10 + Math.floor(random.next() * 200)) * DAY_MS,
          variant: null,
          converted: random.next() < (c % 2 === 0 ? 0.3 : 0.02),
        });
    const m = toConversionDraft(sends, { nowMs: cutoffMs, attributionWindowDays: 7 }).metrics;
    expect(m['email.holdoutSends']).toBeGreaterThan(1000);
    expect(m['email.holdoutAuc']).toBeGreaterThan(0.7);
    expect(m['email.holdoutBrier']).toBeLessThan(m['email.holdoutBrierChannelRate'] ?? 0);
    expect(m['email.holdoutBrier']).toBeLessThan(m['email.holdoutBrierOwnRate'] ?? 0);
  });

  it('rates each strategy, shrunk toward its channel', () => {
    const strategies = draft.details['strategies'] as { variant: string; probability: number }[];
    expect(strategies.map((s) => s.variant)).toEqual(['a', 'b']);
    expect(strategies[0]?.probability).toBeGreaterThan(strategies[1]?.probability ?? 1);
  });

  it('gives a customer their own record shrunk toward the channel, and a stranger the prior mean', () => {
    const version = { ...draft, version: 3 };
    const alpha = draft.params['email']?.['alpha'] ?? 0;
    const beta = draft.params['email']?.['beta'] ?? 0;
    const mine = data.filter((o) => o.customerId === toCustomerId('c5') && o.channel === 'email');
    const conversions = mine.filter((o) => o.converted).length;
    const p = predictConversion(version, mine);
    expect(p?.modelVersion).toBe(3);
    expect(p?.byChannel['email']).toEqual({
      probability: (conversions + alpha) / (mine.length + alpha + beta),
      sends: mine.length,
      conversions,
    });
    expect(predictConversion(version, [])?.byChannel['email']?.probability).toBeCloseTo(
      alpha / (alpha + beta),
      12,
    );
    expect(p?.byStrategy.map((s) => s.variant)).toEqual(['a', 'b']);
  });

  it('registers insufficient data with the reason when no channel has enough', () => {
    const refused = toConversionDraft(
      data.filter((o) => o.channel === 'sms'),
      { nowMs: cutoffMs, attributionWindowDays: 7 },
    );
    expect(refused.status).toBe('insufficient-data');
    expect(refused.reason).toBe(
      'not enough data: sms: 50 sends, 1 credited with an order (needs ≥ 200 and ≥ 5); no conversion probabilities',
    );
    expect(toConversionDraft([], { nowMs: cutoffMs, attributionWindowDays: 7 }).reason).toBe(
      'not enough data: no message sent from 2025-05-25 to 2026-05-25; no conversion probabilities',
    );
    expect(predictConversion({ ...refused, version: 1 }, [])).toBeNull();
  });
});
