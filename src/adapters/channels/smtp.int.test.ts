import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import type { Delivery } from '../../ports/channel-adapter.js';
import { describeChannelAdapter } from '../../../test/contract/describe-channel-adapter.js';
import { startSmtpServer } from '../../../test/support/smtp-server.js';
import { createSmtpAdapter } from './smtp.js';

const delivery: Delivery = {
  messageId: '01a2-msg-1',
  customerId: toCustomerId('c-1'),
  channel: 'email',
  class: 'marketing',
  template: 'cart-recovery',
  to: 'ana@example.com',
  content: {
    subject: 'Ana, your cart is waiting',
    preheader: null,
    body: 'Hi Ana, complete your order: https://shop.example.com/cart',
    html: '<p>Hi Ana</p>',
    from: 'Herald Store <marketing@example.com>',
    replyTo: 'help@example.com',
    footerAddress: '1 Main St',
    unsubscribeUrl: 'https://herald.example.com/u/abc.def',
  },
};

describeChannelAdapter({
  name: 'smtp',
  channel: 'email',
  start: () => startSmtpServer(),
  delivery,
  retryAfterMs: null,
});

describe('the SMTP adapter', () => {
  it('sends a stable Message-ID and the RFC 8058 one-click unsubscribe headers', async () => {
    const fake = await startSmtpServer();
    try {
      const outcome = await fake.adapter.send(delivery, new AbortController().signal);
      expect(outcome).toEqual({ kind: 'sent', providerId: '<01a2-msg-1@mail.example.com>' });
      const [raw = ''] = fake.messages;
      expect(raw).toMatch(/^Message-ID: <01a2-msg-1@mail\.example\.com>\r?$/m);
      expect(raw).toMatch(/^List-Unsubscribe: <https:\/\/herald\.example\.com\/u\/abc\.def>/m);
      expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
      expect(raw).toMatch(/^From: Herald Store <marketing@example\.com>\r?$/m);
      expect(raw).toMatch(/^Reply-To: help@example\.com\r?$/m);
      expect(raw).toMatch(/^Subject: Ana, your cart is waiting\r?$/m);
    } finally {
      await fake.adapter.close();
      await fake.stop();
    }
  });

  it('puts the preheader first in the HTML part, hidden, for the inbox preview', async () => {
    const fake = await startSmtpServer();
    try {
      const withPreview = {
        ...delivery,
        content: {
          ...delivery.content,
          preheader: 'Boots & socks, 20% off',
          html: '<html><body><p>Hi Ana</p></body></html>',
        },
      };
      await fake.adapter.send(withPreview, new AbortController().signal);
      const [raw = ''] = fake.messages;
      const html = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      expect(html).toContain(
        '<body><div style="display:none;max-height:0;overflow:hidden;mso-hide:all">Boots &#38; socks, 20% off</div><p>Hi Ana</p>',
      );
    } finally {
      await fake.adapter.close();
      await fake.stop();
    }
  });

  it('takes a send given up on out of the pool, so the relay never gets it later', async () => {
    // Two connections, a relay that takes half a second a message, six sends given up on
    // while the first two are still with it: the four waiting must never leave.
    const fake = await startSmtpServer(5000, 500);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          fake.adapter.send({ ...delivery, messageId: `m-${String(i)}` }, AbortSignal.timeout(200)),
        ),
      );
      expect(outcomes.every((o) => o.kind === 'retry')).toBe(true);
      // Long enough for the pool to have sent all six, three rounds of two, had it kept them.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(fake.accepted()).toBeLessThanOrEqual(2);
    } finally {
      await fake.adapter.close();
      await fake.stop();
    }
  });

  /** What one send comes to against a relay with these options (credentials in `auth`). */
  const outcomeAgainst = async (
    options: ConstructorParameters<typeof SMTPServer>[0],
    auth = '',
  ) => {
    const server = new SMTPServer({ disabledCommands: ['STARTTLS'], logger: false, ...options });
    server.on('error', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const adapter = createSmtpAdapter({
      url: `smtp://${auth}127.0.0.1:${String(port)}`,
      maxConnections: 1,
      timeoutMs: 5000,
      messageIdDomain: 'mail.example.com',
    });
    try {
      return await adapter.send(delivery, new AbortController().signal);
    } finally {
      await adapter.close();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
  };

  it('answers a relay that refuses the credentials as suspended, not as the message failing', async () => {
    const outcome = await outcomeAgainst(
      {
        authMethods: ['PLAIN', 'LOGIN'],
        allowInsecureAuth: true,
        onAuth: (_auth, _session, callback) => {
          callback(new Error('5.7.8 Authentication credentials invalid'));
        },
      },
      'herald:rotated@',
    );
    expect(outcome.kind).toBe('suspended');
  });

  it('answers a relay that refuses the sender as suspended, not as a bad address', async () => {
    const outcome = await outcomeAgainst({
      authOptional: true,
      onMailFrom: (_address, _session, callback) => {
        callback(
          Object.assign(new Error('5.1.8 Sender address rejected: Domain not found'), {
            responseCode: 550,
          }),
        );
      },
    });
    expect(outcome.kind).toBe('suspended');
  });

  it.each([
    ['Postfix', 554, '5.7.1 <ana@example.com>: Relay access denied'],
    ['Exim', 550, 'relay not permitted'],
  ])(
    'answers a relay that will not relay for Herald (%s) as suspended, not as a bad address',
    async (_relay, responseCode, words) => {
      const outcome = await outcomeAgainst({
        authOptional: true,
        onRcptTo: (_address, _session, callback) => {
          callback(Object.assign(new Error(words), { responseCode }));
        },
      });
      expect(outcome).toMatchObject({ kind: 'suspended', reason: expect.stringMatching(/relay/) });
    },
  );

  it.each([
    ['Postfix', 553, '5.1.8 <marketing@example.com>: Sender address rejected: Domain not found'],
    ['Microsoft 365', 550, '5.1.8 Access denied, bad outbound sender. AS(42004)'],
  ])(
    'answers a relay that refuses the sender at RCPT (%s) as suspended, not as a bad address',
    async (_relay, responseCode, words) => {
      const outcome = await outcomeAgainst({
        authOptional: true,
        onRcptTo: (_address, _session, callback) => {
          callback(Object.assign(new Error(words), { responseCode }));
        },
      });
      expect(outcome).toMatchObject({
        kind: 'suspended',
        reason: expect.stringContaining('refuses the sender'),
      });
    },
  );

  it('fails a message refused at RCPT with a bare 550 naming no mailbox, bouncing no address', async () => {
    const outcome = await outcomeAgainst({
      authOptional: true,
      onRcptTo: (_address, _session, callback) => {
        callback(Object.assign(new Error('Administrative prohibition'), { responseCode: 550 }));
      },
    });
    expect(outcome.kind).toBe('failed');
  });

  it('leaves the unsubscribe headers off a message without an unsubscribe link', async () => {
    const fake = await startSmtpServer();
    try {
      await fake.adapter.send(
        {
          ...delivery,
          class: 'transactional',
          content: { ...delivery.content, unsubscribeUrl: null },
        },
        new AbortController().signal,
      );
      expect(fake.messages[0]).not.toMatch(/List-Unsubscribe/);
    } finally {
      await fake.adapter.close();
      await fake.stop();
    }
  });
});
