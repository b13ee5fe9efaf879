import type { Command } from 'commander';
import { AppError, exitCodeOf } from '../../core/errors.js';
import { messageStatuses } from '../../core/message.js';
import { auditTrailOf, findCustomersByContact } from '../../pipeline/privacy.js';
import { customerOption, loadServices } from '../load-services.js';
import { parseIntegerOption } from './parse-integer-option.js';

/** The bounds of GET /v1/messages?limit=. */
const LIMIT_BOUNDS = { min: 1, max: 500 };

/**
 * `--expect 1234:3f…` (or `1234:k1:3f…`, a sealed entry): an entry's number and its hash, as
 * `audit verify` prints the last.
 */
const parseExpected = (text: string): { seq: number; hash: string } => {
  const match = /^(\d+):((?:k1:)?[0-9a-f]{64})$/.exec(text.trim());
  if (match === null)
    throw new AppError(
      'invalid-input',
      `--expect ${text}: expected SEQ:HASH, as audit verify prints the last entry`,
    );
  return { seq: Number(match[1]), hash: match[2] ?? '' };
};

/** `herald audit verify|export` and `herald messages list|show`. */
export const registerAuditCommands = (program: Command): void => {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description(
      'check the hash chain; exits 1 naming the first broken entry, or when an entry kept from an earlier verify is gone or changed; 78 when sealed entries need HERALD_AUDIT_KEY to be checked',
    )
    .option(
      '--expect <seq:hash>',
      'an entry an earlier verify printed as the last: proves the chain was not cut or rewritten back to it',
    )
    .action(async (options: { expect?: string }) => {
      const expected = options.expect === undefined ? null : parseExpected(options.expect);
      const services = await loadServices(process.env);
      try {
        const startedMs = performance.now();
        const check = await services.verifyAudit();
        const seconds = ((performance.now() - startedMs) / 1000).toFixed(2);
        if (!check.ok && 'uncheckedFromSeq' in check) {
          // Not a break, but not a pass either: sealed entries are checked with the key only.
          console.error(
            `audit chain not verified at entry ${check.uncheckedFromSeq}: ${check.reason}`,
          );
          process.exitCode = exitCodeOf['invalid-config'];
          return;
        }
        if (!check.ok) {
          console.error(`audit chain broken at entry ${check.brokenAtSeq}: ${check.reason}`);
          process.exitCode = 1;
          return;
        }
        console.log(`audit chain holds: ${check.entries} entries verified in ${seconds} s`);
        if (check.entries > 0)
          // Deleting the last entries leaves a shorter chain that still holds: what catches it
          // is this, kept somewhere else and given back with --expect.
          console.log(`last entry: ${String(check.entries)}:${check.lastHash}`);
        if (expected === null) return;
        const [entry] = await services.store.scanAudit(expected.seq - 1, 1);
        if (entry?.seq !== expected.seq) {
          console.error(
            `audit chain cut: entry ${String(expected.seq)} is gone (the chain ends at ${String(check.entries)})`,
          );
          process.exitCode = 1;
        } else if (entry.hash !== expected.hash) {
          console.error(
            `audit chain rewritten: entry ${String(expected.seq)} is not the one expected (its hash is ${entry.hash})`,
          );
          process.exitCode = 1;
        } else console.log(`entry ${String(expected.seq)} is the one expected`);
      } finally {
        await services.close();
      }
    });
  audit
    .command('export')
    .description("a customer's audit trail as JSON")
    .requiredOption('--customer <userId>', 'the customer')
    .action(async (options: { customer: string }) => {
      const services = await loadServices(process.env);
      try {
        const id = await services.store.resolveUserId(options.customer);
        if (id === undefined)
          throw new AppError('not-found', `no customer with userId "${options.customer}"`);
        const trail = await auditTrailOf(services.store, id);
        console.log(JSON.stringify({ customerId: id, audit: trail }, null, 2));
      } finally {
        await services.close();
      }
    });

  program
    .command('customers')
    .description('customer records')
    .command('find')
    .description(
      'every customer record holding an email address or a phone number, in its traits or as a message recipient (for a data-subject request)',
    )
    .option('--email <address>', 'the email address')
    .option('--phone <number>', 'the phone number')
    .action(async (options: { email?: string; phone?: string }) => {
      const services = await loadServices(process.env);
      try {
        console.log(JSON.stringify(await findCustomersByContact(services.store, options), null, 2));
      } finally {
        await services.close();
      }
    });

  const messages = program.command('messages').description('messages and their verdicts');
  messages
    .command('list')
    .description('the latest messages, newest first')
    .option('--customer <userId>', 'only this customer')
    .option('--status <status>', 'only this status (queued, review, blocked …)')
    .option('--limit <n>', 'how many (1–500)', '20')
    .action(async (options: { customer?: string; status?: string; limit: string }) => {
      const limit = parseIntegerOption(options.limit, '--limit', LIMIT_BOUNDS);
      const status = messageStatuses.find((s) => s === options.status);
      if (options.status !== undefined && status === undefined)
        throw new AppError(
          'invalid-input',
          `--status ${options.status}: one of ${messageStatuses.join(', ')}`,
        );
      const services = await loadServices(process.env);
      try {
        const customerId = await customerOption(services, options.customer);
        const list = await services.store.listMessages({
          limit,
          ...(customerId === undefined ? {} : { customerId }),
          ...(status === undefined ? {} : { status }),
        });
        for (const m of list)
          console.log(
            `${m.id}  ${new Date(m.sendAtMs).toISOString()}  ${m.customerId}  ${m.channel}  ${m.template ?? '-'}  ${m.status}${m.reasonCode === null ? '' : ` (${m.reasonCode})`}`,
          );
      } finally {
        await services.close();
      }
    });
  messages
    .command('show')
    .description('one message: its content and every guardrail verdict')
    .argument('<id>', 'message (decision) id')
    .action(async (id: string) => {
      const services = await loadServices(process.env);
      try {
        const m = await services.store.getMessage(id);
        if (m === undefined) throw new AppError('not-found', `no message ${id}`);
        console.log(JSON.stringify(m, null, 2));
      } finally {
        await services.close();
      }
    });
};
