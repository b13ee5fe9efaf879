// The thread a bulk import reads its file on (`readInThread`): reads and checks the lines and
// hands the valid events over a batch at a time, at most READ_AHEAD batches ahead of the
// writer.
import { parentPort, workerData } from 'node:worker_threads';
import { mayPost } from '../../core/worker-feed.js';
import { eventValues, readImport, threadFlags, type ImportThreadData } from './read-import.js';

const { read, batchSize, shared } = workerData as ImportThreadData;
const { flags, now } = threadFlags(shared);
if (parentPort === null) throw new Error('import-thread runs as a worker thread only');
const port = parentPort;

try {
  let going = true;
  for await (const batch of readImport(read, batchSize, now, eventValues)) {
    if (!mayPost(flags)) {
      going = false;
      break;
    }
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
