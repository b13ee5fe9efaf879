import { createHash } from 'node:crypto';
import { isSendGridPublicKey } from '../core/sendgrid-key.js';
import { parse as parseConnectionString } from 'pg-connection-string';
import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseDocument, type YAMLError } from 'yaml';
import { AUDIT_KEY_MIN_LENGTH, toAuditKey, type AuditKey } from '../core/audit.js';
import { AppError, type FieldProblem } from '../core/errors.js';
import { toSourceId, type SourceId } from '../core/ids.js';
import { HERALD_EVENTS, HERALD_SOURCE } from '../core/event-names.js';
import { HOUR_MS, isoTimeMs } from '../core/time.js';
import type { IngestLimits } from '../pipeline/ingest/index.js';
import type { ProfilePolicy } from '../pipeline/profile/index.js';
import type { GuardPolicy } from '../pipeline/guard/index.js';
import { rateLimitsOf, type DeliverPolicy } from '../pipeline/deliver/index.js';
import {
  checkJourneys,
  eventSpellingWarnings,
  type DecidePolicy,
  type JourneyDefinition,
} from '../pipeline/decide/index.js';
import { configFields, configSchema, MAX_TIMER_MS, type RawConfig } from './config-schema.js';
import {
  describeSchemaError,
  didYouMean,
  isMapping,
  notASetting,
} from './explain-config-errors.js';
import { isTimezone } from '../core/local-time.js';
import { countryCode } from '../core/country.js';

export type StorageConfig =
  | {
      driver: 'sqlite';
      file: string;
      synchronous: 'normal' | 'full';
      dedupWindow: number;
      profileCacheSize: number;
      profileFlushMs: number;
    }
  | { driver: 'postgres'; url: string; poolSize: number };

export interface Config {
  storage: StorageConfig;
  http: RawConfig['http'];
  /** Write key → source id. */
  writeKeys: ReadonlyMap<string, SourceId>;
  /** Sources whose events must vouch for the user ids they name (`ingest.verifiedSources`). */
  verifiedSources: ReadonlySet<SourceId>;
  adminToken: string;
  /** Bearer token → who holds it and their role (the admin token included). */
  tokens: ReadonlyMap<string, Principal>;
  rateLimitPerMinute: number;
  guardPolicy: GuardPolicy;
  reviewExpiryMs: number;
  messages: RawConfig['messages'];
  /** Seals new audit entries (`audit.key`); null when none is configured. */
  auditKey: AuditKey | null;
  deliverPolicy: DeliverPolicy;
  /** The language model (optional) and the brand voice generated copy is scored against. */
  content: RawConfig['content'];
  /** Provider settings and whether `serve` runs the dispatcher. */
  providers: Omit<RawConfig['deliver'], keyof DeliverPolicy>;
  ingestLimits: IngestLimits;
  logLevel: RawConfig['log']['level'];
  profilePolicy: ProfilePolicy;
  decidePolicy: DecidePolicy;
  /** The learning loop's schedule (`serve`). */
  retrain: { everyDays: number; holdoutDays: number };
  /** `serve` runs the scheduler worker in-process. */
  inProcessWorker: boolean;
  sweepIntervalMinutes: number;
  /** Things that work but that an operator should know (development defaults in use). */
  warnings: string[];
}

export type Role = 'admin' | 'marketer' | 'reviewer' | 'viewer';

export interface Principal {
  name: string;
  role: Role;
}

/** One `role:name:token` entry of `HERALD_API_TOKENS` (the token may hold colons). */
const tokenEntryOf = (entry: string) => {
  const [role = '', name = '', ...rest] = entry.split(':');
  return { role: role as Role, name, token: rest.join(':') };
};

const principalsOf = (adminToken: string, entries: readonly string[]): Map<string, Principal> => {
  const tokens = new Map<string, Principal>([[adminToken, { name: 'admin', role: 'admin' }]]);
  for (const entry of entries) {
    const { role, name, token } = tokenEntryOf(entry);
    tokens.set(token, { name, role });
  }
  return tokens;
};

export { configFields } from './config-schema.js';

export const devWriteKey = 'herald-dev-write-key';
export const devAdminToken = 'herald-dev-admin-token';
/** The admin token the configuration docs show as an example: never one to run with. */
export const EXAMPLE_ADMIN_TOKEN = 'change-me-to-a-long-random-token';

type Env = Readonly<Record<string, string | undefined>>;

const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i;

const fromEnv = (value: string, schema: TSchema): unknown => {
  if (schema[Kind] === 'Array')
    return value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
  if (schema[Kind] === 'Boolean')
    return value === 'true' || value === '1'
      ? true
      : value === 'false' || value === '0'
        ? false
        : value;
  // Written in decimals (an exponent allowed): `Number` would also read `0x10` as 16, `0b11`
  // as 3 and `Infinity`; those stay text, which the schema refuses, naming the variable.
  if (schema[Kind] === 'Integer' || schema[Kind] === 'Number')
    return DECIMAL.test(value) ? Number(value) : value;
  return value;
};

/** Variables named `HERALD_…` that are read elsewhere than by a setting (the config file's path). */
const OTHER_VARIABLES = new Set(['HERALD_CONFIG']);
/** … and those the tests and benchmarks read, which may sit in the same shell. */
const TOOLING_VARIABLE = /^HERALD_(?:TEST_|SHARED_DATA$|REQUIRE_POSTGRES$)/;

/**
 * A warning for each `HERALD_…` variable no setting reads: a misspelt one (`HERALD_PROT`) is
 * otherwise ignored without a word, where a misspelt key in the file is refused.
 */
const unknownVariables = (env: Env): string[] => {
  const known = configFields().flatMap((f) => (f.schema.env === undefined ? [] : [f.schema.env]));
  const settings = new Set(known);
  return Object.keys(env)
    .filter(
      (name) =>
        name.startsWith('HERALD_') &&
        !settings.has(name) &&
        !OTHER_VARIABLES.has(name) &&
        !TOOLING_VARIABLE.test(name),
    )
    .sort()
    .map((name) => `${name} is set, but no setting reads it: ignored${didYouMean(name, known)}`);
};

/**
 * Sets a variable's value at its setting's path — not when the file gives a section on that path
 * a value that is no mapping: that is refused as such, and a variable must not hide it by
 * writing a section of its own over it.
 */
const setPath = (target: Record<string, unknown>, path: string[], value: unknown): void => {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (child === undefined || child === null) node[key] = {};
    else if (!isMapping(child)) return;
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1) ?? ''] = value;
};

const sourceIdOf = (entry: string): [string, SourceId] => {
  const eq = entry.indexOf('=');
  if (eq > 0) return [entry.slice(eq + 1), toSourceId(entry.slice(0, eq))];
  return [
    entry,
    toSourceId(`src-${createHash('sha256').update(entry).digest('hex').slice(0, 10)}`),
  ];
};

/** Where a YAML problem is, never what: the lines around it may hold secrets. */
const atLineOf = (error: YAMLError): string => {
  const position = error.linePos?.[0];
  return position === undefined
    ? ''
    : ` at line ${String(position.line)}, column ${String(position.col)}`;
};

const parseFile = (fileText: string | null, problems: FieldProblem[]): Record<string, unknown> => {
  if (fileText === null) return {};
  // Silent: the yaml package otherwise prints its warnings (process.emitWarning) quoting the
  // source line — a secret's value — whatever Herald's log level.
  const doc = parseDocument(fileText, { logLevel: 'silent' });
  // A warning is refused too: an unknown tag (`!vault …`, another tool's) would otherwise be
  // dropped and its text taken as the value.
  // The first error only: those after it mostly follow from it.
  const faults = [
    ...doc.errors.slice(0, 1).map((e) => `the config file is not valid YAML${atLineOf(e)}`),
    ...doc.warnings.map((w) =>
      w.code === 'TAG_RESOLVE_FAILED'
        ? `the config file has a tag Herald does not know${atLineOf(w)} (write the value itself)`
        : `the config file has a YAML problem (${w.code})${atLineOf(w)}`,
    ),
  ];
  if (faults.length > 0) {
    problems.push(...faults.map((message) => ({ path: '/', message })));
    return {};
  }
  try {
    const parsed: unknown = doc.toJS();
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    problems.push({ path: '/', message: 'the config file must be a YAML mapping' });
  } catch {
    // An alias expanding past the package's limit, and the like; its message quotes the file.
    problems.push({ path: '/', message: 'the config file is not valid YAML' });
  }
  return {};
};

/**
 * Settings the schema does not have, each named where it stands (and with the setting its
 * spelling is closest to): a misspelt key (`endhour` for `endHour`) would otherwise leave the
 * default in force without a word. Walks plain objects and arrays of the schema, and the values
 * of a key-value map (a provider's rate limits) by the schema of the key they stand under; a
 * union or an object that states its own rule for other keys is left to it.
 */
const unknownSettings = (schema: TSchema, value: unknown, path: string): FieldProblem[] => {
  if (Array.isArray(value) && schema.type === 'array' && schema.items !== undefined)
    return value.flatMap((item, i) =>
      unknownSettings(schema.items as TSchema, item, `${path}/${String(i)}`),
    );
  if (isMapping(value) && schema.type === 'object' && schema.patternProperties !== undefined) {
    // A key no pattern takes is the map's own rule to report.
    const patterns = Object.entries(schema.patternProperties as Record<string, TSchema>);
    return Object.entries(value).flatMap(([key, child]) => {
      const taken = patterns.find(([pattern]) => new RegExp(pattern).test(key));
      return taken === undefined ? [] : unknownSettings(taken[1], child, `${path}/${key}`);
    });
  }
  // A list where a section is wanted: the defaults would make a mapping of it, and every
  // setting written in it (the journeys declared) would go unread without a word.
  if (Array.isArray(value) && schema.type === 'object')
    return [{ path: path === '' ? '/' : path, message: 'must be a mapping, not a list' }];
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    schema.type !== 'object' ||
    schema.properties === undefined ||
    schema.additionalProperties !== undefined ||
    schema.patternProperties !== undefined
  )
    return [];
  const properties = schema.properties as Record<string, TSchema>;
  return Object.entries(value).flatMap(([key, child]) => {
    const known = properties[key];
    if (known !== undefined) return unknownSettings(known, child, `${path}/${key}`);
    return [{ path: `${path}/${key}`, message: notASetting(key, Object.keys(properties)) }];
  });
};

/** Variables whose value is refused with a blank around it (`loadConfig` says why). */
const BLANK_REFUSED: ReadonlySet<string> = new Set(['HERALD_ADMIN_TOKEN', 'HERALD_DATABASE_URL']);

/**
 * Builds the configuration from a YAML file's text (or null) and the environment, which wins.
 * Pure; reports every problem at once as one `invalid-config` error.
 */
export const loadConfig = (env: Env, fileText: string | null): Config => {
  const problems: FieldProblem[] = [];
  const journeyWarnings: string[] = [];
  const raw = parseFile(fileText, problems);
  const emptySecrets: string[] = [];
  for (const { path, schema } of configFields()) {
    const value = schema.env === undefined ? undefined : env[schema.env];
    if (value === undefined) continue;
    // A secret's variable left empty (`HERALD_ADMIN_TOKEN=${ADMIN_TOKEN}` with ADMIN_TOKEN
    // unset, in a compose file or unit) is taken as unset: it would otherwise replace the
    // file's token or keys with none, and on SQLite bring in the public development ones. Not
    // the database's: an empty URL taken as unset would put the data in the default SQLite
    // file beside the real database, so it is refused as the value it is.
    if (schema.secret === true && schema.env !== 'HERALD_DATABASE_URL' && value.trim() === '') {
      if (schema.env !== undefined) emptySecrets.push(schema.env);
      continue;
    }
    // The admin token or database URL with a blank before or after it (`KEY="token "`, a copied
    // line end) is refused, naming the variable, never the value: a token kept so matched no
    // request (the header is read trimmed), and a URL so locked another file than SQLite
    // opened. Keys that sign (the link secret, the audit key) are taken as given: what they
    // signed before was signed with the blank.
    if (BLANK_REFUSED.has(schema.env ?? '') && value !== value.trim()) {
      problems.push({
        path: `/${path.join('/')}`,
        message: `${String(schema.env)} begins or ends with a blank (a space, tab or line break); remove it`,
      });
      continue;
    }
    setPath(raw, path, fromEnv(value, schema));
  }
  // Links must reach this Herald: left unset, the public URL is on the port it listens on, not
  // on 3000 whatever the port (every click and unsubscribe link was dead on another).
  const port = fieldOf(raw, 'http', 'port');
  if (
    fieldOf(raw, 'messages', 'publicUrl') === undefined &&
    typeof port === 'number' &&
    Number.isInteger(port) &&
    port > 0 &&
    port <= 65535
  )
    setPath(raw, ['messages', 'publicUrl'], `http://localhost:${String(port)}`);
  const withDefaults = Value.Default(configSchema, raw);
  for (const e of Value.Errors(configSchema, withDefaults))
    problems.push(...describeSchemaError(e));
  problems.push(...unknownSettings(configSchema, raw, ''));
  checkDeployment(withDefaults, problems);
  checkProviders(withDefaults, problems);
  checkTokens(withDefaults, problems);
  // The journeys the schema passed are checked further at once: a journey the schema faulted
  // stands aside (it may not have the shape the checks read), so no problem waits for the next
  // run to be told.
  const journeys = fieldOf(withDefaults, 'decide', 'journeys');
  if (Array.isArray(journeys) && !problems.some((p) => p.path === '/decide/journeys')) {
    const faulted = new Set(
      problems.flatMap((p) => /^\/decide\/journeys\/(\d+)(?:\/|$)/.exec(p.path)?.[1] ?? []),
    );
    const checked = journeys.map((journey, j): JourneyDefinition =>
      faulted.has(String(j))
        ? { id: `\u0000faulted-${String(j)}`, entry: { event: 'faulted' }, steps: [] }
        : (journey as JourneyDefinition),
    );
    // The days an `inactive` trigger carries are the win-back thresholds (a faulted one is
    // reported on its own).
    const winBack = fieldOf(withDefaults, 'decide', 'winBack');
    const inactiveDays = ['inactiveDays', 'dormantDays']
      .map((key) => (isMapping(winBack) ? winBack[key] : undefined))
      .filter((d): d is number => Number.isInteger(d));
    problems.push(...checkJourneys(checked, { inactiveDays }));
    journeyWarnings.push(...eventSpellingWarnings(checked));
  }
  if (problems.length > 0) throw invalidConfig(problems.map((p) => namingEnv(p, env)));
  const c = withDefaults as RawConfig;
  const url = c.database.url;
  const storage: StorageConfig = url.startsWith('sqlite:')
    ? {
        driver: 'sqlite',
        file: url.slice('sqlite:'.length),
        synchronous: c.database.sqliteSynchronous,
        dedupWindow: c.database.sqliteDedupWindow,
        profileCacheSize: c.database.sqliteProfileCache,
        profileFlushMs: c.database.sqliteProfileFlushMs,
      }
    : { driver: 'postgres', url, poolSize: c.database.poolSize };
  const earliest = isoTimeMs(c.ingest.earliestTimestamp);
  const warnings: string[] = [
    ...emptySecrets.map(
      (name) =>
        `${name} is set but empty: taken as unset (the file's value or the default applies)`,
    ),
    ...unknownVariables(env),
    ...journeyWarnings,
  ];
  let keys = c.ingest.writeKeys;
  let adminToken = c.admin.token;
  if (storage.driver === 'sqlite') {
    if (keys.length === 0) {
      keys = [`dev=${devWriteKey}`];
      warnings.push(
        `HERALD_WRITE_KEYS is not set: accepting the development write key "${devWriteKey}"`,
      );
    }
    if (adminToken === '') {
      adminToken = devAdminToken;
      warnings.push(`HERALD_ADMIN_TOKEN is not set: the admin API accepts "${devAdminToken}"`);
    }
  }
  // Not an error (a sender to the EU alone needs neither), but said at start: without them
  // every marketing email to the US, or to a customer of no known country, is blocked.
  const canSpam = [
    ...(c.messages.postalAddress.trim() === '' ? ['HERALD_POSTAL_ADDRESS is not set'] : []),
    ...(c.messages.publicUrl.startsWith('https://')
      ? []
      : [`HERALD_PUBLIC_URL (${c.messages.publicUrl}) is not https`]),
  ];
  if (canSpam.length > 0)
    warnings.push(
      `${canSpam.join(' and ')}: CAN-SPAM blocks marketing email to US customers and to customers of no known country (canspam_no_address, canspam_no_unsubscribe)`,
    );
  // A provider's settings without the credential that picks it: its channel stays on capture.
  const d = c.deliver;
  if (d.twilioAccountSid === '' && (d.twilioFrom !== '' || d.twilioMessagingServiceSid !== ''))
    warnings.push(
      `${d.twilioFrom === '' ? 'HERALD_TWILIO_MESSAGING_SERVICE_SID' : 'HERALD_TWILIO_FROM'} is set but HERALD_TWILIO_ACCOUNT_SID is not: SMS goes to the capture channel`,
    );
  if (d.whatsappAccessToken === '' && d.whatsappPhoneNumberId !== '')
    warnings.push(
      'HERALD_WHATSAPP_PHONE_NUMBER_ID is set but HERALD_WHATSAPP_ACCESS_TOKEN is not: WhatsApp goes to the capture channel',
    );
  if (d.smtpUrl !== '' && d.sendgridApiKey !== '')
    warnings.push(
      'HERALD_SENDGRID_API_KEY is set but so is HERALD_SMTP_URL, which wins: email goes to the SMTP relay',
    );
  const { sweepIntervalMinutes, ...profileSettings } = c.profile;
  // Herald's own complaint event always is one: it withdraws email consent and counts toward
  // the suppression, and a list written without it (or in another case) would stop that.
  const { complaintEvents } = profileSettings.engagement;
  const profilePolicy = {
    ...profileSettings,
    engagement: {
      ...profileSettings.engagement,
      complaintEvents: complaintEvents.includes(HERALD_EVENTS.emailComplained)
        ? complaintEvents
        : [HERALD_EVENTS.emailComplained, ...complaintEvents],
    },
    impliedConsentSources: c.guard.gdpr.impliedSources,
    defaultTimezone: c.decide.quietHours.defaultTimezone,
  };
  const { inProcessWorker, ...decidePolicy } = c.decide;
  const { reviewExpiryHours, ...guardPolicy } = c.guard;
  const {
    batchSize,
    concurrency,
    leaseSeconds,
    pollMs,
    timeoutSeconds,
    recheckAfterSeconds,
    maxLatenessHours,
    maxAttempts,
    backoff,
    circuit,
    rateLimits,
    attributionWindowDays,
    ...providers
  } = c.deliver;
  return {
    storage,
    http: c.http,
    writeKeys: new Map(keys.map(sourceIdOf)),
    verifiedSources: new Set(c.ingest.verifiedSources.map(toSourceId)),
    adminToken,
    tokens: principalsOf(adminToken, c.admin.tokens),
    rateLimitPerMinute: c.admin.rateLimitPerMinute,
    guardPolicy,
    reviewExpiryMs: reviewExpiryHours * HOUR_MS,
    messages: c.messages,
    auditKey: c.audit.key === '' ? null : toAuditKey(c.audit.key),
    deliverPolicy: {
      batchSize,
      concurrency,
      leaseSeconds,
      pollMs,
      timeoutSeconds,
      recheckAfterSeconds,
      maxLatenessHours,
      maxAttempts,
      backoff,
      circuit,
      rateLimits: rateLimitsOf(rateLimits),
      attributionWindowDays,
    },
    providers,
    content: c.content,
    ingestLimits: {
      maxEventBytes: c.ingest.maxEventBytes,
      maxBatchBytes: c.ingest.maxBatchBytes,
      maxFutureMs: c.ingest.maxFutureHours * HOUR_MS,
      earliestTimestampMs: earliest,
    },
    logLevel: c.log.level,
    profilePolicy,
    decidePolicy,
    retrain: { everyDays: c.predict.retrainEveryDays, holdoutDays: c.predict.holdoutDays },
    inProcessWorker,
    sweepIntervalMinutes,
    warnings,
  };
};

/** The problem with the environment variable named, when one set the field (or an item of it). */
const namingEnv = (problem: FieldProblem, env: Env): FieldProblem => {
  const name = configFields().find(
    (f) =>
      problem.path === `/${f.path.join('/')}` || problem.path.startsWith(`/${f.path.join('/')}/`),
  )?.schema.env;
  return name === undefined || env[name] === undefined || problem.message.includes(name)
    ? problem
    : { path: problem.path, message: `${problem.message} (${name})` };
};

/**
 * Each API token names one principal, and each principal one token: a token given twice would
 * let the later entry silently take the earlier's place (the admin's, even), and a name given
 * twice would share one rate-limit bucket. The tokens themselves are never repeated back.
 */
const checkTokens = (config: unknown, problems: FieldProblem[]): void => {
  const url = fieldOf(config, 'database', 'url');
  const given = fieldOf(config, 'admin', 'token');
  // On SQLite without one, the development token is the admin's.
  const admin =
    given === '' && typeof url === 'string' && url.startsWith('sqlite:') ? devAdminToken : given;
  const entries = fieldOf(config, 'admin', 'tokens');
  if (!Array.isArray(entries)) return;
  const tokens = new Set(typeof admin === 'string' && admin !== '' ? [admin] : []);
  const names = new Set(['admin']);
  entries.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') return;
    const { name, token } = tokenEntryOf(entry);
    const path = `/admin/tokens/${String(i)}`;
    if (tokens.has(token))
      problems.push({
        path,
        message: 'this token is already another principal’s (or the admin token)',
      });
    if (names.has(name))
      problems.push({
        path,
        message: `the name "${name}" is already taken${name === 'admin' ? ' (by the admin token)' : ''}`,
      });
    tokens.add(token);
    names.add(name);
  });
};

const fieldOf = (config: unknown, section: string, key: string): unknown => {
  const node = (config as Record<string, unknown>)[section];
  return typeof node === 'object' && node !== null
    ? (node as Record<string, unknown>)[key]
    : undefined;
};

/**
 * Rules across fields that the schema cannot state. Runs even when the schema found problems,
 * so every problem is reported at once; a field the schema already faulted is not faulted again.
 */
const checkDeployment = (config: unknown, problems: FieldProblem[]): void => {
  const faulted = new Set(problems.map((p) => p.path));
  const add = (path: string, message: string) => {
    if (!faulted.has(path)) problems.push({ path, message });
  };
  // Pairs that must come in order: the second would otherwise never apply, or contradict.
  const at = (...keys: string[]): unknown =>
    keys.reduce<unknown>(
      (node, key) =>
        typeof node === 'object' && node !== null
          ? (node as Record<string, unknown>)[key]
          : undefined,
      config,
    );
  const ordered = (low: string[], high: string[], strict: boolean) => {
    const a = at(...low);
    const b = at(...high);
    if (typeof a === 'number' && typeof b === 'number' && (strict ? a >= b : a > b))
      add(
        `/${low.join('/')}`,
        `must be ${strict ? 'below' : 'at most'} ${high.join('.')} (${String(b)})`,
      );
  };
  ordered(
    ['guard', 'discount', 'reviewFromPercent'],
    ['guard', 'discount', 'blockAbovePercent'],
    false,
  );
  ordered(['deliver', 'backoff', 'baseSeconds'], ['deliver', 'backoff', 'maxSeconds'], false);
  ordered(['decide', 'segments', 'atRiskDays'], ['decide', 'segments', 'dormantDays'], true);
  const grade = at('content', 'readingGrade');
  if (
    Array.isArray(grade) &&
    typeof grade[0] === 'number' &&
    typeof grade[1] === 'number' &&
    grade[0] > grade[1]
  )
    add('/content/readingGrade', 'must be [lowest, highest]: the first is above the second');
  // A timezone no clock knows would be read as UTC: quiet hours at the wrong hours for every
  // customer whose own timezone is not known.
  const zone = at('decide', 'quietHours', 'defaultTimezone');
  if (typeof zone === 'string' && !isTimezone(zone))
    add(
      '/decide/quietHours/defaultTimezone',
      `"${zone}" is not a timezone (an IANA name such as America/New_York)`,
    );
  // Customers' countries are read as upper-case alpha-2 codes and matched exactly: `de`, `DEU`
  // or `Germany` in the list would match no one, and GDPR would not apply to German customers.
  const gdprCountries = at('guard', 'gdpr', 'countries');
  if (Array.isArray(gdprCountries))
    gdprCountries.forEach((entry, i) => {
      if (typeof entry !== 'string' || entry === '') return;
      const code = countryCode(entry);
      if (code !== entry)
        add(
          `/guard/gdpr/countries/${String(i)}`,
          code === null
            ? `"${entry}" is not an ISO 3166-1 alpha-2 country code`
            : `"${entry}" must be written as its ISO 3166-1 alpha-2 code, ${code}`,
        );
    });
  // Polled with timers: a wait past the longest a timer takes would be run after 1 ms, a
  // busy loop (the policies' own schemas set only minima).
  for (const keys of [
    ['decide', 'worker', 'pollMs'],
    ['deliver', 'pollMs'],
  ]) {
    const ms = at(...keys);
    if (typeof ms === 'number' && ms > MAX_TIMER_MS)
      add(
        `/${keys.join('/')}`,
        `must be at most ${String(MAX_TIMER_MS)} (about 24.8 days, the longest wait a Node.js timer takes)`,
      );
  }
  const lease = fieldOf(config, 'deliver', 'leaseSeconds');
  const timeout = fieldOf(config, 'deliver', 'timeoutSeconds');
  if (typeof lease === 'number' && typeof timeout === 'number' && lease <= timeout)
    add(
      '/deliver/leaseSeconds',
      `must be longer than deliver.timeoutSeconds (${String(timeout)}): a claim must outlast an attempt`,
    );
  // A short key can be guessed, and then the seal proves nothing.
  const auditKey = fieldOf(config, 'audit', 'key');
  if (typeof auditKey === 'string' && auditKey !== '' && auditKey.length < AUDIT_KEY_MIN_LENGTH)
    add('/audit/key', `needs at least ${String(AUDIT_KEY_MIN_LENGTH)} characters`);
  const earliest = fieldOf(config, 'ingest', 'earliestTimestamp');
  // Read as ingest reads a timestamp (ISO-8601, a time without a zone in UTC): `Date.parse`
  // also took "1" (2001) and "March 7 2020" (in the server's zone).
  if (typeof earliest === 'string' && Number.isNaN(isoTimeMs(earliest)))
    add('/ingest/earliestTimestamp', 'is not an ISO-8601 date (e.g. 2020-01-01T00:00:00Z)');
  const keys = fieldOf(config, 'ingest', 'writeKeys');
  const entries = Array.isArray(keys) ? (keys as unknown[]) : [];
  const sources = new Set<string>();
  // A key given twice would name the source of its last entry alone: a public key also listed
  // for a server's source would no longer be held to its signatures. The keys are never repeated.
  const keyAt = new Map<string, number>();
  entries.forEach((entry, i) => {
    if (typeof entry !== 'string') return;
    const [key, source] = sourceIdOf(entry);
    if (key.length < 8)
      add(`/ingest/writeKeys/${i}`, 'the key after "name=" needs at least 8 characters');
    // The SDKs send the key as HTTP Basic's user, which ends at the first ':' (RFC 7617).
    if (key.includes(':'))
      add(
        `/ingest/writeKeys/${i}`,
        'a write key cannot contain ":" (the SDKs send it as the HTTP Basic user, which ends there)',
      );
    const earlier = keyAt.get(key);
    if (earlier === undefined) keyAt.set(key, i);
    else
      add(
        `/ingest/writeKeys/${String(i)}`,
        `this key is already given at /ingest/writeKeys/${String(earlier)}: each key names one source`,
      );
    sources.add(source);
    if (source === HERALD_SOURCE)
      add(
        `/ingest/writeKeys/${i}`,
        'the source name "herald" is Herald\'s own (the events it records about its messages): name the source otherwise',
      );
  });
  // Without write keys, SQLite's development key names the source "dev".
  if (entries.length === 0) sources.add('dev');
  const verified = fieldOf(config, 'ingest', 'verifiedSources');
  // The site's server signs with the link secret: one Herald made for itself it cannot know.
  if (Array.isArray(verified) && verified.length > 0 && !fieldOf(config, 'messages', 'linkSecret'))
    add(
      '/messages/linkSecret',
      "must be set (HERALD_LINK_SECRET) when ingest.verifiedSources is: the sites' servers sign user ids with it",
    );
  (Array.isArray(verified) ? (verified as unknown[]) : []).forEach((name, i) => {
    if (typeof name === 'string' && !sources.has(name))
      add(
        `/ingest/verifiedSources/${i}`,
        `no write key names the source "${name}" (ingest.writeKeys: ${[...sources].join(', ') || 'none'})`,
      );
  });
  const token = fieldOf(config, 'admin', 'token');
  const url = fieldOf(config, 'database', 'url');
  const host = fieldOf(config, 'http', 'host');
  const loopback = typeof host === 'string' && ['127.0.0.1', 'localhost', '::1'].includes(host);
  const postgres = typeof url === 'string' && /^postgres(ql)?:\/\//.test(url);
  // The connection string is parsed as the driver will: a port that is none, or no host after
  // the credentials, would otherwise pass for a database that is not there. Never quoted: it
  // may hold a password.
  if (postgres && !parsesAsPostgres(url))
    add(
      '/database/url',
      'is not a valid URL of the form postgres://user:password@host:port/database',
    );
  // The development key and token are published in the docs: only ever on SQLite listening on
  // a loopback address. Where Herald listens is not known when its setting is at fault (that is
  // reported on its own).
  const beyondLoopback =
    !postgres &&
    !loopback &&
    typeof host === 'string' &&
    !faulted.has('/http') &&
    !faulted.has('/http/host');
  const devKey = entries.some((e) => typeof e === 'string' && sourceIdOf(e)[0] === devWriteKey);
  const where = 'accepted only on SQLite listening on 127.0.0.1';
  if (beyondLoopback && (entries.length === 0 || devKey)) {
    add('/ingest/writeKeys', `set HERALD_WRITE_KEYS: the development key is ${where}`);
  }
  if (beyondLoopback && (token === '' || token === devAdminToken)) {
    add('/admin/token', `set HERALD_ADMIN_TOKEN: the development token is ${where}`);
  } else if (beyondLoopback && typeof token === 'string' && token.length < 16)
    add(
      '/admin/token',
      'needs at least 16 characters when Herald listens beyond 127.0.0.1 (HERALD_ADMIN_TOKEN)',
    );
  if (typeof token === 'string' && token === EXAMPLE_ADMIN_TOKEN)
    add('/admin/token', 'is the example from the docs: set a long random token of your own');
  if (postgres && devKey) add('/ingest/writeKeys', `the development key is ${where}`);
  if (postgres && token === devAdminToken) add('/admin/token', `the development token is ${where}`);
  if (!postgres) return;
  if (entries.length === 0)
    add('/ingest/writeKeys', 'is required with PostgreSQL (HERALD_WRITE_KEYS)');
  if (typeof token === 'string' && token.length < 16)
    add('/admin/token', 'needs at least 16 characters with PostgreSQL (HERALD_ADMIN_TOKEN)');
};

/**
 * Whether the PostgreSQL driver reads the URL, with the parser it uses: a socket URL with
 * credentials and no host (`postgres://u:p@/db?host=/run/postgresql`) is one `new URL` refuses.
 */
const parsesAsPostgres = (url: string): boolean => {
  try {
    parseConnectionString(url);
    return true;
  } catch {
    return false;
  }
};

/** The host a URL names ('' for none), or null when it does not parse. */
const hostOf = (url: string): string | null => {
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
};

/**
 * Provider settings that only work together: a provider is picked by its credential, and one
 * without the settings it sends with would fail every message (Twilio without a sender, every
 * command) long after start. A setting the schema faulted is neither faulted again nor held
 * against another; no value is repeated (most are secrets).
 */
const checkProviders = (config: unknown, problems: FieldProblem[]): void => {
  const faulted = new Set(problems.map((p) => p.path));
  const given = (key: string): boolean => {
    const value = fieldOf(config, 'deliver', key);
    return typeof value === 'string' && value.trim() !== '' && !faulted.has(`/deliver/${key}`);
  };
  const add = (key: string, message: string) => {
    const path = `/deliver/${key}`;
    if (!faulted.has(path)) problems.push({ path, message });
  };
  const twilio = 'deliver.twilioAccountSid (HERALD_TWILIO_ACCOUNT_SID)';
  if (given('twilioAccountSid') && !given('twilioAuthToken'))
    add(
      'twilioAuthToken',
      `must be set (HERALD_TWILIO_AUTH_TOKEN) when ${twilio} is: Twilio refuses every message without it`,
    );
  if (given('twilioAccountSid') && !given('twilioFrom') && !given('twilioMessagingServiceSid'))
    add(
      'twilioFrom',
      `must be set (HERALD_TWILIO_FROM), or deliver.twilioMessagingServiceSid (HERALD_TWILIO_MESSAGING_SERVICE_SID), when ${twilio} is: an SMS needs a sender`,
    );
  if (given('whatsappAccessToken') && !given('whatsappPhoneNumberId'))
    add(
      'whatsappPhoneNumberId',
      'must be set (HERALD_WHATSAPP_PHONE_NUMBER_ID) when deliver.whatsappAccessToken (HERALD_WHATSAPP_ACCESS_TOKEN) is: WhatsApp messages are sent from it',
    );
  // A campaign writer with no key to ask with would fall back to the composer on every launch,
  // each time after a refused call: said at start instead.
  const key = fieldOf(config, 'content', 'openaiApiKey');
  if (
    fieldOf(config, 'content', 'campaignWriter') === 'openai' &&
    !(typeof key === 'string' && key.trim() !== '') &&
    !faulted.has('/content/openaiApiKey') &&
    !faulted.has('/content/campaignWriter')
  )
    problems.push({
      path: '/content/openaiApiKey',
      message:
        'must be set (HERALD_OPENAI_API_KEY) when content.campaignWriter (HERALD_CAMPAIGN_WRITER) is openai: the model is asked with it',
    });
  // A hosted moderator with no key would block every piece of generated copy: said at start.
  if (
    fieldOf(config, 'content', 'moderator') === 'openai' &&
    !(typeof key === 'string' && key.trim() !== '') &&
    !faulted.has('/content/openaiApiKey') &&
    !faulted.has('/content/moderator') &&
    fieldOf(config, 'content', 'campaignWriter') !== 'openai'
  )
    problems.push({
      path: '/content/openaiApiKey',
      message:
        'must be set (HERALD_OPENAI_API_KEY) when content.moderator (HERALD_MODERATOR) is openai: the Moderations API is asked with it',
    });
  // Embeddings with no key to ask OpenAI's own API with would fall back on every retrieval. A
  // server of its own (the embeddings', or else the chat model's) may need none.
  const embeddingKey = fieldOf(config, 'content', 'embeddingApiKey');
  const isSet = (value: unknown) => typeof value === 'string' && value.trim() !== '';
  const embeddingBase = fieldOf(config, 'content', 'embeddingBaseUrl');
  const servedAt = isSet(embeddingBase)
    ? embeddingBase
    : fieldOf(config, 'content', 'openaiBaseUrl');
  const atOpenAi =
    typeof servedAt === 'string' && /^https?:\/\/api\.openai\.com(?:[:/]|$)/i.test(servedAt);
  if (
    isSet(fieldOf(config, 'content', 'embeddingModel')) &&
    !isSet(embeddingKey) &&
    !(isSet(key) && !isSet(embeddingBase)) &&
    atOpenAi &&
    !faulted.has('/content/embeddingApiKey') &&
    !faulted.has('/content/openaiApiKey')
  )
    problems.push({
      path: '/content/embeddingApiKey',
      message:
        "must be set (HERALD_EMBEDDING_API_KEY, or HERALD_OPENAI_API_KEY) when content.embeddingModel (HERALD_EMBEDDING_MODEL) is asked of OpenAI's API: name a server of your own with content.embeddingBaseUrl (HERALD_EMBEDDING_BASE_URL) to need none",
    });
  // A key that does not parse verifies no signature: every event SendGrid posts would be refused.
  const webhookKey = fieldOf(config, 'deliver', 'sendgridWebhookPublicKey');
  if (given('sendgridWebhookPublicKey') && !isSendGridPublicKey(String(webhookKey)))
    add(
      'sendgridWebhookPublicKey',
      "is not SendGrid's verification key, the base64 DER P-256 public key of its Mail Settings: no event it posts would verify",
    );
  // Parsed as the SMTP adapter will, before it must; never quoted: it may hold a password.
  const smtpUrl = fieldOf(config, 'deliver', 'smtpUrl');
  if (given('smtpUrl') && (hostOf(String(smtpUrl)) ?? '') === '')
    add('smtpUrl', 'is not a valid URL of the form smtp://[user:pass@]host[:port] or smtps://…');
};

/** The error of a configuration with these problems, each named at its path. */
export const invalidConfig = (problems: readonly FieldProblem[]): AppError =>
  new AppError(
    'invalid-config',
    `invalid configuration:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
    { problems },
  );
