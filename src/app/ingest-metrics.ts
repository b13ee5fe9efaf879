import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkRound } from '../pipeline/decide/index.js';
import type { Finished } from '../pipeline/deliver/index.js';

const RECENT_LAGS = 10_000;

/** Ingest counters and request latency for `/metrics` (Prometheus text format). */
let currencies: ReadonlySet<string> | undefined;
/** The ISO 4217 codes the runtime's CLDR data knows. */
const isoCurrencies = (): ReadonlySet<string> =>
  (currencies ??= new Set(Intl.supportedValuesOf('currency')));

export interface IngestMetrics {
  countRequest(route: string, status: number, seconds: number): void;
  countEvents(outcome: 'stored' | 'duplicate' | 'rejected', n: number): void;
  /** Decisions by agent and status, work items by outcome, and how late work ran. */
  observeRound(round: WorkRound): void;
  /** The 95th percentile of the last (up to 10,000) work items' lag, in ms, and how many. */
  recentLagP95(): { p95Ms: number | null; samples: number };
  /** Delivery outcomes by channel, provider and outcome (`sent`, `retry`, `failed` …). */
  countDeliveries(results: readonly Finished[]): void;
  /** Order events in a currency with no exchange rate (their value not counted), by currency. */
  countUnconverted(currency: string, n: number): void;
  render(): Promise<string>;
  readonly contentType: string;
}

let processRegistry: Registry | null = null;

/**
 * The process's own figures (CPU, memory, event-loop delay, GC): collected once per process,
 * however many servers it runs, since each collector starts observers that are never stopped.
 */
const processMetrics = (): Registry => {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'herald_' });
  }
  return processRegistry;
};

/**
 * A registry of its own per server, so tests and several servers in one process stay apart;
 * `/metrics` shows it after the process's figures.
 */
export const createIngestMetrics = (): IngestMetrics => {
  const registry = new Registry();
  const ofProcess = processMetrics();
  const requests = new Counter({
    name: 'herald_http_requests_total',
    help: 'HTTP requests by route and status.',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const events = new Counter({
    name: 'herald_ingest_events_total',
    help: 'Events received, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'HTTP request latency by route.',
    labelNames: ['route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'herald_decisions_total',
    help: 'Decisions made, by agent and status.',
    labelNames: ['agent', 'status'],
    registers: [registry],
  });
  const work = new Counter({
    name: 'herald_work_items_total',
    help: 'Scheduler work items finished, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'herald_work_lag_seconds',
    help: 'How long after its due time a work item ran (event → decision latency for events).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [registry],
  });
  const recentLags = new Float64Array(RECENT_LAGS);
  let recentCount = 0;
  const deliveries = new Counter({
    name: 'herald_deliveries_total',
    help: 'Delivery attempts and hand-off refusals, by channel, provider and outcome.',
    labelNames: ['channel', 'provider', 'outcome'],
    registers: [registry],
  });
  const unconverted = new Counter({
    name: 'herald_orders_unconverted_total',
    help: 'Order events in a currency with no rate in profile.exchangeRates (their value not counted), by currency.',
    labelNames: ['currency'],
    registers: [registry],
  });
  return {
    // A sender chooses the text: anything but an ISO 4217 code the runtime knows (about 300) is
    // one series, not one each — any three letters made 17,576 series, and every scrape slow.
    countUnconverted(currency, n) {
      unconverted.inc({ currency: isoCurrencies().has(currency) ? currency : 'other' }, n);
    },
    countDeliveries(results) {
      for (const r of results)
        deliveries.inc({
          channel: r.message.channel,
          provider: r.kind === 'outcome' ? r.provider : '',
          outcome: r.kind === 'outcome' ? r.outcome.kind : r.kind,
        });
    },
    observeRound(round) {
      for (const d of round.decisions) decisions.inc({ agent: d.agent, status: d.status });
      work.inc({ outcome: 'failed' }, round.failedItems);
      work.inc({ outcome: 'retried' }, round.retriedItems);
      work.inc({ outcome: 'done' }, round.items - round.failedItems - round.retriedItems);
      for (const ms of round.lagsMs) {
        lag.observe(ms / 1000);
        recentLags[recentCount % RECENT_LAGS] = ms;
        recentCount += 1;
      }
    },
    recentLagP95() {
      const samples = Math.min(recentCount, RECENT_LAGS);
      if (samples === 0) return { p95Ms: null, samples };
      const sorted = Array.from(recentLags.subarray(0, samples)).sort((a, b) => a - b);
      return { p95Ms: sorted[Math.ceil(0.95 * samples) - 1] ?? null, samples };
    },
    countRequest(route, status, seconds) {
      requests.inc({ route, status: String(status) });
      latency.observe({ route }, seconds);
    },
    countEvents(outcome, n) {
      events.inc({ outcome }, n);
    },
    render: async () => `${await ofProcess.metrics()}\n${await registry.metrics()}`,
    contentType: registry.contentType,
  };
};
