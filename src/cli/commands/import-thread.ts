// The thread a bulk import reads its file on (`readInThread`): reads and checks the lines and
// hands the valid events over a batch at a time, at most READ_AHEAD batches ahead of the
// writer.
import { parentPort, workerData } from 'node:worker_threads';
import { eventValues, readImport, type ImportThreadData } from './read-import.js';
import { CREDITS, STOP, threadFlags } from './read-import.js';

const { read, batchSize, shared } = workerData as ImportThreadData;
const { flags, now } = threadFlags(shared);
if (parentPort === null) throw new Error('import-thread runs as a worker thread only');
const port = parentPort;

/** Waits until the writer takes another batch; false once it has stopped. */
const mayPost = (): boolean => {
  for (;;) {
    if (Atomics.load(flags, STOP) !== 0) return false;
    const credits = Atomics.load(flags, CREDITS);
    if (credits > 0) return true;
    Atomics.wait(flags, CREDITS, credits);
  }
};

try {
  let going = true;
  for await (const batch of readImport(read, batchSize, now, eventValues)) {
    if (!mayPost()) {
      going = false;
      break;
    }
    Atomics.sub(flags, CREDITS, 1);
    port.postMessage({
      columns: batch.events.flat(),
      rejected: batch.rejected,
      lines: batch.lines,
      stopped: batch.stopped,
    });
  }
  if (going) port.postMessage({ done: true });
} catch (error) {
  port.postMessage({ failed: error instanceof Error ? error.message : String(error) });
}
