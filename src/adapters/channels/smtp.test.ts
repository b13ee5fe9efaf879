import { describe, expect, it } from 'vitest';
import { smtpOutcome } from './smtp.js';

const atRcpt = (responseCode: number, response: string) =>
  smtpOutcome({ code: 'EENVELOPE', responseCode, response }).kind;

describe('smtpOutcome', () => {
  it('takes a bad address at RCPT for a hard bounce', () => {
    expect(atRcpt(550, '550 5.1.1 The email account that you tried to reach does not exist')).toBe(
      'unreachable',
    );
    expect(atRcpt(553, '553 5.1.3 Bad recipient address syntax')).toBe('unreachable');
    // No enhanced status: the reply code at RCPT is all there is to go on.
    expect(atRcpt(550, '550 No such user here')).toBe('unreachable');
    // Dead mailboxes as the large receivers word them.
    expect(atRcpt(550, '550 5.5.0 Requested action not taken: mailbox unavailable')).toBe(
      'unreachable',
    );
    expect(atRcpt(550, '550-5.2.1 The email account that you tried to reach is disabled')).toBe(
      'unreachable',
    );
    expect(atRcpt(550, '550 5.4.1 Recipient address rejected: Access denied')).toBe('unreachable');
    expect(atRcpt(550, '550 <jo@example.net>... User unknown')).toBe('unreachable');
    expect(atRcpt(550, '550 Requested action not taken: mailbox unavailable')).toBe('unreachable');
    expect(atRcpt(551, '551 User not local; please try <jo@example.org>')).toBe('unreachable');
    expect(atRcpt(550, '550 The recipient does not exist')).toBe('unreachable');
    expect(atRcpt(550, '550 5.0.0 <jo@example.net>: no such mailbox')).toBe('unreachable');
  });

  it('suspends the channel when the relay will not relay for Herald, counting no address', () => {
    for (const reply of [
      // Postfix, Sendmail, Exchange: 5.7.1 with the relay named.
      '554 5.7.1 <jo@example.net>: Relay access denied',
      '550 5.7.1 <jo@example.net>... Relaying denied. Proper authentication required.',
      '550 5.7.1 Unable to relay for jo@example.net',
      // Microsoft 365, whatever its words.
      '550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain',
      '550 5.7.64 TenantAttribution; Relay Access Denied',
      // Exim and qmail, without an enhanced status before the words.
      '550 relay not permitted',
      "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
    ]) {
      const outcome = smtpOutcome({
        code: 'EENVELOPE',
        command: 'RCPT TO',
        responseCode: Number(reply.slice(0, 3)),
        response: reply,
      });
      expect(outcome.kind, reply).toBe('suspended');
    }
    // Postfix deferring unauthorised destinations says it for now: still Herald's setup.
    expect(atRcpt(454, '454 4.7.1 <jo@example.net>: Relay access denied')).toBe('suspended');
  });

  it('fails the message alone, bouncing no address, for a bare refusal at RCPT that names no mailbox', () => {
    // A bare 550 is what many servers answer for any refusal, their policy's included.
    expect(atRcpt(550, '550 Administrative prohibition')).toBe('failed');
    expect(atRcpt(553, '553 Rejected by policy')).toBe('failed');
    expect(atRcpt(550, '550 5.0.0 Message refused')).toBe('failed');
    // An IP address in the words is no enhanced status (Exim's blocklist refusal).
    expect(
      atRcpt(550, '550 Rejected because 5.9.12.34 is in a black list at zen.spamhaus.org'),
    ).toBe('failed');
    expect(atRcpt(550, '550 Message rejected: sending IP 5.45.1.2 not allowed')).toBe('failed');
  });

  it('suspends the channel when the relay refuses the sender, counting no address', () => {
    const atMailFrom = (response: string) =>
      smtpOutcome({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 550, response }).kind;
    expect(atMailFrom('550 5.1.8 Sender address rejected: Domain not found')).toBe('suspended');
    expect(atMailFrom('550 5.7.1 Sender not allowed')).toBe('suspended');
    expect(
      smtpOutcome({
        code: 'EENVELOPE',
        command: 'RCPT TO',
        responseCode: 550,
        response: '550 5.1.1 no',
      }).kind,
    ).toBe('unreachable');
  });

  it('suspends the channel when the relay refuses the sender at RCPT, counting no address', () => {
    const atRcptTo = (response: string) =>
      smtpOutcome({
        code: 'EENVELOPE',
        command: 'RCPT TO',
        responseCode: Number(response.slice(0, 3)),
        response,
      });
    for (const reply of [
      // Postfix judges the sender at RCPT by default (smtpd_delay_reject = yes).
      '553 5.1.8 <marketing@example.com>: Sender address rejected: Domain not found',
      '550 5.1.0 <marketing@example.com>: Sender address rejected: User unknown in local recipient table',
      '554 5.7.1 <marketing@example.com>: Sender address rejected: Access denied',
      // Microsoft 365, Gmail.
      '550 5.1.8 Access denied, bad outbound sender. AS(42004)',
      '553 5.1.7 The sender address <marketing@example> is not a valid RFC 5321 address.',
      // RFC 7505: the sender's domain publishes a null MX.
      '550 5.7.27 Domain of sender has null MX',
      // Exim, without an enhanced status.
      '550 Sender verify failed',
    ])
      expect(atRcptTo(reply), reply).toMatchObject({
        kind: 'suspended',
        reason: expect.stringContaining('refuses the sender'),
      });
    // For now, as at MAIL FROM: the message tries again.
    expect(
      atRcptTo('450 4.1.8 <marketing@example.com>: Sender address rejected: Domain not found').kind,
    ).toBe('retry');
  });

  it('takes each addressing status 5.1.0–5.1.10 at RCPT for the address it names', () => {
    // RFC 3463 §3.2, RFC 3886 (X.1.9), RFC 7505 (X.1.10): the recipient's address at fault.
    for (const detail of [1, 2, 3, 4, 6, 10])
      expect(atRcpt(550, `550 5.1.${String(detail)} Refused`), `5.1.${String(detail)}`).toBe(
        'unreachable',
      );
    // The sender's.
    for (const detail of [7, 8])
      expect(atRcpt(553, `553 5.1.${String(detail)} Refused`), `5.1.${String(detail)}`).toBe(
        'suspended',
      );
    // "Other address status" says not whose: the words decide.
    expect(atRcpt(550, '550 5.1.0 Address rejected')).toBe('failed');
    expect(atRcpt(550, '550 5.1.0 <jo@example.net>: User unknown')).toBe('unreachable');
    // "Destination address valid" and "relayed to a non-compliant mailer" blame no address,
    // and neither does a detail RFC 3463 and its successors never registered.
    expect(atRcpt(550, '550 5.1.5 Refused')).toBe('failed');
    expect(atRcpt(550, '550 5.1.9 Refused')).toBe('failed');
    expect(atRcpt(550, '550 5.1.42 Refused')).toBe('failed');
  });

  it('does not count a receiver’s policy refusal against the address', () => {
    expect(atRcpt(550, '550 5.7.1 Client host [192.0.2.1] blocked using Spamhaus')).toBe('failed');
    expect(atRcpt(550, '550 5.7.26 Unauthenticated email is not accepted (DMARC)')).toBe('failed');
    // A receiver's view of the sender's reputation refuses its own mail, not the address.
    expect(atRcpt(550, '550 5.7.1 Message rejected: bad sender reputation')).toBe('failed');
    expect(
      smtpOutcome({ code: 'EMESSAGE', responseCode: 554, response: '554 5.7.1 Spam' }).kind,
    ).toBe('failed');
  });

  it('retries what the receiver refuses for now, and suspends on refused credentials', () => {
    expect(atRcpt(450, '450 4.2.0 Mailbox busy')).toBe('retry');
    expect(smtpOutcome({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 no' }).kind).toBe(
      'suspended',
    );
    expect(smtpOutcome({ code: 'ECONNECTION', message: 'connect ECONNREFUSED' }).kind).toBe(
      'retry',
    );
  });
});
