import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentDocument } from './content/index.js';
import type { CreativeVariant } from '../core/decision.js';
import { currentDocuments, expiredAt, validUntilOf } from './creative.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const at = (days: number) => new Date(NOW + days * DAY).toISOString();

const doc = (version: string, fields: Partial<ContentDocument> = {}): ContentDocument => ({
  id: 'promo',
  title: `Spring promotion ${version}`,
  category: 'promotion',
  audience: ['all'],
  keywords: [],
  body: `Version ${version}.`,
  approvedAt: at(-10),
  expiresAt: null,
  sourceUrl: null,
  version,
  ...fields,
});

/** The library as the store lists it: oldest import first, ties in whatever order it keeps. */
const library = (...docs: ContentDocument[]) => ({
  listDocuments: () =>
    Promise.resolve(
      docs.map((d) => ({
        id: d.id,
        version: d.version,
        hash: d.version,
        document: d,
        importedAtMs: NOW,
      })),
    ),
});
const current = async (...docs: ContentDocument[]) =>
  (await currentDocuments(library(...docs) as never, NOW)).map((d) => d.version);

describe('currentDocuments', () => {
  it('takes the highest version among those imported together, whatever order they came in', async () => {
    expect(await current(doc('v10'), doc('v9'))).toEqual(['v10']);
    expect(await current(doc('v9'), doc('v10'))).toEqual(['v10']);
  });

  it('takes the later approval first', async () => {
    expect(
      await current(doc('v2', { approvedAt: at(-20) }), doc('v1', { approvedAt: at(-5) })),
    ).toEqual(['v1']);
  });

  it('is not hidden by a version approved for later, and is by one that expired', async () => {
    expect(await current(doc('v1'), doc('v2', { approvedAt: at(3) }))).toEqual(['v1']);
    expect(
      await current(doc('v1'), doc('v2', { approvedAt: at(-1), expiresAt: at(-0.5) })),
    ).toEqual([]);
  });
});

describe('validUntilOf on a server behind UTC', () => {
  const zone = process.env['TZ'];
  beforeAll(() => {
    process.env['TZ'] = 'America/Los_Angeles';
  });
  afterAll(() => {
    if (zone === undefined) delete process.env['TZ'];
    else process.env['TZ'] = zone;
  });

  it('reads an expiry without a zone as UTC, as usableAt does', () => {
    expect(new Date(NOW).getTimezoneOffset()).toBe(420);
    const sale = doc('v1', { expiresAt: '2026-06-30T23:59' });
    expect(validUntilOf(['promo'], [sale])).toBe(Date.UTC(2026, 5, 30, 23, 59));
    expect(validUntilOf(['other'], [sale])).toBeNull();
  });
});

describe('expiredAt', () => {
  const variant = (id: string, validUntilMs: number | null): CreativeVariant => ({
    id,
    strategy: 'control',
    tone: 'friendly',
    subject: 'Spring promotion',
    preheader: '',
    body: 'Version v1.',
    cta: 'Shop now',
    citations: ['promo'],
    generator: 'offline-composer',
    moderation: { ok: true, moderator: 'local' },
    scores: { brand: 1, tone: 1 },
    validUntilMs,
  });

  it('names each variant whose copy expires at or before the send time', () => {
    const sendAtMs = NOW + 2 * DAY;
    const expired = expiredAt(
      [
        variant('before', NOW + DAY),
        variant('at', sendAtMs),
        variant('after', sendAtMs + 1),
        variant('never', null),
      ],
      sendAtMs,
    );
    expect(expired.map((e) => e.id)).toEqual(['before', 'at']);
    expect(expired[1]?.reason).toBe(
      `cites a document that expires ${at(2)}, at or before the send time ${at(2)}`,
    );
  });
});
