import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createOpenAiLanguageModel } from '../../src/adapters/language-model/openai.js';
import { readContentDir, readScenarioCustomers } from '../../src/cli/commands/content.js';
import {
  personalize,
  type PersonalizeOptions,
  type PersonalizeResult,
} from '../../src/pipeline/personalize.js';
import { seededRandom } from '../../src/ports/random.js';
import { startFakeHttpProvider, type FakeHttpProvider } from '../support/fake-http-provider.js';
import { sharedDataDir, sharedDataNote } from '../support/shared-data.js';
import { personalizeOptions } from '../support/personalize-options.js';

const scenario =
  sharedDataDir === undefined ? undefined : join(sharedDataDir, 'personalization-scenario');
if (scenario === undefined) console.warn(sharedDataNote);
const AT = Date.UTC(2026, 11, 1);
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

describe.skipIf(scenario === undefined)('the personalisation scenario', () => {
  const customers = () => readScenarioCustomers(join(scenario ?? '', 'customers.csv'));
  const documents = () => readContentDir(join(scenario ?? '', 'approved_content'));
  const options = (extra: Partial<PersonalizeOptions> = {}): PersonalizeOptions =>
    personalizeOptions(AT, { cache: new Map(), ...extra });

  it('segments 250 customers and gives every segment 3 cited, grounded, screened and scored variants', async () => {
    const result = await personalize(customers(), documents(), options());
    expect(result.customers).toBe(250);
    expect(result.segments.reduce((n, s) => n + s.customers, 0)).toBe(250);
    for (const s of result.segments) {
      expect(s.generator).toBe('offline-composer');
      expect(s.variants).toHaveLength(3);
      for (const v of s.variants) {
        expect(v.citations.length).toBeGreaterThan(0);
        for (const id of v.citations) expect(s.retrieved.map((d) => d.id)).toContain(id);
        expect(v.grounding.ok).toBe(true);
        // Safe and on brand, or sent to a person for a score under 0.85 — never blocked.
        expect(v.safety.outcome).not.toBe('block');
        for (const verdict of v.safety.verdicts.filter((x) => x.outcome !== 'pass'))
          expect(['brand_score_low', 'tone_score_low']).toContain(verdict.code);
        expect(v.scores.brandConsistency).toBeGreaterThan(0);
        expect(v.subject.length).toBeLessThanOrEqual(60);
      }
    }
  });

  it('writes copy again from a shared cache for another offer or variant count', async () => {
    const cache = new Map();
    const copyOf = (r: PersonalizeResult) =>
      r.segments.flatMap((s) => s.variants.map((v) => `${v.subject}\n${v.body}`)).join('\n');
    const winter = await personalize(
      customers(),
      documents(),
      options({ cache, incentive: { percent: 20, code: 'WINTER20' } }),
    );
    expect(copyOf(winter)).toContain('WINTER20');
    const spring = await personalize(
      customers(),
      documents(),
      options({ cache, incentive: { percent: 20, code: 'SPRING20' }, variants: 4 }),
    );
    expect(copyOf(spring)).toContain('SPRING20');
    expect(copyOf(spring)).not.toContain('WINTER20');
    expect(spring.segments.every((s) => s.variants.length === 4)).toBe(true);
    // The same request again is served from the cache: the same copy.
    const again = await personalize(
      customers(),
      documents(),
      options({ cache, incentive: { percent: 20, code: 'SPRING20' }, variants: 4 }),
    );
    expect(copyOf(again)).toBe(copyOf(spring));
  });

  it('reads the version in force of a document the folder holds twice, and refuses one given twice', async () => {
    const docs = documents();
    const first = docs[0];
    if (first === undefined) throw new Error('no documents');
    // An older version, since replaced, that says something else.
    const older = { ...first, version: '0.9', approvedAt: '2020-01-01T00:00:00.000Z' };
    const result = await personalize(customers(), [older, ...docs], options());
    expect(result.documents).toEqual({ total: docs.length, usable: docs.length });
    await expect(personalize(customers(), [first, ...docs], options())).rejects.toThrow(
      new RegExp(`content document ${first.id} version ${first.version} is given more than once`),
    );
  });

  describe('with a language model', () => {
    let server: FakeHttpProvider;
    let reply: unknown;
    beforeEach(async () => {
      server = await startFakeHttpProvider(() => ({
        status: 200,
        body: {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-test',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: typeof reply === 'string' ? reply : JSON.stringify(reply),
              },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
        },
      }));
    });
    afterEach(async () => {
      await server.stop();
    });
    const withModel = (timeoutMs = 2000) =>
      options({
        languageModel: createOpenAiLanguageModel({
          apiKey: 'sk-test',
          baseUrl: `${server.baseUrl}/v1`,
          model: 'gpt-test',
          timeoutMs,
          maxRetries: 0,
          pricePer1kInputUsd: 0.001,
          pricePer1kOutputUsd: 0.002,
          random: seededRandom(1),
          clock: createVirtualClock(AT),
        }),
      });
    // As many variants as asked (3), unlabelled: each takes its segment's strategy in turn.
    const variant = (fields: object) => {
      const one = {
        subject: 'Your Gold benefits are here',
        preheader: 'Exclusive benefits for Gold members',
        body: 'Hi {{ customer.firstName }}, as a Gold member you have priority access to new features.',
        cta: 'See your benefits',
        citations: ['DOC003'],
        ...fields,
      };
      return { variants: [one, one, one] };
    };
    const highValue = (r: PersonalizeResult) =>
      r.segments.find((s) => s.segment === 'High-Value Recent');

    it("uses the model's grounded variants, and asks once per segment", async () => {
      reply = variant({});
      const result = await personalize(customers(), documents(), withModel());
      const hv = highValue(result);
      expect(hv?.generator).toBe('gpt-test');
      expect(hv?.variants[0]).toMatchObject({
        subject: 'Your Gold benefits are here',
        grounding: { ok: true },
      });
      expect(server.requests()).toHaveLength(result.segments.length);
      // What the calls cost: 100 + 50 tokens each at $0.001 and $0.002 per 1,000.
      const calls = result.segments.length;
      expect(hv?.usage).toEqual({ promptTokens: 100, completionTokens: 50, costUsd: 0.0002 });
      expect(result.usage).toMatchObject({
        calls,
        promptTokens: 100 * calls,
        completionTokens: 50 * calls,
      });
      expect(result.usage.costUsd).toBeCloseTo(0.0002 * calls, 10);
    });

    it('replaces a variant that invents a 50 % discount by the control, naming the claim', async () => {
      reply = variant({
        body: 'Hi {{ customer.firstName }}, take 50% off everything as a Gold member.',
      });
      const hv = highValue(await personalize(customers(), documents(), withModel()));
      const v = hv?.variants[0];
      expect(v?.grounding.ok).toBe(false);
      expect(v?.grounding.problems.map((p) => p.claim)).toContain('50%');
      expect(v?.grounding.replacedBy).toMatch(/-control$/);
      expect(v?.generator).toBe('offline-composer');
    });

    it('replaces a variant citing a document that does not exist', async () => {
      reply = variant({ citations: ['DOC999'] });
      const v = highValue(await personalize(customers(), documents(), withModel()))?.variants[0];
      expect(v?.grounding.problems).toEqual([
        expect.objectContaining({ claim: 'DOC999', kind: 'citation' }),
        // With no document cited, the tier it names is grounded nowhere (named once).
        expect.objectContaining({ claim: 'Gold', kind: 'product-name' }),
      ]);
    });

    it('falls back to the composer on malformed JSON and on a timeout, recording why', async () => {
      reply = '{"variants": [';
      const malformed = highValue(await personalize(customers(), documents(), withModel()));
      expect(malformed?.generator).toBe('offline-composer');
      expect(malformed?.fallback).toMatch(/malformed reply/);
      // A refused reply was billed all the same.
      expect(malformed?.usage).toMatchObject({ promptTokens: 100, completionTokens: 50 });
      server.setScenario('hang');
      const timedOut = await personalize(customers(), documents(), withModel(200));
      const slow = highValue(timedOut);
      expect(slow?.fallback).toMatch(/timed out/);
      // Asked, but nothing billed: the call counts, its cost is zero.
      expect(slow).toMatchObject({ called: true, usage: null });
      expect(timedOut.usage).toMatchObject({ calls: timedOut.segments.length, costUsd: 0 });
      expect(slow?.variants).toHaveLength(3);
    });
  });

  describe('herald personalize', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'herald-personalize-'));
    });
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('imports the content library once: a second import stores nothing new', async () => {
      const env = {
        ...process.env,
        HERALD_DATABASE_URL: `sqlite:${join(dir, 'lib.db')}`,
        HERALD_LOG_LEVEL: 'silent',
      };
      const imp = () =>
        run(
          process.execPath,
          [
            join(root, 'bin/herald.js'),
            'content',
            'import',
            join(scenario ?? '', 'approved_content'),
          ],
          { cwd: dir, env },
        );
      expect(JSON.parse((await imp()).stdout)).toEqual({
        documents: 25,
        stored: 25,
        unchanged: 0,
        conflicts: [],
        missing: [],
        withdrawn: [],
      });
      expect(JSON.parse((await imp()).stdout)).toEqual({
        documents: 25,
        stored: 0,
        unchanged: 25,
        conflicts: [],
        missing: [],
        withdrawn: [],
      });
    }, 60_000);

    it('prints the summary and writes the full result', async () => {
      const out = join(dir, 'result.json');
      const { stdout } = await run(
        process.execPath,
        [
          join(root, 'bin/herald.js'),
          'personalize',
          '--customers',
          join(scenario ?? '', 'customers.csv'),
          '--content',
          join(scenario ?? '', 'approved_content'),
          '--out',
          out,
        ],
        {
          cwd: dir,
          env: {
            ...process.env,
            HERALD_DATABASE_URL: `sqlite:${join(dir, 'h.db')}`,
            HERALD_LOG_LEVEL: 'silent',
          },
        },
      );
      expect(stdout).toMatch(/^250 customers, 25 of 25 documents usable/);
      expect(stdout).toMatch(/High-Value Recent \(\d+ customers\) — offline-composer/);
      const result = JSON.parse(readFileSync(out, 'utf8')) as PersonalizeResult;
      expect(result.segments.every((s) => s.variants.length === 3)).toBe(true);
    }, 60_000);

    it('asks the model at the configured temperature, retrying as often as configured', async () => {
      const api = await startFakeHttpProvider(() => ({
        status: 500,
        body: { error: { message: 'upstream broke' } },
      }));
      try {
        const configured = join(dir, 'model');
        mkdirSync(configured);
        writeFileSync(
          join(configured, 'herald.config.yaml'),
          'content:\n  temperature: 0.2\n  maxRetries: 1\n',
        );
        const out = join(configured, 'result.json');
        await run(
          process.execPath,
          [
            join(root, 'bin/herald.js'),
            'personalize',
            '--customers',
            join(scenario ?? '', 'customers.csv'),
            '--content',
            join(scenario ?? '', 'approved_content'),
            '--model',
            'openai',
            '--out',
            out,
          ],
          {
            cwd: configured,
            env: {
              ...process.env,
              HERALD_DATABASE_URL: `sqlite:${join(configured, 'h.db')}`,
              HERALD_LOG_LEVEL: 'silent',
              HERALD_OPENAI_API_KEY: 'sk-test',
              HERALD_OPENAI_BASE_URL: `${api.baseUrl}/v1`,
            },
          },
        );
        const result = JSON.parse(readFileSync(out, 'utf8')) as PersonalizeResult;
        const asked = api.requests().map((r) => JSON.parse(r.body) as { temperature: number });
        // One attempt and one retry per segment, each at the configured temperature.
        expect(asked).toHaveLength(2 * result.segments.length);
        expect(asked.every((body) => body.temperature === 0.2)).toBe(true);
        expect(result.segments.every((s) => s.fallback?.startsWith('server error: 500'))).toBe(
          true,
        );
      } finally {
        await api.stop();
      }
    }, 60_000);
  });
});
