import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
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
// bin/compile.js is plain JavaScript, outside the typed sources.
const { forgetOldVersions, compileEntry } = (await import(
  new URL('../bin/compile.js', import.meta.url).href
)) as { forgetOldVersions: Forget; compileEntry: CompileEntry };

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
  /** Writes a source file dated a minute ago, as a checkout's files are by the time Herald starts. */
  const source = (file: string, text: string, agoS = 60) => {
    const path = join(root, file);
    writeFileSync(path, text);
    const at = Date.now() / 1000 - agoS;
    utimesSync(path, at, at);
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

  it('does not trust a build whose sources were written just before it began', () => {
    source('src/word.ts', "export const word = 'fresh';\n", 0);
    expect(compileEntry('src/main.ts', root).built).toBe(true);
    // Its inputs might have changed while esbuild read them: no fingerprint was kept.
    expect(compileEntry('src/main.ts', root).built).toBe(true);
    source('src/word.ts', "export const word = 'fresh';\n");
    expect(compileEntry('src/main.ts', root).built).toBe(true);
    expect(compileEntry('src/main.ts', root).built).toBe(false);
  });
});
