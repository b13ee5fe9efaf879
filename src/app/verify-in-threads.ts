import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AuditKey } from '../core/audit.js';
import type { Logger } from '../ports/logger.js';
import type { ReadSource, Store } from '../ports/store.js';
import type { ChainCheck } from '../pipeline/record/audit-chain.js';
import {
  verifyAuditStretch,
  type AuditStretch,
  type StretchVerifier,
} from '../pipeline/record/verify-audit.js';
import { compiledModule } from './compiled-module.js';

/** What a verifying thread is given. */
export interface VerifyThreadData {
  source: ReadSource;
  stretch: AuditStretch;
  key: AuditKey | null;
}

/** Threads a verify uses at most: past the cores there is nothing to gain. */
const MAX_THREADS = 4;

/**
 * A chain shorter than this is verified in one pass: a thread's start (loading Herald's module,
 * opening a connection) costs about what verifying this many entries does.
 */
export const MIN_THREADED_ENTRIES = 50_000;

/** What one thread found for its stretch; its failure or exit rejects. */
const inThread = (entry: URL, data: VerifyThreadData): Promise<ChainCheck> =>
  new Promise<ChainCheck>((resolve, reject) => {
    const worker = new Worker(entry, { workerData: data });
    worker.once('message', (check: ChainCheck) => {
      resolve(check);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      reject(new Error(`the verifying thread exited with code ${code} before answering`));
    });
  });

/**
 * Verifies an audit chain's stretches on threads of their own, one per core (at most
 * MAX_THREADS), each reading over its own connection to the store's database; null for a store
 * no other connection can see. A stretch whose thread fails (it could not start, or not open the
 * database) is verified on this thread instead, and the failure logged: the answer never rests
 * on a thread that did not give one.
 */
export const verifyInThreads = (
  store: Store,
  logger: Logger,
  options: { threads?: number; minEntries?: number } = {},
): StretchVerifier | null => {
  const source = store.readSource;
  if (source === null) return null;
  return {
    stretches: options.threads ?? Math.min(availableParallelism(), MAX_THREADS),
    minEntries: options.minEntries ?? MIN_THREADED_ENTRIES,
    verify(stretches, key) {
      const fallBack = (stretch: AuditStretch, error: unknown) => {
        logger.warn(
          { err: error, untilSeq: stretch.untilSeq },
          'verifying a stretch of the audit chain on a thread failed: verified on the main thread',
        );
        return verifyAuditStretch(store, stretch, key);
      };
      let entry: URL;
      try {
        entry = compiledModule('src/app/verify-audit-thread.ts');
      } catch (error) {
        return Promise.all(stretches.map((stretch) => fallBack(stretch, error)));
      }
      return Promise.all(
        stretches.map((stretch) =>
          inThread(entry, { source, stretch, key }).catch((error: unknown) =>
            fallBack(stretch, error),
          ),
        ),
      );
    },
  };
};
