import type { JsonObject } from '../../../core/event.js';
import { err, ok, type Result } from '../../../core/result.js';
import { visibleText } from '../../../core/visible-text.js';
import { severityRank } from '../../../ports/content-moderator.js';
import type { GuardContext, Guardrail, Verdict } from '../guard-types.js';
import { visibleCopy } from './visible-copy.js';
import { pass, verdict } from '../guard-types.js';
import type { GuardPolicy } from '../policy.js';
import { digitsOf, findPii, isSamePhone, type PiiKind, type PiiMatch } from './find-pii.js';
import { escapeRegExp } from '../../../core/escape-reg-exp.js';
import { emailKey } from '../../../core/recipient.js';

const NAME = 'content-safety';

const kindNames: Record<PiiKind, string> = {
  email: 'an e-mail address',
  phone: 'a phone number',
  card: 'a payment card number',
};

/**
 * The moderator's answer: its figures when nothing is severe enough to block, else the blocking
 * verdict. A missing or failed moderation blocks, as a throwing check would.
 */
const judgeModeration = (
  context: GuardContext,
  policy: GuardPolicy,
): Result<JsonObject, Verdict> => {
  const m = context.moderation;
  if (m === null)
    return err(verdict(NAME, 'block', 'moderation_failed', 'generated copy was not moderated'));
  if (!m.ok)
    return err(
      verdict(NAME, 'block', 'moderation_failed', `moderation by ${m.moderator} failed`, {
        moderator: m.moderator,
        error: m.error,
      }),
    );
  const from = severityRank[policy.contentSafety.blockFromSeverity];
  const findings = m.findings.map((f) => ({
    category: f.category,
    severity: f.severity,
    score: f.score,
  }));
  const unsafe = m.findings.filter((f) => severityRank[f.severity] >= from);
  if (unsafe.length > 0)
    return err(
      verdict(
        NAME,
        'block',
        'unsafe_content',
        `${m.moderator} found ${unsafe.map((f) => `${f.category} (${f.severity})`).join(', ')}`,
        {
          moderator: m.moderator,
          categories: unsafe.map((f) => f.category),
          blockFromSeverity: policy.contentSafety.blockFromSeverity,
          findings,
        },
      ),
    );
  return ok({ moderator: m.moderator, findings });
};

const traitOf = (context: GuardContext, key: string): string | null => {
  const value = context.profile.traits[key];
  return typeof value === 'string' && value.trim() !== '' ? value : null;
};

/** The recipient's own address and number, and `contentSafety.allowedPii`, may appear. */
const isAllowed = (match: PiiMatch, context: GuardContext, policy: GuardPolicy): boolean => {
  const own = [traitOf(context, 'email'), traitOf(context, 'phone')].filter(
    (v): v is string => v !== null,
  );
  const allowed = [...own, ...policy.contentSafety.allowedPii];
  const emails = allowed.filter((v) => v.includes('@')).map(emailKey);
  const numbers = allowed
    .filter((v) => !v.includes('@'))
    .map(digitsOf)
    .filter((digits) => digits !== '');
  switch (match.kind) {
    case 'email':
      return emails.includes(match.normalised);
    case 'phone':
      return numbers.some((digits) => isSamePhone(digits, match.normalised));
    case 'card':
      return numbers.includes(match.normalised);
  }
};

/**
 * The copy without the sender's own postal address: the renderer puts it in the footer of every
 * marketing email, text and HTML part, and a US ZIP+4 in it (`CA 94043-1351`) would read as a
 * phone number and block every generated email of the shop. It is taken out as the reader sees
 * it, folded as the copy is, wherever it stands whole (not inside a longer word or number); a
 * line break takes its place, so the numbers either side of it do not join into one.
 */
const withoutOwnAddress = (copy: string, footerAddress: string | null): string => {
  const own = footerAddress === null ? null : ownAddressPattern(footerAddress);
  return own === null ? copy : copy.replace(own, '\n');
};

// Every message of a shop has the same footer address: its pattern is made once.
let lastAddress: { address: string; pattern: RegExp | null } | null = null;

const ownAddressPattern = (address: string): RegExp | null => {
  if (lastAddress?.address !== address) {
    const own = visibleText(address).trim();
    const escaped = escapeRegExp(own);
    lastAddress = {
      address,
      pattern:
        own === '' ? null : new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'gu'),
    };
  }
  return lastAddress.pattern;
};

/**
 * Content safety for generated copy (copy a person wrote is not screened). The moderator's
 * answer must be there and successful — a missing or failed moderation blocks (fail closed) —
 * and a finding of `contentSafety.blockFromSeverity` or worse blocks; lower findings pass with
 * their figures. The subject and body must not leak personal data: an e-mail address, phone
 * number or payment card number that is neither the recipient's own nor in
 * `contentSafety.allowedPii` blocks. Reasons name the kind of data, never its value: they go to
 * the audit log, which holds no personal data.
 */
export const contentSafetyGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    if (!message.generated) return [pass(NAME, 'copy written by a person')];
    const found: Verdict[] = [];
    const moderation = judgeModeration(context, policy);
    if (!moderation.ok) found.push(moderation.error);
    const c = message.content;
    const leaks =
      c === null
        ? []
        : findPii(withoutOwnAddress(visibleCopy(c), c.footerAddress)).filter(
            (m) => !isAllowed(m, context, policy),
          );
    if (leaks.length > 0) {
      const kinds = [...new Set(leaks.map((m) => m.kind))];
      found.push(
        verdict(
          NAME,
          'block',
          'pii_leak',
          `personal data of someone other than the recipient: ${kinds.map((k) => kindNames[k]).join(', ')}`,
          { kinds, count: leaks.length },
        ),
      );
    }
    return found.length > 0
      ? found
      : [
          pass(
            NAME,
            'moderated, nothing unsafe, no personal data of others',
            moderation.ok ? moderation.value : {},
          ),
        ];
  },
};
