// The thread one stretch of the audit chain is verified on (`verifyInThreads`): it reads the
// stretch over a connection of its own and posts what `verifyAuditStretch` found.
import { parentPort, workerData } from 'node:worker_threads';
import { openRecordReads } from '../adapters/storage/open-record-reads.js';
import { verifyAuditStretch } from '../pipeline/record/verify-audit.js';
import type { VerifyThreadData } from './verify-in-threads.js';

const { source, stretch, key } = workerData as VerifyThreadData;
if (parentPort === null) throw new Error('verify-audit-thread runs as a worker thread only');
const port = parentPort;
const { reads, close } = openRecordReads(source);
try {
  port.postMessage(await verifyAuditStretch(reads, stretch, key));
} finally {
  await close();
}
