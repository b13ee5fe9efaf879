import BetterSqlite3 from 'better-sqlite3';
import { lstatSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../../../core/errors.js';

/**
 * The file's path with every symbolic link resolved (its folder's, when the file does not exist
 * yet), so that opening it through a link claims the same lock. A link to a file not made yet
 * (a first start on a volume linked in) is followed to where SQLite will make it: claimed beside
 * the link instead, the next process, finding the file made, claimed beside the file, and both
 * wrote it.
 */
const canonicalPath = (path: string, links = 0): string => {
  const file = resolve(path);
  try {
    return realpathSync(file);
  } catch {
    // The target is read from the folder the link really is in: `..` in it climbs from there,
    // not from the path written (`app/data -> vol/data`, `db -> ../herald.db` is `vol/herald.db`).
    if (links < MAX_LINKS && isLink(file))
      return canonicalPath(resolve(realFolderOf(file), readlinkSync(file)), links + 1);
    try {
      return join(realpathSync(dirname(file)), basename(file));
    } catch {
      return file;
    }
  }
};

/** As many links as Linux follows in one path before it says there is a loop. */
const MAX_LINKS = 40;

const realFolderOf = (file: string): string => {
  try {
    return realpathSync(dirname(file));
  } catch {
    return dirname(file);
  }
};

const isLink = (file: string): boolean => {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const inUse = (file: string, holder: string) =>
  new AppError(
    'unavailable',
    `${file} is in use by another Herald process (${holder}); the embedded SQLite mode is one process per file — stop it, or use PostgreSQL to run several`,
  );

/** Whether a lock file in this module's format (a SQLite database) is held by a process. */
const isLockHeld = (path: string): boolean => {
  let db: BetterSqlite3.Database | null = null;
  try {
    db = new BetterSqlite3(path, { timeout: 0, fileMustExist: true });
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'SQLITE_BUSY';
  } finally {
    db?.close();
  }
};

/**
 * The lock file earlier versions claimed the database with (`FILE.lock`): a pid as text, or,
 * for a while, a SQLite database held the way `FILE.writer-lock` is now. Refused while the
 * process that wrote it lives or holds it; removed when it is gone. The lock itself lives in
 * a file of another name, so two processes clearing an old file at once cannot remove each
 * other's lock.
 */
const checkEarlierLock = (file: string): void => {
  const earlier = `${file}.lock`;
  let text: string;
  try {
    text = readFileSync(earlier, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const pid = /^\s*\d+\s*$/.test(text) ? Number(text) : null;
  if (pid === null ? isLockHeld(earlier) : pid > 0 && pid !== process.pid && isAlive(pid))
    throw inUse(
      file,
      pid === null
        ? `it holds ${earlier}`
        : `pid ${pid}, named in ${earlier} by an earlier Herald: remove that file if no Herald is running`,
    );
  rmSync(earlier, { force: true });
};

/**
 * Makes this process the only Herald writing `file`: the embedded mode keeps de-duplication
 * and profile caches in memory, so a second process on the same file would work on stale data.
 *
 * The claim is an exclusive lock the operating system holds on `FILE.writer-lock` (a SQLite
 * transaction kept open on an empty database beside the real path): the kernel drops it the
 * moment the process ends, however it ends (SIGKILL, a crash, power loss), so there is no stale
 * lock to judge, and two processes claiming at once cannot both win. The file stays when
 * released: removing it could let one process lock the old file while another made a new one.
 * Returns the release.
 */
export const claimDatabaseFile = (path: string): (() => void) => {
  const file = canonicalPath(path);
  const lockPath = `${file}.writer-lock`;
  // No busy timeout: a held lock is an answer, not something to wait for.
  const lock = new BetterSqlite3(lockPath, { timeout: 0 });
  try {
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY')
      throw inUse(file, `it holds ${lockPath}`);
    throw error;
  }
  try {
    checkEarlierLock(file);
  } catch (error) {
    lock.close();
    throw error;
  }
  return () => {
    if (lock.open) lock.close();
  };
};
