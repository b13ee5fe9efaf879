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
 * writer, between two transactions, copies the few frames the thread has not (`restartDue`) and
 * its next transaction starts the log over.
 */
export interface WalCheckpointer {
  /** What the background thread has done so far. */
  readonly stats: CheckpointStats;
  /**
   * Asked by the writer after each commit: true when it should checkpoint now (PASSIVE) so that
   * its next transaction starts the log over. Never on figures from before the last restart it
   * asked for (one SQLite makes by itself, after a pause, can still be followed by one needless
   * ask: the writer cannot tell that its transaction started the log over).
   */
  restartDue(): boolean;
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
const { parentPort, workerData } = require('node:worker_threads');
const shared = new Int32Array(workerData.shared);
let db = null;
let stopping = false;
let timer = null;
const stop = () => {
  stopping = true;
  if (timer !== null) clearTimeout(timer);
  if (db !== null && db.open) db.close();
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
const run = () => {
  timer = null;
  if (stopping) return;
  try {
    // Repeat while frames are left behind: each pass copies what the last one missed.
    let row = pass();
    for (let i = 0; i < 4 && !stopping && row.checkpointed < row.log; i += 1) row = pass();
  } catch (error) {
    fail(error);
    return;
  }
  timer = setTimeout(run, workerData.intervalMs);
};
parentPort.on('message', (message) => { if (message === 'stop') stop(); });
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.file, { fileMustExist: true });
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
  const stoppedBy = (error: Error) => {
    if (closing || stopped) return;
    stopped = true;
    options.onStopped(error);
  };
  worker.on('message', (message: { failed: string }) => {
    stoppedBy(new Error(`the checkpoint thread stopped: ${message.failed}`));
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
  // A restart takes the writer's own checkpoint when the thread has kept up (most frames copied)
  // or the log is twice the limit. Each costs every waiting transaction a sync of the file
  // (20–180 ms on this machine's disk), so none is asked on figures of the log before the last
  // restart it asked for: a pass begun before it can end after it and report the old log's
  // length. Asking on those made 7 of the decide bench's 78 restarts needless (logs of
  // 2,800–4,500 frames against a limit of 5,000, 80–137 ms each).
  let restarting = false;
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
  return {
    stats,
    restartDue: () => {
      if (restarting) {
        // The transaction just committed began the log again (or, had the checkpoint found
        // the thread busy, a later figure will ask again).
        restarting = false;
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
      restarting = true;
      return true;
    },
    close: async () => {
      closing = true;
      // Held open until the thread has closed its connection, so the caller can close last.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
};
