import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { createSmtpAdapter } from '../../src/adapters/channels/smtp.js';
import type { FakeProvider, Scenario } from '../contract/describe-channel-adapter.js';

const smtpError = (code: number, message: string) =>
  Object.assign(new Error(message), { responseCode: code });

/** A real SMTP server on loopback (smtp-server) that answers as the scenario says. */
export const startSmtpServer = async (
  timeoutMs = 300,
  /** How long the server takes to accept each message (a relay's own work). */
  acceptDelayMs = 0,
): Promise<FakeProvider & { messages: string[]; port: number }> => {
  let scenario: Scenario = 'accept';
  const messages: string[] = [];
  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 50,
    onRcptTo(_address, _session, callback) {
      if (scenario === 'bad-recipient')
        callback(smtpError(550, '5.1.1 The email account does not exist'));
      else callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        switch (scenario) {
          case 'accept':
          case 'bad-recipient':
            if (acceptDelayMs === 0) {
              messages.push(Buffer.concat(chunks).toString('utf8'));
              callback();
            } else
              setTimeout(() => {
                messages.push(Buffer.concat(chunks).toString('utf8'));
                callback();
              }, acceptDelayMs);
            return;
          case 'rate-limited':
            callback(smtpError(421, '4.7.0 Too many messages, try again later'));
            return;
          case 'server-error':
            callback(smtpError(451, '4.3.0 Local error in processing'));
            return;
          case 'rejected':
            callback(smtpError(554, '5.6.0 Message content rejected'));
            return;
          case 'hang':
            return;
        }
      });
    },
  };
  const server = new SMTPServer(options);
  // A client killed mid-conversation resets its connection: expected, not a failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    adapter: createSmtpAdapter({
      url: `smtp://127.0.0.1:${String(port)}`,
      maxConnections: 2,
      timeoutMs,
      messageIdDomain: 'mail.example.com',
    }),
    setScenario(next) {
      scenario = next;
    },
    accepted: () => messages.length,
    messages,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
};
