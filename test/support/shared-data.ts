import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The real data sets (`../shared/data` beside the repository, or HERALD_SHARED_DATA). They are
 * not part of the repository; suites that read them say so when they are absent.
 */
export const sharedDataDir: string | undefined = [
  process.env['HERALD_SHARED_DATA'],
  join(repoRoot, '../shared/data'),
].find((dir): dir is string => dir !== undefined && dir !== '' && existsSync(dir));

export const sharedDataNote =
  'shared data sets not found: set HERALD_SHARED_DATA to ../shared/data to run the real-data import tests';

if (sharedDataDir === undefined) console.warn(sharedDataNote);
