import { isoTimeMs } from '../../core/time.js';
import { expiresAtMs, usableAt, type ContentDocument } from './document.js';

const WITHDRAWN = 'withdrawn-';

/**
 * The version that withdraws `document` at `atMs` (`herald content import --withdraw-missing`):
 * approved and expiring then, so it is never usable, under a version no file gives
 * (`withdrawn-<ISO moment>`). Nothing is deleted: the versions before it stay in the library.
 */
export const withdrawalOf = (document: ContentDocument, atMs: number): ContentDocument => {
  const at = new Date(atMs).toISOString();
  return { ...document, version: `${WITHDRAWN}${at}`, approvedAt: at, expiresAt: at };
};

// A file cannot give one: its expiry would not be after its approval.
const isWithdrawal = (doc: ContentDocument): boolean =>
  doc.version.startsWith(WITHDRAWN) &&
  (expiresAtMs(doc) ?? Number.POSITIVE_INFINITY) <= isoTimeMs(doc.approvedAt);

/**
 * Which of two versions of a document is the newer: the later approval, then the higher
 * version (`v10` after `v9`), then the later import — never import order alone, since one
 * `content import` stores all its files at the same moment — then the version's spelling.
 */
const newer = (a: StoredVersion, b: StoredVersion): boolean => {
  const approved = isoTimeMs(a.document.approvedAt) - isoTimeMs(b.document.approvedAt);
  if (approved !== 0) return approved > 0;
  const version = a.document.version.localeCompare(b.document.version, 'en', { numeric: true });
  if (version !== 0) return version > 0;
  if (a.importedAtMs !== b.importedAtMs) return a.importedAtMs > b.importedAtMs;
  // "1.0" and "1.00" read as one number: the spelling decides, so every reader agrees
  // whatever order the rows come in.
  return a.document.version > b.document.version;
};

/** A stored version of a document, with when it was imported. */
export interface StoredVersion {
  document: ContentDocument;
  importedAtMs: number;
}

// The versions a withdrawal in effect at `atMs` has not taken out of use: it takes every version
// of its document imported up to it, whatever their approval (one approved for later too); a
// version imported after it brings the document back.
const notWithdrawn = (versions: readonly StoredVersion[], atMs: number): StoredVersion[] => {
  const withdrawnUpTo = new Map<string, number>();
  for (const { document, importedAtMs } of versions)
    if (isWithdrawal(document) && isoTimeMs(document.approvedAt) <= atMs)
      withdrawnUpTo.set(
        document.id,
        Math.max(withdrawnUpTo.get(document.id) ?? Number.NEGATIVE_INFINITY, importedAtMs),
      );
  return versions.filter(
    (v) => v.importedAtMs > (withdrawnUpTo.get(v.document.id) ?? Number.NEGATIVE_INFINITY),
  );
};

/**
 * The latest version of each document approved by `atMs`, when it is usable then: a version
 * approved for later does not hide the current one, an expired one does hide older ones, and a
 * withdrawal (`withdrawalOf`) hides every version imported before it.
 */
export const documentsInForce = (
  versions: readonly StoredVersion[],
  atMs: number,
): ContentDocument[] => {
  const latest = new Map<string, StoredVersion>();
  for (const candidate of notWithdrawn(versions, atMs)) {
    if (isoTimeMs(candidate.document.approvedAt) > atMs) continue;
    const known = latest.get(candidate.document.id);
    if (known === undefined || newer(candidate, known))
      latest.set(candidate.document.id, candidate);
  }
  return [...latest.values()].map((v) => v.document).filter((d) => usableAt(d, atMs));
};

/**
 * Each document in force at `atMs` or approved to come into force later (the version in force,
 * else the next to be), id order: what a withdrawal at `atMs` takes out of use.
 */
export const documentsInForceOrScheduled = (
  versions: readonly StoredVersion[],
  atMs: number,
): ContentDocument[] => {
  const found = new Map(documentsInForce(versions, atMs).map((d) => [d.id, d]));
  const scheduled = notWithdrawn(versions, atMs)
    .map((v) => v.document)
    .filter((d) => isoTimeMs(d.approvedAt) > atMs && !isWithdrawal(d))
    .sort((a, b) => isoTimeMs(a.approvedAt) - isoTimeMs(b.approvedAt));
  for (const document of scheduled) if (!found.has(document.id)) found.set(document.id, document);
  return [...found.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
};
