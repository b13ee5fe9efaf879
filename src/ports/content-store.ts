/**
 * The approved content library as stored: each document version as JSON (its shape belongs to
 * the content stage), keyed by id and version, with a hash of its content.
 */
export interface StoredDocument {
  id: string;
  version: string;
  hash: string;
  document: unknown;
  importedAtMs: number;
}

export interface ContentStore {
  /**
   * Keeps a document version. `new`: stored; `same`: this version is already stored with the
   * same content; `conflict`: this version exists with other content (a version is never
   * rewritten).
   */
  saveDocument(doc: StoredDocument): Promise<'new' | 'same' | 'conflict'>;
  /** Every stored version, oldest import first. */
  listDocuments(): Promise<StoredDocument[]>;
}
