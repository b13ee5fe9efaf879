import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimDatabaseFile } from './claim-database-file.js';

/** A process that claims the file, says how that went, and holds the claim until killed. */
const claimant = (file: string) => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { claimDatabaseFile } from './src/adapters/storage/sqlite/claim-database-file.ts';
       try { claimDatabaseFile(${JSON.stringify(file)}); console.log('claimed'); }
       catch (error) { console.log('refused: ' + error.message); }
       setInterval(() => undefined, 60_000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const answer = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => {
      reject(new Error(`the claimant exited (${String(code)})`));
    });
  });
  return { child, answer };
};

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else {
      child.once('exit', () => {
        resolve();
      });
      child.kill('SIGKILL');
    }
  });

describe('claiming the embedded database file', () => {
  let dir: string;
  let file: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-claim-'));
    file = join(dir, 'herald.db');
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map(killed));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses while another process holds it, and is free the moment that process is killed', async () => {
    const holder = claimant(file);
    children.push(holder.child);
    expect(await holder.answer).toBe('claimed');
    expect(() => claimDatabaseFile(file)).toThrow(
      `${file} is in use by another Herald process (it holds ${file}.writer-lock)`,
    );
    // SIGKILL: no clean-up runs, the lock file stays, and the kernel drops the lock.
    await killed(holder.child);
    expect(existsSync(`${file}.writer-lock`)).toBe(true);
    const release = claimDatabaseFile(file);
    release();
    // Released, the file stays behind (see claimDatabaseFile) and can be claimed again.
    expect(existsSync(`${file}.writer-lock`)).toBe(true);
    claimDatabaseFile(file)();
  });

  it('claims a file reached through a link the same, made yet or not', () => {
    // A volume linked in on the first start: the file is not made yet. Claimed beside the link
    // then, and beside the file once made, two processes on one URL both wrote it.
    const volume = join(dir, 'volume');
    mkdirSync(volume);
    const link = join(dir, 'linked.db');
    symlinkSync(join(volume, 'herald.db'), link);
    const release = claimDatabaseFile(link);
    writeFileSync(join(volume, 'herald.db'), '');
    for (const path of [link, join(volume, 'herald.db')])
      expect(() => claimDatabaseFile(path)).toThrow(/is in use by another Herald process/);
    release();
    claimDatabaseFile(link)();
    // A link climbing out of a linked folder climbs from where that folder really is.
    mkdirSync(join(volume, 'data'));
    mkdirSync(join(dir, 'app'));
    symlinkSync(join(volume, 'data'), join(dir, 'app', 'data'));
    const climbing = join(dir, 'app', 'data', 'db.sqlite');
    symlinkSync('../climbed.db', climbing);
    const held = claimDatabaseFile(climbing);
    writeFileSync(join(volume, 'climbed.db'), '');
    expect(() => claimDatabaseFile(climbing)).toThrow(/is in use by another Herald process/);
    expect(() => claimDatabaseFile(join(volume, 'climbed.db'))).toThrow(/is in use/);
    held();
  });

  it('lets exactly one of several processes starting at once claim a fresh file', async () => {
    const started = Array.from({ length: 4 }, () => claimant(file));
    children.push(...started.map((s) => s.child));
    const answers = await Promise.all(started.map((s) => s.answer));
    expect(answers.filter((a) => a === 'claimed')).toHaveLength(1);
    for (const refused of answers.filter((a) => a !== 'claimed'))
      expect(refused).toMatch(/^refused: .* is in use by another Herald process/);
  });

  it('clears the pid file of an earlier Herald that died, and refuses while one lives', () => {
    // A pid no process has: above the kernel's largest (2^22).
    writeFileSync(`${file}.lock`, '4194305');
    claimDatabaseFile(file)();
    expect(existsSync(`${file}.lock`)).toBe(false);
    writeFileSync(`${file}.lock`, String(process.ppid));
    expect(() => claimDatabaseFile(file)).toThrow(
      `${file} is in use by another Herald process (pid ${process.ppid}, named in ${file}.lock by an earlier Herald: remove that file if no Herald is running)`,
    );
    // Refused, it let its own lock go: once the old process is gone, the file can be claimed.
    rmSync(`${file}.lock`);
    claimDatabaseFile(file)();
  });

  it('refuses while another process holds a lock file of the SQLite kind by the old name', async () => {
    // As a version that kept its OS lock in FILE.lock did.
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import Database from 'better-sqlite3';
         const db = new Database(${JSON.stringify(`${file}.lock`)});
         db.exec('BEGIN EXCLUSIVE');
         console.log('holding');
         setInterval(() => undefined, 60_000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(holder);
    await new Promise<void>((resolve) => {
      holder.stdout.once('data', () => {
        resolve();
      });
    });
    expect(() => claimDatabaseFile(file)).toThrow(
      `${file} is in use by another Herald process (it holds ${file}.lock)`,
    );
    await killed(holder);
    claimDatabaseFile(file)();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});
