// Compiles a TypeScript entry point of Herald (and everything it imports, the packages it imports
// statically included) into one ES module under node_modules/.cache/herald, with esbuild.
//
// Herald runs from this output rather than through tsx's loader: tsx compiles with esbuild's
// `keepNames`, which wraps every named function expression in a call that sets its `name`
// property each time the function is created. The hot paths create such closures per event
// and per decision; the decide bench's core ran at about half the speed that way.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Without a worker thread: esbuild otherwise answers synchronous calls from a thread with a
// JavaScript heap of its own and an esbuild process beside Herald's, both for as long as
// Herald runs (about 20 MB of resident memory; stopped, the process was left a zombie). This
// way each build is one esbuild process, waited for. Read when esbuild loads, so set first.
process.env.ESBUILD_WORKER_THREADS ??= '0';
const { buildSync, version: esbuildVersion } = await import('esbuild');

const repository = fileURLToPath(new URL('..', import.meta.url));
/** Compiled versions of one entry point kept beside the newest (a process may still run one). */
const KEEP = 4;
/** Files outside the bundle's inputs that change how esbuild compiles them. */
const SETTINGS = ['tsconfig.json', 'package.json'];
/**
 * Packages left as imports of the module: native addons, which load a compiled library from a
 * path of their own. Every other package imported statically is compiled into the module: Node
 * 20 resolves and loads an ES module package file by file (kysely alone is about 400 files and a
 * quarter of a second), where one module of the same code loads in a fraction of that
 * (`npm run bench:cli-start`). Packages Herald loads only when first used (`onFirstUse`: fastify,
 * pg, nodemailer, openai, mjml, tlds) are `require`d by name at run time and stay outside.
 */
const NATIVE = ['better-sqlite3'];
/** What CommonJS code compiled into an ES module calls `require` for (`node:os`, a JSON file). */
const REQUIRE_BANNER =
  "import { createRequire as __heraldRequire } from 'node:module'; const require = __heraldRequire(import.meta.url);";

/** The folders holding `inputs`, and theirs up to (not including) the root. */
const foldersOf = (inputs) => {
  const folders = new Set();
  for (const file of inputs) {
    let folder = dirname(file);
    while (folder !== '.' && !folders.has(folder)) {
      folders.add(folder);
      if (dirname(folder) === folder) break;
      folder = dirname(folder);
    }
  }
  return [...folders].sort();
};

/**
 * A digest of everything a build's output depends on: esbuild's version, the settings files,
 * every repository file the bundle read (path and content, `read` giving it), what the folders
 * holding them list (names, kinds and link targets: a file added beside an input, or a symbolic
 * link pointed elsewhere, can change what an import finds), and each package file compiled in by
 * its size and modification time (`npm install` writes the files it changes anew; reading the
 * eight hundred or so of them at every start would cost more than it saves). Null when an input
 * is gone.
 */
const fingerprintOf = (
  root,
  inputs,
  packageFiles = [],
  read = (file) => readFileSync(join(root, file)),
) => {
  const hash = createHash('sha256').update(`esbuild ${esbuildVersion}\0`);
  for (const file of SETTINGS) {
    try {
      const content = readFileSync(join(root, file));
      hash.update(`${file}\0${String(content.length)}\0`).update(content);
    } catch {
      hash.update(`${file}\0none\0`);
    }
  }
  try {
    for (const file of inputs) {
      const content = read(file);
      hash.update(`${file}\0${String(content.length)}\0`).update(content);
    }
    for (const folder of foldersOf(inputs)) {
      const entries = readdirSync(join(root, folder), { withFileTypes: true })
        .map((entry) => {
          const kind = entry.isSymbolicLink()
            ? `link:${readlinkSync(join(root, folder, entry.name))}`
            : entry.isDirectory()
              ? 'folder'
              : 'file';
          return `${entry.name}\0${kind}`;
        })
        .sort();
      hash.update(`${folder}/\0${entries.join('\0')}\0`);
    }
    for (const file of packageFiles) {
      const { size, mtimeMs } = statSync(join(root, file));
      hash.update(`${file}\0${String(size)}\0${String(mtimeMs)}\0`);
    }
  } catch {
    return null;
  }
  return hash.digest('hex');
};

/**
 * The inputs as esbuild read them, or null when one is not what the build saw: the source map
 * holds the text of every file that gave the module code, and the metafile the size of each
 * (a file of types alone gives none). Compared with what is on disk now, a file replaced while
 * esbuild read the sources — even by a copy keeping the old time stamps — is caught.
 */
export const readAsBuilt = (root, inputs, metafile, map, mapPath) => {
  const texts = new Map(
    map.sources.map((source, i) => [resolve(dirname(mapPath), source), map.sourcesContent?.[i]]),
  );
  const contents = new Map();
  for (const file of inputs) {
    let content;
    try {
      content = readFileSync(join(root, file));
    } catch {
      return null;
    }
    const text = texts.get(resolve(root, file));
    const same =
      text === undefined || text === null
        ? content.length === metafile.inputs[file]?.bytes
        : text === content.toString('utf8');
    if (!same) return null;
    contents.set(file, content);
  }
  return contents;
};

const isPackageFile = (file) => file.includes('node_modules/');

/** Whether a file was modified at or after `sinceMs` (or is gone): written while esbuild read it. */
const changedSince = (root, file, sinceMs) => {
  try {
    return statSync(join(root, file)).mtimeMs >= sinceMs;
  } catch {
    return true;
  }
};

/**
 * The source map without the text of package files: stack traces need only the mappings, and
 * the packages' text would make the map Node reads at every start several times larger.
 */
const withoutPackageSources = (root, map, mapPath) => ({
  ...map,
  sourcesContent: map.sourcesContent?.map((text, i) =>
    isPackageFile(relative(root, resolve(dirname(mapPath), map.sources[i] ?? ''))) ? null : text,
  ),
});

/** Writes `contents` to `path` under a name of this process's own first, then renames it. */
const writeWhole = (path, contents, temporaries) => {
  const temporary = `${path}.${process.pid}.tmp`;
  temporaries.push(temporary);
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
};

/**
 * Compiles `entry` (relative to `root`, or absolute) and says where the module is and whether
 * esbuild ran. The last build's inputs and their fingerprint are kept beside its module: when
 * none of those files changed, the module is reused without bundling again (fingerprinting
 * Herald takes 10–15 ms, a build in a process of its own 0.67 s: `npm run bench:cli-start`).
 */
export const compileEntry = (entry, root = repository) => {
  // Inside the repository, so the module finds its packages in node_modules as the sources do.
  const dir = join(root, 'node_modules', '.cache', 'herald');
  const source = resolve(root, entry);
  const name = basename(entry, '.ts');
  const manifest = join(
    dir,
    `${name}-${createHash('sha256').update(source).digest('hex').slice(0, 12)}.inputs.json`,
  );
  try {
    const last = JSON.parse(readFileSync(manifest, 'utf8'));
    const module = join(dir, last.module);
    if (
      existsSync(module) &&
      existsSync(`${module}.map`) &&
      fingerprintOf(root, last.inputs, last.packageFiles) === last.fingerprint
    )
      return { path: module, built: false };
  } catch {
    // No manifest yet, or one that does not parse: build.
  }
  const startedMs = Date.now();
  // Synchronous: esbuild's asynchronous API leaves its service process running beside Herald.
  const result = buildSync({
    entryPoints: [source],
    absWorkingDir: root,
    bundle: true,
    // Inputs named by the path imported, not the file a symbolic link leads to, so that the
    // link's folder is among those fingerprinted.
    preserveSymlinks: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: NATIVE.flatMap((name) => [name, `${name}/*`]),
    banner: { js: REQUIRE_BANNER },
    sourcemap: 'linked',
    // Named by a hash of the content: an unchanged build is not written again (so a folder that
    // cannot be written still serves the version compiled there before), and processes started
    // from different sources, as during a deploy, never load each other's module or map.
    entryNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    outdir: dir,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const module = result.outputFiles.find((file) => file.path.endsWith('.mjs'));
  if (module === undefined) throw new Error(`esbuild wrote no module for ${entry}`);
  const mapFile = result.outputFiles.find((file) => file.path === `${module.path}.map`);
  const map =
    mapFile === undefined
      ? undefined
      : withoutPackageSources(root, JSON.parse(mapFile.text), mapFile.path);
  const missing = result.outputFiles
    .filter((file) => !existsSync(file.path))
    .map((file) => (file === mapFile ? { path: file.path, contents: JSON.stringify(map) } : file));
  const temporaries = [];
  try {
    mkdirSync(dir, { recursive: true });
    // A process starting beside this one never reads a half-written file. The map first, so the
    // module never points at a missing map.
    missing.sort((a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')));
    for (const file of missing) writeWhole(file.path, file.contents, temporaries);
  } catch (error) {
    for (const temporary of temporaries) rmSync(temporary, { force: true });
    throw new Error(
      `Herald compiles itself into ${dir} as it starts and could not write there (${error.code ?? error.message}): make that folder writable for the user running Herald`,
    );
  }
  const all = Object.keys(result.metafile.inputs);
  const inputs = all.filter((file) => !isPackageFile(file));
  const packageFiles = all.filter(isPackageFile);
  // Fingerprinted from the inputs as the build read them: when one changed while esbuild ran,
  // no fingerprint is kept and the next start builds again.
  const contents =
    map === undefined || packageFiles.some((file) => changedSince(root, file, startedMs))
      ? null
      : readAsBuilt(root, inputs, result.metafile, map, mapFile.path);
  const fingerprint =
    contents === null
      ? null
      : fingerprintOf(root, inputs, packageFiles, (file) => contents.get(file));
  if (fingerprint !== null) {
    const later = [];
    try {
      writeWhole(
        manifest,
        JSON.stringify({ module: basename(module.path), fingerprint, inputs, packageFiles }),
        later,
      );
    } catch {
      // Without it the next start bundles again; the module is written and runs.
      for (const temporary of later) rmSync(temporary, { force: true });
    }
  }
  forgetOldVersions(dir, name, basename(module.path));
  return { path: module.path, built: true };
};

/** Compiles `entry` (relative to the repository, or absolute) and returns the module's path. */
export const compile = (entry) => compileEntry(entry).path;

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
  // For the threads Herald starts, compiled the same way (src/app/compiled-module.ts).
  globalThis[Symbol.for('herald.compile')] = compile;
  await import(pathToFileURL(compile(entry)).href);
};

// `node bin/compile.js ENTRY` compiles ENTRY and prints the module's path: how Herald run from its
// sources has a thread's entry compiled (src/app/compiled-module.ts).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [entry] = process.argv.slice(2);
  if (entry === undefined) {
    console.error('usage: node bin/compile.js src/ENTRY.ts');
    process.exit(2);
  }
  console.log(compile(entry));
}
