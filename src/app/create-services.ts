import { pino } from 'pino';
import { createStore } from '../adapters/storage/create-store.js';
import { systemClock, uuidSource } from '../adapters/clock/system-clock.js';
import type { Clock } from '../ports/clock.js';
import type { IdSource } from '../ports/id-source.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import type { Config } from './load-config.js';
import { createIngestMetrics, type IngestMetrics } from './ingest-metrics.js';

/** Everything the HTTP server and the CLI commands work with, built once at start-up. */
export interface Services {
  config: Config;
  store: Store;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  metrics: IngestMetrics;
  close(): Promise<void>;
}

export interface ServiceOverrides {
  clock?: Clock;
  ids?: IdSource;
  logger?: Logger;
  store?: Store;
}

/** The composition root: the only place that opens connections and picks adapters. */
export const createServices = async (
  config: Config,
  overrides: ServiceOverrides = {},
): Promise<Services> => {
  const logger =
    overrides.logger ??
    pino({ level: config.logLevel, redact: ['req.headers.authorization', 'writeKey'] });
  for (const warning of config.warnings) logger.warn({ warning }, 'configuration warning');
  const store =
    overrides.store ??
    (await createStore(
      config.storage.driver === 'sqlite'
        ? { driver: 'sqlite', file: config.storage.file, synchronous: config.storage.synchronous }
        : { driver: 'postgres', url: config.storage.url, poolSize: config.storage.poolSize },
    ));
  return {
    config,
    store,
    clock: overrides.clock ?? systemClock,
    ids: overrides.ids ?? uuidSource,
    logger,
    metrics: createIngestMetrics(),
    close: () => store.close(),
  };
};
