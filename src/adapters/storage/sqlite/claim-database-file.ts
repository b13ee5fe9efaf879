import { closeSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../../../core/errors.js';

/** Files this process holds, to tell its own lock from a stale one with a reused pid. */
const claimed = new Set<string>();

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * The file's path with every symbolic link resolved (its folder's, when the file does not exist
 * yet), so that opening it through a link claims the same lock.
 */
const canonicalPath = (path: string): string => {
  const file = resolve(path);
  try {
    return realpathSync(file);
  } catch {
    try {
      return join(realpathSync(dirname(file)), basename(file));
    } catch {
      return file;
    }
  }
};

/**
 * Makes this process the only Herald writing `file`: the embedded mode keeps de-duplication
 * and profile caches in memory, so a second process on the same file would work on stale data.
 * A lock left by a process that died (SIGKILL, power loss) is taken over. Returns the release.
 */
export const claimDatabaseFile = (path: string): (() => void) => {
  const file = canonicalPath(path);
  const lockPath = `${file}.lock`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      claimed.add(file);
      return () => {
        claimed.delete(file);
        rmSync(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(lockPath, 'utf8').trim());
      // Our own pid in the file is a lock this process holds — or one a previous process with
      // the same pid left behind (a restarted container), which is stale.
      const ours = pid === process.pid && !claimed.has(file);
      if (Number.isInteger(pid) && pid > 0 && !ours && isAlive(pid)) {
        throw new AppError(
          'unavailable',
          `${file} is in use by another Herald process (pid ${pid}); the embedded SQLite mode is one process per file — stop it, or use PostgreSQL to run several`,
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new AppError('unavailable', `could not claim ${lockPath}`);
};
