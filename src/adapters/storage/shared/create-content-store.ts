import type { Kysely } from 'kysely';
import type { ContentStore } from '../../../ports/content-store.js';
import type { Database } from './tables.js';

/** The content library's table, in Kysely for both dialects. */
export const createContentStore = (db: Kysely<Database>): ContentStore => ({
  async saveDocument(doc) {
    const known = await db
      .selectFrom('content_documents')
      .select('hash')
      .where('id', '=', doc.id)
      .where('version', '=', doc.version)
      .executeTakeFirst();
    if (known !== undefined) return known.hash === doc.hash ? 'same' : 'conflict';
    await db
      .insertInto('content_documents')
      .values({
        id: doc.id,
        version: doc.version,
        hash: doc.hash,
        body: JSON.stringify(doc.document),
        imported_at_ms: doc.importedAtMs,
      })
      .execute();
    return 'new';
  },
  async listDocuments() {
    const rows = await db
      .selectFrom('content_documents')
      .selectAll()
      .orderBy('imported_at_ms')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      version: r.version,
      hash: r.hash,
      document: JSON.parse(r.body) as unknown,
      importedAtMs: r.imported_at_ms,
    }));
  },
});
