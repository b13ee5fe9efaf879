import { existsSync, readFileSync } from 'node:fs';
import { AppError } from '../core/errors.js';
import type { CustomerId } from '../core/ids.js';
import { createServices, type Services } from '../app/create-services.js';
import { loadConfig, type Config } from '../app/load-config.js';

/**
 * Reads `herald.config.yaml` (or `HERALD_CONFIG`, which must exist) and the environment: the
 * configuration every command runs with, services or none.
 */
export const readConfig = (env: NodeJS.ProcessEnv): Config => {
  const path = env['HERALD_CONFIG'] ?? 'herald.config.yaml';
  const explicit = env['HERALD_CONFIG'] !== undefined;
  if (!existsSync(path)) {
    if (explicit)
      throw new AppError('invalid-config', `HERALD_CONFIG points at ${path}, which does not exist`);
    return loadConfig(env, null);
  }
  let fileText: string;
  try {
    fileText = readFileSync(path, 'utf8');
  } catch (error) {
    // A folder, a file this user may not read: bad configuration, said in one line.
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'EISDIR'
        ? 'it is a directory, not a file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : error instanceof Error
            ? error.message
            : String(error);
    throw new AppError('invalid-config', `cannot read the config file ${path}: ${why}`, {
      cause: error,
    });
  }
  return loadConfig(env, fileText);
};

/**
 * Reads the configuration (`readConfig`), then builds the services; logs go to stderr unless
 * `logFd` is 1 (the server), so a command's stdout is its output.
 */
export const loadServices = (
  env: NodeJS.ProcessEnv,
  logFd: 1 | 2 = 2,
  options: { bulk?: boolean } = {},
): Promise<Services> => createServices(readConfig(env), { logFd, ...options });

/** The customer a `--customer USERID` option names (undefined without one); not-found names it. */
export const customerOption = async (
  services: Services,
  userId: string | undefined,
): Promise<CustomerId | undefined> => {
  if (userId === undefined) return undefined;
  const id = await services.store.resolveUserId(userId);
  if (id === undefined) throw new AppError('not-found', `no customer with userId "${userId}"`);
  return id;
};
