// Compiles a TypeScript entry point of Herald (and everything it imports from the repository)
// into one ES module under node_modules/.cache/herald, with esbuild; packages stay imports.
//
// Herald runs from this output rather than through tsx's loader: tsx compiles with esbuild's
// `keepNames`, which wraps every named function expression in a call that sets its `name`
// property each time the function is created. The hot paths create such closures per event
// and per decision; the decide bench's core ran at about half the speed that way.
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Compiles `entry` (relative to the repository) and returns the path of the module. */
export const compile = async (entry) => {
  // Inside the repository, so the module finds its packages in node_modules as the sources do.
  const dir = join(root, 'node_modules', '.cache', 'herald');
  const outfile = join(dir, `${basename(entry, '.ts')}.mjs`);
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    outfile,
    write: false,
    logLevel: 'silent',
  });
  try {
    mkdirSync(dir, { recursive: true });
    // Written under names of this process's own, then renamed: processes starting side by side
    // never read one another's half-written file.
    const written = result.outputFiles.map((file) => {
      const temporary = `${file.path}.${process.pid}.tmp`;
      writeFileSync(temporary, file.contents);
      return [temporary, file.path];
    });
    // The map first, so the module never points at a map that is not there yet.
    const isMap = ([, path]) => path.endsWith('.map');
    for (const [temporary, path] of written.filter(isMap)) renameSync(temporary, path);
    for (const [temporary, path] of written.filter((w) => !isMap(w))) renameSync(temporary, path);
  } catch (error) {
    throw new Error(
      `Herald compiles itself into ${dir} as it starts and could not write there (${error.code ?? error.message}): make that folder writable for the user running Herald`,
    );
  }
  return outfile;
};
