import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  readFileSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

type Forget = (dir: string, name: string, current: string) => void;
type CompileEntry = (entry: string, root: string) => { path: string; built: boolean };
type ReadAsBuilt = (
  root: string,
  inputs: string[],
  metafile: { inputs: Record<string, { bytes: number }> },
  map: { sources: string[]; sourcesContent: string[] },
  mapPath: string,
) => Map<string, Buffer> | null;
// bin/compile.js is plain JavaScript, outside the typed sources.
const { forgetOldVersions, compileEntry, readAsBuilt } = (await import(
  new URL('../bin/compile.js', import.meta.url).href
)) as { forgetOldVersions: Forget; compileEntry: CompileEntry; readAsBuilt: ReadAsBuilt };

describe('compiled versions kept beside the newest', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-compile-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("prunes an entry's own versions only, never another entry's whose name starts the same", () => {
    const write = (file: string, ageS: number) => {
      writeFileSync(join(dir, file), '');
      writeFileSync(join(dir, `${file}.map`), '');
      const at = Date.now() / 1000 - ageS;
      utimesSync(join(dir, file), at, at);
    };
    for (let i = 0; i < 7; i += 1) {
      write(`import-OLD${String(i)}.mjs`, 100 + i);
      write(`import-thread-T${String(i)}.mjs`, 100 + i);
    }
    write('import-NEW.mjs', 0);
    forgetOldVersions(dir, 'import', 'import-NEW.mjs');
    const left = readdirSync(dir).filter((f) => f.endsWith('.mjs'));
    expect(left.filter((f) => f.startsWith('import-thread-'))).toHaveLength(7);
    expect(left.filter((f) => !f.startsWith('import-thread-')).sort()).toEqual([
      'import-NEW.mjs',
      'import-OLD0.mjs',
      'import-OLD1.mjs',
      'import-OLD2.mjs',
      'import-OLD3.mjs',
    ]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.map'))).toHaveLength(12);
  });
});

describe('a compiled module reused while its sources are unchanged', () => {
  let root: string;
  const source = (file: string, text: string) => {
    writeFileSync(join(root, file), text);
  };
  const output = async (path: string): Promise<unknown> =>
    ((await import(`${pathToFileURL(path).href}?n=${String(Math.random())}`)) as { out: unknown })
      .out;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'herald-compile-root-'));
    mkdirSync(join(root, 'src'));
    source('src/main.ts', "import { word } from './word.js';\nexport const out: string = word;\n");
    source('src/word.ts', "export const word = 'first';\n");
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('builds again when a source it imports changes, is removed, or its module is gone', async () => {
    const first = compileEntry('src/main.ts', root);
    expect(first.built).toBe(true);
    expect(await output(first.path)).toBe('first');
    expect(compileEntry('src/main.ts', root)).toEqual({ path: first.path, built: false });

    // Same length: only the content says it changed.
    source('src/word.ts', "export const word = 'other';\n");
    const changed = compileEntry('src/main.ts', root);
    expect(changed.built).toBe(true);
    expect(await output(changed.path)).toBe('other');
    expect(compileEntry('src/main.ts', root).built).toBe(false);

    unlinkSync(changed.path);
    const rebuilt = compileEntry('src/main.ts', root);
    expect(rebuilt).toEqual({ path: changed.path, built: true });

    source('src/main.ts', "export const out = 'alone';\n");
    unlinkSync(join(root, 'src/word.ts'));
    const alone = compileEntry('src/main.ts', root);
    expect(alone.built).toBe(true);
    expect(await output(alone.path)).toBe('alone');
  });

  it('builds again when a file appears beside an input or a linked folder points elsewhere', async () => {
    for (const release of ['v1', 'v2']) {
      mkdirSync(join(root, release));
      source(`${release}/word.ts`, `export const word = '${release}';\n`);
    }
    symlinkSync('../v1', join(root, 'src/lib'));
    source('src/main.ts', "import { word } from './lib/word.js';\nexport const out = word;\n");
    expect(await output(compileEntry('src/main.ts', root).path)).toBe('v1');
    expect(compileEntry('src/main.ts', root).built).toBe(false);

    unlinkSync(join(root, 'src/lib'));
    symlinkSync('../v2', join(root, 'src/lib'));
    const relinked = compileEntry('src/main.ts', root);
    expect(relinked.built).toBe(true);
    expect(await output(relinked.path)).toBe('v2');

    source('src/tsconfig.json', '{}');
    expect(compileEntry('src/main.ts', root).built).toBe(true);
    expect(compileEntry('src/main.ts', root).built).toBe(false);
  });

  it('keeps no fingerprint of inputs that are not what the build read', () => {
    const inputs = ['src/main.ts', 'src/types.ts'];
    const types = 'export interface Word { text: string }\n';
    source('src/types.ts', types);
    const mapPath = join(root, 'node_modules/.cache/herald/main-X.mjs.map');
    const asRead = (main: string, typesBytes: number) =>
      readAsBuilt(
        root,
        inputs,
        {
          inputs: { 'src/main.ts': { bytes: main.length }, 'src/types.ts': { bytes: typesBytes } },
        },
        { sources: ['../../../src/main.ts'], sourcesContent: [main] },
        mapPath,
      );
    const main = "import { word } from './word.js';\nexport const out: string = word;\n";
    expect([...(asRead(main, types.length)?.keys() ?? [])]).toEqual(inputs);
    // The main file was replaced after esbuild read it (a copy that kept its time stamp).
    expect(asRead(main.replace('word;', 'word; '), types.length)).toBeNull();
    // A file of types alone is not in the map: its size is all the build recorded.
    expect(asRead(main, types.length + 1)).toBeNull();
  });

  it('compiles a package in, with its require working, and builds again when the package changes', async () => {
    // A CommonJS package that requires a Node module: inside an ES module it needs `require`.
    const pkg = join(root, 'node_modules/wordpkg');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      '{"name":"wordpkg","version":"1.0.0","main":"index.js"}',
    );
    const write = (word: string, at: number) => {
      writeFileSync(
        join(pkg, 'index.js'),
        `const { sep } = require('node:path');\nexports.word = '${word}' + sep.length;\n`,
      );
      utimesSync(join(pkg, 'index.js'), at, at);
    };
    const yesterday = Date.now() / 1000 - 86_400;
    write('pkg', yesterday);
    source('src/main.ts', "import { word } from 'wordpkg';\nexport const out: string = word;\n");
    const first = compileEntry('src/main.ts', root);
    expect(await output(first.path)).toBe('pkg1');
    // Compiled in, not imported: the module names no package.
    expect(readFileSync(first.path, 'utf8')).not.toMatch(/from ["']wordpkg["']/);
    // The map maps the package's lines but keeps only Herald's own text.
    const map = JSON.parse(readFileSync(`${first.path}.map`, 'utf8')) as {
      sources: string[];
      sourcesContent: (string | null)[];
    };
    const textOf = (end: string) =>
      map.sourcesContent[map.sources.findIndex((s) => s.endsWith(end))];
    expect(textOf('wordpkg/index.js')).toBeNull();
    expect(textOf('src/main.ts')).toContain("from 'wordpkg'");
    expect(compileEntry('src/main.ts', root).built).toBe(false);

    // What `npm install` of another version does: the file written anew.
    write('new', yesterday + 60);
    const changed = compileEntry('src/main.ts', root);
    expect(changed.built).toBe(true);
    expect(await output(changed.path)).toBe('new1');
    expect(compileEntry('src/main.ts', root).built).toBe(false);
  });
});
