import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

type Forget = (dir: string, name: string, current: string) => void;
// bin/compile.js is plain JavaScript, outside the typed sources.
const { forgetOldVersions } = (await import(
  new URL('../bin/compile.js', import.meta.url).href
)) as { forgetOldVersions: Forget };

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
