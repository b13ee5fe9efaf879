import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // A worker process runs file after file with the modules it loaded already (each file in a
    // fresh process spent about a second forking and importing; the suite took 678 s on a slow
    // two-core machine, 521 s this way). A file that mocks a module Herald imports loads
    // Herald afresh after `vi.resetModules()` (test/e2e/gzip-bomb.int.test.ts).
    isolate: false,
    // Vitest's default leaves a core idle (one worker on two cores), yet much of a test file's
    // time is spent waiting on the processes, servers and databases it drives.
    maxWorkers: Math.max(2, availableParallelism()),
    // As bin/herald.js runs Herald: in UTC, whatever the machine's zone.
    env: { TZ: 'UTC' },
  },
});
