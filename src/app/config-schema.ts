import { Kind, Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { decidePolicySchema } from '../pipeline/decide/index.js';
import { guardPolicySchema } from '../pipeline/guard/index.js';
import { deliverPolicySchema } from '../pipeline/deliver/index.js';
import { profilePolicySchema } from '../pipeline/profile/index.js';

/** Schema annotations: the environment variable that sets a field, and whether it is a secret. */
export interface FieldMeta {
  env?: string;
  secret?: boolean;
}

const field = <T extends TSchema>(schema: T, meta: FieldMeta): T => Object.assign(schema, meta);

/**
 * The longest wait (ms) a Node.js timer takes: a longer one is run after 1 ms instead, so a
 * longer interval would turn a periodic task into a busy loop.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** `MAX_TIMER_MS` in whole minutes. */
export const MAX_TIMER_MINUTES = Math.floor(MAX_TIMER_MS / 60_000);

/** An http(s) URL: a base Herald builds links or API calls on. */
const HTTP_URL = '^https?://[^\\s]+$';
const DATABASE_URL = '^(sqlite:.+|postgres(ql)?://.+)$';
const API_TOKEN = '^(admin|marketer|reviewer|viewer):[A-Za-z0-9_.@-]+:.{16,}$';
const SMTP_URL = '^(|smtps?://.+)$';

/** What each pattern of the schema asks for, in words: a configuration error says this. */
export const patternWords: ReadonlyMap<string, string> = new Map([
  [HTTP_URL, 'an http:// or https:// URL'],
  [DATABASE_URL, 'sqlite:PATH or postgres://user@host:port/db'],
  [
    API_TOKEN,
    'role:name:token — a role of admin, marketer, reviewer or viewer, a name of letters, digits and _ . @ -, and a token of at least 16 characters',
  ],
  [SMTP_URL, 'empty, or smtp://[user:pass@]host[:port] or smtps://…'],
]);

/** The one configuration schema: file (`herald.config.yaml`) and environment both feed it. */
export const configSchema = Type.Object(
  {
    database: Type.Object(
      {
        url: field(
          Type.String({
            default: 'sqlite:./data/herald.db',
            pattern: DATABASE_URL,
            description:
              "`sqlite:PATH` (embedded, the default) or `postgres://user@host:port/db`. On PostgreSQL Herald works in the first schema of the connection's search path that holds its tables, else the first that exists: `?options=-c%20search_path%3Dherald` keeps its tables in a schema of their own, beside other Herald schemas in the same database.",
          }),
          { env: 'HERALD_DATABASE_URL', secret: true },
        ),
        sqliteSynchronous: field(
          Type.Union([Type.Literal('normal'), Type.Literal('full')], {
            default: 'normal',
            description:
              'SQLite durability: `normal` keeps every acknowledged event through a process crash (WAL); `full` also through power loss, at a write-speed cost.',
          }),
          { env: 'HERALD_SQLITE_SYNCHRONOUS' },
        ),
        sqliteDedupWindow: field(
          Type.Integer({
            minimum: 1000,
            default: 2_000_000,
            description:
              'SQLite: a repeated messageId is recognised among at least this many of the latest messages (memory: up to twice as many, 21–43 bytes each, in hash tables outside the JavaScript heap). PostgreSQL checks all of history with a unique index.',
          }),
          { env: 'HERALD_SQLITE_DEDUP_WINDOW' },
        ),
        sqliteProfileCache: Type.Integer({
          minimum: 0,
          default: 20_000,
          description:
            'SQLite: profiles kept parsed in memory between batches (about 2 KB each). A changed profile that leaves this cache before its flush waits packed as UTF-8 outside the JavaScript heap (about 1 KB); a flush starts once five times this many changed profiles are pending, or once those waiting packed hold 32 MB.',
        }),
        sqliteProfileFlushMs: field(
          Type.Integer({
            minimum: 10,
            default: 5000,
            description:
              'SQLite: profiles are written behind their events at least this often (and whenever five times as many profiles changed as the profile cache holds, or those waiting packed hold 32 MB), 250 rows per transaction; after a crash the ones behind are rebuilt from their events at start. `herald import` writes them only at those limits and at its end.',
          }),
          { env: 'HERALD_SQLITE_PROFILE_FLUSH_MS' },
        ),
        poolSize: field(
          Type.Integer({
            minimum: 1,
            maximum: 500,
            default: 10,
            description: 'PostgreSQL connections per process.',
          }),
          { env: 'HERALD_PG_POOL_SIZE' },
        ),
      },
      { default: {} },
    ),
    http: Type.Object(
      {
        port: field(
          Type.Integer({
            minimum: 0,
            maximum: 65535,
            default: 3000,
            description: 'HTTP port (0 picks a free one).',
          }),
          {
            env: 'HERALD_PORT',
          },
        ),
        host: field(
          Type.String({
            default: '127.0.0.1',
            minLength: 1,
            description:
              'Interface to listen on; `0.0.0.0` to accept connections from other hosts.',
          }),
          { env: 'HERALD_HOST' },
        ),
      },
      { default: {} },
    ),
    ingest: Type.Object(
      {
        writeKeys: field(
          Type.Array(Type.String({ minLength: 8 }), {
            default: [],
            description:
              'Source write keys (comma-separated in the environment). `name=key` names the source (not `herald`, the name of the events Herald records itself); a bare key gets a name derived from its hash. Empty on SQLite: the development key `herald-dev-write-key` is accepted, with a warning; required on PostgreSQL.',
          }),
          { env: 'HERALD_WRITE_KEYS', secret: true },
        ),
        verifiedSources: field(
          Type.Array(Type.String({ minLength: 1 }), {
            default: [],
            description:
              'Sources (by their `name=` in `ingest.writeKeys`) whose write key is public, as a browser or app key is: an event from one that names a `userId` needs `context.userSignature`, the hex HMAC-SHA-256 of `user:` and the user id with `messages.linkSecret` (which must then be set), computed by the site\'s server; one without it, or with another, is rejected, and `alias` is not accepted from them. Without this, anyone holding a public key can set any user\'s email, consent or orders (api.md, "Verified sources").',
          }),
          { env: 'HERALD_VERIFIED_SOURCES' },
        ),
        maxEventBytes: Type.Integer({
          minimum: 1024,
          default: 32 * 1024,
          description: 'Largest accepted event (Segment: 32 KB).',
        }),
        maxBatchBytes: Type.Integer({
          minimum: 1024,
          default: 500 * 1024,
          description: 'Largest accepted request body after decompression (Segment: 500 KB).',
        }),
        maxFutureHours: Type.Number({
          minimum: 0,
          default: 24,
          description:
            'Corrected timestamps further ahead of the server clock than this are rejected.',
        }),
        earliestTimestamp: Type.String({
          default: '1970-01-01T00:00:00Z',
          description:
            'Timestamps before this instant (ISO-8601; one without a zone is UTC) are rejected.',
        }),
      },
      { default: {} },
    ),
    admin: Type.Object(
      {
        token: field(
          Type.String({
            default: '',
            description:
              'Bearer token for the admin and profile API. Empty on SQLite: `herald-dev-admin-token`, with a warning; required (≥ 16 characters) on PostgreSQL.',
          }),
          { env: 'HERALD_ADMIN_TOKEN', secret: true },
        ),
        tokens: field(
          Type.Array(Type.String({ pattern: API_TOKEN }), {
            default: [],
            description:
              'More API tokens, each `role:name:token` (comma-separated in the environment). Roles: `viewer` reads; `reviewer` also acts on the review queue; `marketer` also sends, runs campaigns and trains models; `admin` may do everything, including data-subject requests and the audit export. The admin token has the admin role (and the name `admin`). Each token and each name may appear once.',
          }),
          { env: 'HERALD_API_TOKENS', secret: true },
        ),
        rateLimitPerMinute: field(
          Type.Integer({
            minimum: 0,
            maximum: 100_000,
            default: 600,
            description:
              'Requests allowed to each admin API token in any 60 seconds (per process); more get 429 with Retry-After (when the oldest of them leaves the minute). 0 turns the limit off. Write keys are not limited: the tracking API is bounded by its body limits.',
          }),
          { env: 'HERALD_RATE_LIMIT_PER_MINUTE' },
        ),
      },
      { default: {} },
    ),
    log: Type.Object(
      {
        level: field(
          Type.Union(
            ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) =>
              Type.Literal(l),
            ),
            {
              default: 'info',
              description: 'Log level.',
            },
          ),
          { env: 'HERALD_LOG_LEVEL' },
        ),
      },
      { default: {} },
    ),
    profile: Type.Composite(
      [
        profilePolicySchema,
        Type.Object({
          sweepIntervalMinutes: field(
            Type.Number({
              minimum: 0,
              maximum: MAX_TIMER_MINUTES,
              default: 60,
              description: `How often \`serve\` re-derives every profile so time-based figures (recency, lifecycle, engagement decay) move on without new events; 0 turns it off. At most ${String(MAX_TIMER_MINUTES)} (about 24.8 days, the longest wait a Node.js timer takes). The next sweep is timed from the end of the one before, so two never run at once.`,
            }),
            { env: 'HERALD_SWEEP_INTERVAL_MINUTES' },
          ),
        }),
      ],
      { default: {} },
    ),
    predict: Type.Object(
      {
        retrainEveryDays: field(
          Type.Integer({
            minimum: 0,
            default: 7,
            description:
              '`serve` trains the CLV and churn models this often (the learning loop), and a day after a run refused for lack of data; 0 turns the schedule off (`herald models train` still works).',
          }),
          { env: 'HERALD_RETRAIN_EVERY_DAYS' },
        ),
        holdoutDays: Type.Integer({
          minimum: 0,
          default: 28,
          description: 'Days before each scheduled run held out to measure its forecast.',
        }),
      },
      { default: {} },
    ),
    guard: Type.Composite(
      [
        guardPolicySchema,
        Type.Object({
          reviewExpiryHours: Type.Number({
            exclusiveMinimum: 0,
            default: 48,
            description:
              'A message waiting in the review queue longer than this expires (it is not sent).',
          }),
        }),
      ],
      { default: {} },
    ),
    audit: Type.Object(
      {
        key: field(
          Type.String({
            default: '',
            description:
              'A secret of at least 32 characters, kept outside the database (the environment, a secret store), that seals every new audit entry: its hash becomes `k1:` and an HMAC-SHA-256 under this key, so someone who can insert rows but does not hold the key cannot append an entry `herald audit verify` accepts after sealed ones. Every Herald process that writes needs the same key; `audit verify` without it does not pass a chain with sealed entries. Changing it is not supported: entries sealed with the old key then fail to verify. Empty: entries are plain SHA-256 (guardrails.md, "The audit log").',
          }),
          { env: 'HERALD_AUDIT_KEY', secret: true },
        ),
      },
      { default: {} },
    ),
    messages: Type.Object(
      {
        brandName: field(
          Type.String({
            default: 'Herald Store',
            minLength: 1,
            description: 'The brand that signs messages.',
          }),
          {
            env: 'HERALD_BRAND_NAME',
          },
        ),
        from: field(
          Type.String({
            default: 'Herald Store <marketing@example.com>',
            minLength: 3,
            description:
              'The From of every email; its domain is the sending domain whose reputation is watched.',
          }),
          { env: 'HERALD_EMAIL_FROM' },
        ),
        replyTo: field(
          Type.String({
            default: '',
            description: 'Reply-To of every email (empty: none, replies go to From).',
          }),
          {
            env: 'HERALD_EMAIL_REPLY_TO',
          },
        ),
        postalAddress: field(
          Type.String({
            default: '',
            description:
              'The physical postal address in every marketing email’s footer. CAN-SPAM requires it: without it, marketing email to US customers, and to customers of no known country, is blocked.',
          }),
          { env: 'HERALD_POSTAL_ADDRESS' },
        ),
        publicUrl: field(
          Type.String({
            default: 'http://localhost:3000',
            pattern: HTTP_URL,
            description:
              'Base of tracking and unsubscribe links, as customers reach Herald; unset, `http://localhost:` and `http.port`. CAN-SPAM needs a working (https) unsubscribe link for marketing email to US customers and to customers of no known country.',
          }),
          { env: 'HERALD_PUBLIC_URL' },
        ),
        shopUrl: field(
          Type.String({
            default: 'https://shop.example.com',
            pattern: HTTP_URL,
            description: 'Where calls to action point (`{{ links.shop }}`, `{{ links.cart }}`).',
          }),
          { env: 'HERALD_SHOP_URL' },
        ),
        linkSecret: field(
          Type.String({
            default: '',
            description:
              "Signs unsubscribe and tracking links, and is the key sites' servers sign user ids with (`/v1/personalize`, verified sources; api.md): whoever holds it can also sign links, so keep it on servers. Empty: a random secret is made once and kept in the database; set later, links signed with that kept one are still accepted (mail already sent still unsubscribes), but a configured secret changed for another invalidates the links signed with the first.",
          }),
          { env: 'HERALD_LINK_SECRET', secret: true },
        ),
        templatesDir: field(
          Type.String({
            default: '',
            description:
              'A directory of templates (`NAME.yaml`: class, topic, subject, preheader, text, and html or mjml — compiled at start-up) that add to or replace the built-in ones by name; see docs/templates.md.',
          }),
          { env: 'HERALD_TEMPLATES_DIR' },
        ),
      },
      { default: {} },
    ),
    deliver: Type.Composite(
      [
        deliverPolicySchema,
        Type.Object({
          inProcessDispatcher: field(
            Type.Boolean({
              default: true,
              description:
                '`serve` also runs the dispatcher (the outbox to the providers); set false when separate `herald worker` processes do.',
            }),
            { env: 'HERALD_IN_PROCESS_DISPATCHER' },
          ),
          smtpUrl: field(
            Type.String({
              default: '',
              pattern: SMTP_URL,
              description:
                '`smtp://[user:pass@]host[:port]` or `smtps://…`: email goes to this relay (pooled). Empty: email goes to SendGrid when its key is set, else to the capture channel.',
            }),
            { env: 'HERALD_SMTP_URL', secret: true },
          ),
          smtpPoolSize: field(
            Type.Integer({
              minimum: 1,
              maximum: 100,
              default: 10,
              description:
                'SMTP connections kept open (10 sends about 1,600 messages/s to a relay on the same machine; see bench/README.md).',
            }),
            { env: 'HERALD_SMTP_POOL_SIZE' },
          ),
          sendgridApiKey: field(
            Type.String({
              default: '',
              description: 'SendGrid v3 API key: email goes to SendGrid (unless `smtpUrl` is set).',
            }),
            {
              env: 'HERALD_SENDGRID_API_KEY',
              secret: true,
            },
          ),
          sendgridBaseUrl: field(
            Type.String({
              default: 'https://api.sendgrid.com',
              pattern: HTTP_URL,
              description: 'SendGrid API base (a proxy, or a local server in tests).',
            }),
            {
              env: 'HERALD_SENDGRID_BASE_URL',
            },
          ),
          sendgridWebhookPublicKey: field(
            Type.String({
              default: '',
              description:
                'The Signed Event Webhook verification key (base64 DER) from SendGrid’s settings; `POST /webhooks/sendgrid` refuses events without a valid signature, and is off while this is empty.',
            }),
            { env: 'HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY' },
          ),
          twilioAccountSid: field(
            Type.String({
              default: '',
              description:
                'Twilio Account SID: SMS goes to Twilio. Empty: SMS goes to the capture channel.',
            }),
            {
              env: 'HERALD_TWILIO_ACCOUNT_SID',
            },
          ),
          twilioAuthToken: field(
            Type.String({
              default: '',
              description: 'Twilio auth token (API calls and `X-Twilio-Signature` checks).',
            }),
            {
              env: 'HERALD_TWILIO_AUTH_TOKEN',
              secret: true,
            },
          ),
          twilioFrom: field(
            Type.String({
              default: '',
              description: 'The sending number (E.164), unless a Messaging Service is set.',
            }),
            {
              env: 'HERALD_TWILIO_FROM',
            },
          ),
          twilioMessagingServiceSid: field(
            Type.String({
              default: '',
              description: 'A Twilio Messaging Service to send through.',
            }),
            {
              env: 'HERALD_TWILIO_MESSAGING_SERVICE_SID',
            },
          ),
          twilioBaseUrl: field(
            Type.String({
              default: 'https://api.twilio.com',
              pattern: HTTP_URL,
              description: 'Twilio API base.',
            }),
            {
              env: 'HERALD_TWILIO_BASE_URL',
            },
          ),
          whatsappAccessToken: field(
            Type.String({
              default: '',
              description:
                'WhatsApp Business Cloud API access token: WhatsApp goes to Meta. Empty: capture.',
            }),
            {
              env: 'HERALD_WHATSAPP_ACCESS_TOKEN',
              secret: true,
            },
          ),
          whatsappPhoneNumberId: field(
            Type.String({ default: '', description: 'The WhatsApp Business phone number id.' }),
            {
              env: 'HERALD_WHATSAPP_PHONE_NUMBER_ID',
            },
          ),
          whatsappAppSecret: field(
            Type.String({
              default: '',
              description:
                'The Meta app’s App Secret: `POST /webhooks/whatsapp` takes the Cloud API’s status webhooks only with a valid `X-Hub-Signature-256` under it, and is off while this is empty.',
            }),
            { env: 'HERALD_WHATSAPP_APP_SECRET', secret: true },
          ),
          whatsappVerifyToken: field(
            Type.String({
              default: '',
              description:
                'The Verify Token entered with the callback URL in the Meta app’s webhook settings: `GET /webhooks/whatsapp` answers Meta’s check with it. Empty: the check is refused.',
            }),
            { env: 'HERALD_WHATSAPP_VERIFY_TOKEN', secret: true },
          ),
          whatsappBaseUrl: field(
            Type.String({
              default: 'https://graph.facebook.com',
              pattern: HTTP_URL,
              description: 'Graph API base.',
            }),
            {
              env: 'HERALD_WHATSAPP_BASE_URL',
            },
          ),
          fcmServiceAccountFile: field(
            Type.String({
              default: '',
              description:
                'A Firebase service-account JSON file: push goes to FCM HTTP v1 (its OAuth token is signed locally). Empty: capture.',
            }),
            { env: 'HERALD_FCM_SERVICE_ACCOUNT_FILE' },
          ),
          fcmBaseUrl: field(
            Type.String({
              default: 'https://fcm.googleapis.com',
              pattern: HTTP_URL,
              description: 'FCM API base.',
            }),
            {
              env: 'HERALD_FCM_BASE_URL',
            },
          ),
        }),
      ],
      { default: {} },
    ),
    content: Type.Object(
      {
        openaiApiKey: field(
          Type.String({
            default: '',
            description:
              'An OpenAI (or compatible) API key: `herald personalize --model openai` asks the model for variants, and so do creative campaigns with `content.campaignWriter: openai`; the offline composer stays the fallback. Empty: the composer writes everything.',
          }),
          { env: 'HERALD_OPENAI_API_KEY', secret: true },
        ),
        openaiBaseUrl: field(
          Type.String({
            default: 'https://api.openai.com/v1',
            pattern: HTTP_URL,
            description: 'Any server speaking the chat-completions API.',
          }),
          { env: 'HERALD_OPENAI_BASE_URL' },
        ),
        openaiModel: field(Type.String({ default: 'gpt-4o-mini', description: 'The model.' }), {
          env: 'HERALD_OPENAI_MODEL',
        }),
        campaignWriter: field(
          Type.Union([Type.Literal('composer'), Type.Literal('openai')], {
            default: 'composer',
            description:
              'Who writes a creative campaign’s variants (`POST /v1/campaigns`, `herald campaigns send`): `composer`, the offline composer; `openai`, the configured model (needs `content.openaiApiKey`), with the composer’s grounded copy standing in for any variant the model gets wrong and for all of them when it cannot answer. Its tokens and cost are recorded in the campaign’s audit entry.',
          }),
          { env: 'HERALD_CAMPAIGN_WRITER' },
        ),
        moderator: field(
          Type.Union([Type.Literal('local'), Type.Literal('openai')], {
            default: 'local',
            description:
              'What screens generated copy for hate, violence, self-harm and sexual content: `local`, the built-in lexicon (no network; it finds only the phrases it lists); `openai`, the Moderations API at `content.openaiBaseUrl` with `content.openaiApiKey` (model `omni-moderation-latest`), waited for up to `content.timeoutSeconds`. Either way a screen that fails or times out blocks the copy.',
          }),
          { env: 'HERALD_MODERATOR' },
        ),
        pricePer1kInputUsd: Type.Number({
          minimum: 0,
          default: 0.00015,
          description: 'For cost accounting: USD per 1,000 prompt tokens (set your model’s price).',
        }),
        pricePer1kOutputUsd: Type.Number({
          minimum: 0,
          default: 0.0006,
          description: 'USD per 1,000 completion tokens.',
        }),
        timeoutSeconds: Type.Number({
          exclusiveMinimum: 0,
          default: 20,
          description: 'Per model call.',
        }),
        temperature: Type.Number({
          minimum: 0,
          maximum: 2,
          default: 0.7,
          description:
            'The model’s sampling temperature (0–2): lower writes steadier copy. Copy cached for one temperature is not served for another.',
        }),
        maxRetries: Type.Integer({
          minimum: 0,
          maximum: 10,
          default: 3,
          description:
            'Further attempts after a timeout, a connection failure, a 408, 429 or 5xx (a malformed reply is not retried).',
        }),
        voiceWords: Type.Array(Type.String({ minLength: 1 }), {
          default: ['you', 'your', 'we', 'together', 'enjoy', 'discover'],
          description: 'Words of the brand’s voice: brand consistency credits them.',
        }),
        readingGrade: Type.Tuple([Type.Number(), Type.Number()], {
          default: [6, 10],
          description: 'The Flesch–Kincaid grades copy should fall within.',
        }),
        embeddingModel: field(
          Type.String({
            default: '',
            description:
              'An embedding model (`text-embedding-3-small`, or any a compatible server offers) for hybrid retrieval: documents alike in meaning to a segment’s or campaign’s query are retrieved besides those sharing its words, the two rankings fused (content.md, "Vector search"). If the model cannot answer, BM25 retrieves alone, and the result says why. Empty: BM25 alone.',
          }),
          { env: 'HERALD_EMBEDDING_MODEL' },
        ),
        embeddingBaseUrl: field(
          Type.String({
            default: '',
            pattern: `^$|${HTTP_URL}`,
            description:
              'Any server speaking the embeddings API (a local one: Ollama, vLLM, text-embeddings-inference…). Empty: `content.openaiBaseUrl`.',
          }),
          { env: 'HERALD_EMBEDDING_BASE_URL' },
        ),
        embeddingApiKey: field(
          Type.String({
            default: '',
            description:
              'The key for the embeddings server. Empty: `content.openaiApiKey` when `content.embeddingBaseUrl` is empty (the same server), else none — OpenAI’s key is never sent to another server.',
          }),
          { env: 'HERALD_EMBEDDING_API_KEY', secret: true },
        ),
        embeddingDimensions: Type.Integer({
          minimum: 0,
          default: 0,
          description:
            'Vector length to ask for, of models that can shorten theirs (`text-embedding-3-*`). 0: the model’s own.',
        }),
        minSimilarity: Type.Number({
          minimum: -1,
          maximum: 1,
          default: 0.35,
          description:
            'Hybrid retrieval’s threshold: a document retrieved for its meaning alone must have a passage at least this alike (cosine similarity) to the query. Scales differ between models: tune it on your library with `herald personalize`, which prints the ten documents most alike to each segment’s query with their similarity.',
        }),
        learnedTrafficWeight: Type.Number({
          minimum: 1,
          maximum: 10,
          default: 2,
          description:
            'Shares of a creative campaign’s traffic a variant gets, for each share of the others, when its strategy won for the segment and channel before (the promoted strategy, and those whose lift was significantly positive): what was learned is sent more while the rest is still tested. 1: equal shares (content.md, "Creative campaigns").',
        }),
        minRelativeScore: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.1,
          description:
            'Retrieval’s relevance threshold: a document is a source for a segment’s copy only when it scores at least this share of the best match (BM25 scores have no fixed scale). 0 keeps every match (content.md, "Retrieval").',
        }),
      },
      { default: {} },
    ),
    decide: Type.Composite(
      [
        decidePolicySchema,
        Type.Object({
          inProcessWorker: field(
            Type.Boolean({
              default: true,
              description:
                '`serve` also runs the scheduler worker (due journey steps, timers, the daily sweep); set false when separate `herald worker` processes do.',
            }),
            { env: 'HERALD_IN_PROCESS_WORKER' },
          ),
        }),
      ],
      { default: {} },
    ),
  },
  { default: {} },
);

export type RawConfig = Static<typeof configSchema>;

/** Every schema leaf with its dotted path, for env mapping and the generated docs. */
export const configFields = (
  schema: TSchema = configSchema,
  path: string[] = [],
): { path: string[]; schema: TSchema & FieldMeta }[] => {
  if (schema[Kind] === 'Object') {
    return Object.entries((schema as TObject).properties).flatMap(([key, child]) =>
      configFields(child, [...path, key]),
    );
  }
  return [{ path, schema: schema }];
};
