import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies SQLite's write-ahead log back into the database file on a thread of its own.
 *
 * Left to the writing connection, a checkpoint runs inside whichever commit crosses the
 * threshold: that commit copies thousands of pages and syncs the file while every request waits
 * behind it. On its own thread and connection, a PASSIVE checkpoint copies what has been
 * committed without taking the writer's lock, so commits go on beside it; passes repeat while
 * frames remain, so each is smaller than the last.
 *
 * The log only starts over from its beginning when the writer begins a transaction right after
 * a complete checkpoint, which happens by itself in the pauses between transactions but never
 * for a writer that never pauses. So the thread publishes how long the log is (in shared
 * memory, read without waiting for the event loop), and once it is past `restartFrames` the
 * writer, between two transactions, has the thread copy the few frames it has not yet
 * (`restartDue`, `catchUp`) and its next transaction starts the log over. The writer's event loop
 * goes on meanwhile: requests are read and checked while the file is synced.
 */
export interface WalCheckpointer {
  /** What the background thread has done so far. */
  readonly stats: CheckpointStats;
  /**
   * Asked by the writer after each commit: true when it should have the thread catch up
   * (`catchUp`) before its next transaction begins, so that that transaction starts the log
   * over. Not again until the catch-up has answered, nor on figures from before the first
   * commit after it (one restart SQLite makes by itself, after a pause, can still be followed
   * by one needless ask: the writer cannot tell that its transaction started the log over).
   */
  restartDue(): boolean;
  /**
   * Runs a pass now, and passes while frames are left behind: resolves true once the thread has
   * copied every frame committed before the call (so a transaction begun next, with no commit
   * in between, starts the log over), false when the thread has stopped or copied less (the
   * writer then checkpoints by itself).
   */
  catchUp(): Promise<boolean>;
  /**
   * Runs a pass now, and passes while frames are left behind, as `catchUp` does, then syncs the
   * database file — without standing for the restart `restartDue` asked for: the writer's
   * transactions go on beside it, so the catch-up that follows, with them held, has only what
   * they committed meanwhile to copy and sync. Resolves as `catchUp` does.
   */
  copyAhead(): Promise<boolean>;
  /** Stops the thread after its current pass; the writer's own checkpoints take over. */
  close(): Promise<void>;
}

export interface CheckpointStats {
  /** Checkpoint passes run by the thread. */
  readonly passes: number;
  /** Frames in the log after the last pass. */
  readonly logFrames: number;
  /** Frames the last pass could not copy yet (written while it ran). */
  readonly behindFrames: number;
}

export interface WalCheckpointerOptions {
  file: string;
  /** How often the thread looks for new frames. */
  intervalMs: number;
  /** Past this many frames in the log, the writer is asked to let it start over. */
  restartFrames: number;
  /** Told when the thread fails or stops unexpectedly: the caller resumes its own checkpoints. */
  onStopped: (error: Error) => void;
}

// Shared counters, written by the thread after each pass (STARTED as each begins). Passes run
// one after another, so PASSES is also the number of the pass LOG and BEHIND are from.
const PASSES = 0;
const LOG = 1;
const BEHIND = 2;
/** Passes begun. */
const STARTED = 3;

// Plain JavaScript run by the worker (no TypeScript loader is needed, so it runs under tsx,
// vitest and a bundle alike). It owns its own connection to the file.
const workerSource = `
const { closeSync, fdatasyncSync, openSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const shared = new Int32Array(workerData.shared);
let db = null;
// The database file, for syncing what the passes copied (see 'copy-ahead').
let file = null;
let stopping = false;
let timer = null;
const stop = () => {
  stopping = true;
  if (timer !== null) clearTimeout(timer);
  if (db !== null && db.open) db.close();
  if (file !== null) closeSync(file);
  file = null;
  parentPort.close();
};
// An error is sent as text: SQLite's errors lose their message when cloned between threads.
const fail = (error) => {
  const code = error && error.code ? ' (' + error.code + ')' : '';
  parentPort.postMessage({ failed: String(error && error.message ? error.message : error) + code });
  stop();
};
const pass = () => {
  Atomics.add(shared, ${STARTED}, 1);
  const [row] = db.pragma('wal_checkpoint(PASSIVE)');
  Atomics.store(shared, ${LOG}, Math.max(0, row.log));
  Atomics.store(shared, ${BEHIND}, Math.max(0, row.log - row.checkpointed));
  Atomics.add(shared, ${PASSES}, 1);
  return row;
};
// Returns whether the last pass copied the whole log.
const run = () => {
  timer = null;
  if (stopping) return false;
  let row;
  try {
    // Repeat while frames are left behind: each pass copies what the last one missed.
    row = pass();
    for (let i = 0; i < 4 && !stopping && row.checkpointed < row.log; i += 1) row = pass();
  } catch (error) {
    fail(error);
    return false;
  }
  timer = setTimeout(run, workerData.intervalMs);
  return row.log >= 0 && row.checkpointed === row.log;
};
parentPort.on('message', (message) => {
  if (message === 'stop') stop();
  else if (message === 'catch-up' || message === 'copy-ahead') {
    if (timer !== null) clearTimeout(timer);
    let copied = run();
    // A pass that leaves frames behind does not sync the database file: only the pass that
    // copies the whole log does, and it then writes out every page the passes before it left in
    // the system's cache — tens of megabytes, 20–70 ms, while the writer holds its transactions
    // for the restart. Synced here, ahead, that pass has only its own pages to write.
    if (message === 'copy-ahead' && !stopping) {
      try {
        fdatasyncSync(file);
      } catch (error) {
        fail(error);
        copied = false;
      }
    }
    if (!stopping) parentPort.postMessage({ caughtUp: copied });
  }
});
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.file, { fileMustExist: true });
  // For writing: some systems sync only a file opened so (Linux syncs either).
  file = openSync(workerData.file, 'r+');
  db.pragma('busy_timeout = 5000');
  timer = setTimeout(run, workerData.intervalMs);
} catch (error) {
  fail(error);
}
`;

export const startWalCheckpointer = (options: WalCheckpointerOptions): WalCheckpointer => {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const shared = new Int32Array(new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT));
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: {
      driver,
      file: options.file,
      intervalMs: options.intervalMs,
      shared: shared.buffer,
    },
  });
  // The thread must not keep a finished process alive.
  worker.unref();
  let closing = false;
  let stopped = false;
  /** Callers of catchUp waiting for the thread, oldest first. */
  const waiting: ((copied: boolean) => void)[] = [];
  const answerAll = (copied: boolean) => {
    for (const answer of waiting.splice(0)) answer(copied);
  };
  // Held open while a caller waits for it: a process must not end with a transaction queued
  // behind the answer.
  const answered = (copied: boolean) => {
    waiting.shift()?.(copied);
    if (waiting.length === 0 && !closing) worker.unref();
  };
  const stoppedBy = (error: Error) => {
    answerAll(false);
    if (closing || stopped) return;
    stopped = true;
    options.onStopped(error);
  };
  worker.on('message', (message: { failed: string } | { caughtUp: boolean }) => {
    if ('caughtUp' in message) answered(message.caughtUp);
    else stoppedBy(new Error(`the checkpoint thread stopped: ${message.failed}`));
  });
  const exited = new Promise<void>((resolve) => {
    worker.on('error', (error: unknown) => {
      stoppedBy(error instanceof Error ? error : new Error('the checkpoint thread failed'));
    });
    worker.on('exit', (code) => {
      stoppedBy(new Error(`the checkpoint thread exited with code ${code}`));
      resolve();
    });
  });
  // A restart (the thread's catch-up pass) is asked when the thread has kept up (most frames
  // copied) or the log is twice the limit. Each costs every waiting transaction a sync of the file
  // (20–180 ms on this machine's disk), so none is asked on figures of the log before the last
  // restart it asked for: a pass begun before it can end after it and report the old log's
  // length. Asking on those made 7 of the decide bench's 78 restarts needless (logs of
  // 2,800–4,500 frames against a limit of 5,000, 80–137 ms each).
  let restart: 'none' | 'asked' | 'caught-up' = 'none';
  /** Passes begun before the log last started over: their figures are of the old log. */
  let beganBeforeRestart = 0;
  const stats: CheckpointStats = {
    get passes() {
      return Atomics.load(shared, PASSES);
    },
    get logFrames() {
      return Atomics.load(shared, LOG);
    },
    get behindFrames() {
      return Atomics.load(shared, BEHIND);
    },
  };
  /** A pass asked for now; `forRestart` when the writer holds its transactions for it. */
  const pass = (forRestart: boolean) => {
    if (stopped || closing) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      waiting.push((copied) => {
        if (forRestart && restart === 'asked') restart = 'caught-up';
        resolve(copied);
      });
      worker.ref();
      worker.postMessage(forRestart ? 'catch-up' : 'copy-ahead');
    });
  };
  return {
    stats,
    restartDue: () => {
      // Transactions queued before the catch-up commit while it waits: none asks again.
      if (restart === 'asked') return false;
      if (restart === 'caught-up') {
        // The first transaction after the catch-up began the log again (or, had the thread
        // copied less, a later figure will ask again).
        restart = 'none';
        beganBeforeRestart = Atomics.load(shared, STARTED);
        return false;
      }
      // Compared as a difference, so the counters may wrap around.
      if (stopped || ((Atomics.load(shared, PASSES) - beganBeforeRestart) | 0) <= 0) return false;
      const log = Atomics.load(shared, LOG);
      if (log < options.restartFrames) return false;
      // Behind by much: wait for the thread to catch up, unless the log is twice as long.
      if (
        Atomics.load(shared, BEHIND) > options.restartFrames / 4 &&
        log < 2 * options.restartFrames
      )
        return false;
      restart = 'asked';
      return true;
    },
    catchUp: () => pass(true),
    copyAhead: () => pass(false),
    close: async () => {
      closing = true;
      // Held open until the thread has closed its connection, so the caller can close last.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
};
