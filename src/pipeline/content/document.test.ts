import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asReadNow, expiresAtMs, parseDocument, usableAt } from './document.js';
import { documentsInForce } from './documents-in-force.js';
import {
  aDocument,
  loadScenarioDocuments,
  sharedDataDir,
  sharedDataNote,
} from './test-builders.js';

const json = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    document_id: 'DOC001',
    title: 'Premium Widget Features',
    category: 'Product',
    content: 'Our Premium Widget includes advanced features.',
    audience: 'High-Value',
    keywords: ['premium', 'features'],
    approval_date: '2025-11-01T00:00:00Z',
    source_url: 'https://example.com/content/premium-widget',
    metadata: { author: 'Marketing Team', version: '1.2' },
    ...overrides,
  });

describe('parseDocument', () => {
  it('maps the JSON export onto the schema', () => {
    const parsed = parseDocument(json(), 'product_001.json');
    expect(parsed).toEqual({
      ok: true,
      value: {
        id: 'DOC001',
        title: 'Premium Widget Features',
        category: 'Product',
        audience: ['High-Value'],
        keywords: ['premium', 'features'],
        body: 'Our Premium Widget includes advanced features.',
        approvedAt: '2025-11-01T00:00:00Z',
        expiresAt: null,
        sourceUrl: 'https://example.com/content/premium-widget',
        version: '1.2',
      },
    });
  });

  it('names the file and each field at fault, in the source names', () => {
    const parsed = parseDocument(
      json({ content: '', approval_date: 'soon', metadata: {} }),
      'bad.json',
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.fileName).toBe('bad.json');
    expect(parsed.error.problems.map((p) => p.path).sort()).toEqual([
      'approval_date',
      'content',
      'metadata.version',
    ]);
  });

  it('rejects JSON that does not parse, and unknown file types', () => {
    const broken = parseDocument('{', 'x.json');
    expect(broken.ok || broken.error.problems[0]?.message).toMatch(/not JSON/);
    const other = parseDocument(json(), 'x.txt');
    expect(other.ok || other.error.problems[0]?.message).toMatch(/unsupported/);
  });

  it('reads Markdown with YAML front matter, keeping versions and dates as written', () => {
    const text = [
      '---',
      'id: DOC100',
      'title: Spring Guide',
      'category: Support',
      'audience: [Standard, New Customer]',
      'keywords: [spring, guide]',
      'approvedAt: 2026-03-01',
      'expiresAt: 2026-06-01T00:00:00Z',
      'version: 1.0',
      '---',
      '',
      'Start here. Then read on.',
      '',
    ].join('\n');
    const parsed = parseDocument(text, 'spring.md');
    expect(parsed).toEqual({
      ok: true,
      value: {
        id: 'DOC100',
        title: 'Spring Guide',
        category: 'Support',
        audience: ['Standard', 'New Customer'],
        keywords: ['spring', 'guide'],
        body: 'Start here. Then read on.',
        approvedAt: '2026-03-01',
        expiresAt: '2026-06-01T00:00:00Z',
        sourceUrl: null,
        version: '1.0',
      },
    });
  });

  it('reports Markdown without front matter, or missing fields', () => {
    const bare = parseDocument('# Title\n\nbody', 'note.md');
    expect(bare.ok || bare.error.problems[0]?.path).toBe('front matter');
    const partial = parseDocument('---\nid: D1\ntitle: T\n---\nbody', 'partial.md');
    expect(partial.ok).toBe(false);
    if (partial.ok) return;
    expect(partial.error.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['category', 'approvedAt', 'version']),
    );
  });

  it('says in words what is wrong with a field, not in the validator’s', () => {
    const untitled = parseDocument(
      '---\nid: D1\ncategory: Product\naudience: Standard\napprovedAt: 2025-11-01\nversion: "1"\n---\nbody',
      'b.md',
    );
    // Before: "title Expected string".
    expect(untitled.ok || untitled.error.problems).toEqual([
      { path: 'title', message: 'is required' },
    ]);
    const untyped = parseDocument(json({ title: 42, audience: [] }), 'x.json');
    expect(untyped.ok || untyped.error.problems).toEqual([
      { path: 'title', message: 'must be text' },
      { path: 'audience', message: 'must name at least one' },
    ]);
  });

  it('rejects a well-formed but impossible date', () => {
    const parsed = parseDocument(json({ approval_date: '2025-13-45' }), 'x.json');
    expect(parsed.ok || parsed.error.problems).toEqual([
      { path: 'approval_date', message: 'is not a real date' },
    ]);
  });

  it('refuses a field it does not know instead of dropping it, naming the right spelling', () => {
    const md = (line: string) =>
      parseDocument(
        `---\nid: D1\ntitle: T\ncategory: C\naudience: A\napprovedAt: 2025-01-01\n${line}\nversion: "1"\n---\nbody`,
        'd.md',
      );
    // Dropped, `expires_at` read as no expiry kept an expired document in use.
    const snake = md('expires_at: 2025-06-30');
    expect(snake.ok || snake.error.problems).toEqual([
      { path: 'expires_at', message: 'is not a field of a document: did you mean expiresAt?' },
    ]);
    expect(md('expiresAt: 2025-06-30').ok).toBe(true);
    const camel = parseDocument(json({ expiresAt: '2025-06-30' }), 'x.json');
    expect(camel.ok || camel.error.problems).toEqual([
      { path: 'expiresAt', message: 'is not a field of a document: did you mean expiry_date?' },
    ]);
    const hidden = parseDocument(
      json({ metadata: { version: '1', expiry_date: '2025-06-30' } }),
      'x.json',
    );
    expect(hidden.ok || hidden.error.problems[0]?.path).toBe('metadata.expiry_date');
    const expiring = parseDocument(json({ expiry_date: '2025-12-30' }), 'x.json');
    expect(expiring.ok && expiring.value.expiresAt).toBe('2025-12-30');
  });

  it('refuses a version written as a number with a fraction, which loses its trailing zeros', () => {
    const parsed = parseDocument(json({ metadata: { version: 1.1 } }), 'x.json');
    expect(parsed.ok || parsed.error.problems[0]?.path).toBe('metadata.version');
    const whole = parseDocument(json({ metadata: { version: 2 } }), 'x.json');
    expect(whole.ok && whole.value.version).toBe('2');
  });

  it('keeps other fields out of the document, refusing only those that look like limits', () => {
    const md = (lines: string) =>
      parseDocument(
        `---\nid: D1\ntitle: T\ncategory: C\naudience: A\napprovedAt: 2025-01-01\nversion: "1"\n${lines}\n---\nbody`,
        'd.md',
      );
    expect(md('author: Marketing\ntags: [spring]').ok).toBe(true);
    expect(parseDocument(json({ tags: ['spring'] }), 'x.json').ok).toBe(true);
    const until = md('valid_until: 2025-06-30');
    expect(until.ok || until.error.problems[0]?.path).toBe('valid_until');
  });

  it('reports every problem of a file at once, a field it does not read among them', () => {
    const paths = (read: ReturnType<typeof parseDocument>) =>
      read.ok ? [] : read.error.problems.map((p) => p.path);
    const untitled = JSON.parse(json()) as Record<string, unknown>;
    delete untitled['title'];
    const file = JSON.stringify({
      ...untitled,
      valid_until: '2026-03-05',
      approval_date: '2026-02-30',
    });
    expect(paths(parseDocument(file, 'x.json')).sort()).toEqual(
      ['approval_date', 'title', 'valid_until'].sort(),
    );
    const md =
      '---\nid: D1\ncategory: C\naudience: ""\napprovedAt: 2025-01-01\nversion: "1"\nValid-Until: 2025-06-30\n---\nbody';
    expect(paths(parseDocument(md, 'd.md')).sort()).toEqual(
      ['Valid-Until', 'audience', 'title'].sort(),
    );
  });

  it('refuses a day the calendar does not have, and an expiry not after the approval', () => {
    const feb30 = parseDocument(json({ expiry_date: '2026-02-30' }), 'x.json');
    expect(feb30.ok || feb30.error.problems).toEqual([
      { path: 'expiry_date', message: 'is not a real date' },
    ]);
    expect(parseDocument(json({ expiry_date: '2028-02-29' }), 'x.json').ok).toBe(true);
    const before = parseDocument(json({ expiry_date: '2025-10-01' }), 'x.json');
    expect(before.ok || before.error.problems).toEqual([
      { path: 'expiry_date', message: 'is not after approval_date (2025-11-01T00:00:00Z)' },
    ]);
  });

  it('never loses an expiry given twice: one that says none yields to the other, two that disagree are refused', () => {
    const promo = (fields: Record<string, unknown>) =>
      parseDocument(json({ approval_date: '2026-03-01T00:00:00Z', ...fields }), 'promo.json');
    const afterEnd = Date.UTC(2026, 3, 15);
    // An empty or "null" expiry_date read as "never expires" and hid the real end beside it.
    for (const none of ['', 'null', null]) {
      const read = promo({ expiry_date: none, expires_at: '2026-03-05T00:00:00Z' });
      expect(read.ok && read.value.expiresAt).toBe('2026-03-05T00:00:00Z');
      expect(read.ok && usableAt(read.value, afterEnd)).toBe(false);
    }
    // Of two different ends, expiry_date silently won.
    const two = promo({ expiry_date: '2026-12-31T00:00:00Z', expires_at: '2026-03-05T00:00:00Z' });
    expect(two.ok || two.error).toEqual({
      kind: 'invalid-document',
      fileName: 'promo.json',
      problems: [
        {
          path: 'expires_at',
          message:
            'and expiry_date are both given and do not name the same moment ("2026-03-05T00:00:00Z", "2026-12-31T00:00:00Z"): give the expiry once',
        },
      ],
    });
    // The same moment written twice is one expiry (a date alone ends at the next midnight).
    const same = promo({ expiry_date: '2026-03-31', expires_at: '2026-04-01T02:00:00+02:00' });
    expect(same.ok && expiresAtMs(same.value)).toBe(Date.UTC(2026, 3, 1));
    // A problem with the one given is named as the file names it.
    const bad = promo({ expires_at: '2026-02-30' });
    expect(bad.ok || bad.error.problems).toEqual([
      { path: 'expires_at', message: 'is not a real date' },
    ]);
  });

  it('refuses a field that may limit when the document is used, at the top level, in metadata or nested', () => {
    const refused = (fields: Record<string, unknown>) => {
      const read = parseDocument(json(fields), 'promo.json');
      return read.ok ? [] : read.error.problems.map((p) => p.path);
    };
    expect(refused({ end_date: '2026-03-05' })).toEqual(['end_date']);
    expect(refused({ offerDeadline: '2026-03-05' })).toEqual(['offerDeadline']);
    expect(refused({ startDate: '2026-03-01' })).toEqual(['startDate']);
    expect(refused({ promotion: { ends_on: '2026-03-05' } })).toEqual(['promotion.ends_on']);
    expect(refused({ metadata: { version: '1', valid_until: '2026-03-05' } })).toEqual([
      'metadata.valid_until',
    ]);
    expect(refused({ metadata: { version: '1', good_through: '2026-03-05' } })).toEqual([
      'metadata.good_through',
    ]);
    expect(refused({ metadata: { version: '1', schedule: { end: '2026-03-05' } } })).toEqual([
      'metadata.schedule.end',
    ]);
    expect(refused({ metadata: { version: '1', status: 'withdrawn' } })).toEqual([
      'metadata.status',
    ]);
    // A date a promotion ends by is no person who approved it.
    expect(
      refused({
        expires_by: '2026-11-30',
        redeem_by: '2026-11-30',
        metadata: { version: '1', offer_ends_by: '2026-11-30', use_by: '2026-11-30' },
      }),
    ).toEqual(['expires_by', 'redeem_by', 'metadata.offer_ends_by', 'metadata.use_by']);
    const read = parseDocument(json({ end_date: '2026-03-05' }), 'promo.json');
    expect(read.ok || read.error.problems[0]?.message).toMatch(
      /may limit when the document is used.*approval_date.*expiry_date/,
    );
    // Dates that limit nothing, and who approved, are kept out of the document as before.
    expect(
      refused({
        metadata: {
          version: '1',
          author: 'Marketing',
          last_updated: '2025-10-15',
          approved_by: 'Legal',
          reviewedBy: 'Brand',
          recommended: ['DOC2'],
        },
        vendor: 'Acme',
      }),
    ).toEqual([]);
  });

  it('refuses an id or version with spaces around it, which would be another document', () => {
    const spaced = parseDocument(json({ document_id: 'DOC001 ' }), 'x.json');
    expect(spaced.ok || spaced.error.problems).toEqual([
      { path: 'document_id', message: 'must not begin or end with spaces ("DOC001 ")' },
    ]);
    const version = parseDocument(json({ metadata: { version: ' 1.2' } }), 'x.json');
    expect(version.ok || version.error.problems.map((p) => p.path)).toEqual(['metadata.version']);
  });

  it('names the field and the forms it reads when a date is written another way', () => {
    for (const written of ['2026-03-31T10:00:00+0100', '2026-03-31t10:00:00z', '31/03/2026']) {
      const read = parseDocument(json({ expiry_date: written }), 'x.json');
      expect(read.ok || read.error.problems).toEqual([
        {
          path: 'expiry_date',
          message: `is not a date Herald reads (${JSON.stringify(written)}): write an ISO 8601 date or date and time: 2026-03-31, 2026-03-31T23:59 (UTC), 2026-03-31T23:59:00Z or 2026-03-31T23:59:00+01:00`,
        },
      ]);
    }
  });

  it.skipIf(sharedDataDir === undefined)('parses all 25 approved scenario documents', () => {
    const docs = loadScenarioDocuments();
    expect(docs).toHaveLength(25);
    expect(new Set(docs.map((d) => d.category))).toEqual(
      new Set(['Product', 'Promotion', 'Support']),
    );
    expect(docs.every((d) => d.audience.length === 1 && d.version !== '')).toBe(true);
  });
  if (sharedDataDir === undefined) it.skip(sharedDataNote, () => undefined);
});

describe('parseDocument: encodings and line endings', () => {
  const md = (eol: string) =>
    [
      '---',
      'id: DOC100',
      'title: Spring Guide',
      'category: Support',
      'audience: Standard',
      'approvedAt: 2026-03-01',
      'version: "1"',
      '---',
      'Start here.',
      '',
      'Then read on.',
      '',
    ].join(eol);

  it('reads a file saved with CRLF (or CR) line endings as the same document as with LF', () => {
    const lf = parseDocument(md('\n'), 'guide.md');
    expect(lf.ok && lf.value.body).toBe('Start here.\n\nThen read on.');
    expect(parseDocument(md('\r\n'), 'guide.md')).toEqual(lf);
    expect(parseDocument(md('\r'), 'guide.md')).toEqual(lf);
    const escaped = parseDocument(json({ content: 'One.\r\nTwo.' }), 'x.json');
    expect(escaped.ok && escaped.value.body).toBe('One.\nTwo.');
  });

  it('drops a byte-order mark before reading JSON or front matter', () => {
    expect(parseDocument(`\uFEFF${json()}`, 'x.json')).toEqual(parseDocument(json(), 'x.json'));
    expect(parseDocument(`\uFEFF${md('\r\n')}`, 'guide.md')).toEqual(
      parseDocument(md('\n'), 'guide.md'),
    );
  });

  it('reads an audience written as one comma-separated string as several', () => {
    const front = parseDocument(
      md('\n').replace('audience: Standard', 'audience: High-Value, Standard'),
      'g.md',
    );
    expect(front.ok && front.value.audience).toEqual(['High-Value', 'Standard']);
    const listed = parseDocument(json({ audience: ['High-Value,Standard', 'All'] }), 'x.json');
    expect(listed.ok && listed.value.audience).toEqual(['High-Value', 'Standard', 'All']);
    const empty = parseDocument(json({ audience: ' , ' }), 'x.json');
    expect(empty.ok || empty.error.problems.map((p) => p.path)).toEqual(['audience']);
  });
});

describe('document dates on a server behind UTC', () => {
  // The dates a document gives without a zone are UTC, as `--at` reads them, wherever Herald
  // runs: read in the server's local time, a promotion ended on 31 March was used into April.
  const zone = process.env['TZ'];
  beforeAll(() => {
    process.env['TZ'] = 'America/Los_Angeles';
  });
  afterAll(() => {
    if (zone === undefined) delete process.env['TZ'];
    else process.env['TZ'] = zone;
  });
  const promotion = (dates: string) =>
    parseDocument(
      `---\nid: SALE1\ntitle: Spring Sale\ncategory: Promotion\naudience: All\n${dates}\nversion: "1"\n---\n20% off.`,
      'sale.md',
    );

  it('runs in a zone behind UTC', () => {
    expect(new Date(Date.UTC(2026, 0, 1)).getTimezoneOffset()).toBe(480);
  });

  it('reads an approval and an expiry without a zone as UTC', () => {
    const parsed = promotion('approvedAt: 2026-01-01T09:00\nexpiresAt: 2026-03-31T23:59');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
    const sale = parsed.value;
    expect(usableAt(sale, Date.UTC(2026, 0, 1, 8, 59))).toBe(false);
    expect(usableAt(sale, Date.UTC(2026, 0, 1, 9, 0))).toBe(true);
    expect(usableAt(sale, Date.UTC(2026, 2, 31, 23, 58))).toBe(true);
    expect(usableAt(sale, Date.UTC(2026, 2, 31, 23, 59))).toBe(false);
    expect(usableAt(sale, Date.UTC(2026, 3, 1, 0, 30))).toBe(false);
  });

  it('compares an expiry without a zone with an approval in UTC', () => {
    const early = promotion('approvedAt: 2026-01-01T20:00:00Z\nexpiresAt: 2026-01-01T15:00');
    expect(early.ok || early.error.problems).toEqual([
      { path: 'expiresAt', message: 'is not after approvedAt (2026-01-01T20:00:00Z)' },
    ]);
  });

  it('orders versions by approvals without a zone read as UTC', () => {
    const version = (v: string, approvedAt: string) => ({
      document: aDocument({ id: 'D1', version: v, approvedAt }),
      importedAtMs: 5,
    });
    const inForce = documentsInForce(
      [version('1', '2026-01-01T10:00:00Z'), version('2', '2026-01-01T09:00')],
      Date.UTC(2026, 0, 2),
    );
    expect(inForce.map((d) => d.version)).toEqual(['1']);
  });
});

describe('a date-only expiry', () => {
  const promo = (approval: string, expiry: string) =>
    parseDocument(json({ approval_date: approval, expiry_date: expiry }), 'p.json');

  it('covers its whole day (UTC) and ends at the next midnight', () => {
    const march = promo('2026-03-01', '2026-03-31');
    if (!march.ok) throw new Error(JSON.stringify(march.error));
    expect(march.value.expiresAt).toBe('2026-03-31');
    expect(usableAt(march.value, Date.UTC(2026, 2, 31, 12))).toBe(true);
    expect(usableAt(march.value, Date.UTC(2026, 2, 31, 23, 59, 59, 999))).toBe(true);
    expect(usableAt(march.value, Date.UTC(2026, 3, 1))).toBe(false);
    // A date-only approval is the start of its day.
    expect(usableAt(march.value, Date.UTC(2026, 1, 28, 23, 59))).toBe(false);
    expect(usableAt(march.value, Date.UTC(2026, 2, 1))).toBe(true);
  });

  it('lets a one-day promotion be approved and expire on the same date', () => {
    const oneDay = promo('2026-03-31', '2026-03-31');
    expect(oneDay.ok && usableAt(oneDay.value, Date.UTC(2026, 2, 31, 18))).toBe(true);
    const before = promo('2026-03-31', '2026-03-30');
    expect(before.ok || before.error.problems).toEqual([
      { path: 'expiry_date', message: 'is not after approval_date (2026-03-31)' },
    ]);
  });

  it('is given as the moment it ends to readers of the stored version', () => {
    const stored = aDocument({ expiresAt: '2026-03-31' });
    expect(asReadNow(stored).expiresAt).toBe('2026-04-01T00:00:00.000Z');
    expect(asReadNow(aDocument({ expiresAt: '2026-03-31T12:00' })).expiresAt).toBe(
      '2026-03-31T12:00',
    );
    // One stored before days the calendar lacks were refused stays as it was, never usable.
    expect(asReadNow(aDocument({ expiresAt: '2026-02-30' })).expiresAt).toBe('2026-02-30');
  });
});

describe('usableAt', () => {
  const doc = aDocument({ approvedAt: '2026-01-01T00:00:00Z', expiresAt: '2026-02-01T00:00:00Z' });

  it('is usable from the approval instant up to, not including, expiry', () => {
    expect(usableAt(doc, Date.parse('2025-12-31T23:59:59Z'))).toBe(false);
    expect(usableAt(doc, Date.parse('2026-01-01T00:00:00Z'))).toBe(true);
    expect(usableAt(doc, Date.parse('2026-01-31T23:59:59Z'))).toBe(true);
    expect(usableAt(doc, Date.parse('2026-02-01T00:00:00Z'))).toBe(false);
  });

  it('never expires without an expiry', () => {
    expect(usableAt(aDocument({ expiresAt: null }), Date.parse('2099-01-01T00:00:00Z'))).toBe(true);
  });
});

describe('documentsInForce', () => {
  it('picks the same version whatever order the versions are read in', () => {
    const version = (v: string) => ({
      document: aDocument({ id: 'D1', version: v, approvedAt: '2026-01-01T00:00:00Z' }),
      importedAtMs: 5,
    });
    const versions = [version('1.0'), version('1.00'), version('01.0')];
    const picked = (list: typeof versions) =>
      documentsInForce(list, Date.parse('2026-02-01T00:00:00Z')).map((d) => d.version);
    expect(picked(versions)).toEqual(picked([...versions].reverse()));
    expect(picked([versions[1], versions[2], versions[0]].filter((v) => v !== undefined))).toEqual(
      picked(versions),
    );
  });
});

describe('asReadNow', () => {
  it('reads a version stored before as its file is read now: LF, and `A, B` as two audiences', () => {
    const stored = aDocument({
      audience: ['High-Value, Standard'],
      body: 'One.\r\n\r\nTwo.\rThree.',
    });
    expect(asReadNow(stored)).toEqual({
      ...stored,
      audience: ['High-Value', 'Standard'],
      body: 'One.\n\nTwo.\nThree.',
    });
  });
});
