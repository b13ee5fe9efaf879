import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { silentLogger } from '../../src/ports/logger.js';
import { toMessageId } from '../../src/core/ids.js';
import { aTrack } from '../support/builders.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const TIMEOUT_MS = 60_000;

type Failure = { code: number; stderr: string };

describe('herald templates list and preview', () => {
  let dir: string;
  let url: string;
  const herald = (env: Record<string, string>, ...args: string[]) =>
    run(process.execPath, [join(root, 'bin/herald.js'), ...args], {
      cwd: dir,
      env: { ...process.env, HERALD_DATABASE_URL: url, HERALD_LOG_LEVEL: 'silent', ...env },
    });
  const failure = (promise: Promise<unknown>): Promise<Failure | null> =>
    promise.then(
      () => null,
      (error: unknown) => error as Failure,
    );
  const withExamples = { HERALD_TEMPLATES_DIR: join(root, 'examples/templates') };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-templates-cli-'));
    url = `sqlite:${join(dir, 'herald.db')}`;
    const services = await createServices(loadConfig({ HERALD_DATABASE_URL: url }, null), {
      logger: silentLogger,
    });
    await services.recorder.record(
      [
        aTrack({
          type: 'identify',
          name: null,
          userId: 'ann',
          traits: { email: 'ann@example.com', firstName: 'Annika' },
        }),
        aTrack({
          type: 'identify',
          name: null,
          userId: 'esc\u001b[31m',
          messageId: toMessageId('esc-1'),
          // Escape sequences a public write key can send: set the window title, clear the
          // screen, write the clipboard, turn the text around.
          traits: { email: 'esc@example.com', firstName: 'E\u001b]0;pwned\u0007\u001b[2J\u202eX' },
        }),
      ],
      1_700_000_000_000,
    );
    await services.close();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'never hands the terminal an escape sequence a customer sent',
    async () => {
      const { stdout } = await herald(
        {},
        'templates',
        'preview',
        'welcome-1',
        '--customer',
        'esc\u001b[31m',
      );
      expect(stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(stdout).toContain('E\\u001b]0;pwned\\u0007\\u001b[2J\\u202eX');
    },
    TIMEOUT_MS,
  );

  it(
    'renders a built-in template for the customer, text only',
    async () => {
      const { stdout } = await herald({}, 'templates', 'preview', 'welcome-1', '--customer', 'ann');
      expect(stdout).toMatch(/^subject: +Welcome to .+, Annika$/m);
      expect(stdout).toMatch(/^text:\nHi Annika, thanks for joining/m);
      expect(stdout).not.toContain('html:');
    },
    TIMEOUT_MS,
  );

  it(
    'shows the template a WhatsApp message would name at Meta',
    async () => {
      const { stdout } = await herald(
        {},
        'templates',
        'preview',
        'welcome-1',
        '--customer',
        'ann',
        '--channel',
        'whatsapp',
      );
      expect(stdout).toMatch(/^whatsapp: +template welcome_1 in en_US$/m);
    },
    TIMEOUT_MS,
  );

  it(
    'shows the HTML compiled from the MJML example, with a sample incentive',
    async () => {
      const { stdout } = await herald(
        withExamples,
        'templates',
        'preview',
        'cart-recovery',
        '--customer',
        'ann',
        '--percent',
        '15',
        '--json',
      );
      const preview = JSON.parse(stdout) as {
        customerId: string;
        incentive: { code: string; percent: number; expiresAtMs: number };
        content: { subject: string; body: string; html: string | null };
      };
      expect(preview.customerId).toBe('ann');
      expect(preview.content.subject).toBe('Annika, your cart is waiting');
      expect(preview.incentive.code).toMatch(/^PREVIEW-/);
      expect(preview.incentive.percent).toBe(15);
      const html = preview.content.html ?? '';
      expect(html).toMatch(/^<!doctype html>/i);
      expect(html).toContain('Hi Annika, you left');
      expect(html).toContain(`<strong>${preview.incentive.code}</strong>`);
      expect(html).toContain('15% off if you finish today');
      expect(html).toContain('Complete your order');
      expect(html).toContain('Unsubscribe');
      expect(html).not.toMatch(/\{\{|\{%/);

      const text = await herald(
        withExamples,
        'templates',
        'preview',
        'cart-recovery',
        '--customer',
        'ann',
        '--html',
      );
      expect(text.stdout).toMatch(/^html:\n<!doctype html>/im);
      expect(text.stdout).not.toContain('% off if you finish today');
    },
    TIMEOUT_MS,
  );

  it(
    'classes the preview as the send would be: an incentive makes a transactional template marketing',
    async () => {
      const own = { HERALD_TEMPLATES_DIR: join(dir, 'own'), HERALD_POSTAL_ADDRESS: '1 Main St' };
      mkdirSync(own.HERALD_TEMPLATES_DIR, { recursive: true });
      writeFileSync(
        join(own.HERALD_TEMPLATES_DIR, 'order-update.yaml'),
        "class: transactional\ntopic: null\ntext: 'Hi {{ customer.firstName }}, your order shipped.{% if incentive %} {{ incentive.code }}{% endif %}'\n",
      );
      const preview = (...args: string[]) =>
        herald(own, 'templates', 'preview', 'order-update', '--customer', 'ann', ...args);
      const offer = await preview('--percent', '15');
      expect(offer.stdout).toMatch(/^class: +marketing \(the template says transactional\)$/m);
      expect(offer.stdout).toMatch(/^Unsubscribe: http\S+\/u\//m);
      expect(offer.stdout).toContain('1 Main St');
      const plain = await preview();
      expect(plain.stdout).toMatch(/^class: +transactional$/m);
      expect(plain.stdout).not.toContain('Unsubscribe:');
      const json = JSON.parse((await preview('--percent', '15', '--json')).stdout) as {
        messageClass: string;
      };
      expect(json.messageClass).toBe('marketing');
    },
    TIMEOUT_MS,
  );

  it(
    "prints a date in UTC and in the customer's zone whatever zone the machine is in",
    async () => {
      const own = { HERALD_TEMPLATES_DIR: join(dir, 'dated'), TZ: 'Europe/Berlin' };
      mkdirSync(own.HERALD_TEMPLATES_DIR, { recursive: true });
      // Half an hour after Berlin's clocks went back: the server's zone read an hour wrong.
      writeFileSync(
        join(own.HERALD_TEMPLATES_DIR, 'dated.yaml'),
        `class: transactional\ntopic: null\ntext: 'utc={{ "2026-10-25T01:30:00Z" | date: "%H:%M" }} ny={{ "2026-10-25T01:30:00Z" | date: "%H:%M", "America/New_York" }}'\n`,
      );
      const { stdout } = await herald(own, 'templates', 'preview', 'dated', '--customer', 'ann');
      expect(stdout).toContain('utc=01:30 ny=21:30');
    },
    TIMEOUT_MS,
  );

  it(
    'leaves the subject out of an SMS preview',
    async () => {
      const { stdout } = await herald(
        {},
        'templates',
        'preview',
        'welcome-1',
        '--customer',
        'ann',
        '--channel',
        'sms',
      );
      expect(stdout).toMatch(/^subject: +\(none\)$/m);
      expect(stdout).toMatch(/^channel: +sms$/m);
    },
    TIMEOUT_MS,
  );

  it(
    'lists the templates with whether they have HTML',
    async () => {
      const builtIn = await herald({}, 'templates', 'list');
      expect(builtIn.stdout).toMatch(/^cart-recovery +marketing +promotions +text only$/m);
      const examples = await herald(withExamples, 'templates', 'list');
      expect(examples.stdout).toMatch(/^cart-recovery +marketing +promotions +html$/m);
      expect(examples.stdout).toMatch(/^welcome-1 +marketing +onboarding +text only$/m);
    },
    TIMEOUT_MS,
  );

  it(
    'exits 66 naming an unknown template or customer',
    async () => {
      const template = await failure(
        herald({}, 'templates', 'preview', 'no-such-template', '--customer', 'ann'),
      );
      expect(template?.code).toBe(66);
      expect(template?.stderr).toMatch(/no template "no-such-template"/);
      const customer = await failure(
        herald({}, 'templates', 'preview', 'welcome-1', '--customer', 'nobody'),
      );
      expect(customer?.code).toBe(66);
      expect(customer?.stderr).toMatch(/no customer with userId "nobody"/);
    },
    TIMEOUT_MS,
  );

  it(
    'reports a templates folder it cannot read and exits, releasing the database',
    async () => {
      // Killed after 30 s if it never exits (it once hung, the store left open).
      const missing = await failure(
        run(process.execPath, [join(root, 'bin/herald.js'), 'templates', 'list'], {
          cwd: dir,
          timeout: 30_000,
          env: {
            ...process.env,
            HERALD_DATABASE_URL: url,
            HERALD_LOG_LEVEL: 'silent',
            HERALD_TEMPLATES_DIR: join(dir, 'no-such-folder'),
          },
        }),
      );
      expect(missing).toMatchObject({ code: 78, killed: false });
      expect(missing?.stderr).toMatch(/templates directory .*no-such-folder/);
    },
    TIMEOUT_MS,
  );
});
