// CLI start-up benchmark: how long a `herald` command takes from spawn to exit, as a shell or a
// cron job runs it (`node bin/herald.js …`), the compiled module reused (its sources unchanged).
//   npm run bench:cli-start
// Options: --runs N (per command, default 8)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '8' } } });
const runs = Number(args.runs);
const herald = resolve(import.meta.dirname, '../bin/herald.js');
const dir = mkdtempSync(join(tmpdir(), 'herald-bench-cli-'));
const env = {
  ...process.env,
  HERALD_DATABASE_URL: `sqlite:${join(dir, 'herald.db')}`,
  HERALD_LOG_LEVEL: 'silent',
};
const run = (command: readonly string[]): number => {
  const startedMs = performance.now();
  execFileSync(process.execPath, [herald, ...command], { cwd: dir, env, stdio: 'ignore' });
  return performance.now() - startedMs;
};

try {
  // Compiles the module if the sources changed, and creates the database: not measured.
  run(['audit', 'verify']);
  console.log(`node                ${process.version}, ${String(runs)} runs per command`);
  for (const command of [['--help'], ['audit', 'verify']]) {
    const times = Array.from({ length: runs }, () => run(command)).sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    console.log(
      `herald ${command.join(' ').padEnd(13)} mean ${mean.toFixed(0)} ms, fastest ${(times[0] ?? 0).toFixed(0)} ms, slowest ${(times.at(-1) ?? 0).toFixed(0)} ms`,
    );
  }
  // The check that lets a start reuse the module: fingerprinting its sources.
  const { compileEntry } = (await import(new URL('../bin/compile.js', import.meta.url).href)) as {
    compileEntry: (entry: string) => { built: boolean };
  };
  const checks = Array.from({ length: runs }, () => {
    const startedMs = performance.now();
    if (compileEntry('src/cli/main.ts').built) throw new Error('the sources changed meanwhile');
    return performance.now() - startedMs;
  }).sort((a, b) => a - b);
  // And a build, its manifest set aside so that the check fails (the module written is the same).
  const cache = resolve(import.meta.dirname, '../node_modules/.cache/herald');
  for (const file of readdirSync(cache))
    if (file.startsWith('main-') && file.endsWith('.inputs.json')) rmSync(join(cache, file));
  // In a process of its own: under tsx's loader esbuild's synchronous build never returns.
  const buildStartedMs = performance.now();
  execFileSync(
    process.execPath,
    [resolve(import.meta.dirname, '../bin/compile.js'), 'src/cli/main.ts'],
    {
      cwd: resolve(import.meta.dirname, '..'),
      stdio: 'ignore',
    },
  );
  console.log(
    `a build             ${(performance.now() - buildStartedMs).toFixed(0)} ms (once, node bin/compile.js, its start included)`,
  );
  console.log(
    `reuse check         mean ${(checks.reduce((a, b) => a + b, 0) / checks.length).toFixed(0)} ms, fastest ${(checks[0] ?? 0).toFixed(0)} ms`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
