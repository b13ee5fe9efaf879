import { accessSync, constants, existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteAdapter, SqliteDialect, type DialectAdapter } from 'kysely';
import type { AuditKey } from '../../../core/audit.js';
import { AppError, isAppError } from '../../../core/errors.js';
import type { CustomerId } from '../../../core/ids.js';
import type { Store } from '../../../ports/store.js';
import { createDecideReads } from '../shared/create-decide-reads.js';
import { createReads } from '../shared/create-reads.js';
import { createModelStore } from '../shared/create-model-store.js';
import { createSqliteDecideStatements, createSqliteDecideTx } from './create-sqlite-decide-tx.js';
import { createRecordReads } from '../shared/create-record-reads.js';
import { createContentStore } from '../shared/create-content-store.js';
import { createRecordTx } from '../shared/create-record-tx.js';
import { createExperimentReads, createExperimentTx } from '../shared/create-experiment-store.js';
import { sqliteRunner } from '../shared/sql-runner.js';
import { runMigrations } from '../shared/run-migrations.js';
import type { Database } from '../shared/tables.js';
import { claimDatabaseFile } from './claim-database-file.js';
import { createRecentMessages } from './recent-messages.js';
import { createSqliteTx } from './create-sqlite-tx.js';
import { createProfileWriteBehind } from './profile-write-behind.js';
import { createEventsOf, createSqliteStatements } from './sqlite-statements.js';
import { startWalCheckpointer } from './wal-checkpointer.js';
import { scanHistories } from './scan-histories.js';

export interface SqliteOptions {
  /** A file path, or `:memory:`. */
  file: string;
  /** `normal` survives a crash of the process; `full` also survives losing power (slower). */
  synchronous: 'normal' | 'full';
  /** How many of the latest messages are checked for a repeated messageId. */
  dedupWindow?: number;
  /** How many profiles stay parsed in memory between batches. */
  profileCacheSize?: number;
  /** Told when a background profile flush fails (the rows stay pending and are retried). */
  onFlushError?: (error: unknown) => void;
  /**
   * Pending profile rows are flushed at least this often, and whenever `PENDING_PER_CACHED` times
   * as many are pending as the cache holds or those waiting packed reach `pendingBytesLimit`.
   */
  profileFlushMs?: number;
  /**
   * A flush starts once the changed profiles waiting packed hold this many bytes of state,
   * however few they are (default `PENDING_BYTES`).
   */
  pendingBytesLimit?: number;
  /**
   * One writer loading a large history (`herald import`): profiles are written only when a
   * pending limit is reached and at close, each flush in one transaction, so a customer with many
   * events in the file is written about once rather than once per flush interval; at most
   * `BULK_PARSED_CACHE` profiles stay parsed.
   */
  bulk?: boolean;
  /**
   * Told when checkpointing fails: the background thread stopped (the writer then checkpoints
   * itself), or the writer's own step to restart the log failed (asked again after a later pass).
   */
  onCheckpointError?: (error: unknown) => void;
  /**
   * Told when a reader has held the log through an erasure's first attempts at emptying it:
   * the erased pages stay in the log until it lets go (tried again every 30 s).
   */
  onPurgeWaiting?: () => void;
  /** The wait between an erasure's first attempts at emptying the log (1 s; tests shorten it). */
  purgeRetryMs?: number;
  /** Seals new audit entries (`HERALD_AUDIT_KEY`); none: they are plain SHA-256. */
  auditKey?: AuditKey | null;
}

/**
 * The writer's own checkpoint threshold (bytes of log) when no background thread does it:
 * 10,000 pages of SQLite's default 4 KiB.
 */
export const WRITER_CHECKPOINT_BYTES = 10_000 * 4096;
/**
 * With the checkpoint thread, the log's length (bytes) past which the writer lets it start
 * over: the thread copies ahead, then, with the writer's transactions held, copies what is left
 * and syncs the file (`restartSoon`), so it is rare — once per 40 MB of log (10,000 pages of
 * 4 KiB; in pages, the threshold depends on the file's page size).
 */
const LOG_RESTART_BYTES = 10_000 * 4096;
/** Passes copied ahead of a restart, at most, while transactions go on (`restartSoon`). */
const COPY_AHEAD_PASSES = 4;
/** A pass that took less had little to copy: the restart's held one will have less. */
const SHORT_PASS_MS = 3;

/**
 * Changed profiles pending, per profile the cache holds, before a flush starts. Past the parsed
 * cache they wait packed (their state as UTF-8 in a buffer of its own, about 1 KB at the bench's
 * profiles, outside the JavaScript heap): the default cache of 20,000 lets 100,000 wait. On an
 * import of 1,000,000 events over 100,000 customers, 2 (rows written about eight times each)
 * took 108.7 s at 610 MB peak RSS, 5 (about once) 82.5 s at 767 MB.
 */
const PENDING_PER_CACHED = 5;

/**
 * The bytes of state changed profiles may hold waiting packed before a flush starts, whatever
 * their number: the bound on what waiting costs in memory. Before it, an import of 1,000,000
 * events over 100,000 customers kept every customer waiting (about 100 MB of state and as much
 * again around it) and peaked at 426–444 MB RSS. Flushing at 20,000 waiting took 274–277 MB and
 * about 10 % longer, at 40,000 303 MB and 7 % longer (each flush rewrites most of the profile
 * table's pages), at 60,000 337 MB. At 32 MB (about 37,000 profiles of that import's size),
 * with each flush in customer-id order, 305 MB and 3 % longer, in runs side by side.
 */
const PENDING_BYTES = 32 * 1024 * 1024;

/**
 * Profiles a bulk writer keeps parsed: in bulk the rest wait packed and the parsed copies are
 * mostly garbage in waiting — an import in time order meets a customer again only after
 * thousands of others, so nearly every event unpacks its profile whatever this is, and a larger
 * cache only keeps profiles alive long enough to be promoted to the old generation. The same
 * import: 20,000 parsed took 82.5 s at 767 MB peak RSS, 2,000 took 88.2 s at 683 MB; 256 is in
 * the import's figures since 2026-12-02 (bench/README.md, "Import memory").
 */
const BULK_PARSED_CACHE = 256;

/**
 * The events-by-customer index, as migration 0001 defines it. A bulk writer that opens an empty
 * events table leaves it out and builds it once, when it closes, instead of one random page per
 * event: an import of 1,000,000 events took 84.9 s without it against 96.7 s with it, and
 * building it afterwards 1.4 s. The transaction steps that read or change one customer's events
 * (a merge of two customers, a profile rebuilt from events, an erasure) build it first, which
 * ends the saving for the rest of that load. The deferral is recorded in `meta` with the drop and
 * cleared with the build, so an open after an interrupted load builds it — and an open never
 * builds an index a later migration may have replaced.
 */
const EVENTS_BY_CUSTOMER =
  'CREATE INDEX IF NOT EXISTS "events_customer_time" ON "events" ("customer_id", "timestamp_ms")';
const INDEX_DEFERRED = 'events_customer_time_deferred';

/**
 * The page size (bytes) of a new database file (and of an in-memory one, as `herald simulate`
 * uses): 8 KiB instead of SQLite's 4 KiB. A decision writes about 5 KB of rows (its audit entry
 * alone about 2 KB, every guardrail's verdict), and SQLite builds, checksums and logs every
 * page a transaction touches: larger pages hold several such rows, split less often and make
 * shallower trees (the part that also holds in memory). But ingest updates a random page of the
 * events-by-customer index per event, and logs the whole page. Measured on a 2-core machine
 * whose speed drifts by a third within an hour, mostly in pairs run side by side
 * (bench/README.md, 2026-12-02): 16 KiB against 4 KiB queued a 100,000-customer campaign
 * 10–15 % sooner, stored 8–57 % more decisions a second, ran the 30-day simulation in 30–35 %
 * less time, but ingested 4–8 % fewer events a second; 8 KiB was 3–7 % behind 16 KiB on stored
 * decisions and the simulation, level on the campaign; paired with 4 KiB it stored 6–13 % more
 * decisions a second, ran the simulation in 27 % less time, and ingested +4 % and −7 % (within
 * the noise of those pairs). An existing file keeps the size it was made with
 * (docs/architecture.md says how to convert one).
 */
export const PAGE_SIZE = 8192;

/** SQLite's page cache (KiB) for the server's connection. */
const PAGE_CACHE_KB = 65_536;

/**
 * The page cache of a bulk writer: a quarter of the server's. An import is bound by its CPU, and
 * the 48 MB saved is a tenth of its peak RSS: four imports of 1,000,000 events over 100,000
 * customers, alternating, took 93.8 and 117.6 s at 478–483 MB with 64 MB, 88.9 and 89.0 s at
 * 430–440 MB with 16 MB.
 */
const BULK_PAGE_CACHE_KB = 16_384;

/** How long a statement waits for a lock another connection holds. */
const BUSY_TIMEOUT_MS = 5000;

/** Attempts, a second apart, at emptying the log after an erasure while readers hold it. */
const PURGE_TRIES = 10;
/** Then every thirty such waits (30 s), for as long as a reader holds it. */
const PURGE_SLOW_FACTOR = 30;

/**
 * SQLite's schema changes are transactional, though Kysely's adapter says otherwise: with this
 * one the migrator applies pending migrations in a transaction, so one that fails leaves none of
 * its changes behind (the next start would otherwise find half of them: "table … already
 * exists"). No migration changes what a transaction cannot (`journal_mode`, `VACUUM`).
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** Runs async work one call at a time: SQLite has one connection and one writer. */
const createQueue = () => {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
};

/**
 * Throws, naming the path, when this user may not write the database file or its folder: SQLite
 * opens a file it may not write read-only, without a word (reads answered, the server healthy,
 * every event refused with a stack trace). Where SQLite writes: the file a link leads to, and
 * its folder (its log files go there).
 */
const checkWritable = (file: string): void => {
  const real = existsSync(file) ? realpathSync(file) : file;
  for (const path of [real, dirname(real)]) {
    if (!existsSync(path)) continue;
    try {
      accessSync(path, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EACCES';
      throw new Error(`${path} is not writable by this user (${code})`, { cause: error });
    }
  }
};

/** Opens (creating if needed) the embedded SQLite database and applies pending migrations. */
export const createSqliteStore = async (options: SqliteOptions): Promise<Store> => {
  const inMemory = options.file === ':memory:';
  // A path that cannot hold a database (a file where a folder should be, no permission) is the
  // database being unavailable, said in one line, not a file-system error with its stack.
  const cannotOpen = (error: unknown) =>
    isAppError(error)
      ? error
      : new AppError(
          'unavailable',
          `cannot open the SQLite database ${options.file}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
  let release: () => void;
  let sqlite: BetterSqlite3.Database;
  try {
    if (!inMemory) {
      mkdirSync(dirname(options.file), { recursive: true });
      checkWritable(options.file);
    }
    release = inMemory ? () => undefined : claimDatabaseFile(options.file);
  } catch (error) {
    throw cannotOpen(error);
  }
  try {
    sqlite = new BetterSqlite3(options.file);
  } catch (error) {
    release();
    throw cannotOpen(error);
  }
  try {
    // Before journal_mode: once a file is in WAL mode its page size can no longer change (and
    // an existing file's is kept either way). The first read of the file: one that is no
    // database ("file is not a database") is refused here.
    sqlite.pragma(`page_size = ${PAGE_SIZE}`);
    sqlite.pragma('journal_mode = WAL');
  } catch (error) {
    sqlite.close();
    release();
    throw cannotOpen(error);
  }
  sqlite.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma(`busy_timeout = ${String(BUSY_TIMEOUT_MS)}`);
  // Deleted rows (an erasure) and a row's older versions are overwritten with zeros, in their
  // page and on pages the file frees, rather than left readable in the file and its copies.
  sqlite.pragma('secure_delete = ON');
  // A larger page cache than SQLite's 2 MB: ingest touches many pages per batch (a bulk writer
  // takes less: BULK_PAGE_CACHE_KB).
  sqlite.pragma(`cache_size = -${options.bulk === true ? BULK_PAGE_CACHE_KB : PAGE_CACHE_KB}`);
  // Checkpoints run on a thread of their own (wal-checkpointer.ts). The log mostly starts over
  // by itself, in the pauses between transactions; a writer that never pauses is asked to let
  // it start over past LOG_RESTART_BYTES. The writer keeps a far threshold of its own only as a
  // backstop, and takes checkpoints back if that thread stops.
  // Thresholds in pages of this file (made with PAGE_SIZE, or an older file's own size).
  const pageBytes = sqlite.pragma('page_size', { simple: true }) as number;
  const writerCheckpointPages = Math.ceil(WRITER_CHECKPOINT_BYTES / pageBytes);
  const restartPages = Math.ceil(LOG_RESTART_BYTES / pageBytes);
  const checkpointer = inMemory
    ? null
    : startWalCheckpointer({
        file: options.file,
        intervalMs: 50,
        restartFrames: restartPages,
        onStopped: (error) => {
          if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${writerCheckpointPages}`);
          options.onCheckpointError?.(error);
        },
      });
  sqlite.pragma(
    `wal_autocheckpoint = ${checkpointer === null ? writerCheckpointPages : 4 * restartPages}`,
  );
  // The few frames the checkpoint thread has not copied, so the next transaction starts the log
  // over: queued after a commit, and never failing (the transaction has already committed).
  // The thread copies them and syncs the file while this thread's event loop goes on; the
  // writer copies them itself only if the thread has stopped or could not copy them all.
  const restartLog = async (): Promise<void> => {
    if (checkpointer === null || (await checkpointer.catchUp()) || closed) return;
    try {
      sqlite.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      options.onCheckpointError?.(error);
    }
  };
  // Every transaction waits while `restartLog` copies and syncs. Queued at once, it copied what
  // was committed since the thread's last pass and wrote out every page the passes before had
  // left unsynced: 20–250 ms. So the thread first copies ahead and syncs while transactions go
  // on, again while a pass still takes long (what was committed during the last), and the held
  // catch-up has only the remainder (docs/architecture.md, "Copied ahead of the restart").
  const restartSoon = async (): Promise<void> => {
    for (let pass = 0; pass < COPY_AHEAD_PASSES && checkpointer !== null; pass += 1) {
      const started = performance.now();
      if (!(await checkpointer.copyAhead()) || performance.now() - started < SHORT_PASS_MS) break;
    }
    await serialise(restartLog);
  };
  /** Whether an erasure's pages may still be in the log, and attempts at emptying it are due. */
  let purgePending = false;
  /**
   * Copies the write-ahead log back and empties it (after an erasure: its frames hold the pages
   * as they were). Never waits for a reader (a backup tool's open read would hold every writer
   * for the busy timeout): with one in the log it tries again a second later, `PURGE_TRIES`
   * times, then every 30 s until it succeeds (saying so once), for however long the
   * reader holds it: a log that is only reused, never emptied, keeps old frames past its end.
   */
  const emptyLog = (attempt: number): Promise<void> => {
    if (inMemory || closed) return Promise.resolve();
    // One series of attempts at a time: a later erasure is emptied with the earlier one's.
    if (attempt === 1 && purgePending) return Promise.resolve();
    purgePending = true;
    let busy = true;
    try {
      sqlite.pragma('busy_timeout = 0');
      busy = (sqlite.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[])[0]?.busy !== 0;
    } catch (error) {
      options.onCheckpointError?.(error);
    } finally {
      sqlite.pragma(`busy_timeout = ${String(BUSY_TIMEOUT_MS)}`);
    }
    if (!busy) {
      purgePending = false;
      return Promise.resolve();
    }
    if (attempt === PURGE_TRIES) options.onPurgeWaiting?.();
    const retryMs = options.purgeRetryMs ?? 1000;
    setTimeout(
      () => {
        void serialise(() => emptyLog(attempt + 1));
      },
      attempt < PURGE_TRIES ? retryMs : retryMs * PURGE_SLOW_FACTOR,
    ).unref();
    return Promise.resolve();
  };
  const db = new Kysely<Database>({
    dialect: new TransactionalSqliteDialect({ database: sqlite }),
  });
  try {
    await runMigrations(db as Kysely<unknown>, 'sqlite');
  } catch (error) {
    // Nothing is left holding the file: the thread's connection, this one and the claim go, so
    // `herald migrate` exits with its error and another process can open the database.
    await checkpointer?.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    if (sqlite.open) sqlite.close();
    release();
    throw error;
  }
  const s = createSqliteStatements(sqlite);
  const bulk = options.bulk === true;
  // Called inside a transaction (or made one): the build and the cleared mark commit together.
  const buildCustomerIndex = () => {
    sqlite.exec(EVENTS_BY_CUSTOMER);
    s.setMeta.run(INDEX_DEFERRED, 0);
  };
  const wasDeferred = (s.getMeta.get(INDEX_DEFERRED) as { value: number } | undefined)?.value === 1;
  // Deferred only as migration 0001 left it: never one a later migration dropped or replaced.
  const deferIndex =
    bulk &&
    (s.maxSeq.get() as { seq: number | null }).seq === null &&
    sqlite
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'events_customer_time'")
      .get() !== undefined;
  if (wasDeferred !== deferIndex)
    sqlite.transaction(() => {
      if (!deferIndex) {
        buildCustomerIndex();
        return;
      }
      sqlite.exec('DROP INDEX "events_customer_time"');
      s.setMeta.run(INDEX_DEFERRED, 1);
    })();
  // Inside a transaction that rolls back, the build goes with it: asked again each time, a no-op
  // once it is there.
  const needCustomerIndex = deferIndex ? buildCustomerIndex : () => undefined;
  // The decide primitives hold no state of their own: one set serves every transaction.
  const runner = sqliteRunner(sqlite);
  const decideTx = createSqliteDecideTx(createSqliteDecideStatements(sqlite), runner);
  const sharedTx = {
    ...decideTx,
    ...createRecordTx(runner, options.auditKey ?? null, null),
    ...createExperimentTx(runner),
  };
  const serialise = createQueue();
  const eventsOf = createEventsOf(sqlite);
  const recent = createRecentMessages(options.dedupWindow ?? 2_000_000);
  const latest = s.recentMessages.all(options.dedupWindow ?? 2_000_000) as {
    seq: number;
    source_id: string;
    message_id: string;
  }[];
  for (let i = latest.length - 1; i >= 0; i -= 1) {
    const row = latest[i];
    if (row !== undefined) recent.remember(row.source_id, row.message_id, row.seq);
  }
  const cacheSize = options.profileCacheSize ?? 20_000;
  const onFlushError = options.onFlushError ?? (() => undefined);
  const profiles = createProfileWriteBehind(s, {
    cacheSize: bulk ? Math.min(cacheSize, BULK_PARSED_CACHE) : cacheSize,
    ordered: bulk,
  });
  // Flushes run in steps of 250 rows, each its own turn of the queue, so ingest never waits
  // behind a whole flush; listings and close flush everything first.
  let stepMs = 0;
  const flushStep = () =>
    serialise(() => {
      const started = performance.now();
      const done = closed || profiles.flushStep(250);
      stepMs = performance.now() - started;
      return Promise.resolve(done);
    });
  // Finishes a flush in progress, then flushes what changed since it began.
  const flushEverything = () => {
    while (!profiles.flushStep(Number.MAX_SAFE_INTEGER) || profiles.pending > 0);
  };
  let closed = false;
  const flushAll = () =>
    serialise(() => {
      flushEverything();
      return Promise.resolve();
    });
  let flushing = false;
  const flushInSteps = async () => {
    if (flushing) return;
    flushing = true;
    try {
      // Small steps with a pause between them spread a flush over time instead of stalling
      // requests behind it: each pause as long as the step took, so a flush takes at most half
      // of the time while requests come in (at 2 ms pauses it took three quarters, and the
      // requests arriving meanwhile queued: p99 of an ingest batch at half the sustained rate
      // went from 10 to over 100 ms each time one ran) — unless changed profiles pile up past
      // the limits, when it catches up at full speed.
      while (!(await flushStep())) {
        const behind =
          profiles.pending >= pendingLimit || profiles.pendingBytes >= pendingBytesLimit;
        await new Promise((resolve) => setTimeout(resolve, behind ? 2 : Math.max(2, stepMs)));
      }
    } finally {
      flushing = false;
    }
  };
  const pendingLimit = Math.max(PENDING_PER_CACHED * cacheSize, 2000);
  const pendingBytesLimit = options.pendingBytesLimit ?? PENDING_BYTES;
  const timer = bulk
    ? undefined
    : setInterval(() => {
        // A failed flush leaves its rows pending; the next one retries them.
        flushInSteps().catch(onFlushError);
      }, options.profileFlushMs ?? 5000);
  timer?.unref();
  // Reads use their own connection so they see only committed data and never wait for a writer
  // (WAL allows one writer beside many readers); an in-memory database has just the one.
  const reader = inMemory ? sqlite : new BetterSqlite3(options.file, { readonly: true });
  const readDb = inMemory
    ? db
    : new Kysely<Database>({ dialect: new SqliteDialect({ database: reader }) });
  // Asked after every scheduler round and simulator step: prepared once.
  const nextDue = reader.prepare("SELECT MIN(due_at_ms) AS due FROM work WHERE status = 'pending'");

  const reads = createReads(readDb);
  const decideReads = createDecideReads(readDb);
  const experimentReads = createExperimentReads(readDb, 'sqlite');
  return {
    driver: 'sqlite',
    readSource: inMemory ? null : { driver: 'sqlite', file: resolve(options.file) },
    ...reads,
    ...decideReads,
    nextDueAtMs: () => Promise.resolve((nextDue.get() as { due: number | null }).due),
    // The read connection cannot write; this one write goes through the writer's queue.
    saveJourneyVersion: (row) => serialise(() => createDecideReads(db).saveJourneyVersion(row)),
    ...createModelStore(readDb),
    ...createRecordReads(readDb),
    ...experimentReads,
    listDocuments: () => createContentStore(readDb).listDocuments(),
    // The read connection cannot write: through the writer's queue.
    saveDocument: (doc) => serialise(() => createContentStore(db).saveDocument(doc)),
    // Registering a model writes too: through the writer's queue as well.
    saveModel: (draft) => serialise(() => createModelStore(db).saveModel(draft)),
    // Reads see profiles not yet flushed; listings flush first so they miss no one.
    async getProfile(id) {
      const known = profiles.get(id);
      if (known === null) return undefined;
      if (known !== undefined) return { customerId: known.customerId, state: known.state };
      return reads.getProfile(id);
    },
    async resolveUserId(userId) {
      const known = profiles.get(userId as CustomerId);
      if (known !== undefined && known !== null) return known.customerId;
      const found = await reads.resolveUserId(userId);
      // A profile merged away but not yet flushed still has its row: it is gone.
      return known === null && found === userId ? undefined : found;
    },
    async listCustomerIds(afterId, limit) {
      await flushAll();
      return reads.listCustomerIds(afterId, limit);
    },
    async counts() {
      await flushAll();
      return reads.counts();
    },
    async kpiTotals(fromMs, toMs) {
      await flushAll();
      return experimentReads.kpiTotals(fromMs, toMs);
    },
    async cartRecoveries(fromMs, toMs, windowMs) {
      await flushAll();
      return experimentReads.cartRecoveries(fromMs, toMs, windowMs);
    },
    profilesBehind: () => Promise.resolve(profiles.behind()),
    scanHistories: (afterSeq, wanted) =>
      serialise(() => {
        const last = (s.maxSeq.get() as { seq: number | null }).seq ?? 0;
        // Seqs are never reused, so the table holds at most `last` rows: the load's share is
        // at least this.
        const worthIt = !inMemory && (last - afterSeq) * 2 >= last && last > afterSeq;
        return Promise.resolve(worthIt ? scanHistories(options.file, wanted) : null);
      }),
    transaction: (work) =>
      serialise(async () => {
        const tx = createSqliteTx(s, sharedTx, recent, profiles, eventsOf, needCustomerIndex);
        s.begin.run();
        try {
          const result = await work(tx);
          s.commit.run();
          tx.commit();
          // Transactions queued from now on begin after it; this one's caller need not wait.
          if (checkpointer?.restartDue() === true) void restartSoon();
          if (profiles.pending >= pendingLimit || profiles.pendingBytes >= pendingBytesLimit) {
            // In bulk, nobody waits behind the writer: one transaction touches each page once.
            if (bulk) {
              // The batch has committed: a failed flush leaves its rows pending, and says so.
              try {
                flushEverything();
              } catch (error) {
                onFlushError(error);
              }
            } else void flushInSteps().catch(onFlushError);
          }
          return result;
        } catch (error) {
          if (sqlite.inTransaction) s.rollback.run();
          throw error;
        }
      }),
    purgeErased: () => serialise(() => emptyLog(1)),
    ping: () => {
      s.ping.get();
      return Promise.resolve();
    },
    close: () =>
      serialise(async () => {
        clearInterval(timer);
        flushEverything();
        if (deferIndex) sqlite.transaction(buildCustomerIndex)();
        closed = true;
        // Stopped first, so closing the writer (the last connection) checkpoints what is left.
        await checkpointer?.close();
        if (readDb !== db) await readDb.destroy();
        await db.destroy();
        release();
      }),
  };
};
