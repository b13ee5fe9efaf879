import { toAuditKey } from '../../core/audit.js';
import { AppError } from '../../core/errors.js';
import type { AuditNote } from './append-audit.js';

export const t0 = Date.UTC(2026, 5, 3, 12);
/** The key a log is sealed with, and a mistyped one. */
export const KEY = toAuditKey('the-right-audit-key-of-32-characters-AAAA');
export const OTHER_KEY = toAuditKey('a-mistyped-audit-key-of-32-characters-BBBB');

/** `count` rejections in review, a millisecond apart from `t0 + from`. */
export const someReviews = (count: number, from = 0): AuditNote[] =>
  Array.from({ length: count }, (_, i) => ({
    kind: 'review',
    customerId: null,
    atMs: t0 + from + i,
    data: { decisionId: `d${String(from + i)}`, action: 'reject', by: 'rita', override: false },
  }));

/** The AppError `work` fails with (an error of another kind, or none, fails the test). */
export const refusal = async (work: Promise<unknown>): Promise<AppError> => {
  const error: unknown = await work.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
};
