import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

/** How a `herald` command ended. */
export interface CliOutcome {
  /** The exit code; null when it was still running when its time ran out (then killed). */
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/**
 * Runs `herald ARGS` as `npx herald` does (the compiled `bin/herald.js`), in `cwd`, logging
 * nothing unless `env` says otherwise. With `ownEnvOnly`, no HERALD_ variable of this process
 * reaches it: only those `env` gives.
 */
export const runHerald = (
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs: number; ownEnvOnly?: boolean },
): Promise<CliOutcome> => {
  const inherited =
    options.ownEnvOnly === true
      ? Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')))
      : process.env;
  const startedMs = performance.now();
  return run(process.execPath, [join(root, 'bin/herald.js'), ...args], {
    cwd: options.cwd,
    env: { ...inherited, HERALD_LOG_LEVEL: 'silent', ...options.env },
    timeout: options.timeoutMs,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr, elapsedMs: performance.now() - startedMs }),
    (error: unknown) => {
      const e = error as { code?: number; killed?: boolean; stdout: string; stderr: string };
      return {
        code: e.killed === true ? null : (e.code ?? null),
        stdout: e.stdout,
        stderr: e.stderr,
        elapsedMs: performance.now() - startedMs,
      };
    },
  );
};
