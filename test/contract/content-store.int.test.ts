import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/ports/store.js';
import { storeFactories } from '../support/stores.js';

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`the content library (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory.make());
    });
    afterEach(async () => {
      await cleanup();
    });

    const doc = (version: string, hash: string, importedAtMs: number) => ({
      id: 'DOC001',
      version,
      hash,
      document: { id: 'DOC001', version, title: `Widget v${version}` },
      importedAtMs,
    });

    it('keeps every version, refuses to rewrite one, and knows a repeat', async () => {
      expect(await store.saveDocument(doc('1.0', 'a', 1))).toBe('new');
      expect(await store.saveDocument(doc('1.1', 'b', 2))).toBe('new');
      expect(await store.saveDocument(doc('1.1', 'b', 3))).toBe('same');
      expect(await store.saveDocument(doc('1.1', 'c', 4))).toBe('conflict');
      const all = await store.listDocuments();
      expect(all.map((d) => [d.version, d.hash])).toEqual([
        ['1.0', 'a'],
        ['1.1', 'b'],
      ]);
      expect(all[1]?.document).toEqual({ id: 'DOC001', version: '1.1', title: 'Widget v1.1' });
    });

    it('reads the versions of the documents asked for, inside a transaction', async () => {
      await store.saveDocument(doc('1.1', 'b', 2));
      await store.saveDocument(doc('1.0', 'a', 1));
      await store.saveDocument({ ...doc('3', 'x', 1), id: 'DOC002' });
      const read = await store.transaction((tx) => tx.documentVersionsOf(['DOC001', 'NONE']));
      expect(read.map((d) => [d.id, d.version, d.hash, d.importedAtMs])).toEqual([
        ['DOC001', '1.0', 'a', 1],
        ['DOC001', '1.1', 'b', 2],
      ]);
      expect(read[1]?.document).toEqual({ id: 'DOC001', version: '1.1', title: 'Widget v1.1' });
      expect(await store.transaction((tx) => tx.documentVersionsOf([]))).toEqual([]);
    });
  });
