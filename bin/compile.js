// Compiles a TypeScript entry point of Herald (and everything it imports from the repository)
// into one ES module under node_modules/.cache/herald, with esbuild; packages stay imports.
//
// Herald runs from this output rather than through tsx's loader: tsx compiles with esbuild's
// `keepNames`, which wraps every named function expression in a call that sets its `name`
// property each time the function is created. The hot paths create such closures per event
// and per decision; the decide bench's core ran at about half the speed that way.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Without a worker thread: esbuild otherwise answers synchronous calls from a thread with a
// JavaScript heap of its own and an esbuild process beside Herald's, both for as long as
// Herald runs (about 20 MB of resident memory; stopped, the process was left a zombie). This
// way each build is one esbuild process, waited for. Read when esbuild loads, so set first.
process.env.ESBUILD_WORKER_THREADS ??= '0';
const { buildSync } = await import('esbuild');

const root = fileURLToPath(new URL('..', import.meta.url));
/** Compiled versions of one entry point kept beside the newest (a process may still run one). */
const KEEP = 4;

/** Compiles `entry` (relative to the repository, or absolute) and returns the module's path. */
export const compile = (entry) => {
  // Inside the repository, so the module finds its packages in node_modules as the sources do.
  const dir = join(root, 'node_modules', '.cache', 'herald');
  const name = basename(entry, '.ts');
  // Synchronous: esbuild's asynchronous API leaves its service process running beside Herald.
  const result = buildSync({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    // Named by a hash of the content: an unchanged build is not written again (so a folder that
    // cannot be written still serves the version compiled there before), and processes started
    // from different sources, as during a deploy, never load each other's module or map.
    entryNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    outdir: dir,
    write: false,
    logLevel: 'silent',
  });
  const module = result.outputFiles.find((file) => file.path.endsWith('.mjs'));
  if (module === undefined) throw new Error(`esbuild wrote no module for ${entry}`);
  const missing = result.outputFiles.filter((file) => !existsSync(file.path));
  const temporaries = [];
  try {
    mkdirSync(dir, { recursive: true });
    // Under names of this process's own, then renamed: a process starting beside this one never
    // reads a half-written file. The map first, so the module never points at a missing map.
    missing.sort((a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')));
    for (const file of missing) {
      const temporary = `${file.path}.${process.pid}.tmp`;
      temporaries.push(temporary);
      writeFileSync(temporary, file.contents);
      renameSync(temporary, file.path);
    }
  } catch (error) {
    for (const temporary of temporaries) rmSync(temporary, { force: true });
    throw new Error(
      `Herald compiles itself into ${dir} as it starts and could not write there (${error.code ?? error.message}): make that folder writable for the user running Herald`,
    );
  }
  forgetOldVersions(dir, name, basename(module.path));
  return module.path;
};

/** Removes all but the newest KEEP compiled versions of an entry point (and their maps). */
export const forgetOldVersions = (dir, name, current) => {
  const versionOf = new RegExp(`^${name.replace(/[^\w]/g, '\\$&')}-[A-Z0-9]+\\.mjs$`);
  try {
    const versions = readdirSync(dir)
      // An entry's versions only: `import-` must not match `import-thread-`.
      .filter((file) => versionOf.test(file) && file !== current)
      .map((file) => ({ file, at: statSync(join(dir, file)).mtimeMs }))
      .sort((a, b) => b.at - a.at);
    for (const { file } of versions.slice(KEEP)) {
      rmSync(join(dir, file), { force: true });
      rmSync(join(dir, `${file}.map`), { force: true });
    }
  } catch {
    // Housekeeping only: a folder that cannot be listed or cleaned still runs Herald.
  }
};

/** Compiles `entry` and runs it, with stack traces mapped back to the TypeScript lines. */
export const run = async (entry) => {
  process.setSourceMapsEnabled(true);
  // For the threads Herald starts, compiled the same way (src/cli/compiled-module.ts).
  globalThis[Symbol.for('herald.compile')] = compile;
  await import(pathToFileURL(compile(entry)).href);
};

// `node bin/compile.js ENTRY` compiles ENTRY and prints the module's path: how Herald run from its
// sources has a thread's entry compiled (src/cli/compiled-module.ts).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [entry] = process.argv.slice(2);
  if (entry === undefined) {
    console.error('usage: node bin/compile.js src/ENTRY.ts');
    process.exit(2);
  }
  console.log(compile(entry));
}
