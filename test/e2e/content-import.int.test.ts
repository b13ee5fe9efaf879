import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import {
  documentsInForce,
  type ContentDocument,
  type StoredVersion,
} from '../../src/pipeline/content/index.js';
import { silentLogger } from '../../src/ports/logger.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const TIMEOUT_MS = 60_000;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A document as the content team's JSON export writes it. */
const exported = (id: string, content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    document_id: id,
    title: `Spring Guide ${id}`,
    category: 'Support',
    content,
    audience: 'All',
    keywords: ['spring'],
    approval_date: '2026-01-01T00:00:00Z',
    source_url: null,
    metadata: { version: '1' },
    ...extra,
  });

const markdown = (eol: string, audience = 'All') =>
  [
    '---',
    'id: MD1',
    'title: Spring Guide',
    'category: Support',
    `audience: ${audience}`,
    'approvedAt: 2026-01-01',
    'version: "1"',
    '---',
    'Start here.',
    '',
    'Then read on.',
    '',
  ].join(eol);

describe('herald content import', () => {
  let dir: string;
  let count = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-content-import-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  /** A fresh folder holding `files` (name → text or bytes). */
  const folder = (files: Record<string, string | Buffer>): string => {
    count += 1;
    const path = join(dir, `lib-${String(count)}`);
    mkdirSync(path);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(path, name), text);
    return path;
  };
  /** Runs `herald ARGS` as `npx herald` does; resolves with the exit code whatever it is. */
  const herald = (db: string, args: string[], env: Record<string, string> = {}): Promise<Outcome> =>
    run(process.execPath, [join(root, 'bin/herald.js'), ...args], {
      cwd: dir,
      env: {
        ...process.env,
        HERALD_DATABASE_URL: `sqlite:${join(dir, db)}`,
        HERALD_LOG_LEVEL: 'silent',
        ...env,
      },
      timeout: TIMEOUT_MS / 2,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: unknown) => {
        const e = error as { code?: number; killed?: boolean; stdout: string; stderr: string };
        return {
          code: e.killed === true ? null : (e.code ?? null),
          stdout: e.stdout,
          stderr: e.stderr,
        };
      },
    );
  const summary = (outcome: Outcome) => JSON.parse(outcome.stdout) as Record<string, unknown>;
  /** The library of database `db`, read as campaigns read it. */
  const library = async <T>(db: string, read: (versions: StoredVersion[]) => T): Promise<T> => {
    const url = `sqlite:${join(dir, db)}`;
    const services = await createServices(loadConfig({ HERALD_DATABASE_URL: url }, null), {
      logger: silentLogger,
    });
    try {
      return read(
        (await services.store.listDocuments()).map((d) => ({
          document: d.document as ContentDocument,
          importedAtMs: d.importedAtMs,
        })),
      );
    } finally {
      await services.close();
    }
  };
  const inForce = (db: string) =>
    library(db, (versions) =>
      documentsInForce(versions, Date.now())
        .map((d) => d.id)
        .sort(),
    );
  const versionsOf = (db: string, id: string) =>
    library(db, (versions) =>
      versions.filter((v) => v.document.id === id).map((v) => v.document.version),
    );

  it(
    'refuses one version in two files, naming both, and imports the folder once one is removed',
    async () => {
      // The stale copy sorts first: read one by one, it was stored as the approved text, and
      // the approved file refused as a changed version ever after.
      const lib = folder({
        'a_old_copy.json': exported('DOC1', 'OLD DRAFT: spring guide.'),
        'b_promo.json': exported('DOC1', 'The spring guide.'),
        'c_other.json': exported('DOC2', 'Another guide.'),
      });
      const refused = await herald('dup.db', ['content', 'import', lib]);
      expect(refused.code).toBe(65);
      expect(refused.stderr).toMatch(
        /b_promo\.json: document DOC1 version 1 is also in a_old_copy\.json/,
      );
      rmSync(join(lib, 'a_old_copy.json'));
      const imported = await herald('dup.db', ['content', 'import', lib]);
      expect(imported.code).toBe(0);
      expect(summary(imported)).toEqual({
        documents: 2,
        stored: 2,
        unchanged: 0,
        conflicts: [],
        missing: [],
        withdrawn: [],
      });
    },
    TIMEOUT_MS,
  );

  it(
    'stores nothing from an import with a changed version',
    async () => {
      const first = await herald('conflict.db', [
        'content',
        'import',
        folder({ 'one.json': exported('DOC1', 'The spring guide.') }),
      ]);
      expect(summary(first)).toMatchObject({ stored: 1 });
      const changed = await herald('conflict.db', [
        'content',
        'import',
        folder({
          'one.json': exported('DOC1', 'The spring guide, rewritten.'),
          'two.json': exported('DOC2', 'Another guide.'),
        }),
      ]);
      expect(changed.code).toBe(75);
      expect(summary(changed)).toEqual({
        documents: 2,
        stored: 0,
        unchanged: 0,
        conflicts: ['DOC1@1'],
        missing: [],
        withdrawn: [],
      });
      expect(changed.stderr).toMatch(/nothing was imported/);
      // DOC2 was not stored by the refused import.
      const two = await herald('conflict.db', [
        'content',
        'import',
        folder({ 'two.json': exported('DOC2', 'Another guide.') }),
      ]);
      // DOC1, stored first, is in force and not in this folder: named, not withdrawn.
      expect(summary(two)).toEqual({
        documents: 1,
        stored: 1,
        unchanged: 0,
        conflicts: [],
        missing: ['DOC1'],
        withdrawn: [],
      });
    },
    TIMEOUT_MS,
  );

  it(
    'reads a CRLF file as the same version as its LF twin, and as the one stored from it before',
    async () => {
      const lf = await herald('eol.db', ['content', 'import', folder({ 'g.md': markdown('\n') })]);
      expect(summary(lf)).toMatchObject({ stored: 1 });
      const crlf = await herald('eol.db', [
        'content',
        'import',
        folder({ 'g.md': markdown('\r\n') }),
      ]);
      expect(crlf.code).toBe(0);
      expect(summary(crlf)).toMatchObject({ documents: 1, stored: 0, unchanged: 1, conflicts: [] });

      // A library that kept the CRLF text, as imports did before line endings were read as LF,
      // and an audience written `A, B` as one name, as they did before it was read as two.
      const url = `sqlite:${join(dir, 'eol-before.db')}`;
      const services = await createServices(loadConfig({ HERALD_DATABASE_URL: url }, null), {
        logger: silentLogger,
      });
      try {
        const document = {
          id: 'MD1',
          title: 'Spring Guide',
          category: 'Support',
          audience: ['High-Value, Standard'],
          keywords: [],
          body: 'Start here.\r\n\r\nThen read on.',
          approvedAt: '2026-01-01',
          expiresAt: null,
          sourceUrl: null,
          version: '1',
        };
        const hash = createHash('sha256').update(JSON.stringify(document)).digest('hex');
        await services.store.saveDocument({
          id: 'MD1',
          version: '1',
          hash,
          document,
          importedAtMs: 0,
        });
      } finally {
        await services.close();
      }
      const again = await herald('eol-before.db', [
        'content',
        'import',
        folder({
          'g.md': markdown('\r\n', 'High-Value, Standard'),
          'new.json': exported('NEW1', 'A new guide.'),
        }),
      ]);
      expect(again.code).toBe(0);
      expect(summary(again)).toMatchObject({
        documents: 2,
        stored: 1,
        unchanged: 1,
        conflicts: [],
        missing: [],
      });
    },
    TIMEOUT_MS,
  );

  it(
    'names a document in force that the folder no longer holds, and withdraws it when asked',
    async () => {
      const lib = folder({
        'a.json': exported('KEEP', 'The spring range.'),
        'b.json': exported('RECALLED', 'The recalled heater.'),
      });
      expect(summary(await herald('removed.db', ['content', 'import', lib]))).toMatchObject({
        stored: 2,
        missing: [],
      });
      rmSync(join(lib, 'b.json'));
      const named = await herald('removed.db', ['content', 'import', lib]);
      expect(named.code).toBe(0);
      expect(summary(named)).toEqual({
        documents: 1,
        stored: 0,
        unchanged: 1,
        conflicts: [],
        missing: ['RECALLED'],
        withdrawn: [],
      });
      expect(named.stderr).toMatch(
        /in force \(or approved for later\) but not in .*: RECALLED — import with --withdraw-missing/,
      );
      expect(await inForce('removed.db')).toEqual(['KEEP', 'RECALLED']);

      const withdrawn = await herald('removed.db', [
        'content',
        'import',
        lib,
        '--withdraw-missing',
      ]);
      expect(withdrawn.code).toBe(0);
      expect(summary(withdrawn)).toMatchObject({ missing: ['RECALLED'], withdrawn: ['RECALLED'] });
      expect(withdrawn.stderr).toMatch(/withdrawn \(no longer in .*\): RECALLED/);
      expect(await inForce('removed.db')).toEqual(['KEEP']);
      // Nothing is deleted: the version stays in the library, behind the withdrawal.
      expect(await versionsOf('removed.db', 'RECALLED')).toEqual([
        '1',
        expect.stringMatching(/^withdrawn-\d{4}-/),
      ]);
      expect(summary(await herald('removed.db', ['content', 'import', lib]))).toMatchObject({
        missing: [],
      });

      // Given back under a new version, it is in force again.
      writeFileSync(
        join(lib, 'b.json'),
        exported('RECALLED', 'The fixed heater.', { metadata: { version: '2' } }),
      );
      expect(summary(await herald('removed.db', ['content', 'import', lib]))).toMatchObject({
        stored: 1,
      });
      expect(await inForce('removed.db')).toEqual(['KEEP', 'RECALLED']);

      // An empty folder (or the wrong one) would withdraw the whole library.
      const empty = await herald('removed.db', [
        'content',
        'import',
        folder({}),
        '--withdraw-missing',
      ]);
      expect(empty.code).toBe(65);
      expect(empty.stderr).toMatch(/holds no documents: --withdraw-missing would withdraw/);
      expect(await inForce('removed.db')).toEqual(['KEEP', 'RECALLED']);
    },
    TIMEOUT_MS,
  );

  it(
    'imports JSON that opens with a byte-order mark, and refuses a file that is not UTF-8',
    async () => {
      const bom = await herald('enc.db', [
        'content',
        'import',
        folder({ 'bom.json': `\uFEFF${exported('DOC1', 'The spring guide.')}` }),
      ]);
      expect(bom.code).toBe(0);
      expect(summary(bom)).toMatchObject({ stored: 1 });
      const text = exported('DOC2', 'Caf\u00e9 cr\u00e8me.');
      const latin1 = await herald('enc.db', [
        'content',
        'import',
        folder({ 'latin1.json': Buffer.from(text, 'latin1') }),
      ]);
      expect(latin1.code).toBe(65);
      expect(latin1.stderr).toMatch(
        new RegExp(
          `latin1\\.json is not UTF-8 text \\(byte ${String(text.indexOf('\u00e9'))}, line 1\\)`,
        ),
      );
    },
    TIMEOUT_MS,
  );
});

describe('herald personalize on a server behind UTC', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-personalize-tz-'));
    mkdirSync(join(dir, 'content'));
    writeFileSync(
      join(dir, 'content', 'sale.md'),
      [
        '---',
        'id: SALE1',
        'title: Spring Sale Offer',
        'category: Promotion',
        'audience: All',
        'keywords: [sale, offer, special, return]',
        'approvedAt: 2026-01-01T09:00',
        'expiresAt: 2026-03-31T23:59',
        'version: "1"',
        '---',
        'Our spring sale gives 20% off every widget. Come back for this special offer.',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'customers.csv'),
      'customer_id,tier,purchase_frequency,avg_order_value,last_engagement_days\nc1,Silver,1,50,90\n',
    );
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const usableAt = async (at: string) => {
    const { stdout } = await run(
      process.execPath,
      [
        join(root, 'bin/herald.js'),
        'personalize',
        '--customers',
        'customers.csv',
        '--content',
        'content',
        '--at',
        at,
      ],
      {
        cwd: dir,
        env: {
          ...process.env,
          TZ: 'America/Los_Angeles',
          HERALD_DATABASE_URL: `sqlite:${join(dir, 'h.db')}`,
          HERALD_LOG_LEVEL: 'silent',
        },
        timeout: TIMEOUT_MS / 2,
      },
    );
    return /^1 customers, (\d) of 1 documents usable/.exec(stdout)?.[1];
  };

  it(
    'ends a promotion at its expiry without a zone read as UTC, as --at is',
    async () => {
      expect(await usableAt('2026-03-31T23:00')).toBe('1');
      // 17:30 on 31 March in Los Angeles: read in local time, the sale ran until 06:59 UTC.
      expect(await usableAt('2026-04-01T00:30')).toBe('0');
    },
    TIMEOUT_MS,
  );
});
