// Guard and record benchmark, in one process on the embedded default:
//   1. in process: render + every guardrail for one decision, p50/p99 per decision;
//   2. stored: decisions guarded and recorded (decision, message, audit entry) on SQLite,
//      2,000 per transaction as the scheduler batches them;
//   3. `herald audit verify` over the chain, grown to --audit entries.
//   Audit entries are sealed with an audit key (HMAC-SHA-256), as HERALD_AUDIT_KEY has them;
//   `--audit-key=` (empty) writes and verifies them plain (SHA-256).
//   npm run bench:guard [-- --decisions N --audit N --audit-key KEY]
// runs it with the young generation `npm start` gives the server (bench/node-line.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { createVirtualClock } from '../src/adapters/clock/virtual-clock.js';
import { createSqliteStore } from '../src/adapters/storage/sqlite/create-sqlite-store.js';
import { createServices } from '../src/app/create-services.js';
import { loadConfig } from '../src/app/load-config.js';
import type { Decision } from '../src/core/decision.js';
import type { HeraldEvent } from '../src/core/event.js';
import { toCustomerId, toMessageId, toSourceId, type CustomerId } from '../src/core/ids.js';
import type { ProfileState } from '../src/core/profile.js';
import { DAY_MS, HOUR_MS } from '../src/core/time.js';
import {
  guardAndRecord,
  judgeDecision,
  loadGuardBatchState,
} from '../src/pipeline/guard-and-record.js';
import { applyEvent, emptyProfile, profilePolicySchema } from '../src/pipeline/profile/index.js';
import { appendAudit, decisionAuditData } from '../src/pipeline/record/index.js';
import { silentLogger } from '../src/ports/logger.js';
import { nodeLine } from './node-line.js';

const { values: args } = parseArgs({
  options: {
    decisions: { type: 'string', default: '100000' },
    audit: { type: 'string', default: '1000000' },
    only: { type: 'string', description: 'latency, stored or audit' },
    'audit-key': { type: 'string', default: 'herald-bench-audit-key-0123456789abcdef' },
  },
});
const total = Number(args.decisions);
console.log(nodeLine());
const auditTarget = Number(args.audit);
const T0 = Date.UTC(2026, 5, 3, 12);
const BATCH = 2000;
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const dir = mkdtempSync(join(tmpdir(), 'herald-guard-bench-'));
try {
  const file = join(dir, 'herald.db');
  const config = loadConfig(
    {
      HERALD_DATABASE_URL: `sqlite:${file}`,
      HERALD_LOG_LEVEL: 'silent',
      HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
      HERALD_PUBLIC_URL: 'https://herald.example.com',
      HERALD_AUDIT_KEY: args['audit-key'],
    },
    null,
  );
  const clock = createVirtualClock(T0);
  const services = await createServices(config, {
    clock,
    logger: silentLogger,
    store: await createSqliteStore({ file, synchronous: 'normal', auditKey: config.auditKey }),
  });
  const { store, guard } = services;

  // Customers across jurisdictions: US (CAN-SPAM), DE (GDPR consent), GB, with names.
  const profilePolicy = Value.Default(profilePolicySchema, {}) as never;
  const countries = ['US', 'DE', 'GB', 'FR', 'US'];
  let seq = 0;
  const profileOf = (i: number): ProfileState => {
    const userId = `c-${i}`;
    const e: HeraldEvent = {
      messageId: toMessageId(`b-${(seq += 1)}`),
      sourceId: toSourceId('web'),
      type: 'identify',
      userId,
      anonymousId: null,
      previousId: null,
      groupId: null,
      name: null,
      properties: {},
      traits: {
        email: `${userId}@example.com`,
        firstName: `Name${i}`,
        consent: { email: { marketing: true } },
      },
      context: { location: { country: countries[i % countries.length] } },
      timestampMs: T0 - 30 * DAY_MS,
      receivedAtMs: T0 - 30 * DAY_MS,
    };
    return applyEvent(
      emptyProfile(toCustomerId(userId), T0 - 30 * DAY_MS),
      e,
      { repeatOrder: false },
      profilePolicy,
    );
  };
  const templates = ['upsell', 'welcome-1', 'win-back-generic', 'birthday'];
  const decisionOf = (i: number, id: string): Decision => ({
    id,
    customerId: toCustomerId(`c-${i}`),
    agent: 'lifecycle',
    trigger: { kind: 'stage-changed', from: 'new', to: 'active' },
    action: 'engagement',
    channels: ['email'],
    template: templates[i % templates.length] ?? 'upsell',
    incentive:
      i % 3 === 0
        ? {
            kind: 'percent-off',
            percent: 10,
            amount: null,
            code: `SAVE10-${i}`,
            expiresAtMs: T0 + 2 * DAY_MS,
          }
        : null,
    scheduledForMs: T0,
    confidence: 0.8,
    reasons: ['bench'],
    journey: null,
    experiment: null,
    status: 'scheduled',
    priority: 50,
    expectedValue: 3,
    alternatives: [],
    details: {},
    createdAtMs: T0,
  });
  let nextId = 0;
  const id = () => `d-${String(nextId++).padStart(9, '0')}`;

  const run = (part: string) => args.only === undefined || args.only === part;
  // 1. In process: render and every guardrail, one decision at a time.
  if (run('latency')) {
    const n = Math.min(total, 20_000);
    const profiles = Array.from({ length: n }, (_, i) => profileOf(i));
    const batch = await store.transaction((tx) =>
      loadGuardBatchState(tx, guard, [], new Map(), [], T0),
    );
    const measure = () => {
      const times: number[] = [];
      const outcomes = new Map<string, number>();
      for (let i = 0; i < n; i += 1) {
        const started = performance.now();
        const { message } = judgeDecision(decisionOf(i, `x-${i}`), profiles[i], batch, guard, T0);
        times.push(performance.now() - started);
        outcomes.set(message.status, (outcomes.get(message.status) ?? 0) + 1);
      }
      return { times: times.sort((a, b) => a - b), outcomes };
    };
    measure();
    const { times, outcomes } = measure();
    console.log(
      `in process          render + ${guard.guardrails?.length ?? 'all default'} guardrails over ${fmt(n)} decisions: p50 ${(pct(times, 0.5) * 1000).toFixed(1)} µs, p99 ${(pct(times, 0.99) * 1000).toFixed(1)} µs, max ${(pct(times, 1) * 1000).toFixed(0)} µs  (${[...outcomes].map(([k, v]) => `${k} ${fmt(v)}`).join(', ')})`,
    );
  }

  // 2. Stored: decision + message + audit entry, one transaction per batch.
  if (run('stored') || run('audit')) {
    const profiles = new Map<CustomerId, ProfileState>();
    for (let i = 0; i < Math.min(total, 20_000); i += 1)
      profiles.set(toCustomerId(`c-${i}`), profileOf(i));
    const started = performance.now();
    let messages = 0;
    for (let start = 0; start < total; start += BATCH) {
      const decisions: Decision[] = [];
      const batchProfiles = new Map<CustomerId, ProfileState>();
      for (let i = start; i < Math.min(total, start + BATCH); i += 1) {
        const d = decisionOf(i % 20_000, id());
        decisions.push({ ...d, customerId: toCustomerId(`c-${i}`) });
        const p = profiles.get(toCustomerId(`c-${i % 20_000}`));
        if (p !== undefined) batchProfiles.set(toCustomerId(`c-${i}`), p);
      }
      messages += await store.transaction(async (tx) => {
        await tx.insertDecisions(decisions);
        return guardAndRecord(tx, guard, decisions, batchProfiles, T0);
      });
    }
    const s = (performance.now() - started) / 1000;
    console.log(
      `stored              ${fmt(total)} decisions guarded and recorded (decision, message, audit entry) in ${s.toFixed(2)} s: ${fmt(total / s)} decisions/s (${fmt(messages)} messages)`,
    );
  }

  // 3. The audit chain grown to the target, then verified.
  if (run('audit')) {
    const have = total;
    // Entries as large as the real ones: a decision's with every verdict.
    const sampleDecision = decisionOf(1, 'd-sample');
    const batchState = await store.transaction((tx) =>
      loadGuardBatchState(tx, guard, [], new Map(), [], T0),
    );
    const judged = judgeDecision(sampleDecision, profileOf(1), batchState, guard, T0);
    const sample = decisionAuditData(sampleDecision, judged.message, judged.result.verdicts);
    const started = performance.now();
    for (let n = have; n < auditTarget; n += 10_000) {
      const notes = Array.from({ length: Math.min(10_000, auditTarget - n) }, (_, j) => ({
        kind: 'decision',
        customerId: toCustomerId(`c-${(n + j) % 20_000}`),
        atMs: T0 + HOUR_MS,
        data: { ...sample, decisionId: `a-${n + j}` },
      }));
      await store.transaction((tx) => appendAudit(tx, notes, T0 + HOUR_MS));
    }
    const appendS = (performance.now() - started) / 1000;
    console.log(
      `audit append        ${fmt(auditTarget - have)} entries in ${appendS.toFixed(2)} s: ${fmt((auditTarget - have) / appendS)} entries/s`,
    );
    const verifyStarted = performance.now();
    const check = await services.verifyAudit();
    const verifyS = (performance.now() - verifyStarted) / 1000;
    const outcome = check.ok
      ? `${fmt(check.entries)} ${config.auditKey === null ? 'plain' : 'sealed'} entries hold`
      : 'brokenAtSeq' in check
        ? `broken at ${check.brokenAtSeq}`
        : `unverified from ${check.uncheckedFromSeq}`;
    console.log(
      `audit verify        ${outcome} in ${verifyS.toFixed(2)} s: ${fmt((check.ok ? check.entries : 0) / verifyS)} entries/s`,
    );
  }
  await services.close();
} finally {
  if (process.env['KEEP_BENCH_DB'] === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
