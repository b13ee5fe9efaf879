import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { AppError, type FieldProblem } from '../core/errors.js';
import { HOUR_MS } from '../core/time.js';
import { profilePolicySchema } from '../pipeline/profile/index.js';
import { devAdminToken, devWriteKey, loadConfig } from './load-config.js';

const pgUrl = 'postgres://herald@db.internal:5432/herald';
const strongToken = 'a'.repeat(16);

/** The error loadConfig throws; fails the test when it does not throw one. */
const configError = (env: Record<string, string>, file: string | null = null): AppError => {
  try {
    loadConfig(env, file);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to reject the configuration');
};

const pathsOf = (problems: readonly FieldProblem[]): string[] => problems.map((p) => p.path);

describe('loadConfig', () => {
  describe('defaults', () => {
    it('runs on SQLite with development keys and says so', () => {
      const config = loadConfig({}, null);
      expect(config.storage).toEqual({
        driver: 'sqlite',
        file: './data/herald.db',
        synchronous: 'normal',
        dedupWindow: 2_000_000,
        profileCacheSize: 20_000,
        profileFlushMs: 5000,
      });
      expect(config.http).toEqual({ port: 3000, host: '127.0.0.1' });
      expect([...config.writeKeys]).toEqual([[devWriteKey, 'dev']]);
      expect(config.adminToken).toBe(devAdminToken);
      expect(config.warnings).toHaveLength(3);
      expect(config.warnings[0]).toMatch(/HERALD_WRITE_KEYS is not set.*herald-dev-write-key/);
      expect(config.warnings[1]).toMatch(/HERALD_ADMIN_TOKEN is not set.*herald-dev-admin-token/);
      expect(config.warnings[2]).toBe(
        'HERALD_POSTAL_ADDRESS is not set and HERALD_PUBLIC_URL (http://localhost:3000) is not https: CAN-SPAM blocks marketing email to US customers and to customers of no known country (canspam_no_address, canspam_no_unsubscribe)',
      );
    });

    it('uses Segment’s limits, info logs and an hourly sweep', () => {
      const config = loadConfig({}, null);
      expect(config.ingestLimits).toEqual({
        maxEventBytes: 32 * 1024,
        maxBatchBytes: 500 * 1024,
        maxFutureMs: 24 * HOUR_MS,
        earliestTimestampMs: 0,
      });
      expect(config.logLevel).toBe('info');
      expect(config.sweepIntervalMinutes).toBe(60);
    });

    it('fills the whole profile policy, and only the policy', () => {
      const { profilePolicy } = loadConfig({}, null);
      expect(Value.Check(profilePolicySchema, profilePolicy)).toBe(true);
      // With the guard's implied consent sources beside it (consent restated under them), and
      // the quiet hours' default zone (responses counted by local hour in it).
      expect(profilePolicy).toEqual({
        ...(Value.Default(profilePolicySchema, {}) as object),
        impliedConsentSources: ['implied', 'import:implied'],
        defaultTimezone: 'UTC',
      });
      const zoned = loadConfig({}, 'decide:\n  quietHours:\n    defaultTimezone: Europe/Paris\n');
      expect(zoned.profilePolicy.defaultTimezone).toBe('Europe/Paris');
      expect(profilePolicy.engagement.open).toBe(0.3);
      expect(profilePolicy.lifecycle.churnedDays).toBe(90);
      expect('sweepIntervalMinutes' in profilePolicy).toBe(false);
    });

    it('treats an empty or comment-only file as no file', () => {
      expect(loadConfig({}, '').http.port).toBe(3000);
      expect(loadConfig({}, '# nothing yet\n').http.port).toBe(3000);
    });

    it('gives each load its own defaults', () => {
      const first = loadConfig({}, null);
      first.profilePolicy.passiveEvents.push('Mutated');
      first.warnings.push('mutated');
      const second = loadConfig({}, null);
      expect(second.profilePolicy.passiveEvents).not.toContain('Mutated');
      expect(second.warnings).toHaveLength(3);
    });
  });

  describe('file and environment', () => {
    it('refuses a write key with a colon, which no SDK could send as the Basic user', () => {
      expect(() => loadConfig({ HERALD_WRITE_KEYS: 'web=abcd:efgh-ijkl' }, null)).toThrow(
        /a write key cannot contain ":"/,
      );
    });

    it('refuses an empty database URL rather than taking the default SQLite file', () => {
      expect(() => loadConfig({ HERALD_DATABASE_URL: ' ' }, null)).toThrow(/HERALD_DATABASE_URL/);
    });

    it('takes a secret variable set but empty as unset: the file keeps its token and keys', () => {
      const file =
        'admin:\n  token: file-admin-token-0123456789\ningest:\n  writeKeys: [shop=file-write-key-0123]\n';
      const config = loadConfig({ HERALD_ADMIN_TOKEN: '', HERALD_WRITE_KEYS: ' ' }, file);
      expect(config.adminToken).toBe('file-admin-token-0123456789');
      expect([...config.tokens.keys()]).toEqual(['file-admin-token-0123456789']);
      expect([...config.writeKeys.keys()]).toEqual(['file-write-key-0123']);
      expect(config.warnings).toContain(
        "HERALD_ADMIN_TOKEN is set but empty: taken as unset (the file's value or the default applies)",
      );
      expect(config.warnings).toContain(
        "HERALD_WRITE_KEYS is set but empty: taken as unset (the file's value or the default applies)",
      );
    });

    const file = [
      'http:',
      '  port: 8080',
      '  host: 0.0.0.0',
      'log:',
      '  level: warn',
      'admin:',
      '  token: file-admin-token-0001',
      'ingest:',
      '  writeKeys: [web=file-write-key-0001]',
      '  maxFutureHours: 2',
      '  earliestTimestamp: "2015-01-01T00:00:00Z"',
      'profile:',
      '  vipLtv: 500',
      '  sweepIntervalMinutes: 15',
      '  engagement:',
      '    open: 0.4',
      '',
    ].join('\n');

    it('reads the file and fills what it leaves out', () => {
      const config = loadConfig({}, file);
      expect(config.http).toEqual({ port: 8080, host: '0.0.0.0' });
      expect(config.logLevel).toBe('warn');
      expect(config.ingestLimits.maxFutureMs).toBe(2 * HOUR_MS);
      expect(config.ingestLimits.earliestTimestampMs).toBe(Date.parse('2015-01-01T00:00:00Z'));
      expect(config.ingestLimits.maxEventBytes).toBe(32 * 1024);
      expect(config.sweepIntervalMinutes).toBe(15);
      expect(config.profilePolicy.vipLtv).toBe(500);
      expect(config.profilePolicy.engagement).toMatchObject({
        open: 0.4,
        click: 0.5,
        halfLifeDays: 30,
      });
    });

    it('refuses the development key and token anywhere but SQLite on a loopback address', () => {
      expect(() => loadConfig({ HERALD_HOST: '0.0.0.0' }, null)).toThrow(
        /development key is accepted only on SQLite listening on 127\.0\.0\.1[\s\S]*development token/,
      );
      expect(() =>
        loadConfig(
          {
            HERALD_DATABASE_URL: 'postgres://db/herald',
            HERALD_WRITE_KEYS: devWriteKey,
            HERALD_ADMIN_TOKEN: devAdminToken,
          },
          null,
        ),
      ).toThrow(
        /\/ingest\/writeKeys: the development key[\s\S]*\/admin\/token: the development token/,
      );
    });

    it('lets the environment win over the file', () => {
      const config = loadConfig(
        {
          HERALD_PORT: '9090',
          HERALD_LOG_LEVEL: 'debug',
          HERALD_SWEEP_INTERVAL_MINUTES: '0',
          HERALD_SQLITE_SYNCHRONOUS: 'full',
          HERALD_DATABASE_URL: 'sqlite:/var/lib/herald/events.db',
        },
        file,
      );
      expect(config.http).toEqual({ port: 9090, host: '0.0.0.0' });
      expect(config.logLevel).toBe('debug');
      expect(config.sweepIntervalMinutes).toBe(0);
      expect(config.storage).toEqual({
        driver: 'sqlite',
        file: '/var/lib/herald/events.db',
        synchronous: 'full',
        dedupWindow: 2_000_000,
        profileCacheSize: 20_000,
        profileFlushMs: 5000,
      });
    });

    it('ignores environment variables it does not know', () => {
      expect(loadConfig({ PORT: '1', HERALD_UNKNOWN: 'x' }, null).http.port).toBe(3000);
    });
  });

  describe('write keys', () => {
    it('splits HERALD_WRITE_KEYS on commas and names sources with name=key', () => {
      const config = loadConfig(
        { HERALD_WRITE_KEYS: ' web=wk_web_0123456789 , ,wk_bare_0123456789,' },
        null,
      );
      expect(config.writeKeys.size).toBe(2);
      expect(config.writeKeys.get('wk_web_0123456789')).toBe('web');
      expect(config.writeKeys.get('wk_bare_0123456789')).toMatch(/^src-[0-9a-f]{10}$/);
      expect(config.warnings.some((w) => w.includes('HERALD_WRITE_KEYS'))).toBe(false);
      expect(config.writeKeys.has(devWriteKey)).toBe(false);
    });

    it('derives the same source name for the same bare key every time', () => {
      const env = { HERALD_WRITE_KEYS: 'wk_bare_0123456789' };
      const first = loadConfig(env, null).writeKeys.get('wk_bare_0123456789');
      expect(loadConfig(env, null).writeKeys.get('wk_bare_0123456789')).toBe(first);
      expect(
        loadConfig({ HERALD_WRITE_KEYS: 'wk_other_123456789' }, null).writeKeys.get(
          'wk_other_123456789',
        ),
      ).not.toBe(first);
    });

    it('reads write keys listed in the file', () => {
      const config = loadConfig({}, 'ingest:\n  writeKeys:\n    - app=wk_app_0123456789\n');
      expect([...config.writeKeys]).toEqual([['wk_app_0123456789', 'app']]);
    });

    it('refuses a token given twice, or a name, so no entry silently replaces another', () => {
      const admin = { HERALD_ADMIN_TOKEN: strongToken };
      const tokens = (list: string) =>
        pathsOf(configError({ ...admin, HERALD_API_TOKENS: list }).problems);
      expect(tokens(`viewer:vera:${'v'.repeat(16)},viewer:vic:${'v'.repeat(16)}`)).toEqual([
        '/admin/tokens/1',
      ]);
      expect(tokens(`viewer:vera:${strongToken}`)).toEqual(['/admin/tokens/0']);
      expect(tokens(`viewer:admin:${'v'.repeat(16)}`)).toEqual(['/admin/tokens/0']);
      // Nor the development admin token SQLite falls back to.
      expect(
        pathsOf(configError({ HERALD_API_TOKENS: `viewer:vera:${devAdminToken}` }).problems),
      ).toEqual(['/admin/tokens/0']);
      expect(tokens(`viewer:vera:${'v'.repeat(16)},reviewer:vera:${'r'.repeat(16)}`)).toEqual([
        '/admin/tokens/1',
      ]);
      // The message names the entry, never the token.
      const error = configError({ ...admin, HERALD_API_TOKENS: `viewer:vera:${strongToken}` });
      expect(JSON.stringify(error.problems)).not.toContain(strongToken);
      expect(
        loadConfig(
          {
            ...admin,
            HERALD_API_TOKENS: `viewer:vera:${'v'.repeat(16)},reviewer:rita:${'r'.repeat(16)}`,
          },
          null,
        ).tokens.size,
      ).toBe(3);
    });

    it('refuses a key given to two sources, naming where but never the key', () => {
      const key = 'pub-browser-key-1';
      const error = configError({
        HERALD_WRITE_KEYS: `web=${key},backend=${key}`,
        HERALD_VERIFIED_SOURCES: 'web',
        HERALD_LINK_SECRET: 'link-secret-0123456789abcdef',
      });
      expect(error.problems).toEqual([
        {
          path: '/ingest/writeKeys/1',
          message:
            'this key is already given at /ingest/writeKeys/0: each key names one source (HERALD_WRITE_KEYS)',
        },
      ]);
      expect(error.message).not.toContain(key);
      // A bare key given twice too, from the file.
      expect(
        pathsOf(
          configError({}, `ingest:\n  writeKeys: [a=other-key-1, ${key}, ${key}]\n`).problems,
        ),
      ).toEqual(['/ingest/writeKeys/2']);
    });

    it('rejects a write key shorter than 8 characters, with or without a name', () => {
      expect(pathsOf(configError({ HERALD_WRITE_KEYS: 'ok-key-123,short' }).problems)).toEqual([
        '/ingest/writeKeys/1',
      ]);
      expect(pathsOf(configError({ HERALD_WRITE_KEYS: 'webshop=abc' }).problems)).toEqual([
        '/ingest/writeKeys/0',
      ]);
    });
  });

  describe('problems', () => {
    it('reports every bad field at once, naming the variable that set it', () => {
      const error = configError(
        {
          HERALD_PORT: 'eighty',
          HERALD_LOG_LEVEL: 'loud',
          HERALD_DATABASE_URL: 'mysql://root@localhost/herald',
        },
        'ingest:\n  maxEventBytes: 10\n',
      );
      expect(error.code).toBe('invalid-config');
      expect(new Set(pathsOf(error.problems))).toEqual(
        new Set(['/http/port', '/log/level', '/database/url', '/ingest/maxEventBytes']),
      );
      const byPath = new Map(error.problems.map((p) => [p.path, p.message]));
      expect(byPath.get('/http/port')).toMatch(/\(HERALD_PORT\)$/);
      expect(byPath.get('/log/level')).toMatch(/\(HERALD_LOG_LEVEL\)$/);
      expect(byPath.get('/ingest/maxEventBytes')).not.toMatch(/HERALD_/);
      for (const path of byPath.keys()) expect(error.message).toContain(`  ${path}: `);
    });

    it('lists the allowed values of a choice and names the variable of a list item', () => {
      const error = configError({
        HERALD_LOG_LEVEL: 'loud',
        HERALD_SQLITE_SYNCHRONOUS: 'off',
        HERALD_WRITE_KEYS: 'short,webshop=abc',
      });
      expect(Object.fromEntries(error.problems.map((p) => [p.path, p.message]))).toEqual({
        '/log/level':
          'must be one of fatal, error, warn, info, debug, trace, silent, not "loud" (HERALD_LOG_LEVEL)',
        '/database/sqliteSynchronous':
          'must be one of normal, full, not "off" (HERALD_SQLITE_SYNCHRONOUS)',
        // A secret: its value is not repeated.
        '/ingest/writeKeys/0': 'must be at least 8 characters long (HERALD_WRITE_KEYS)',
        '/ingest/writeKeys/1':
          'the key after "name=" needs at least 8 characters (HERALD_WRITE_KEYS)',
      });
      expect(error.message).toContain(
        '  /log/level: must be one of fatal, error, warn, info, debug, trace, silent, not "loud" (HERALD_LOG_LEVEL)',
      );
    });

    it("refuses a write key naming its source as Herald's own", () => {
      const error = configError({ HERALD_WRITE_KEYS: 'web=key-one-long,herald=key-two-long' });
      expect(error.problems).toEqual([
        {
          path: '/ingest/writeKeys/1',
          message:
            'the source name "herald" is Herald\'s own (the events it records about its messages): name the source otherwise (HERALD_WRITE_KEYS)',
        },
      ]);
    });

    it('takes verified sources only by the names the write keys give', () => {
      const keys = {
        HERALD_WRITE_KEYS: 'web=key-one-long,server=key-two-long',
        HERALD_LINK_SECRET: 'link-secret-0123456789abcdef',
      };
      const config = loadConfig({ ...keys, HERALD_VERIFIED_SOURCES: 'web' }, null);
      expect([...config.verifiedSources]).toEqual(['web']);
      expect(configError({ ...keys, HERALD_VERIFIED_SOURCES: 'web,browser' }).problems).toEqual([
        {
          path: '/ingest/verifiedSources/1',
          message:
            'no write key names the source "browser" (ingest.writeKeys: web, server) (HERALD_VERIFIED_SOURCES)',
        },
      ]);
      const withoutSecret = { HERALD_WRITE_KEYS: keys.HERALD_WRITE_KEYS };
      expect(configError({ ...withoutSecret, HERALD_VERIFIED_SOURCES: 'web' }).problems).toEqual([
        {
          path: '/messages/linkSecret',
          message:
            "must be set (HERALD_LINK_SECRET) when ingest.verifiedSources is: the sites' servers sign user ids with it",
        },
      ]);
    });

    it('names no variable for a field the file set', () => {
      const error = configError({}, 'log:\n  level: loud\n');
      expect(error.problems).toEqual([
        {
          path: '/log/level',
          message: 'must be one of fatal, error, warn, info, debug, trace, silent, not "loud"',
        },
      ]);
    });

    it('refuses a delivery lease no longer than one attempt', () => {
      const error = configError({}, 'deliver:\n  leaseSeconds: 15\n  timeoutSeconds: 15\n');
      expect(pathsOf(error.problems)).toEqual(['/deliver/leaseSeconds']);
      expect(
        loadConfig({}, 'deliver:\n  leaseSeconds: 16\n  timeoutSeconds: 15\n').deliverPolicy
          .leaseSeconds,
      ).toBe(16);
    });

    it('refuses numbers on the wrong scale: a confidence above 1, a percent above 100, no staleness', () => {
      const { problems } = configError(
        {},
        'decide:\n  confidenceThreshold: 50\n  staleEventMinutes: 0\n  winBack:\n    genericPercent: 150\nguard:\n  discount:\n    blockAbovePercent: 250\n',
      );
      expect(problems.map((p) => p.path).sort()).toEqual(
        [
          '/decide/confidenceThreshold',
          '/decide/staleEventMinutes',
          '/decide/winBack/genericPercent',
          '/guard/discount/blockAbovePercent',
        ].sort(),
      );
    });

    it('refuses a secret with a blank before or after it, naming the variable but not the value', () => {
      const error = configError({
        HERALD_ADMIN_TOKEN: 's3cret-admin-token-123456 ',
        HERALD_DATABASE_URL: 'sqlite:/tmp/h.db\n',
      });
      expect(error.problems).toEqual([
        {
          path: '/database/url',
          message:
            'HERALD_DATABASE_URL begins or ends with a blank (a space, tab or line break); remove it',
        },
        {
          path: '/admin/token',
          message:
            'HERALD_ADMIN_TOKEN begins or ends with a blank (a space, tab or line break); remove it',
        },
      ]);
      expect(error.message).not.toContain('s3cret');
      // A key that signs is taken as given: what it signed was signed with the blank.
      const secret = `${'k'.repeat(40)}\n`;
      expect(loadConfig({ HERALD_LINK_SECRET: secret }, null).messages.linkSecret).toBe(secret);
      // A list is read item by item, blanks around each taken away.
      expect(
        loadConfig({ HERALD_WRITE_KEYS: 'web=key-one-123, app=key-two-456 ' }, null).writeKeys.size,
      ).toBe(2);
    });

    it('warns of a journey naming a well-known event in another spelling, and starts', () => {
      const config = loadConfig(
        {},
        'decide:\n  journeys:\n    - id: j\n      entry: { event: order_completed }\n      steps:\n        - { id: s, type: send, channels: [email], template: welcome-1 }\n',
      );
      expect(config.warnings).toContainEqual(
        expect.stringMatching(
          /^\/decide\/journeys\/0\/entry\/event: names the event "order_completed", not "Order Completed"/,
        ),
      );
    });

    it('does not repeat a secret in its error', () => {
      const error = configError({ HERALD_DATABASE_URL: 'mysql://root:hunter2@db/herald' });
      expect(pathsOf(error.problems)).toEqual(['/database/url']);
      expect(error.message).not.toContain('hunter2');
      expect(JSON.stringify(error.problems)).not.toContain('hunter2');
    });

    it('takes an audit key of at least 32 characters, and repeats none in its error', () => {
      expect(loadConfig({}, null).auditKey).toBeNull();
      expect(loadConfig({ HERALD_AUDIT_KEY: '' }, null).auditKey).toBeNull();
      const key = loadConfig({ HERALD_AUDIT_KEY: 'k'.repeat(32) }, null).auditKey;
      expect(key?.symmetricKeySize).toBe(32);
      // A key object: logging the configuration does not print the secret.
      expect(inspect(key)).not.toContain('kkkk');
      expect(JSON.stringify({ key })).not.toContain('kkkk');
      const short = 'short-audit-key-0123456789abcd';
      const error = configError({ HERALD_AUDIT_KEY: short });
      expect(error.problems).toEqual([
        { path: '/audit/key', message: 'needs at least 32 characters (HERALD_AUDIT_KEY)' },
      ]);
      expect(error.message).not.toContain(short);
      expect(pathsOf(configError({}, `audit:\n  key: ${short}\n`).problems)).toEqual([
        '/audit/key',
      ]);
    });

    it('repeats no secret given in place of the section holding it', () => {
      const error = configError({}, 'database: postgres://herald:S3cretPW@db/herald\n');
      expect(error.problems).toEqual([{ path: '/database', message: 'must be a mapping' }]);
      expect(error.message).not.toContain('S3cretPW');
      expect(configError({}, 'admin: tok3n-s3cret\n').message).not.toContain('tok3n-s3cret');
      // A section holding no secret still says what was given.
      expect(configError({}, 'http: 5\n').problems).toEqual([
        { path: '/http', message: 'must be a mapping, not 5' },
      ]);
    });

    it('refuses a section written as a list, not reading it as empty', () => {
      const journeys = 'decide:\n  - journeys: []\nhttp:\n  - port: 8080\n';
      expect(configError({}, journeys).problems).toEqual([
        { path: '/decide', message: 'must be a mapping, not a list' },
        { path: '/http', message: 'must be a mapping, not a list' },
      ]);
    });

    it('lets no variable hide a section the file gives a value that is no mapping', () => {
      expect(pathsOf(configError({ HERALD_PORT: '4000' }, 'http: 5\n').problems)).toEqual([
        '/http',
      ]);
    });

    it('warns of a HERALD_ variable no setting reads, with the one it is closest to', () => {
      const config = loadConfig(
        { HERALD_PROT: '4000', HERALD_CONFIG: 'x.yaml', HERALD_TEST_DATABASE_URL: 'postgres://t' },
        null,
      );
      expect(config.http.port).toBe(3000);
      expect(config.warnings.filter((w) => w.includes('no setting reads it'))).toEqual([
        'HERALD_PROT is set, but no setting reads it: ignored (did you mean HERALD_PORT?)',
      ]);
    });

    it('reads numbers in decimals only: no hexadecimal, binary or infinity', () => {
      for (const port of ['0x10', '0b11', '0o7', 'Infinity', '5px'])
        expect([port, pathsOf(configError({ HERALD_PORT: port }).problems)]).toEqual([
          port,
          ['/http/port'],
        ]);
      expect(loadConfig({ HERALD_PORT: ' 4000 ' }, null).http.port).toBe(4000);
      expect(loadConfig({ HERALD_PORT: '4e3' }, null).http.port).toBe(4000);
    });

    it('rejects a number that is empty or not a number', () => {
      expect(pathsOf(configError({ HERALD_PORT: '' }).problems)).toEqual(['/http/port']);
      expect(pathsOf(configError({ HERALD_PG_POOL_SIZE: '2.5' }).problems)).toEqual([
        '/database/poolSize',
      ]);
      expect(pathsOf(configError({ HERALD_PORT: '70000' }).problems)).toEqual(['/http/port']);
    });

    it('rejects a file that is not valid YAML, saying where but quoting none of it', () => {
      const error = configError({}, 'http: {port: 80\n');
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]?.path).toBe('/');
      expect(error.problems[0]?.message).toMatch(
        /^the config file is not valid YAML at line \d+, column \d+$/,
      );
      const secret = configError({}, 'deliver:\n  sendgridApiKey: SG.abcdefSECRET: x\n');
      expect(secret.problems[0]?.message).toBe(
        'the config file is not valid YAML at line 2, column 19',
      );
      expect(secret.message).not.toContain('SECRET');
    });

    it('refuses a YAML tag it does not know, saying where but never the value', () => {
      const error = configError({}, 'admin:\n  token: !vault s3cr3t-admin-token\n');
      expect(error.problems).toEqual([
        {
          path: '/',
          message:
            'the config file has a tag Herald does not know at line 2, column 10 (write the value itself)',
        },
      ]);
      expect(error.message).not.toContain('s3cr3t');
    });

    it('refuses a poll interval longer than a timer can wait', () => {
      const error = configError(
        {},
        'decide:\n  worker:\n    pollMs: 2147483648\ndeliver:\n  pollMs: 3000000000\n',
      );
      expect(pathsOf(error.problems)).toEqual(['/decide/worker/pollMs', '/deliver/pollMs']);
      expect(error.problems[0]?.message).toMatch(/^must be at most 2147483647 /);
      expect(loadConfig({}, 'deliver:\n  pollMs: 2147483647\n').deliverPolicy.pollMs).toBe(
        2147483647,
      );
    });

    it('refuses a sweep interval longer than a timer can wait, naming its variable', () => {
      const error = configError({ HERALD_SWEEP_INTERVAL_MINUTES: '43200' });
      expect(error.problems).toEqual([
        {
          path: '/profile/sweepIntervalMinutes',
          message: 'must be at most 35791, not 43200 (HERALD_SWEEP_INTERVAL_MINUTES)',
        },
      ]);
      // A pattern is said in words, not as the validator's regular expression.
      expect(configError({ HERALD_DATABASE_URL: 'mysql://db' }).problems).toEqual([
        {
          path: '/database/url',
          message: 'must be sqlite:PATH or postgres://user@host:port/db (HERALD_DATABASE_URL)',
        },
      ]);
      expect(configError({ HERALD_SQLITE_DEDUP_WINDOW: '10' }).problems).toEqual([
        {
          path: '/database/sqliteDedupWindow',
          message: 'must be at least 1000, not 10 (HERALD_SQLITE_DEDUP_WINDOW)',
        },
      ]);
      expect(
        loadConfig({ HERALD_SWEEP_INTERVAL_MINUTES: '35791' }, null).sweepIntervalMinutes,
      ).toBe(35791);
    });

    it('refuses settings that contradict each other, and a wave on no channel', () => {
      const error = configError(
        {},
        [
          'guard:',
          '  discount:',
          '    reviewFromPercent: 50',
          '    blockAbovePercent: 10',
          'deliver:',
          '  backoff:',
          '    baseSeconds: 7200',
          '    maxSeconds: 1',
          'content:',
          '  readingGrade: [12, 2]',
          'decide:',
          '  segments:',
          '    atRiskDays: 200',
          '    dormantDays: 90',
          '  cart:',
          '    incentiveBands: []',
          '  winBack:',
          '    waves: [{ day: 1, channel: emial }]',
        ].join('\n'),
      );
      expect(pathsOf(error.problems).sort()).toEqual([
        '/content/readingGrade',
        '/decide/cart/incentiveBands',
        '/decide/segments/atRiskDays',
        '/decide/winBack/waves/0/channel',
        '/deliver/backoff/baseSeconds',
        '/guard/discount/reviewFromPercent',
      ]);
    });

    it('names a setting it does not have, with the one its spelling is closest to', () => {
      const error = configError(
        {},
        [
          'htpp:',
          '  port: 4000',
          'decide:',
          '  quietHours:',
          '    endhour: 7',
          'deliver:',
          '  rateLimits:',
          '    sendgird:',
          '      perHour: 5',
        ].join('\n'),
      );
      expect(error.problems).toEqual([
        { path: '/deliver/rateLimits/sendgird', message: 'is not a setting' },
        { path: '/htpp', message: 'is not a setting (did you mean http?)' },
        { path: '/decide/quietHours/endhour', message: 'is not a setting (did you mean endHour?)' },
      ]);
    });

    it('refuses an exchange rate keyed by anything but a currency code, which would convert nothing', () => {
      const error = configError(
        {},
        'profile:\n  currency: usd\n  exchangeRates:\n    euro: 1.1\n    GBP: 0\n    EUR: 1.08\n',
      );
      expect(error.problems.map((p) => p.path).sort()).toEqual([
        '/profile/currency',
        '/profile/exchangeRates/GBP',
        '/profile/exchangeRates/euro',
      ]);
    });

    it("refuses a misspelt key in a provider's rate limits, which would lift its limit", () => {
      const error = configError(
        {},
        'deliver:\n  rateLimits:\n    smtp:\n      perSecnd: 10\n    twilio:\n      perMinute: 5\n',
      );
      expect(error.problems).toEqual([
        {
          path: '/deliver/rateLimits/smtp/perSecnd',
          message: 'is not a setting (did you mean perSecond?)',
        },
        { path: '/deliver/rateLimits/twilio/perMinute', message: 'is not a setting' },
      ]);
    });

    it("writes a provider's rate limits over its defaults: a limit left out stays, null lifts it", () => {
      const limitsOf = (yaml: string) =>
        loadConfig({}, `deliver:\n  rateLimits:\n${yaml}`).deliverPolicy.rateLimits;
      // Tightening SendGrid to 100 a second dropped its 100,000 an hour.
      expect(limitsOf('    sendgrid: { perSecond: 100 }\n')).toMatchObject({
        sendgrid: { perSecond: 100, perHour: 100_000 },
        smtp: { perSecond: 500, perHour: 100_000 },
        twilio: { perSecond: 100 },
      });
      expect(limitsOf('    smtp: { perHour: null }\n    capture: { perHour: 2 }\n')).toMatchObject({
        smtp: { perSecond: 500 },
        capture: { perHour: 2 },
      });
      expect(limitsOf('    smtp: { perHour: null }\n').smtp).toEqual({ perSecond: 500 });
      expect(loadConfig({}, null).deliverPolicy.rateLimits).toEqual({
        smtp: { perSecond: 500, perHour: 100_000 },
        sendgrid: { perSecond: 500, perHour: 100_000 },
        twilio: { perSecond: 100 },
        whatsapp: { perSecond: 80 },
        fcm: { perSecond: 1000 },
      });
    });

    it('adds no development-key problems when where Herald listens is itself at fault', () => {
      expect(configError({}, 'http:\n  # port: 8080\n').problems).toEqual([
        { path: '/http', message: 'must be a mapping, not null' },
      ]);
      expect(pathsOf(configError({ HERALD_HOST: '' }).problems)).toEqual(['/http/host']);
      expect(pathsOf(configError({}, 'http:\n  host: 0\n').problems)).toEqual(['/http/host']);
    });

    it('refuses a short admin token beyond 127.0.0.1, the docs example anywhere, and an unknown default timezone', () => {
      const keys = { HERALD_WRITE_KEYS: 'web=abcdefgh' };
      expect(
        configError({ ...keys, HERALD_HOST: '0.0.0.0', HERALD_ADMIN_TOKEN: 'x' }).problems,
      ).toEqual([
        {
          path: '/admin/token',
          message:
            'needs at least 16 characters when Herald listens beyond 127.0.0.1 (HERALD_ADMIN_TOKEN)',
        },
      ]);
      expect(
        pathsOf(
          configError({ ...keys, HERALD_ADMIN_TOKEN: 'change-me-to-a-long-random-token' }).problems,
        ),
      ).toEqual(['/admin/token']);
      expect(() => loadConfig({ ...keys, HERALD_ADMIN_TOKEN: 'x' }, null)).not.toThrow();
      expect(
        configError(keys, 'decide:\n  quietHours:\n    defaultTimezone: America/New_Yrok\n')
          .problems,
      ).toEqual([
        {
          path: '/decide/quietHours/defaultTimezone',
          message: '"America/New_Yrok" is not a timezone (an IANA name such as America/New_York)',
        },
      ]);
    });

    it('keeps Herald’s own complaint event among the complaint events, whatever the list says', () => {
      // A complaint withdraws email consent and counts toward the suppression: a list of one's
      // own, or in another case, stopped Herald's own complaints from doing either.
      for (const [written, expected] of [
        ["['email marked as spam']", ['Email Marked as Spam', 'email marked as spam']],
        ['[]', ['Email Marked as Spam']],
        ["['Spam Reported', 'Email Marked as Spam']", ['Spam Reported', 'Email Marked as Spam']],
      ] as const)
        expect(
          loadConfig({}, `profile:\n  engagement:\n    complaintEvents: ${written}\n`).profilePolicy
            .engagement.complaintEvents,
          written,
        ).toEqual(expected);
    });

    it('refuses GDPR countries that are not upper-case alpha-2 codes: they would match no customer', () => {
      // Customers' countries are read as `DE`; `de` in the list would leave Germans outside GDPR.
      expect(
        configError({}, 'guard:\n  gdpr:\n    countries: [de, FR, DEU, Germany, Atlantis]\n')
          .problems,
      ).toEqual([
        {
          path: '/guard/gdpr/countries/0',
          message: '"de" must be written as its ISO 3166-1 alpha-2 code, DE',
        },
        {
          path: '/guard/gdpr/countries/2',
          message: '"DEU" must be written as its ISO 3166-1 alpha-2 code, DE',
        },
        {
          path: '/guard/gdpr/countries/3',
          message: '"Germany" must be written as its ISO 3166-1 alpha-2 code, DE',
        },
        {
          path: '/guard/gdpr/countries/4',
          message: '"Atlantis" is not an ISO 3166-1 alpha-2 country code',
        },
      ]);
      // The default list, every code of it, is taken as it is.
      expect(loadConfig({}, null).guardPolicy.gdpr.countries).toContain('GG');
    });

    it('reports invalid YAML together with bad variables', () => {
      const error = configError({ HERALD_LOG_LEVEL: 'chatty' }, 'log: [unclosed\n');
      expect(pathsOf(error.problems)).toEqual(['/', '/log/level']);
    });

    it('rejects a file that is not a mapping', () => {
      expect(configError({}, '- port: 80\n').problems).toEqual([
        { path: '/', message: 'the config file must be a YAML mapping' },
      ]);
      expect(configError({}, 'just text\n').problems[0]?.message).toBe(
        'the config file must be a YAML mapping',
      );
    });

    it('rejects an earliest timestamp that is not an ISO-8601 date, as ingest reads one', () => {
      // "1" was read as 2001 and "March 7 2020" in the server's zone.
      for (const written of ['someday', '"1"', 'March 7 2020'])
        expect(configError({}, `ingest:\n  earliestTimestamp: ${written}\n`).problems).toEqual([
          {
            path: '/ingest/earliestTimestamp',
            message: 'is not an ISO-8601 date (e.g. 2020-01-01T00:00:00Z)',
          },
        ]);
      // A time without a zone is UTC, as ingest takes one.
      expect(
        loadConfig({}, 'ingest:\n  earliestTimestamp: "2020-03-07T00:00:00"\n').ingestLimits
          .earliestTimestampMs,
      ).toBe(Date.UTC(2020, 2, 7));
    });

    it('rejects a bad profile policy', () => {
      const error = configError({}, 'profile:\n  engagement:\n    halfLifeDays: 0\n  vipLtv: -1\n');
      expect(new Set(pathsOf(error.problems))).toEqual(
        new Set(['/profile/engagement/halfLifeDays', '/profile/vipLtv']),
      );
    });
  });

  describe('PostgreSQL', () => {
    it('runs with write keys and a strong admin token, without warnings', () => {
      const config = loadConfig(
        {
          HERALD_DATABASE_URL: pgUrl,
          HERALD_WRITE_KEYS: 'web=wk_web_0123456789',
          HERALD_ADMIN_TOKEN: strongToken,
          HERALD_PG_POOL_SIZE: '20',
          HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
          HERALD_PUBLIC_URL: 'https://herald.example.com',
        },
        null,
      );
      expect(config.storage).toEqual({ driver: 'postgres', url: pgUrl, poolSize: 20 });
      expect(config.adminToken).toBe(strongToken);
      expect(config.warnings).toEqual([]);
      const noAddress = loadConfig(
        {
          HERALD_DATABASE_URL: pgUrl,
          HERALD_WRITE_KEYS: 'web=wk_web_0123456789',
          HERALD_ADMIN_TOKEN: strongToken,
          HERALD_PUBLIC_URL: 'https://h.example',
        },
        null,
      );
      expect(noAddress.warnings).toEqual([
        expect.stringMatching(/^HERALD_POSTAL_ADDRESS is not set: CAN-SPAM blocks/) as unknown,
      ]);
    });

    it('accepts the postgresql:// scheme and the default pool', () => {
      const config = loadConfig(
        {
          HERALD_DATABASE_URL: 'postgresql://h@db/herald',
          HERALD_WRITE_KEYS: 'wk_web_0123456789',
          HERALD_ADMIN_TOKEN: strongToken,
        },
        null,
      );
      expect(config.storage).toEqual({
        driver: 'postgres',
        url: 'postgresql://h@db/herald',
        poolSize: 10,
      });
    });

    it('refuses a connection URL that does not parse, quoting none of it', () => {
      const env = { HERALD_WRITE_KEYS: 'wk_web_0123456789', HERALD_ADMIN_TOKEN: strongToken };
      for (const url of [
        'postgres://herald:s3cret@db:notaport/herald',
        'postgres://herald:s3cret@db:99999/herald',
        'postgres://herald:s3cret@',
      ]) {
        const error = configError({ ...env, HERALD_DATABASE_URL: url });
        expect(error.problems).toEqual([
          {
            path: '/database/url',
            message:
              'is not a valid URL of the form postgres://user:password@host:port/database (HERALD_DATABASE_URL)',
          },
        ]);
        expect(error.message).not.toContain('s3cret');
      }
      expect(
        configError(env, 'database:\n  url: postgres://herald:s3cret@db:notaport/herald\n')
          .problems,
      ).toEqual([
        {
          path: '/database/url',
          message: 'is not a valid URL of the form postgres://user:password@host:port/database',
        },
      ]);
      // A socket directory instead of a host is the driver's to take, with credentials too.
      for (const url of [
        'postgres:///herald?host=/run/postgresql',
        'postgres://herald:s3cret@/herald?host=/var/run/postgresql',
      ])
        expect(loadConfig({ ...env, HERALD_DATABASE_URL: url }, null).storage.driver).toBe(
          'postgres',
        );
    });

    it('requires write keys and an admin token, reporting both', () => {
      const error = configError({ HERALD_DATABASE_URL: pgUrl });
      expect(error.code).toBe('invalid-config');
      expect(pathsOf(error.problems)).toEqual(['/ingest/writeKeys', '/admin/token']);
      expect(error.problems[0]?.message).toMatch(/HERALD_WRITE_KEYS/);
      expect(error.problems[1]?.message).toMatch(/16 characters.*HERALD_ADMIN_TOKEN/);
    });

    it('requires at least 16 characters of admin token', () => {
      const env = { HERALD_DATABASE_URL: pgUrl, HERALD_WRITE_KEYS: 'wk_web_0123456789' };
      expect(configError({ ...env, HERALD_ADMIN_TOKEN: 'b'.repeat(15) }).problems).toEqual([
        {
          path: '/admin/token',
          message: 'needs at least 16 characters with PostgreSQL (HERALD_ADMIN_TOKEN)',
        },
      ]);
      expect(loadConfig({ ...env, HERALD_ADMIN_TOKEN: 'b'.repeat(16) }, null).adminToken).toBe(
        'b'.repeat(16),
      );
    });

    it('reports its requirements together with bad fields elsewhere', () => {
      const error = configError(
        { HERALD_DATABASE_URL: pgUrl, HERALD_PORT: 'eighty' },
        'ingest:\n  earliestTimestamp: someday\n',
      );
      expect(new Set(pathsOf(error.problems))).toEqual(
        new Set(['/http/port', '/ingest/earliestTimestamp', '/ingest/writeKeys', '/admin/token']),
      );
    });
  });

  describe('providers', () => {
    const twilio = { HERALD_TWILIO_ACCOUNT_SID: 'AC0123456789abcdef' };
    const twilioToken = 'twilio-auth-token-SECRET';

    it('refuses a Twilio account without its auth token or a sender, naming the variables', () => {
      expect(configError(twilio).problems).toEqual([
        {
          path: '/deliver/twilioAuthToken',
          message:
            'must be set (HERALD_TWILIO_AUTH_TOKEN) when deliver.twilioAccountSid (HERALD_TWILIO_ACCOUNT_SID) is: Twilio refuses every message without it',
        },
        {
          path: '/deliver/twilioFrom',
          message:
            'must be set (HERALD_TWILIO_FROM), or deliver.twilioMessagingServiceSid (HERALD_TWILIO_MESSAGING_SERVICE_SID), when deliver.twilioAccountSid (HERALD_TWILIO_ACCOUNT_SID) is: an SMS needs a sender',
        },
      ]);
      const withToken = configError({ ...twilio, HERALD_TWILIO_AUTH_TOKEN: twilioToken });
      expect(pathsOf(withToken.problems)).toEqual(['/deliver/twilioFrom']);
      expect(withToken.message).not.toContain('SECRET');
      for (const sender of [
        { HERALD_TWILIO_FROM: '+15005550006' },
        { HERALD_TWILIO_MESSAGING_SERVICE_SID: 'MG0123456789abcdef' },
      ])
        expect(
          loadConfig({ ...twilio, HERALD_TWILIO_AUTH_TOKEN: twilioToken, ...sender }, null)
            .providers.twilioAccountSid,
        ).toBe(twilio.HERALD_TWILIO_ACCOUNT_SID);
      // The auth token alone checks the webhooks' signatures.
      expect(() => loadConfig({ HERALD_TWILIO_AUTH_TOKEN: twilioToken }, null)).not.toThrow();
    });

    it('refuses a WhatsApp token without its phone number id', () => {
      const error = configError({ HERALD_WHATSAPP_ACCESS_TOKEN: 'EAAG-SECRET' });
      expect(error.problems).toEqual([
        {
          path: '/deliver/whatsappPhoneNumberId',
          message:
            'must be set (HERALD_WHATSAPP_PHONE_NUMBER_ID) when deliver.whatsappAccessToken (HERALD_WHATSAPP_ACCESS_TOKEN) is: WhatsApp messages are sent from it',
        },
      ]);
      expect(error.message).not.toContain('SECRET');
    });

    it('warns of settings whose provider has no credential, and of a SendGrid key SMTP overrides', () => {
      const warnings = loadConfig(
        {
          HERALD_TWILIO_FROM: '+15005550006',
          HERALD_WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
          HERALD_SMTP_URL: 'smtp://relay.internal:25',
          HERALD_SENDGRID_API_KEY: 'SG.SECRET',
        },
        null,
      ).warnings.slice(3);
      expect(warnings).toEqual([
        'HERALD_TWILIO_FROM is set but HERALD_TWILIO_ACCOUNT_SID is not: SMS goes to the capture channel',
        'HERALD_WHATSAPP_PHONE_NUMBER_ID is set but HERALD_WHATSAPP_ACCESS_TOKEN is not: WhatsApp goes to the capture channel',
        'HERALD_SENDGRID_API_KEY is set but so is HERALD_SMTP_URL, which wins: email goes to the SMTP relay',
      ]);
    });

    it('takes only http(s) URLs as provider bases', () => {
      const bases = {
        HERALD_SENDGRID_BASE_URL: 'api.sendgrid.com',
        HERALD_TWILIO_BASE_URL: 'ftp://api.twilio.com',
        HERALD_WHATSAPP_BASE_URL: 'https://graph facebook.com',
        HERALD_FCM_BASE_URL: '',
        HERALD_OPENAI_BASE_URL: 'localhost:8080/v1',
      };
      const error = configError(bases);
      expect(new Set(pathsOf(error.problems))).toEqual(
        new Set([
          '/deliver/sendgridBaseUrl',
          '/deliver/twilioBaseUrl',
          '/deliver/whatsappBaseUrl',
          '/deliver/fcmBaseUrl',
          '/content/openaiBaseUrl',
        ]),
      );
      for (const p of error.problems) expect(p.message).toMatch(/\(HERALD_[A-Z_]+_BASE_URL\)$/);
      const local = loadConfig(
        { HERALD_TWILIO_BASE_URL: 'http://127.0.0.1:4010', HERALD_OPENAI_BASE_URL: 'https://x/v1' },
        null,
      );
      expect(local.providers.twilioBaseUrl).toBe('http://127.0.0.1:4010');
    });

    it("refuses a SendGrid webhook key that is not SendGrid's kind of public key", () => {
      const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
      const der = p256.export({ format: 'der', type: 'spki' }).toString('base64');
      const pem = p256.export({ format: 'pem', type: 'spki' }).toString();
      for (const key of [der, pem])
        expect(
          loadConfig({ HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY: key }, null).providers
            .sendgridWebhookPublicKey,
        ).toBe(key);
      const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
        .publicKey.export({ format: 'der', type: 'spki' })
        .toString('base64');
      for (const key of ['not-a-key', der.slice(0, 40), p384])
        expect(configError({ HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY: key }).problems).toEqual([
          {
            path: '/deliver/sendgridWebhookPublicKey',
            message:
              "is not SendGrid's verification key, the base64 DER P-256 public key of its Mail Settings: no event it posts would verify (HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY)",
          },
        ]);
    });

    it('refuses an SMTP URL that does not parse or names no host, quoting none of it', () => {
      for (const url of ['smtp://relay:s3cret@host:99999', 'smtps:///relay', 'smtp://a b'])
        expect(configError({ HERALD_SMTP_URL: url }).problems).toEqual([
          {
            path: '/deliver/smtpUrl',
            message:
              'is not a valid URL of the form smtp://[user:pass@]host[:port] or smtps://… (HERALD_SMTP_URL)',
          },
        ]);
      expect(
        configError({ HERALD_SMTP_URL: 'smtp://relay:s3cret@host:99999' }).message,
      ).not.toContain('s3cret');
      expect(loadConfig({ HERALD_SMTP_URL: 'smtps://u:p@relay:465' }, null).providers.smtpUrl).toBe(
        'smtps://u:p@relay:465',
      );
    });
  });

  describe('SQLite development defaults', () => {
    it('keeps configured keys and token and warns only about what is missing', () => {
      const withKeys = loadConfig({ HERALD_WRITE_KEYS: 'wk_web_0123456789' }, null);
      expect(withKeys.writeKeys.has(devWriteKey)).toBe(false);
      expect(withKeys.adminToken).toBe(devAdminToken);
      expect(withKeys.warnings).toHaveLength(2);
      expect(withKeys.warnings[0]).toMatch(/HERALD_ADMIN_TOKEN/);

      const withToken = loadConfig({ HERALD_ADMIN_TOKEN: 'short' }, null);
      expect(withToken.adminToken).toBe('short');
      expect(withToken.warnings).toHaveLength(2);
      expect(withToken.warnings[0]).toMatch(/HERALD_WRITE_KEYS/);
    });
  });
});

describe('loadConfig: the public URL', () => {
  it('is on the port Herald listens on unless given', () => {
    expect(loadConfig({}, null).messages.publicUrl).toBe('http://localhost:3000');
    expect(loadConfig({ HERALD_PORT: '3917' }, null).messages.publicUrl).toBe(
      'http://localhost:3917',
    );
    expect(loadConfig({}, 'http:\n  port: 8080\n').messages.publicUrl).toBe(
      'http://localhost:8080',
    );
    expect(
      loadConfig({ HERALD_PORT: '3917', HERALD_PUBLIC_URL: 'https://mail.example.com' }, null)
        .messages.publicUrl,
    ).toBe('https://mail.example.com');
    // 0 picks a free port, unknown here: the default stands.
    expect(loadConfig({ HERALD_PORT: '0' }, null).messages.publicUrl).toBe('http://localhost:3000');
  });
});

describe('loadConfig: the embedding model', () => {
  it('needs a key for OpenAI’s own API, and none for a server of its own', () => {
    const error = configError({ HERALD_EMBEDDING_MODEL: 'text-embedding-3-small' });
    expect(error.problems).toEqual([
      {
        path: '/content/embeddingApiKey',
        message: expect.stringContaining(
          'must be set (HERALD_EMBEDDING_API_KEY, or HERALD_OPENAI_API_KEY) when content.embeddingModel (HERALD_EMBEDDING_MODEL) is asked of OpenAI',
        ),
      },
    ]);
    for (const env of [
      { HERALD_EMBEDDING_API_KEY: 'sk-embeddings' },
      { HERALD_OPENAI_API_KEY: 'sk-openai' },
      { HERALD_EMBEDDING_BASE_URL: 'http://127.0.0.1:11434/v1' },
      // The chat model's server of its own serves the embeddings too.
      { HERALD_OPENAI_BASE_URL: 'http://localhost:11434/v1' },
    ])
      expect(
        loadConfig({ HERALD_EMBEDDING_MODEL: 'nomic-embed-text', ...env }, null).content
          .embeddingModel,
      ).toBe('nomic-embed-text');
    expect(loadConfig({}, null).content).toMatchObject({
      embeddingModel: '',
      minSimilarity: 0.35,
      embeddingDimensions: 0,
    });
    expect(pathsOf(configError({ HERALD_EMBEDDING_BASE_URL: 'localhost:11434' }).problems)).toEqual(
      ['/content/embeddingBaseUrl'],
    );
  });
});

describe('loadConfig: journeys', () => {
  it('reports every journey problem with its path, after the schema checks pass', () => {
    const file = `
decide:
  journeys:
    - id: promo
      entry: { trigger: signed-up }
      steps:
        - { id: a, type: send, channels: [email], template: t, next: nowhere }
        - { id: a, type: wait }
        - { id: b, type: branch }
`;
    const error = configError({}, file);
    expect(error.problems).toEqual(
      expect.arrayContaining([
        { path: '/decide/journeys/0/steps/1/id', message: 'step id a is used twice' },
        {
          path: '/decide/journeys/0/steps/0',
          message: 'step a goes to nowhere, which is not a step of promo',
        },
        {
          path: '/decide/journeys/0/steps/1',
          message: 'wait step a needs exactly one of hours, days or until',
        },
        {
          path: '/decide/journeys/0/steps/2',
          message: 'branch step b needs either "if" or "split"',
        },
      ]),
    );
  });

  it("checks the journeys the schema passed, beside another journey's schema problem", () => {
    const file = `
decide:
  journeys:
    - id: one
      entry: { trigger: signed-up }
      steps:
        - { id: s1, type: send, channels: [email], template: welcome-1, next: nowhere }
    - id: two
      entry: { trigger: signed-up }
      steps:
        - { id: s1, type: send, channels: [emial], template: welcome-1 }
`;
    expect(pathsOf(configError({}, file).problems).sort()).toEqual([
      '/decide/journeys/0/steps/0',
      '/decide/journeys/1/steps/0/channels/0',
    ]);
  });

  it('names the field the schema rejects', () => {
    const file = `
decide:
  journeys:
    - id: promo
      entry: { trigger: signed-up }
      steps:
        - { id: a, type: send, channels: [fax], template: t }
`;
    expect(configError({}, file).problems).toEqual([
      {
        path: '/decide/journeys/0/steps/0/channels/0',
        message: 'must be one of email, sms, whatsapp, push, web, not "fax"',
      },
    ]);
  });

  /** A configuration with one journey `j` of these entry and steps (YAML flow mappings). */
  const aJourney = (entry: string, ...steps: string[]) =>
    [
      'decide:',
      '  journeys:',
      '    - id: j',
      `      entry: ${entry}`,
      '      steps:',
      ...steps.map((step) => `        - ${step}`),
    ].join('\n');
  const signedUp = '{ trigger: signed-up }';
  const send = '{ id: s, type: send, channels: [email], template: t }';
  const branchIf = (condition: string) => `{ id: b, type: branch, if: ${condition}, then: s }`;
  const at = '/decide/journeys/0';

  it.each([
    [
      'a stage no trigger moves to',
      aJourney('{ trigger: stage-changed, to: atrisk }', send),
      `${at}/entry/to`,
      'with trigger stage-changed, must be one of new, active, at-risk, churned, not "atrisk" (did you mean at-risk?)',
    ],
    [
      'a segment no trigger moves to',
      aJourney('{ trigger: segment-changed, to: high-value recent }', send),
      `${at}/entry/to`,
      'with trigger segment-changed, must be one of High-Value Recent, New, Standard, At-Risk, Dormant, not "high-value recent" (did you mean High-Value Recent?)',
    ],
    [
      'inactivity on a day the sweep never raises',
      aJourney('{ trigger: inactive, to: "60" }', send),
      `${at}/entry/to`,
      'with trigger inactive, must be "30" or "90" (decide.winBack.inactiveDays or dormantDays, the only days the daily sweep raises it), not "60"',
    ],
    [
      'a stage given to a trigger that moves to none',
      aJourney('{ trigger: signed-up, to: at-risk }', send),
      `${at}/entry/to`,
      'with trigger signed-up, is not a setting (only with trigger stage-changed, segment-changed or inactive)',
    ],
    [
      "web among a send step's channels",
      aJourney(signedUp, '{ id: s, type: send, channels: [email, web], template: t }'),
      `${at}/steps/0/channels/1`,
      'a send step names no website slot, so web content from it could never be shown: use a web step (slot, content, ttlHours)',
    ],
    [
      'a trigger that does not exist',
      aJourney('{ trigger: signup }', send),
      `${at}/entry/trigger`,
      'must be one of signed-up, cart-abandoned, order-placed, stage-changed, segment-changed, inactive, not "signup" (did you mean signed-up?)',
    ],
    [
      'a field no profile has',
      aJourney(signedUp, branchIf('{ field: cartvalue, op: gt, value: 0 }'), send),
      `${at}/steps/0/if/field`,
      'must be one of lifecycleStage, segment, frequency, monetary, ltv, recencyDays, engagementScore, churnRisk, vip, country, cartValue, trait.NAME, not "cartvalue" (did you mean cartValue?)',
    ],
    [
      'in with a single value',
      aJourney(signedUp, branchIf('{ field: segment, op: in, value: New }'), send),
      `${at}/steps/0/if/value`,
      'with op in, must be a list, not "New"',
    ],
    [
      'an order comparison with a string',
      aJourney(signedUp, branchIf('{ field: cartValue, op: gt, value: "50" }'), send),
      `${at}/steps/0/if/value`,
      'with op gt, must be a number, not "50"',
    ],
    [
      'an operator that does not exist',
      aJourney(signedUp, branchIf('{ field: vip, op: equals, value: true }'), send),
      `${at}/steps/0/if/op`,
      'must be one of eq, neq, in, gt, gte, lt, lte, not "equals"',
    ],
    [
      'an unknown key in a wait until',
      aJourney(
        signedUp,
        '{ id: w, type: wait, until: { event: X, timeoutHours: 24, timeout_hours: 48 } }',
        send,
      ),
      `${at}/steps/0/until/timeout_hours`,
      'is not a setting (did you mean timeoutHours?)',
    ],
    [
      'an unknown key in an incentive',
      aJourney(
        signedUp,
        '{ id: s, type: send, channels: [email], template: t, incentive: { percent: 10, validHours: 24, code: X } }',
      ),
      `${at}/steps/0/incentive/code`,
      'is not a setting',
    ],
    [
      'an unknown key in a split arm',
      aJourney(
        signedUp,
        '{ id: b, type: branch, split: [{ arm: a, weight: 1, next: s, wieght: 2 }, { arm: c, weight: 1, next: s }] }',
        send,
      ),
      `${at}/steps/0/split/0/wieght`,
      'is not a setting (did you mean weight?)',
    ],
    [
      'two split arms of one name',
      aJourney(
        signedUp,
        '{ id: b, type: branch, split: [{ arm: a, weight: 1, next: s }, { arm: a, weight: 1, next: s }] }',
        send,
      ),
      `${at}/steps/0/split/1/arm`,
      'arm a is used twice in step b',
    ],
    [
      'an unknown key in a send step',
      aJourney(
        signedUp,
        `{ id: s, type: send, channels: [email], template: t, sendTimeOptimized: false }`,
      ),
      `${at}/steps/0/sendTimeOptimized`,
      'is not a setting (did you mean sendTimeOptimised?)',
    ],
    [
      'an unknown key in a wait step',
      aJourney(signedUp, '{ id: w, type: wait, hour: 2 }', send),
      `${at}/steps/0/hour`,
      'is not a setting (did you mean hours?)',
    ],
    [
      'a channel that does not exist',
      aJourney(signedUp, '{ id: s, type: send, channels: [mail], template: t }'),
      `${at}/steps/0/channels/0`,
      'must be one of email, sms, whatsapp, push, web, not "mail" (did you mean email?)',
    ],
    [
      'a step type that does not exist',
      aJourney(signedUp, '{ id: s, type: sned, channels: [email], template: t }'),
      `${at}/steps/0/type`,
      'must be one of send, web, wait, branch, exit, not "sned" (did you mean send?)',
    ],
    [
      'a step without a type',
      aJourney(signedUp, '{ id: s, channels: [email], template: t }'),
      `${at}/steps/0/type`,
      'is required: one of send, web, wait, branch, exit',
    ],
    [
      'an event condition with a stray key',
      aJourney(signedUp, '{ id: b, type: branch, if: { event: X, op: eq }, then: s }', send),
      `${at}/steps/0/if/op`,
      'is not a setting',
    ],
    [
      'an unknown key in a journey',
      aJourney(`${signedUp}\n      enable: false`, send),
      `${at}/enable`,
      'is not a setting (did you mean enabled?)',
    ],
  ])('refuses %s, saying where, what was given and what is allowed', (_, file, path, message) => {
    expect(configError({}, file).problems).toEqual([{ path, message }]);
  });

  it('says what an entry needs when it has neither trigger nor event', () => {
    expect(configError({}, aJourney('{ evnt: Quiz Completed }', send)).problems).toEqual([
      { path: `${at}/entry`, message: 'needs trigger or event' },
      { path: `${at}/entry/evnt`, message: 'is not a setting (did you mean event?)' },
    ]);
  });

  it('reports every problem of the steps and the entry at once', () => {
    const file = aJourney(
      '{ trigger: signup }',
      branchIf('{ field: vip, op: equals, value: true }'),
      '{ id: s, type: send, channels: [mail], template: t, sendTimeOptimized: false }',
      '{ id: w, type: wait, hour: 2 }',
    );
    expect(configError({}, file).problems.map((p) => p.path)).toEqual([
      `${at}/entry/trigger`,
      `${at}/steps/0/if/op`,
      `${at}/steps/1/sendTimeOptimized`,
      `${at}/steps/1/channels/0`,
      `${at}/steps/2/hour`,
    ]);
  });

  it('takes an inactive entry on the win-back days configured', () => {
    const file = (to: string) =>
      `${aJourney(`{ trigger: inactive, to: "${to}" }`, send)}\n  winBack: { inactiveDays: 45 }`;
    expect(loadConfig({}, file('45')).decidePolicy.journeys?.[0]?.entry).toEqual({
      trigger: 'inactive',
      to: '45',
    });
    expect(configError({}, file('30')).problems.map((p) => p.path)).toEqual([`${at}/entry/to`]);
  });

  it('loads the complete example of docs/journeys.md', () => {
    const docs = readFileSync(new URL('../../docs/journeys.md', import.meta.url), 'utf8');
    const example = /```yaml\n(decide:\n[\s\S]*?)```/.exec(docs)?.[1];
    expect(example).toBeDefined();
    const journeys = loadConfig({}, example ?? '').decidePolicy.journeys ?? [];
    expect(journeys.map((j) => j.id)).toEqual([
      'welcome',
      'cart-recovery',
      'at-risk-rescue',
      'dormant-survey',
      'back-in-stock-follow-up',
    ]);
  });

  it('accepts a valid journey and keeps the decide defaults around it', () => {
    const config = loadConfig(
      {},
      `
decide:
  cart: { idleMinutes: 60 }
  journeys:
    - id: promo
      entry: { event: Trial Started }
      exitOn: [Order Completed]
      steps:
        - { id: hello, type: send, channels: [email, sms], template: promo-1 }
        - { id: later, type: wait, until: { event: Product Viewed, timeoutHours: 48 } }
        - { id: viewed, type: branch, if: { event: Product Viewed }, then: nudge, else: done }
        - { id: nudge, type: send, channels: [email], template: promo-2 }
        - { id: done, type: exit }
`,
    );
    expect(config.decidePolicy.cart.idleMinutes).toBe(60);
    expect(config.decidePolicy.cart.incentiveBands).toHaveLength(3);
    expect(config.decidePolicy.journeys?.[0]?.steps.map((s) => s.id)).toEqual([
      'hello',
      'later',
      'viewed',
      'nudge',
      'done',
    ]);
  });
});
