import type { MessageOutcome, ModelDraft } from '../../../ports/model-store.js';
import { areaUnderRoc, brierScore } from '../churn/classification-metrics.js';
import { fitBetaPrior, shrunkRate, type SendRecord } from './beta-binomial.js';

const DAY_MS = 86_400_000;

export interface ConversionTrainOptions {
  nowMs: number;
  /** Messages sent before `cutoffMs − attributionWindowDays` are used (default cutoff: now). */
  cutoffMs?: number;
  /** How long after a send an order still credits it; younger sends are left out (not yet known). */
  attributionWindowDays: number;
  /** How far back sends are read (default 365 days). */
  lookbackDays?: number;
  /** The last days of sends held out to measure the probabilities (default 30; 0: none). */
  holdoutDays?: number;
  /** A channel needs this many sends and conversions to be modelled (defaults 200 and 5). */
  minSends?: number;
  minConversions?: number;
  /**
   * …and this many customers with two sends or more on it (default 20): with one send each,
   * the prior's mean is learnt but not how much customers differ (its strength).
   */
  minRepeatCustomers?: number;
}

export const conversionFeatures = [
  'sends per customer and channel',
  'of them credited with an order (last touch)',
  'message strategy (creative variant), when the message was in an experiment',
];

const tally = (outcomes: readonly MessageOutcome[], keyOf: (o: MessageOutcome) => string) => {
  const out = new Map<string, SendRecord>();
  for (const o of outcomes) {
    const key = keyOf(o);
    const r = out.get(key) ?? { sends: 0, conversions: 0 };
    r.sends += 1;
    if (o.converted) r.conversions += 1;
    out.set(key, r);
  }
  return out;
};

/**
 * Time-based holdout on one channel's sends: a prior fitted on the sends before `splitMs`
 * predicts each later send from its customer's earlier record; AUC and Brier score of that, and
 * the Brier scores of the channel's rate for everyone and of each customer's own raw rate (the
 * channel's for a customer new to it), to compare with.
 */
const measureOnHoldout = (
  sends: readonly MessageOutcome[],
  splitMs: number,
): Record<string, number> => {
  const before = sends.filter((o) => o.sentAtMs < splitMs);
  const after = sends.filter((o) => o.sentAtMs >= splitMs);
  const converted = before.filter((o) => o.converted).length;
  if (after.length === 0 || converted === 0) return {};
  const own = tally(before, (o) => o.customerId);
  const prior = fitBetaPrior([...own.values()]);
  const channelRate = converted / before.length;
  const labels = after.map((o): 0 | 1 => (o.converted ? 1 : 0));
  const shrunk = after.map((o) =>
    shrunkRate(own.get(o.customerId) ?? { sends: 0, conversions: 0 }, prior),
  );
  const raw = after.map((o) => {
    const r = own.get(o.customerId);
    return r === undefined ? channelRate : r.conversions / r.sends;
  });
  return {
    holdoutSends: after.length,
    holdoutConversions: labels.filter((l) => l === 1).length,
    holdoutAuc: areaUnderRoc(shrunk, labels),
    holdoutBrier: brierScore(shrunk, labels),
    holdoutBrierChannelRate: brierScore(
      after.map(() => channelRate),
      labels,
    ),
    holdoutBrierOwnRate: brierScore(raw, labels),
  };
};

/**
 * The conversion model's registry entry: per channel, the Beta prior of customers' probability
 * that a sent message is credited with an order (empirical Bayes over the customers' sends and
 * conversions), and per message strategy (creative variant) its rate shrunk toward its channel's.
 * Only sends whose attribution window has closed count. A channel below the minimum sends or
 * conversions is left out with the reason; with none left the run is `insufficient-data`.
 */
export const toConversionDraft = (
  outcomes: readonly MessageOutcome[],
  options: ConversionTrainOptions,
): ModelDraft => {
  const cutoffMs = options.cutoffMs ?? options.nowMs;
  const lookbackDays = options.lookbackDays ?? 365;
  const holdoutDays = options.holdoutDays ?? 30;
  const minSends = options.minSends ?? 200;
  const minConversions = options.minConversions ?? 5;
  const minRepeatCustomers = options.minRepeatCustomers ?? 20;
  const endMs = cutoffMs - options.attributionWindowDays * DAY_MS;
  const startMs = endMs - lookbackDays * DAY_MS;
  const used = outcomes.filter((o) => o.sentAtMs >= startMs && o.sentAtMs < endMs);
  const byChannel = tally(used, (o) => o.channel);
  const params: ModelDraft['params'] = {};
  const metrics: Record<string, number> = {};
  const skipped: Record<string, string> = {};
  let converged = true;
  for (const [channel, total] of [...byChannel].sort(([a], [b]) => a.localeCompare(b))) {
    if (total.sends < minSends || total.conversions < minConversions) {
      skipped[channel] =
        `${total.sends} sends, ${total.conversions} credited with an order (needs ≥ ${minSends} and ≥ ${minConversions})`;
      continue;
    }
    const perCustomer = tally(
      used.filter((o) => o.channel === channel),
      (o) => o.customerId,
    );
    const repeatCustomers = [...perCustomer.values()].filter((r) => r.sends >= 2).length;
    if (repeatCustomers < minRepeatCustomers) {
      skipped[channel] =
        `${String(repeatCustomers)} customers with two sends or more (needs ≥ ${String(minRepeatCustomers)}): one send each tells the channel's rate, not how much customers differ`;
      continue;
    }
    const prior = fitBetaPrior([...perCustomer.values()]);
    converged &&= prior.converged;
    params[channel] = { alpha: prior.alpha, beta: prior.beta };
    metrics[`${channel}.sends`] = total.sends;
    metrics[`${channel}.conversions`] = total.conversions;
    metrics[`${channel}.customers`] = perCustomer.size;
    metrics[`${channel}.rate`] = total.conversions / total.sends;
    metrics[`${channel}.priorMean`] = prior.alpha / (prior.alpha + prior.beta);
    metrics[`${channel}.priorStrength`] = prior.alpha + prior.beta;
    if (holdoutDays > 0)
      for (const [name, value] of Object.entries(
        measureOnHoldout(
          used.filter((o) => o.channel === channel),
          endMs - holdoutDays * DAY_MS,
        ),
      ))
        metrics[`${channel}.${name}`] = value;
  }
  const strategies = [
    ...tally(
      used.filter((o) => o.variant !== null && params[o.channel] !== undefined),
      (o) => `${o.channel}\u0000${o.variant ?? ''}`,
    ),
  ]
    .map(([key, r]) => {
      const [channel = '', variant = ''] = key.split('\u0000');
      const prior = params[channel] ?? { alpha: 1, beta: 1 };
      return {
        channel,
        variant,
        sends: r.sends,
        conversions: r.conversions,
        probability: shrunkRate(r, { alpha: prior['alpha'] ?? 1, beta: prior['beta'] ?? 1 }),
      };
    })
    .sort((a, b) => a.channel.localeCompare(b.channel) || a.variant.localeCompare(b.variant));
  const base = {
    kind: 'conversion',
    trainedAtMs: options.nowMs,
    windowStartMs: startMs,
    windowEndMs: endMs,
    features: conversionFeatures,
  };
  const details = {
    attributionWindowDays: options.attributionWindowDays,
    lookbackDays,
    holdoutDays,
    minSends,
    minConversions,
    minRepeatCustomers,
    sends: used.length,
    skipped,
  };
  if (Object.keys(params).length === 0)
    return {
      ...base,
      status: 'insufficient-data',
      reason: `not enough data: ${
        Object.entries(skipped)
          .map(([c, why]) => `${c}: ${why}`)
          .join('; ') ||
        `no message sent from ${new Date(startMs).toISOString().slice(0, 10)} to ${new Date(endMs).toISOString().slice(0, 10)}`
      }; no conversion probabilities`,
      params: {},
      metrics: {},
      details,
    };
  return {
    ...base,
    status: 'trained',
    reason: null,
    params,
    metrics,
    details: { ...details, converged, strategies },
  };
};

/** A customer's conversion probability per channel, and each strategy's, under a trained version. */
export interface ConversionPrediction {
  modelVersion: number;
  byChannel: Record<string, { probability: number; sends: number; conversions: number }>;
  byStrategy: { channel: string; variant: string; probability: number }[];
}

/**
 * The probability that the next message on each modelled channel is credited with an order, for
 * a customer with these past sends: their own record shrunk toward the channel's population
 * (the Beta posterior mean); null when the version modelled nothing.
 */
export const predictConversion = (
  version: {
    version: number;
    kind: string;
    status: string;
    params: ModelDraft['params'];
    details: ModelDraft['details'];
  },
  outcomes: readonly MessageOutcome[],
): ConversionPrediction | null => {
  if (version.kind !== 'conversion' || version.status !== 'trained') return null;
  const own = tally(outcomes, (o) => o.channel);
  const byChannel: ConversionPrediction['byChannel'] = {};
  for (const [channel, prior] of Object.entries(version.params)) {
    const alpha = prior['alpha'];
    const beta = prior['beta'];
    if (alpha === undefined || beta === undefined) continue;
    const record = own.get(channel) ?? { sends: 0, conversions: 0 };
    byChannel[channel] = { probability: shrunkRate(record, { alpha, beta }), ...record };
  }
  const strategies: unknown = version.details['strategies'];
  const byStrategy: ConversionPrediction['byStrategy'] = [];
  for (const s of Array.isArray(strategies) ? (strategies as unknown[]) : []) {
    const { channel, variant, probability } = (s ?? {}) as Record<string, unknown>;
    if (
      typeof channel === 'string' &&
      typeof variant === 'string' &&
      typeof probability === 'number'
    )
      byStrategy.push({ channel, variant, probability });
  }
  return { modelVersion: version.version, byChannel, byStrategy };
};
