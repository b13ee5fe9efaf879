import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default leaves a core idle (one worker on two cores), yet much of a test file's
    // time is spent waiting on the processes, servers and databases it drives.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
