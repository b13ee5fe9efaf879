import { Worker } from 'node:worker_threads';
import type { FieldProblem } from '../../core/errors.js';
import { workerFeed } from '../../core/worker-feed.js';
import { compiledModule } from '../../app/compiled-module.js';
import {
  fromColumns,
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
  | { done: true };

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
  const { flags, setNow } = threadFlags(shared, READ_AHEAD);
  setNow(nowMs());
  const data: ImportThreadData = { read, batchSize, shared };
  const feed = workerFeed<ThreadMessage>(
    new Worker(entry, { workerData: data }),
    'the reading thread',
    flags,
  );
  let lines = 0;
  try {
    for (;;) {
      const message = await feed.next();
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
      feed.more();
      ({ lines } = message);
      yield {
        events: fromColumns(message.columns),
        rejected: message.rejected,
        lines,
        stopped: message.stopped,
      };
    }
  } finally {
    await feed.stop();
  }
}
