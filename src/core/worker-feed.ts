import type { Worker } from 'node:worker_threads';

// A thread that posts its results a message at a time, no further ahead of its reader than
// the reader allows: the two share an Int32Array of two flags.

/** In the shared flags: messages the reader will take, and whether the reader has stopped. */
export const CREDITS = 0;
export const STOP = 1;

/** The shared flags, allowing `ahead` messages before the reader takes one. */
export const feedFlags = (shared: SharedArrayBuffer, offset = 0, ahead?: number): Int32Array => {
  const flags = new Int32Array(shared, offset, 2);
  if (ahead !== undefined) Atomics.store(flags, CREDITS, ahead);
  return flags;
};

/**
 * In the thread, before each message: waits (blocking the thread, which has nothing else to do)
 * until the reader allows another, and takes that allowance; false once the reader has stopped.
 */
export const mayPost = (flags: Int32Array): boolean => {
  for (;;) {
    if (Atomics.load(flags, STOP) !== 0) return false;
    const credits = Atomics.load(flags, CREDITS);
    if (credits > 0) {
      Atomics.sub(flags, CREDITS, 1);
      return true;
    }
    Atomics.wait(flags, CREDITS, credits);
  }
};

export interface WorkerFeed<M> {
  /** The thread's next message, in order; its error or exit comes as `{ failed }`. */
  next(): Promise<M | { failed: string }>;
  /** Lets the thread post one more message. */
  more(): void;
  /** Stops the thread, waiting or not, and resolves once it has ended. */
  stop(): Promise<void>;
}

/** The reader's side of a feed from `worker` (`name` says which thread in its failures). */
export const workerFeed = <M>(worker: Worker, name: string, flags: Int32Array): WorkerFeed<M> => {
  const inbox: (M | { failed: string })[] = [];
  let wake: (() => void) | null = null;
  const deliver = (message: M | { failed: string }) => {
    inbox.push(message);
    wake?.();
  };
  worker.on('message', deliver);
  worker.on('error', (error: Error) => {
    deliver({ failed: error.message });
  });
  // Node delivers every message a thread posted before its exit.
  worker.on('exit', (code) => {
    deliver({ failed: `${name} exited with code ${code}` });
  });
  return {
    async next() {
      while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      return inbox.shift() as M | { failed: string };
    },
    more() {
      Atomics.add(flags, CREDITS, 1);
      Atomics.notify(flags, CREDITS);
    },
    async stop() {
      Atomics.store(flags, STOP, 1);
      Atomics.notify(flags, CREDITS);
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
};
