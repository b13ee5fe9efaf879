import type { Services } from '../../app/create-services.js';
import { AppError } from '../../core/errors.js';
import { createServer } from '../../http/create-server.js';
import { sweepProfiles } from '../../pipeline/profile/index.js';
import { trainIfDue } from '../../pipeline/predict/index.js';
import { activityHistoryOf, ruleChurnScoreOf } from '../../pipeline/stages.js';
import { MINUTE_MS } from '../../core/time.js';
import { expireReviews } from '../../pipeline/act-on-messages.js';
import { promoteDueWinners, reallocateBandits } from '../../pipeline/experiment-results.js';

/**
 * Serves the HTTP API until SIGINT/SIGTERM, with the periodic profile sweep and (unless turned
 * off) the scheduler worker and the dispatcher.
 */
export const serve = async (services: Services): Promise<void> => {
  const { config, logger } = services;
  const app = createServer(services);
  const address = await app
    .listen({ port: config.http.port, host: config.http.host })
    .catch(async (error: unknown) => {
      // Closing what was opened must not hide why listening failed.
      await app.close().catch(() => undefined);
      await services.close().catch(() => undefined);
      throw listenError(error, config.http);
    });
  logger.info({ address, database: services.store.driver }, 'herald listening');
  if (config.inProcessWorker) services.worker.start();
  if (config.providers.inProcessDispatcher) services.dispatcher.start();
  const reviews = config.inProcessWorker ? keepHouse(services) : undefined;
  // The learning loop: checked at start and every hour; a run takes seconds and is registered
  // whatever its outcome (trained, or refused with the reason).
  let training: Promise<unknown> = Promise.resolve();
  const retrain = () => {
    training = trainIfDue(services.store, config.retrain, services.clock.nowMs(), {
      ruleScore: ruleChurnScoreOf(config.profilePolicy),
      attributionWindowDays: config.deliverPolicy.attributionWindowDays,
      activityHistory: activityHistoryOf(services.store, config.profilePolicy),
    })
      .then(async (models) => {
        for (const model of models ?? [])
          logger.info(
            {
              version: model.version,
              kind: model.kind,
              status: model.status,
              reason: model.reason,
            },
            'model trained',
          );
        // Also picks up a version `herald models train` registered from another process.
        await services.churnModel.refresh();
        await services.conversionModel.refresh();
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'scheduled model training failed');
      });
  };
  // With the schedule off (everyDays 0) nothing is trained, but the hourly check still loads a
  // churn model registered by `herald models train`.
  const trainTimer = setInterval(retrain, 60 * MINUTE_MS);
  trainTimer.unref();
  retrain();
  // Each sweep is timed from the end of the one before: a sweep longer than the interval never
  // has a second started beside it. (The interval is at most MAX_TIMER_MINUTES: a timer told to
  // wait longer would fire after 1 ms.)
  let sweeping: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const scheduleSweep = () => {
    timer = setTimeout(() => {
      sweeping = sweepProfiles(services.store, config.profilePolicy, services.clock.nowMs(), {
        mode: 'refresh',
        churnModel: services.churnModel,
      })
        .then((n) => {
          logger.info({ profiles: n }, 'profile sweep done');
        })
        .catch((error: unknown) => {
          logger.error({ err: error }, 'profile sweep failed');
        })
        .finally(() => {
          if (!stopped) scheduleSweep();
        });
    }, config.sweepIntervalMinutes * MINUTE_MS);
  };
  if (config.sweepIntervalMinutes > 0) scheduleSweep();
  await untilSignal();
  logger.info(
    {},
    'herald stopping: finishing the rounds in progress (a second signal stops at once)',
  );
  stopped = true;
  clearTimeout(timer);
  clearInterval(trainTimer);
  clearInterval(reviews);
  // The worker and the dispatcher first, each after the round in progress, while the server
  // still listens: a provider's report of a message sent in that round (a Twilio status
  // callback, not retried) still finds it, and events still land while they stop.
  await services.worker.stop();
  await services.dispatcher.stop();
  await training;
  await app.close();
  await sweeping;
  await services.close();
  logger.info({}, 'herald stopped');
};

/**
 * Until SIGINT or SIGTERM. Both listeners go at the first: a second signal of either kind takes
 * Node's default and ends the process at once, for an operator who will not wait for the rounds
 * in progress.
 */
const untilSignal = (): Promise<void> =>
  new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

/** Why the server could not listen, naming the address (a port in use, a port not allowed). */
const listenError = (error: unknown, http: { port: number; host: string }): AppError => {
  const where = `${http.host}:${String(http.port)}`;
  const inUse = error instanceof Error && 'code' in error && error.code === 'EADDRINUSE';
  return new AppError(
    'unavailable',
    inUse
      ? `cannot listen on ${where}: port ${String(http.port)} is already in use (set HERALD_PORT to another)`
      : `cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
};

/**
 * Housekeeping beside the worker: review items nobody acted on in time expire (they are not
 * sent), checked every minute; and every hour each running test whose always-valid p-value
 * and sample-ratio check allow it has its winner promoted, and adaptively allocated journey
 * steps get the next day's weights (once a day).
 */
const keepHouse = (services: Services): NodeJS.Timeout => {
  let minutes = 0;
  const timer = setInterval(() => {
    expireReviews(services.store, services.clock.nowMs())
      .then((n) => {
        if (n > 0) services.logger.info({ expired: n }, 'review items expired');
      })
      .catch((error: unknown) => {
        services.logger.error({ err: error }, 'expiring review items failed');
      });
    minutes += 1;
    if (minutes % 60 === 0)
      promoteDueWinners(services.store, services.clock.nowMs())
        .then(async (promoted) => {
          if (promoted.length > 0)
            services.logger.info({ promoted }, 'experiment winners promoted');
          const reallocated = await reallocateBandits(services.store, services.clock.nowMs());
          if (reallocated.length > 0)
            services.logger.info({ reallocated }, "tomorrow's traffic weights set");
        })
        .catch((error: unknown) => {
          services.logger.error({ err: error }, 'promoting or reallocating experiments failed');
        });
  }, MINUTE_MS);
  timer.unref();
  return timer;
};

/**
 * Loads the newest churn and conversion models every `everyMs` (an hour): a process that
 * decides without training (`herald worker`) would otherwise score with the versions it started
 * with while `serve`'s schedule or `herald models train` registered newer ones.
 */
export const keepModelsCurrent = (services: Services, everyMs = 60 * MINUTE_MS): NodeJS.Timeout => {
  const timer = setInterval(() => {
    Promise.all([services.churnModel.refresh(), services.conversionModel.refresh()]).catch(
      (error: unknown) => {
        services.logger.error({ err: error }, 'loading the newest models failed');
      },
    );
  }, everyMs);
  timer.unref();
  return timer;
};

/** Runs the scheduler worker and the dispatcher (no HTTP) until SIGINT/SIGTERM. */
export const work = async (services: Services): Promise<void> => {
  services.worker.start();
  services.dispatcher.start();
  const reviews = keepHouse(services);
  const models = keepModelsCurrent(services);
  services.logger.info({ database: services.store.driver }, 'herald worker running');
  // The loops' timers do not hold the process open (so commands that run them once can
  // exit): this one does, until a signal.
  const alive = setInterval(() => undefined, 1 << 30);
  await untilSignal();
  services.logger.info(
    {},
    'herald worker stopping: finishing the rounds in progress (a second signal stops at once)',
  );
  clearInterval(alive);
  clearInterval(reviews);
  clearInterval(models);
  await services.close();
  services.logger.info({}, 'herald worker stopped');
};
