import { Kind, type TSchema } from '@sinclair/typebox';
import { configFields, devAdminToken, devWriteKey } from '../src/app/load-config.js';

/** A configuration file that sets a few of everything; the docs test checks that it loads. */
export const exampleConfigYaml = `# herald.config.yaml — every key is optional; the environment wins over the file.
http:
  # Another interface than loopback needs real write keys and an admin token (below, or in
  # HERALD_WRITE_KEYS / HERALD_ADMIN_TOKEN).
  host: 0.0.0.0
  port: 8080
admin:
  # Refused as it stands: put a long random token of your own here or in HERALD_ADMIN_TOKEN.
  token: change-me-to-a-long-random-token
database:
  sqliteSynchronous: full
ingest:
  writeKeys: [webshop=change-me-write-key-1]
  maxFutureHours: 48
log:
  level: warn
profile:
  sweepIntervalMinutes: 15
  vipLtv: 2500
  engagement:
    halfLifeDays: 45
    # A list replaces the default list: repeat the defaults you want to keep.
    openEvents: [Email Opened, Push Notification Opened, In-App Message Opened]
  churn:
    recencyCapDays: 120
  lifecycle:
    newDays: 14
    atRiskChurnRisk: 0.6
`;

/** A few words on each top-level section, shown above its table. */
const sectionIntros: Record<string, string> = {
  database:
    'Where Herald keeps events and profiles. Migrations are applied on start (and by `herald migrate`).',
  http: 'The HTTP API (`herald serve`, `npm start`).',
  ingest:
    'The tracking API (`/v1/identify|track|page|screen|group|alias|batch`) and `herald import`. See [api.md](api.md).',
  admin: 'The admin and profile API (`/v1/profiles/…`).',
  log: 'Logs are JSON lines (pino) on standard output.',
  profile:
    'The rules that keep every profile up to date; see [profiles.md](profiles.md) for what each number does.',
};

const code = (text: string): string => `\`${text}\``;

/** Table cells hold one line; a pipe would end the cell. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

const range = (schema: TSchema): string => {
  const min = schema['minimum'] as number | undefined;
  const max = schema['maximum'] as number | undefined;
  const above = schema['exclusiveMinimum'] as number | undefined;
  if (min !== undefined && max !== undefined) return `, ${min}–${max}`;
  if (min !== undefined) return `, ≥ ${min}`;
  if (above !== undefined) return `, > ${above}`;
  if (max !== undefined) return `, ≤ ${max}`;
  return '';
};

const typeOf = (schema: TSchema): string => {
  switch (schema[Kind]) {
    case 'Integer':
      return `integer${range(schema)}`;
    case 'Number':
      return `number${range(schema)}`;
    case 'Array': {
      const items = schema['items'] as TSchema;
      const item = typeOf(items);
      return item.includes('|') ? `list of (${item})` : `list of ${item.replace(/^(\w+)/, '$1s')}`;
    }
    case 'Boolean':
      return 'boolean';
    case 'Object':
      return 'object';
    case 'Union':
      return (schema['anyOf'] as TSchema[])
        .map((option) =>
          option[Kind] === 'Literal' ? code(String(option['const'])) : typeOf(option),
        )
        .join(' | ');
    default:
      return 'string';
  }
};

const defaultOf = (value: unknown): string => {
  if (Array.isArray(value))
    return value.length === 0
      ? '(none)'
      : value.map((v) => code(typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ');
  if (value === '') return '(empty)';
  if (value === undefined) return '—';
  return code(typeof value === 'string' ? value : JSON.stringify(value));
};

/** Display width as Prettier counts it: one column per code point for the text used here. */
const widthOf = (text: string): number => Array.from(text).length;

/** A Markdown table padded the way Prettier formats one, so `format:check` leaves it alone. */
const alignTable = (header: string[], rows: string[][]): string[] => {
  const widths = header.map((h, i) =>
    Math.max(3, widthOf(h), ...rows.map((r) => widthOf(r[i] ?? ''))),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - widthOf(c))).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
};

const table = (fields: ReturnType<typeof configFields>): string[] =>
  alignTable(
    ['Key', 'Environment', 'Type', 'Default', 'Secret', 'Description'],
    fields.map(({ path, schema }) =>
      [
        code(path.join('.')),
        schema.env === undefined ? '—' : code(schema.env),
        typeOf(schema),
        defaultOf(schema['default']),
        schema.secret === true ? 'yes' : '',
        schema.description ?? '',
      ].map(cell),
    ),
  );

/** Fields grouped by everything but the last part of their path, in schema order. */
const sectionsOf = (): Map<string, ReturnType<typeof configFields>> => {
  const sections = new Map<string, ReturnType<typeof configFields>>();
  for (const field of configFields()) {
    const name = field.path.slice(0, -1).join('.');
    const list = sections.get(name);
    if (list === undefined) sections.set(name, [field]);
    else list.push(field);
  }
  return sections;
};

const envFields = (): string[] =>
  configFields()
    .filter((f) => f.schema.env !== undefined)
    .map((f) => `${code(f.schema.env ?? '')} (${code(f.path.join('.'))})`);

/** `docs/configuration.md`, generated from the configuration schema; pure. */
export const renderConfigDocs = (): string => {
  const lines: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from src/app/config-schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Herald reads one configuration, checked against one schema (`src/app/config-schema.ts`). Every',
    'problem is reported at once when Herald starts — each with the field’s path and, when an',
    'environment variable set it, the variable’s name — and the command exits with code 78.',
    '',
    '## Where settings come from',
    '',
    'Later sources win:',
    '',
    '1. the defaults in the tables below;',
    '2. `herald.config.yaml` in the working directory, or the YAML file named by `HERALD_CONFIG`',
    '   (it is an error when `HERALD_CONFIG` names a file that does not exist; without',
    '   `HERALD_CONFIG`, a missing `herald.config.yaml` simply means "no file");',
    '3. the environment.',
    '',
    'The YAML key of a setting is its dotted path: `profile.engagement.halfLifeDays` is',
    '`halfLifeDays` under `engagement` under `profile`. A section left out of the file keeps all',
    'its defaults, and a key left out keeps its default; a list given in the file replaces the',
    'default list. Only the settings with an environment variable can be set from the environment:',
    '',
    ...envFields().map((f) => `- ${f}`),
    '',
    'In the environment a list is comma-separated (`HERALD_WRITE_KEYS=web=key-one,app=key-two`) and',
    'a number is written as digits. Environment variables Herald does not know are ignored.',
    '',
    'A variable that holds a secret (write keys, tokens, keys and passwords)',
    'and is set but empty, or only spaces — `HERALD_ADMIN_TOKEN=${ADMIN_TOKEN}` in a compose file',
    'or unit with `ADMIN_TOKEN` unset — counts as unset, with a warning at start: the file’s value',
    'applies, or the default. It never replaces the file’s token or keys with none, which on SQLite',
    'would bring in the public development ones. Any other variable set but empty is checked as',
    'its value: an empty `HERALD_PORT` is refused, and so is an empty `HERALD_DATABASE_URL`, which',
    'taken as unset would put the data in the default SQLite file instead of the real database.',
    '',
    '## Development defaults and production requirements',
    '',
    `On SQLite (the default, \`sqlite:./data/herald.db\`) Herald runs with no configuration at all:`,
    '',
    `- with no write keys it accepts the development write key ${code(devWriteKey)} (source \`dev\`)`,
    '  and logs a warning;',
    `- with no admin token the profile API accepts ${code(devAdminToken)}, with a warning.`,
    '',
    'On any database, a warning at start says when `HERALD_POSTAL_ADDRESS` is unset or',
    '`HERALD_PUBLIC_URL` is not https: until both are, CAN-SPAM blocks marketing email to US',
    'customers and to customers of no known country.',
    '',
    'On PostgreSQL, or listening beyond 127.0.0.1 (`HERALD_HOST`), neither default applies: at',
    'least one write key (`HERALD_WRITE_KEYS`) and an admin token of at least 16 characters',
    '(`HERALD_ADMIN_TOKEN`) are required, and Herald refuses to start without them. The example',
    'token below is refused everywhere.',
    '',
    'A write key is at least 8 characters, with no `:` (the SDKs send it as the HTTP Basic user,',
    'which ends at the first `:`). `name=key` names the source the key belongs to; a bare',
    'key gets a source name derived from its hash (`src-` and 10 hex digits). The source matters:',
    'events are de-duplicated by source and `messageId`.',
    '',
    'Settings marked secret hold credentials (a database URL may carry a password). Keep them in',
    'the environment rather than in a file under version control; Herald does not repeat their',
    'values in configuration errors, nor quote a config file that is not valid YAML (only the',
    'line and column of the fault). `decide.quietHours.defaultTimezone` must be a timezone the',
    'clock knows (an IANA name): an unknown one would be read as UTC. A key that is no setting is',
    'refused, named where it stands and with the setting its spelling is closest to',
    '(`decide.quietHours.endhour`: did you mean `endHour`?), as is a provider `rateLimits` does',
    'not know: ignored, a misspelt setting would leave its default in force without a word. A',
    '`HERALD_…` variable no setting reads (`HERALD_PROT`) is warned of at start, with the one its',
    'spelling is closest to. A section given as one value or as a list is refused (the value not',
    'quoted when a secret sits under it). Numbers from the environment are read in decimals',
    '(`0x10` is refused, not read as 16).',
    'Settings that contradict each other are refused too: `guard.discount.reviewFromPercent` above',
    '`blockAbovePercent`, `deliver.backoff.baseSeconds` above `maxSeconds`,',
    '`decide.segments.atRiskDays` not below `dormantDays`, `content.readingGrade` out of order, no',
    '`decide.cart.incentiveBands`, and a win-back wave on something that is no channel.',
    '',
    '## Node.js flags',
    '',
    '`npm start` runs the server with 64 MB semi-spaces (`--max-semi-space-size=64`, against',
    "Node's 16 MB): fewer garbage collections on the server's hot paths, for up to 96 MB more",
    'memory. Batch commands (`herald import`, `herald simulate`) run better without it',
    '([architecture.md](architecture.md#how-herald-runs) has the measurements). When you start',
    '`herald serve` or `herald worker` yourself, pass it the same way:',
    '',
    '```sh',
    'NODE_OPTIONS=--max-semi-space-size=64 npx herald serve',
    '```',
    '',
    '## Example',
    '',
    '```yaml',
    ...exampleConfigYaml.trimEnd().split('\n'),
    '```',
    '',
    'with the secrets in the environment (here taken from variables your secret store sets):',
    '',
    '```sh',
    'HERALD_DATABASE_URL=postgres://herald@db.internal:5432/herald \\',
    '  HERALD_WRITE_KEYS="web=$WEB_WRITE_KEY,backend=$BACKEND_WRITE_KEY" \\',
    '  HERALD_ADMIN_TOKEN="$ADMIN_TOKEN" \\',
    '  NODE_OPTIONS=--max-semi-space-size=64 npx herald serve',
    '```',
    '',
    '## Settings',
  ];
  for (const [name, fields] of sectionsOf()) {
    lines.push('', `### ${code(name)}`, '');
    const intro = sectionIntros[name];
    if (intro !== undefined) lines.push(intro, '');
    lines.push(...table(fields));
  }
  return `${lines.join('\n')}\n`;
};
