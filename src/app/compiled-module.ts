import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Compile = (entry: string) => string;

/** Where bin/compile.js leaves its compiler for the Herald it runs. */
const COMPILE = Symbol.for('herald.compile');

/**
 * `entry` (one of Herald's TypeScript modules, relative to the repository) compiled as
 * bin/herald.js compiles Herald (bin/compile.js says why), for a thread to run: a thread loads
 * plain JavaScript, and neither vitest's transform nor tsx's loader reaches into it. A compiled
 * Herald finds the compiler bin/compile.js left it. Run from the sources (the tests, `node
 * --import tsx`), the compiler runs as a process of its own: under tsx's loader, esbuild's
 * synchronous build without its worker thread (as bin/compile.js runs it) never returned.
 */
export const compiledModule = (entry: string): URL => {
  const compile = (globalThis as Record<symbol, unknown>)[COMPILE] as Compile | undefined;
  if (compile !== undefined) return pathToFileURL(compile(entry));
  // From src/app/, the repository is two folders up.
  const compiler = fileURLToPath(new URL('../../bin/compile.js', import.meta.url));
  const path = execFileSync(process.execPath, [compiler, entry], { encoding: 'utf8' }).trim();
  return pathToFileURL(path);
};
