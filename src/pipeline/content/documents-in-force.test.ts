import { describe, expect, it } from 'vitest';
import type { ContentDocument } from './document.js';
import {
  documentsInForce,
  documentsInForceOrScheduled,
  withdrawalOf,
  type StoredVersion,
} from './documents-in-force.js';
import { aDocument } from './test-builders.js';

const stored = (document: ContentDocument, importedAtMs: number): StoredVersion => ({
  document,
  importedAtMs,
});
const JAN = Date.UTC(2026, 0, 1);
const WITHDRAWN_AT = Date.UTC(2026, 3, 1);
const ids = (docs: ContentDocument[]) => docs.map((d) => `${d.id}@${d.version}`);

describe('a withdrawal', () => {
  const recalled = aDocument({ id: 'RECALLED', approvedAt: '2025-11-01T00:00:00Z' });
  const keep = aDocument({ id: 'KEEP', approvedAt: '2025-11-01T00:00:00Z' });
  const library = [
    stored(keep, JAN),
    stored(recalled, JAN),
    stored(withdrawalOf(recalled, WITHDRAWN_AT), WITHDRAWN_AT),
  ];

  it('is a new version, approved and expiring at its moment, never usable', () => {
    expect(withdrawalOf(recalled, WITHDRAWN_AT)).toEqual({
      ...recalled,
      version: 'withdrawn-2026-04-01T00:00:00.000Z',
      approvedAt: '2026-04-01T00:00:00.000Z',
      expiresAt: '2026-04-01T00:00:00.000Z',
    });
  });

  it('takes the document out of force from its moment on, and leaves the history as it was', () => {
    expect(ids(documentsInForce(library, WITHDRAWN_AT - 1))).toEqual(['KEEP@1.0', 'RECALLED@1.0']);
    expect(ids(documentsInForce(library, WITHDRAWN_AT))).toEqual(['KEEP@1.0']);
    expect(ids(documentsInForce(library, Date.UTC(2027, 0, 1)))).toEqual(['KEEP@1.0']);
  });

  it('hides a version approved for later that was imported before it', () => {
    const later = aDocument({ id: 'RECALLED', version: '2.0', approvedAt: '2026-06-01T00:00:00Z' });
    const withLater = [...library, stored(later, JAN)];
    expect(ids(documentsInForce(withLater, Date.UTC(2026, 6, 1)))).toEqual(['KEEP@1.0']);
    expect(ids(documentsInForceOrScheduled(withLater, WITHDRAWN_AT))).toEqual(['KEEP@1.0']);
  });

  it('gives way to a version imported after it, whatever its approval', () => {
    const back = aDocument({ id: 'RECALLED', version: '1.1', approvedAt: '2025-12-01T00:00:00Z' });
    const reinstated = [...library, stored(back, WITHDRAWN_AT + 1000)];
    expect(ids(documentsInForce(reinstated, WITHDRAWN_AT + 1000))).toEqual([
      'KEEP@1.0',
      'RECALLED@1.1',
    ]);
  });
});

describe('documentsInForceOrScheduled', () => {
  it('names each document in force, or approved to come into force later, once', () => {
    const now = Date.UTC(2026, 2, 1);
    const versions = [
      stored(aDocument({ id: 'B', approvedAt: '2026-01-01T00:00:00Z' }), JAN),
      stored(aDocument({ id: 'B', version: '2', approvedAt: '2026-05-01T00:00:00Z' }), JAN),
      stored(aDocument({ id: 'A', approvedAt: '2026-06-01T00:00:00Z' }), JAN),
      stored(aDocument({ id: 'A', version: '0', approvedAt: '2026-04-01T00:00:00Z' }), JAN),
      stored(aDocument({ id: 'GONE', expiresAt: '2026-02-01T00:00:00Z' }), JAN),
    ];
    expect(ids(documentsInForceOrScheduled(versions, now))).toEqual(['A@0', 'B@1.0']);
  });
});
