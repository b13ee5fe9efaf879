import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { silentLogger } from '../../src/ports/logger.js';
import { aTrack } from '../support/builders.js';
import { runHerald, type CliOutcome } from '../support/run-cli.js';

const TIMEOUT_MS = 60_000;
const root = resolve(import.meta.dirname, '../..');

const customersHeader = 'customer_id,tier,purchase_frequency,avg_order_value,last_engagement_days';

describe('the CLI on bad input', () => {
  let dir: string;
  let url: string;
  /** Runs `herald ARGS` as `npx herald` does; resolves with the exit code whatever it is. */
  const herald = (args: string[], env: Record<string, string> = {}): Promise<CliOutcome> =>
    runHerald(args, {
      cwd: dir,
      env: { HERALD_DATABASE_URL: url, ...env },
      timeoutMs: TIMEOUT_MS / 2,
    });
  /** Exit 65 with one line on stderr (no stack trace) saying `message`. */
  const expectBadInput = (outcome: CliOutcome, message: RegExp) => {
    expect(outcome.code).toBe(65);
    expect(outcome.stderr).toMatch(message);
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-cli-errors-'));
    mkdirSync(join(dir, 'content'));
    url = `sqlite:${join(dir, 'herald.db')}`;
    const services = await createServices(loadConfig({ HERALD_DATABASE_URL: url }, null), {
      logger: silentLogger,
    });
    await services.recorder.record(
      ['ann', 'bob', 'cem'].map((userId) =>
        aTrack({
          type: 'identify',
          name: null,
          userId,
          traits: { email: `${userId}@example.com` },
        }),
      ),
      1_700_000_000_000,
    );
    await services.close();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'lists each bad row of a customers file with its line and column',
    async () => {
      writeFileSync(
        join(dir, 'customers.csv'),
        [customersHeader, 'C001,Gold,12,250,5', 'C002,Silver,x,150,30', 'C003,Gold,18,,3'].join(
          '\n',
        ),
      );
      const outcome = await herald([
        'personalize',
        '--customers',
        'customers.csv',
        '--content',
        'content',
      ]);
      expectBadInput(outcome, /^herald: invalid customers in customers\.csv$/m);
      expect(outcome.stderr).toMatch(/^ {2}line 3\/purchase_frequency: is not a number: "x"$/m);
      expect(outcome.stderr).toMatch(/^ {2}line 4\/avg_order_value: is not a number: ""$/m);
    },
    TIMEOUT_MS,
  );

  it(
    'lists the first 20 problems and counts the rest',
    async () => {
      const rows = Array.from({ length: 25 }, (_, i) => `C${String(i)},Gold,x,250,5`);
      writeFileSync(join(dir, 'many.csv'), [customersHeader, ...rows].join('\n'));
      const outcome = await herald([
        'personalize',
        '--customers',
        'many.csv',
        '--content',
        'content',
      ]);
      expectBadInput(outcome, /^ {2}line 21\/purchase_frequency: /m);
      expect(outcome.stderr).not.toMatch(/line 22\//);
      expect(outcome.stderr).toMatch(/^ {2}… and 5 more$/m);
    },
    TIMEOUT_MS,
  );

  it(
    'names a customers file that does not exist',
    async () => {
      const outcome = await herald([
        'personalize',
        '--customers',
        'nope.csv',
        '--content',
        'content',
      ]);
      expect(outcome.code).toBe(66);
      expect(outcome.stderr.trim()).toBe('herald: no file nope.csv');
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a message status it does not know and a holdout that is no decimal percent',
    async () => {
      expectBadInput(
        await herald(['messages', 'list', '--status', 'bogus']),
        /--status bogus: one of queued, review, sending, blocked/,
      );
      expectBadInput(
        await herald([
          'campaigns',
          'send',
          '--id',
          'c-hex',
          '--template',
          'upsell',
          '--holdout',
          '0x10',
        ]),
        /--holdout must be a percent in \[0, 50\]/,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a --map field it does not know, naming the ones it does',
    async () => {
      writeFileSync(join(dir, 'people.csv'), 'customer_id,emial\nc1,a@example.com\n');
      expectBadInput(
        await herald(['import', 'customers', 'people.csv', '--map', 'emial=email']),
        /--map emial=email: emial is not a field --map can name \(userId, anonymousId, timestamp/,
      );
      // Read as the last one given, the second merged every customer of a tier into one.
      expectBadInput(
        await herald([
          'import',
          'customers',
          'people.csv',
          '--map',
          'userId=customer_id',
          '--map',
          'userId=emial',
        ]),
        /--map userId is given twice \(customer_id, emial\): each field reads one column/,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a --map field the kind does not read: an event’s total mapped was stored as $0',
    async () => {
      writeFileSync(
        join(dir, 'sales.csv'),
        'customer_id,date,event,amount,invoice\nu1,2024-01-02,Order Completed,29.90,A1\n',
      );
      expectBadInput(
        await herald(['import', 'events', 'sales.csv', '--map', 'total=amount']),
        /--map total=amount: import events \(csv\) does not read total; it reads userId, .*name the column `total` or `revenue`, or import the rows with `herald import orders`/,
      );
      writeFileSync(join(dir, 'calls.ndjson'), '{"type":"track","event":"x","userId":"u1"}\n');
      expectBadInput(
        await herald(['import', 'events', 'calls.ndjson', '--map', 'userId=customer']),
        /import events \(ndjson\) does not read userId; it reads messageId \(each line is the Segment call/,
      );
      expectBadInput(
        await herald(['import', 'customers', 'people.csv', '--map', 'total=emial']),
        /import customers \(csv\) does not read total; it reads userId, anonymousId, timestamp$/m,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a number of variants the composer cannot write, saying the range',
    async () => {
      const outcome = await herald([
        'personalize',
        '--customers',
        'customers.csv',
        '--content',
        'content',
        '--variants',
        '9',
      ]);
      expectBadInput(outcome, /^herald: --variants: "9" is not a whole number from 3 to 5$/m);
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a listing limit outside the API’s bounds',
    async () => {
      for (const limit of ['abc', '0', '1001'])
        expectBadInput(
          await herald(['decisions', 'list', '--limit', limit]),
          new RegExp(`^herald: --limit: "${limit}" is not a whole number from 1 to 1000$`, 'm'),
        );
      expectBadInput(
        await herald(['messages', 'list', '--limit', 'abc']),
        /^herald: --limit: "abc" is not a whole number from 1 to 500$/m,
      );
    },
    TIMEOUT_MS * 2,
  );

  it(
    'reads every number option as the digits it is, never 0x10 or 1e3',
    async () => {
      expectBadInput(
        await herald(['models', 'list', '--limit', '0']),
        /^herald: --limit: "0" is not a whole number from 1 to 1000$/m,
      );
      expectBadInput(
        await herald(['models', 'list', '--limit', '1e3']),
        /^herald: --limit: "1e3" is not a whole number from 1 to 1000$/m,
      );
      expectBadInput(
        await herald(['import', 'events', 'events.ndjson', '--batch-size', '0x10']),
        /^herald: --batch-size: "0x10" is not a whole number of at least 1$/m,
      );
      expectBadInput(
        await herald(['templates', 'preview', 'welcome-1', '--customer', 'c1', '--percent', '1e1']),
        /^herald: --percent: "1e1" is not a whole number from 1 to 100$/m,
      );
      expectBadInput(
        await herald([
          'campaigns',
          'send',
          '--id',
          'x',
          '--template',
          'welcome-1',
          '--percent',
          '0x10',
        ]),
        /^herald: --percent must be in \(0, 100\]$/m,
      );
    },
    TIMEOUT_MS * 3,
  );

  it(
    'refuses more k-means clusters than customers as bad input',
    async () => {
      const outcome = await herald(['segments', '--k', '1000']);
      expectBadInput(outcome, /^herald: --k: k-means needs at least k = 1000 customers, got 3$/m);
      // The generator takes 32 bits: 2^32 + 1 would start it as 1 does.
      expectBadInput(
        await herald(['segments', '--k', '2', '--seed', '4294967297']),
        /^herald: --seed: "4294967297" is not a whole number from 0 to 4294967295$/m,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'exits with the bad-input code on a usage error, and 0 on --help',
    async () => {
      expectBadInput(
        await herald(['audit', 'export']),
        /^herald: required option '--customer <userId>' not specified$/m,
      );
      expectBadInput(await herald(['personalize', '--customers', 'customers.csv']), /--content/);
      expectBadInput(await herald(['nope']), /^herald: unknown command 'nope'$/m);
      const help = await herald(['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: herald/);
    },
    TIMEOUT_MS * 2,
  );

  it(
    'refuses a campaign id the API would refuse, and a template that does not exist',
    async () => {
      for (const id of ['Bad', 'has space'])
        expectBadInput(
          await herald(['campaigns', 'send', '--id', id, '--template', 'welcome-1']),
          /^herald: --id: ".*" is not a campaign id/m,
        );
      expectBadInput(
        await herald(['campaigns', 'send', '--id', 'spring', '--template', 'nope']),
        /^herald: --template: no template named "nope"/m,
      );
      expectBadInput(
        await herald([
          'campaigns',
          'send',
          '--id',
          'spring',
          '--template',
          'upsell',
          '--percent',
          '15',
        ]),
        /^herald: template "upsell" does not print the code \(incentive.code\) on email/m,
      );
      // A day the calendar lacks is refused, not moved into March.
      expectBadInput(
        await herald([
          'campaigns',
          'send',
          '--id',
          'spring',
          '--template',
          'welcome-1',
          '--at',
          '2026-02-30T09:00:00Z',
        ]),
        /^herald: --at: "2026-02-30T09:00:00Z" is not a date/m,
      );
      const { code, stdout, stderr } = await herald(['decisions', 'list']);
      expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
    },
    TIMEOUT_MS * 2,
  );

  it(
    'exits with 65 after an import that stopped part-way, having written the rows before',
    async () => {
      writeFileSync(
        join(dir, 'broken.csv'),
        ['customer_id,tier', 'q1,gold', 'q2,silver', 'q3,"never closed', 'q4,gold'].join('\n'),
      );
      const outcome = await herald(['import', 'customers', 'broken.csv']);
      expect(outcome.code).toBe(65);
      expect(JSON.parse(outcome.stdout)).toMatchObject({
        accepted: 2,
        stored: 2,
        stopped: { line: 4 },
      });
    },
    TIMEOUT_MS,
  );

  it(
    'names an output file it cannot write',
    async () => {
      expectBadInput(
        await herald(['report', '--out', 'missing-dir/report.html']),
        /^herald: --out: cannot write missing-dir\/report\.html: ENOENT/m,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'exits when the simulated database cannot be opened',
    async () => {
      const simulateInto = (file: string) =>
        herald(['simulate', '--from', '2024-01-01', '--to', '2024-01-02', '--into', file]);
      writeFileSync(join(dir, 'a-file'), '');
      const outcome = await simulateInto('a-file/simulated.db');
      expect(outcome.code).not.toBeNull();
      expect(outcome.code).not.toBe(0);
      // Nor into one that exists: its rows would mix into the summary.
      writeFileSync(join(dir, 'earlier.db'), '');
      expectBadInput(
        await simulateInto('earlier.db'),
        /--into earlier\.db already exists: name a file that does not exist yet/,
      );
      // Nor over more than ten years: every day of it sweeps every customer.
      expectBadInput(
        await herald(['simulate', '--from', '1900-01-01', '--to', '9999-01-01']),
        /--from 1900-01-01 to --to 9999-01-01 is 2,958,099 days: at most 3,653 \(ten years\)/,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'names a content document it cannot read among the others, and a missing folder with exit 66',
    async () => {
      const library = join(dir, 'library');
      mkdirSync(join(library, 'folder.json'), { recursive: true });
      symlinkSync(join(dir, 'gone.json'), join(library, 'link.json'));
      expectBadInput(
        await herald(['content', 'import', library]),
        /folder\.json: .*folder\.json is a folder, not a file[\s\S]*link\.json: no file/,
      );
      const missing = await herald(['content', 'import', join(dir, 'no-library')]);
      expect(missing.code).toBe(66);
      expect(missing.stderr).not.toMatch(/^\s+at /m);
    },
    TIMEOUT_MS,
  );

  it(
    'says in one line, exit 69, that a database cannot be used: a file that is none, a server not there',
    async () => {
      writeFileSync(join(dir, 'text.db'), 'not a database at all, '.repeat(10));
      const file = await herald(['migrate'], {
        HERALD_DATABASE_URL: `sqlite:${join(dir, 'text.db')}`,
      });
      expect(file.code).toBe(69);
      expect(file.stderr.trim()).toMatch(
        /^herald: cannot open the SQLite database .*text\.db: file is not a database$/,
      );
      // A PostgreSQL that is not there (port 1), its password never shown.
      const server = await herald(['migrate'], {
        HERALD_DATABASE_URL: 'postgres://herald:s3cret@127.0.0.1:1/herald',
        HERALD_WRITE_KEYS: 'web=a-write-key-of-some-length',
        HERALD_ADMIN_TOKEN: 'an-admin-token-long-enough-to-pass-the-check',
      });
      expect(server.code).toBe(69);
      expect(server.stderr.trim()).toMatch(
        /^herald: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/herald: .*ECONNREFUSED/,
      );
      expect(server.stderr).not.toContain('s3cret');
    },
    TIMEOUT_MS,
  );

  it(
    'exits 78 naming a HERALD_CONFIG that does not exist, whichever command reads the config',
    async () => {
      writeFileSync(join(dir, 'orders.csv'), 'customer_id,date,amount\nc1,2024-01-02,10\n');
      const missing = join(dir, 'no-such-config.yaml');
      for (const args of [
        ['migrate'],
        ['models', 'backtest', '--transactions', 'orders.csv', '--split', '2024-01-01'],
      ]) {
        const outcome = await herald(args, { HERALD_CONFIG: missing });
        expect(outcome.code).toBe(78);
        expect(outcome.stderr.trim()).toBe(
          `herald: HERALD_CONFIG points at ${missing}, which does not exist`,
        );
      }
    },
    TIMEOUT_MS,
  );

  it(
    'exits 78 listing provider settings that do not go together, without a stack trace',
    async () => {
      const outcome = await herald(['migrate'], {
        HERALD_TWILIO_ACCOUNT_SID: 'AC0123456789abcdef',
        HERALD_TWILIO_AUTH_TOKEN: 'twilio-auth-token-SECRET',
      });
      expect(outcome.code).toBe(78);
      expect(outcome.stderr).toMatch(
        /^ {2}\/deliver\/twilioFrom: must be set \(HERALD_TWILIO_FROM\), or /m,
      );
      expect(outcome.stderr).not.toMatch(/^\s+at /m);
      expect(outcome.stderr).not.toContain('SECRET');
    },
    TIMEOUT_MS,
  );

  it(
    'stops serving with one line naming a port already in use, and exits',
    async () => {
      const holder = createServer();
      await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
      const { port } = holder.address() as AddressInfo;
      try {
        const outcome = await herald(['serve'], { HERALD_PORT: String(port) });
        expect(outcome.code).toBe(69);
        expect(outcome.stderr.trim()).toBe(
          `herald: cannot listen on 127.0.0.1:${String(port)}: port ${String(port)} is already in use (set HERALD_PORT to another)`,
        );
      } finally {
        await new Promise((done) => holder.close(done));
      }
    },
    TIMEOUT_MS,
  );
  it(
    'ends quietly, with its own exit code, when the reader of its output goes away',
    async () => {
      const child = spawn(process.execPath, [join(root, 'bin/herald.js'), 'templates', 'list'], {
        cwd: dir,
        env: { ...process.env, HERALD_DATABASE_URL: url, HERALD_LOG_LEVEL: 'silent' },
      });
      // `herald templates list | true`: the pipe is closed before a line is written.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((done) => child.on('close', done));
      expect([code, stderr]).toEqual([0, '']);
    },
    TIMEOUT_MS,
  );

  // A file SQLite may not write is opened read-only without a word: said at start, in one line.
  // Root writes any file, so the command runs as `nobody` there.
  const asRoot = process.getuid?.() === 0;
  // …when `nobody` can read Herald where it is checked out (not in a folder of root's alone).
  const canDropToNobody =
    asRoot &&
    existsSync('/usr/sbin/runuser') &&
    spawnSync('/usr/sbin/runuser', [
      '-u',
      'nobody',
      '--',
      process.execPath,
      '-e',
      `require('node:fs').accessSync(${JSON.stringify(join(root, 'bin/herald.js'))})`,
    ]).status === 0;
  /** Runs `herald ARGS` on `file` as a user the test's file modes bind (`nobody` under root). */
  const heraldAsUser = (args: string[], cwd: string, file: string) => {
    const command = [process.execPath, join(root, 'bin/herald.js'), ...args];
    return new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(
        canDropToNobody ? '/usr/sbin/runuser' : (command[0] ?? ''),
        canDropToNobody ? ['-u', 'nobody', '--', ...command] : command.slice(1),
        {
          cwd,
          env: {
            ...process.env,
            HERALD_DATABASE_URL: `sqlite:${file}`,
            HERALD_LOG_LEVEL: 'silent',
          },
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => {
        done({ code, stderr });
      });
    });
  };
  it.skipIf(asRoot && !canDropToNobody)(
    'refuses at start a database file this user cannot write, in one line, and follows a link to one it can',
    async () => {
      const ro = mkdtempSync(join(tmpdir(), 'herald-ro-'));
      const rw = mkdtempSync(join(tmpdir(), 'herald-rw-'));
      try {
        // The compiled module is built as this user, where it may be written.
        expect((await herald(['audit', 'verify'])).code).toBe(0);
        const file = join(ro, 'herald.db');
        copyFileSync(join(dir, 'herald.db'), file);
        chmodSync(file, 0o444);
        if (canDropToNobody) chmodSync(ro, 0o777);
        expect(await heraldAsUser(['audit', 'verify'], ro, file)).toEqual({
          code: 69,
          stderr: `herald: cannot open the SQLite database ${file}: ${file} is not writable by this user (EACCES)\n`,
        });
        // A link in a folder the user may not write, to a file in one they may: SQLite writes
        // where the link leads, and so it is opened.
        const target = join(rw, 'herald.db');
        copyFileSync(join(dir, 'herald.db'), target);
        chmodSync(target, 0o666);
        chmodSync(rw, 0o777);
        const linked = join(ro, 'linked.db');
        symlinkSync(target, linked);
        chmodSync(ro, 0o555);
        expect(await heraldAsUser(['audit', 'verify'], rw, linked)).toMatchObject({ code: 0 });
      } finally {
        chmodSync(ro, 0o755);
        rmSync(ro, { recursive: true, force: true });
        rmSync(rw, { recursive: true, force: true });
      }
    },
    TIMEOUT_MS,
  );
});
