// Deliver benchmark, in one process on the embedded default:
//   1. capture: N queued messages dispatched to the capture channel (kept in the database);
//   2. smtp: N queued messages dispatched over pooled SMTP to a local smtp-server on loopback;
//   3. latency: messages recorded one at a time by POST /v1/sends' path while the dispatcher
//      runs, from the commit to the hand-off to the adapter, p50/p99.
//   npm run bench:deliver [-- --messages N --pool N --only capture|smtp|latency]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { createServices, type Services } from '../src/app/create-services.js';
import { loadConfig } from '../src/app/load-config.js';
import type { HeraldEvent } from '../src/core/event.js';
import { toCustomerId, toMessageId, toSourceId } from '../src/core/ids.js';
import { sendNow } from '../src/pipeline/act-on-messages.js';
import { silentLogger } from '../src/ports/logger.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    pool: { type: 'string', default: '10' },
    only: { type: 'string' },
  },
});
const total = Number(args.messages);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

// The benchmark measures what the channels can do, not the default provider rate limits; and
// with no quiet hours, or between 21:00 and 08:00 UTC every queued email would be held.
const unlimited = `deliver:
  rateLimits:
    smtp: { perSecond: 1000000, perHour: null }
    capture: { perSecond: 1000000 }
decide:
  quietHours: { startHour: 0, endHour: 0 }
`;

const withServices = async <T>(env: Record<string, string>, work: (s: Services) => Promise<T>) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-deliver-bench-'));
  const services = await createServices(
    loadConfig(
      {
        HERALD_DATABASE_URL: `sqlite:${join(dir, 'herald.db')}`,
        HERALD_LOG_LEVEL: 'silent',
        // A sender as CAN-SPAM asks: customers of no known country are held to it.
        HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
        HERALD_PUBLIC_URL: 'https://herald.example.com',
        ...env,
      },
      unlimited,
    ),
    { logger: silentLogger },
  );
  try {
    return await work(services);
  } finally {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

const customers = async (s: Services, n: number) => {
  const t = s.clock.nowMs();
  for (let i = 0; i < n; i += 1000) {
    const batch: HeraldEvent[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j += 1)
      batch.push({
        messageId: toMessageId(`id-${j}`),
        sourceId: toSourceId('bench'),
        type: 'identify',
        userId: `u${j}`,
        anonymousId: null,
        previousId: null,
        groupId: null,
        name: null,
        properties: {},
        traits: { email: `u${j}@example.com`, firstName: `N${j}` },
        context: {},
        timestampMs: t,
        receivedAtMs: t,
      });
    await s.recorder.record(batch, t);
  }
};

const queueSends = async (s: Services, n: number) => {
  const t = s.clock.nowMs();
  for (let i = 0; i < n; i += 1)
    await sendNow(
      s.store,
      s.guard,
      {
        customerId: toCustomerId(`u${i}`),
        channel: 'email',
        template: 'welcome-1',
        data: {},
        by: 'bench',
        idempotencyKey: null,
      },
      () => s.ids.next(),
      t,
    );
};

const dispatchAll = async (s: Services, label: string) => {
  const started = performance.now();
  const sent = await s.dispatcher.runDue();
  const sec = (performance.now() - started) / 1000;
  console.log(
    `${label.padEnd(20)}${fmt(sent)} messages in ${sec.toFixed(2)} s: ${fmt(sent / sec)} messages/s`,
  );
};

const run = (part: string) => args.only === undefined || args.only === part;

if (run('capture'))
  await withServices({}, async (s) => {
    await customers(s, total);
    await queueSends(s, total);
    await dispatchAll(s, 'capture');
  });

if (run('smtp')) {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 50,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received += 1;
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await withServices(
    {
      HERALD_SMTP_URL: `smtp://127.0.0.1:${String(port)}`,
      HERALD_SMTP_POOL_SIZE: args.pool,
    },
    async (s) => {
      await customers(s, total);
      await queueSends(s, total);
      await dispatchAll(s, `smtp (pool ${args.pool})`);
    },
  );
  console.log(`                    the SMTP server received ${fmt(received)}`);
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

if (run('latency'))
  await withServices({}, async (s) => {
    const n = Math.min(total, 2000);
    await customers(s, n);
    const committed = new Map<string, number>();
    const lags: number[] = [];
    const capture = s.adapters.find((a) => a.channel === 'email');
    if (capture === undefined) throw new Error('no email adapter');
    const send = capture.send.bind(capture);
    capture.send = (delivery, signal) => {
      const at = committed.get(delivery.messageId);
      if (at !== undefined) lags.push(performance.now() - at);
      return send(delivery, signal);
    };
    s.dispatcher.start();
    for (let i = 0; i < n; i += 1) {
      const { answer } = await sendNow(
        s.store,
        s.guard,
        {
          customerId: toCustomerId(`u${i}`),
          channel: 'email',
          template: 'welcome-1',
          data: {},
          by: 'bench',
          idempotencyKey: null,
        },
        () => s.ids.next(),
        s.clock.nowMs(),
      );
      committed.set(answer.decisionId, performance.now());
      s.dispatcher.nudge();
      // One every 2 ms: a steady 500 messages/s, below any rate limit.
      await new Promise((r) => setTimeout(r, 2));
    }
    while (lags.length < n) await new Promise((r) => setTimeout(r, 20));
    lags.sort((a, b) => a - b);
    console.log(
      `latency             commit → hand-off over ${fmt(n)} messages at 500/s: p50 ${pct(lags, 0.5).toFixed(1)} ms, p99 ${pct(lags, 0.99).toFixed(1)} ms, max ${pct(lags, 1).toFixed(1)} ms`,
    );
  });
