import { Worker } from 'node:worker_threads';
import type { FieldProblem } from '../../core/errors.js';
import { compiledModule } from '../compiled-module.js';
import {
  CREDITS,
  fromColumns,
  STOP,
  threadFlags,
  type ImportRead,
  type ImportThreadData,
  type ReadBatch,
} from './read-import.js';

/** Batches the thread may read ahead of the one being written. */
const READ_AHEAD = 2;

type ThreadMessage =
  | {
      columns: (string | number | null)[];
      rejected: { line: number; problems: FieldProblem[] }[];
      lines: number;
      stopped: ReadBatch['stopped'];
    }
  | { done: true }
  | { failed: string };

/**
 * `readImport` on a thread of its own (import-thread.ts), so that reading and checking the file
 * (about a fifth of the bench import's time, with the garbage it makes) runs beside the writing
 * instead of between its transactions. The events come over as plain values and are made whole
 * here from their bodies' JSON; `nowMs` is read as each batch is taken and stamps what is read
 * next. A thread that fails stops the reading there, as an unreadable rest of the file does:
 * what was read before is kept. Stopping early (a `for await` left) stops the thread.
 */
export async function* readInThread(
  read: ImportRead,
  batchSize: number,
  nowMs: () => number,
): AsyncGenerator<ReadBatch> {
  const entry = compiledModule('src/cli/commands/import-thread.ts');
  const shared = new SharedArrayBuffer(16);
  const { flags, setNow } = threadFlags(shared);
  setNow(nowMs());
  Atomics.store(flags, CREDITS, READ_AHEAD);
  const data: ImportThreadData = { read, batchSize, shared };
  const worker = new Worker(entry, { workerData: data });
  const inbox: ThreadMessage[] = [];
  let wake: (() => void) | null = null;
  const deliver = (message: ThreadMessage) => {
    inbox.push(message);
    wake?.();
  };
  worker.on('message', deliver);
  worker.on('error', (error: Error) => {
    deliver({ failed: error.message });
  });
  worker.on('exit', (code) => {
    deliver({ failed: `the reading thread exited with code ${code}` });
  });
  let lines = 0;
  try {
    for (;;) {
      while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      const message = inbox.shift() as ThreadMessage;
      if ('done' in message) return;
      if ('failed' in message) {
        yield {
          events: [],
          rejected: [],
          lines,
          stopped: { line: lines + 1, reason: `reading failed: ${message.failed}` },
        };
        return;
      }
      setNow(nowMs());
      Atomics.add(flags, CREDITS, 1);
      Atomics.notify(flags, CREDITS);
      ({ lines } = message);
      yield {
        events: fromColumns(message.columns),
        rejected: message.rejected,
        lines,
        stopped: message.stopped,
      };
    }
  } finally {
    Atomics.store(flags, STOP, 1);
    Atomics.notify(flags, CREDITS);
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}
