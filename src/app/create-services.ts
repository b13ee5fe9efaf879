import { pino } from 'pino';
import { DAY_MS } from '../core/time.js';
import { createStore } from '../adapters/storage/create-store.js';
import { systemClock, uuidV7Source } from '../adapters/clock/system-clock.js';
import {
  catchUpProfiles,
  createEventRecorder,
  settleUnfinishedLoad,
  unfinishedLoad,
  type EventRecorder,
} from '../pipeline/profile/index.js';
import {
  createDecideWorker,
  createTriggerPlanner,
  followJourneyVersions,
  loadDecideEnv,
  segmentCustomer,
  type DecideEnv,
  type DecideWorker,
} from '../pipeline/decide/index.js';
import { guardOnDecided, planDecisionsOnRecord, profileFiguresOf } from '../pipeline/stages.js';
import type { GuardDeps } from '../pipeline/guard-and-record.js';
import type { TrackDeps } from '../pipeline/track-messages.js';
import {
  registerGlobalHoldout,
  registerJourneyExperiments,
} from '../pipeline/experiment-results.js';
import { createRenderer } from '../pipeline/render/index.js';
import { loadTemplates } from './load-templates.js';
import { checkTemplateNames } from './check-template-names.js';
import { createAdapters, domainOf } from './create-adapters.js';
import { createDispatcher, type Dispatcher, type DispatchIo } from '../pipeline/deliver/index.js';
import {
  createLiveChurnModel,
  createLiveConversionModel,
  type LiveConversionModel,
} from '../pipeline/predict/index.js';
import { createDispatchIo } from '../pipeline/deliver-messages.js';
import type { ChannelAdapter } from '../ports/channel-adapter.js';
import { createLocalModerator, createNameScreen } from '../adapters/moderation/local-moderator.js';
import { createOpenAiModerator } from '../adapters/moderation/openai-moderator.js';
import { createOpenAiEmbeddingModel } from '../adapters/language-model/openai-embeddings.js';
import { createOpenAiLanguageModel } from '../adapters/language-model/openai.js';
import type { LanguageModel } from '../ports/language-model.js';
import type { PersonalizeOptions } from '../pipeline/personalize.js';
import type { VectorCache } from '../pipeline/content/index.js';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../ports/clock.js';
import type { IdSource } from '../ports/id-source.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import type { Config } from './load-config.js';
import { createIngestMetrics, type IngestMetrics } from './ingest-metrics.js';
import { verifyInThreads } from './verify-in-threads.js';
import { verifyAuditLog, type ChainCheck } from '../pipeline/record/index.js';

/** Everything the HTTP server and the CLI commands work with, built once at start-up. */
export interface Services {
  config: Config;
  store: Store;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  metrics: IngestMetrics;
  /** Records validated events (group commit); every ingest path goes through it. */
  recorder: EventRecorder;
  decide: DecideEnv;
  /** Render, guard and record: what every message goes through before the outbox. */
  guard: GuardDeps;
  /** Signs and checks tracking, click and unsubscribe links. */
  linkSecret: string;
  /**
   * The secrets a link is accepted under: `linkSecret`, then the one Herald made and kept before
   * `HERALD_LINK_SECRET` replaced it, when it had one.
   */
  linkSecretsAccepted: readonly string[];
  /** How generated copy is written, screened and scored (the moderator, the brand policy). */
  writing(atMs: number, languageModel?: LanguageModel): PersonalizeOptions;
  /** The model `content.openai*` configures; null without an API key. */
  languageModel: LanguageModel | null;
  /**
   * How a creative campaign's variants are written: `writing`, through the model when
   * `content.campaignWriter` is `openai`.
   */
  campaignWriting(atMs: number): PersonalizeOptions;
  /** How providers' reports and customers' replies about a message are recorded. */
  track: TrackDeps;
  /** The scheduler's worker; `serve` and `worker` start it, other commands run it on demand. */
  worker: DecideWorker;
  /** One adapter per channel (a provider, or capture). */
  adapters: readonly ChannelAdapter[];
  /** The outbox to the providers; `serve` and `worker` start it. */
  dispatcher: Dispatcher;
  /** The dispatcher's reads and writes of the outbox (claims, rechecks, outcomes). */
  dispatchIo: DispatchIo;
  /** The churn model profiles are scored with, in memory; `refresh` after training. */
  churnModel: ReturnType<typeof createLiveChurnModel>;
  /** The conversion model message proposals are weighed with, in memory; `refresh` after training. */
  conversionModel: LiveConversionModel;
  /**
   * Verifies the audit chain (`herald audit verify`, `GET /v1/audit/verify`), a long chain's
   * stretches on threads of their own (`verifyInThreads`).
   */
  verifyAudit(): Promise<ChainCheck>;
  close(): Promise<void>;
}

export interface ServiceOverrides {
  /** Where logs go: 1 (stdout, the server) or 2 (stderr, commands whose stdout is their output). */
  logFd?: 1 | 2;
  clock?: Clock;
  ids?: IdSource;
  logger?: Logger;
  /** A store opened already: with `config.auditKey` as its audit key, or appends go unsealed. */
  store?: Store;
  /** Opens the embedded store for one bulk writer (`herald import`; see SqliteOptions.bulk). */
  bulk?: boolean;
}

/** The composition root: the only place that opens connections and picks adapters. */
export const createServices = async (
  config: Config,
  overrides: ServiceOverrides = {},
): Promise<Services> => {
  const logger =
    overrides.logger ??
    pino(
      { level: config.logLevel, redact: ['req.headers.authorization', 'writeKey'] },
      pino.destination(overrides.logFd ?? 1),
    );
  for (const warning of config.warnings) logger.warn({ warning }, 'configuration warning');
  const store =
    overrides.store ??
    (await createStore(
      config.storage.driver === 'sqlite'
        ? {
            ...config.storage,
            bulk: overrides.bulk === true,
            auditKey: config.auditKey,
            onFlushError: (error: unknown) => {
              logger.error({ err: error }, 'profile flush failed');
            },
            onCheckpointError: (error: unknown) => {
              logger.warn({ err: error }, 'WAL checkpoint failed');
            },
            onPurgeWaiting: () => {
              logger.warn(
                {},
                'an erasure is not yet purged from the write-ahead log: another connection (a backup, the sqlite3 shell) is reading it; tried again every 30 s until it lets go',
              );
            },
          }
        : {
            driver: 'postgres',
            url: config.storage.url,
            poolSize: config.storage.poolSize,
            auditKey: config.auditKey,
            onPoolError: (error: Error) => {
              logger.warn({ err: error }, 'idle database connection failed');
            },
          },
    ));
  // Anything that fails from here (a templates folder that cannot be read, a model that does
  // not load) closes what was opened, or its checkpoint thread and file lock would keep the
  // process alive after the error was reported.
  try {
    const clock = overrides.clock ?? systemClock;
    const churnModel = createLiveChurnModel(store);
    await churnModel.refresh();
    // A bulk load that stopped before settling is settled once its triggers can be planned.
    const unsettledLoad = await unfinishedLoad(store);
    if (unsettledLoad === null) {
      const rebuilt = await catchUpProfiles(store, config.profilePolicy, clock.nowMs(), churnModel);
      if (rebuilt > 0)
        logger.warn({ profiles: rebuilt }, 'profiles rebuilt from events after an unclean stop');
    }
    const ids = overrides.ids ?? uuidV7Source(clock);
    const metrics = createIngestMetrics();
    const figures = profileFiguresOf(config.profilePolicy, churnModel);
    const templates = await loadTemplates(config.messages.templatesDir);
    const decide = await loadDecideEnv(
      store,
      config.decidePolicy,
      figures,
      () => ids.next(),
      clock.nowMs(),
      config.guardPolicy.autoOptOutHardBounces,
      config.guardPolicy.gdpr.impliedSources,
      new Set(templates.filter((t) => t.class === 'transactional').map((t) => t.name)),
    );
    const conversionModel = createLiveConversionModel(store);
    await conversionModel.refresh();
    decide.conversion = {
      active: () => conversionModel.active(),
      score: (counts) => conversionModel.score(counts),
      windowMs: config.deliverPolicy.attributionWindowDays * DAY_MS,
    };
    await registerJourneyExperiments(store, decide.journeys.all, clock.nowMs());
    await registerGlobalHoldout(
      store,
      { percent: config.guardPolicy.holdout.globalPercent, salt: config.guardPolicy.holdout.salt },
      clock.nowMs(),
    );
    const keptSecret = await store.transaction((tx) => tx.getSetting('link_secret'));
    const linkSecret =
      config.messages.linkSecret !== ''
        ? config.messages.linkSecret
        : (keptSecret ?? (await storedLinkSecret(store)));
    const linkSecretsAccepted =
      keptSecret === null || keptSecret === linkSecret ? [linkSecret] : [linkSecret, keptSecret];
    const renderer = createRenderer(templates, {
      brandName: config.messages.brandName,
      from: config.messages.from,
      replyTo: config.messages.replyTo === '' ? null : config.messages.replyTo,
      postalAddress: config.messages.postalAddress === '' ? null : config.messages.postalAddress,
      publicUrl: config.messages.publicUrl,
      shopUrl: config.messages.shopUrl,
      linkSecret,
      defaultTimezone: config.decidePolicy.quietHours.defaultTimezone,
      currency: config.profilePolicy.currency,
    });
    checkTemplateNames(config.decidePolicy, renderer);
    const guard: GuardDeps = {
      renderer,
      policy: config.guardPolicy,
      quietHours: config.decidePolicy.quietHours,
      figures,
      reviewExpiryMs: config.reviewExpiryMs,
      sendingDomain: domainOf(config.messages.from),
      screenName: createNameScreen(),
      experiments: {
        windowMs: config.deliverPolicy.attributionWindowDays * DAY_MS,
        segmentOf: (state, nowMs) =>
          segmentCustomer(state, figures(state, nowMs), nowMs, config.decidePolicy.segments),
      },
    };
    decide.onDecided = guardOnDecided(guard);
    const dispatcherRef: { current: Dispatcher | null } = { current: null };
    const worker = createDecideWorker(store, decide, clock, logger.child({ stage: 'decide' }), {
      onRound: (round) => {
        metrics.observeRound(round);
        // Decisions may have queued messages: the dispatcher looks now, not at its next poll.
        dispatcherRef.current?.nudge();
      },
    });
    const onRecorded = planDecisionsOnRecord(
      followJourneyVersions(
        config.decidePolicy,
        decide.journeys,
        (catalog) => createTriggerPlanner(config.decidePolicy, catalog, figures),
        (error) => {
          logger.error(
            { err: error },
            'a stored journey version could not be read; planning as before',
          );
        },
      ),
      config.deliverPolicy.attributionWindowDays * DAY_MS,
    );
    // Said once per currency a process sees (the metric counts every one).
    const warnedCurrencies = new Set<string>();
    const recorder = createEventRecorder(store, config.profilePolicy, {
      churnModel,
      onUnconverted: (currency, events) => {
        metrics.countUnconverted(currency, events);
        if (warnedCurrencies.has(currency) || warnedCurrencies.size >= 100) return;
        warnedCurrencies.add(currency);
        logger.warn(
          { currency: currency.slice(0, 16), currencyOfProfiles: config.profilePolicy.currency },
          'orders in a currency with no rate in profile.exchangeRates: they count as orders, their value does not — set profile.currency to it if every amount is in it, or add its rate (docs/profiles.md, "Currencies")',
        );
      },
      concurrency:
        config.storage.driver === 'postgres'
          ? Math.max(1, Math.floor(config.storage.poolSize / 2))
          : 1,
      onRecorded,
      deferProfiles: overrides.bulk === true,
    });
    if (unsettledLoad !== null) {
      const settled = await settleUnfinishedLoad(
        store,
        unsettledLoad,
        config.profilePolicy,
        clock.nowMs(),
        {
          onRecorded,
          churnModel,
        },
      );
      logger.warn(
        { profiles: settled, afterSeq: unsettledLoad.afterSeq },
        'an import that stopped before its end settled: profiles rebuilt, triggers planned',
      );
    }
    const recording: EventRecorder = {
      async record(events, nowMs, within) {
        const outcome = await recorder.record(events, nowMs, within);
        worker.nudge();
        return outcome;
      },
      async settle(nowMs, onProgress) {
        const written = await recorder.settle(nowMs, onProgress);
        worker.nudge();
        return written;
      },
    };
    const adapters = createAdapters(config, store, clock);
    const c = config.content;
    const moderator =
      c.moderator === 'openai'
        ? createOpenAiModerator({
            apiKey: c.openaiApiKey,
            baseUrl: c.openaiBaseUrl,
            timeoutMs: c.timeoutSeconds * 1000,
          })
        : createLocalModerator();
    const languageModel =
      c.openaiApiKey === ''
        ? null
        : createOpenAiLanguageModel({
            apiKey: c.openaiApiKey,
            baseUrl: c.openaiBaseUrl,
            model: c.openaiModel,
            timeoutMs: c.timeoutSeconds * 1000,
            temperature: c.temperature,
            maxRetries: c.maxRetries,
            pricePer1kInputUsd: c.pricePer1kInputUsd,
            pricePer1kOutputUsd: c.pricePer1kOutputUsd,
            random: { next: Math.random },
            clock,
          });
    const embeddingModel =
      c.embeddingModel.trim() === ''
        ? null
        : createOpenAiEmbeddingModel({
            // OpenAI's key goes only to the server it is for; the SDK refuses an empty key, and
            // a local server ignores what it is given.
            apiKey:
              c.embeddingApiKey || (c.embeddingBaseUrl === '' ? c.openaiApiKey : '') || 'none',
            baseUrl: c.embeddingBaseUrl || c.openaiBaseUrl,
            model: c.embeddingModel.trim(),
            ...(c.embeddingDimensions === 0 ? {} : { dimensions: c.embeddingDimensions }),
            timeoutMs: c.timeoutSeconds * 1000,
            maxRetries: c.maxRetries,
            random: { next: Math.random },
            clock,
          });
    // Kept for the process's life: a library's passages are embedded once, not on every launch.
    const vectorCache: VectorCache = new Map();
    // And copy written for a brief: a campaign written again from the same brief (the same
    // segment, documents, passages, offer, brand and writer) asks the model nothing.
    const generationCache: PersonalizeOptions['cache'] = new Map();
    const writing = (atMs: number, model?: LanguageModel): PersonalizeOptions => ({
      atMs,
      brandName: config.messages.brandName,
      shopUrl: config.messages.shopUrl,
      brand: {
        voiceWords: config.content.voiceWords,
        forbiddenWords: config.guardPolicy.forbiddenWords,
        requiredElements: ['personalisation', 'cta'],
        targetReadingGrade: config.content.readingGrade,
      },
      minRelativeScore: config.content.minRelativeScore,
      learnedTrafficWeight: config.content.learnedTrafficWeight,
      guardPolicy: config.guardPolicy,
      moderator,
      // The lexicon answers at once; a hosted moderator is given the model calls' time.
      moderationTimeoutMs: c.moderator === 'openai' ? c.timeoutSeconds * 1000 : 2000,
      variants: 3,
      cache: generationCache,
      ...(model === undefined ? {} : { languageModel: model }),
      ...(embeddingModel === null
        ? {}
        : {
            embeddings: {
              model: embeddingModel,
              minSimilarity: c.minSimilarity,
              cache: vectorCache,
            },
          }),
    });
    // The configuration's check holds the writer and its key together.
    const campaignModel = c.campaignWriter === 'openai' ? (languageModel ?? undefined) : undefined;
    const io = createDispatchIo({
      store,
      policy: config.deliverPolicy,
      guardPolicy: config.guardPolicy,
      quietHours: config.decidePolicy.quietHours,
      random: Math.random,
      emit: async (events, nowMs) => {
        await recording.record(events, nowMs);
      },
    });
    const dispatcher = createDispatcher(
      adapters,
      {
        ...io,
        async finish(results, nowMs, leaseUntilMs) {
          await io.finish(results, nowMs, leaseUntilMs);
          metrics.countDeliveries(results);
        },
      },
      config.deliverPolicy,
      clock,
      logger.child({ stage: 'deliver' }),
    );
    dispatcherRef.current = dispatcher;
    return {
      config,
      store,
      clock,
      ids,
      logger,
      metrics,
      recorder: recording,
      track: {
        store,
        emit: async (events, nowMs) => {
          await recording.record(events, nowMs);
        },
        attributionWindowMs: config.deliverPolicy.attributionWindowDays * DAY_MS,
        maxAttempts: config.deliverPolicy.maxAttempts,
      },
      decide,
      guard,
      linkSecret,
      linkSecretsAccepted,
      writing,
      languageModel,
      campaignWriting: (atMs) => writing(atMs, campaignModel),
      worker,
      adapters,
      dispatcher,
      dispatchIo: io,
      churnModel,
      conversionModel,
      verifyAudit: () =>
        verifyAuditLog(
          store,
          config.auditKey,
          verifyInThreads(store, logger.child({ stage: 'audit' })),
        ),
      close: async () => {
        await worker.stop();
        await dispatcher.stop();
        for (const adapter of adapters) await adapter.close();
        await store.close();
      },
    };
  } catch (error) {
    if (overrides.store === undefined) await store.close().catch(() => undefined);
    throw error;
  }
};

/**
 * A random link secret made once and kept in the database, so links outlive restarts. Two
 * processes starting together on a new database would each make one, the later overwriting the
 * earlier, and the links one signed fail on the other: one makes it under the lock, the other
 * reads it.
 */
export const storedLinkSecret = (store: Store): Promise<string> =>
  store.transaction(async (tx) => {
    const known = await tx.getSetting('link_secret');
    if (known !== null) return known;
    await tx.lock(['link_secret']);
    const secret = (await tx.getSetting('link_secret')) ?? randomBytes(32).toString('base64url');
    await tx.setSetting('link_secret', secret);
    return secret;
  });
