/**
 * Remembers the most recent message keys (source + messageId) and the event row that holds each,
 * so SQLite can de-duplicate without a unique index: random keys in a B-tree cost about one page
 * write per event once the index outgrows the cache, which halves ingest speed. A hit is only a
 * hint — the caller compares the stored row exactly — so a hash collision never drops an event.
 * Two generations bound memory: when the young one holds `capacity` keys, the old one is
 * forgotten, so the window always covers at least the latest `capacity` messages (and at most
 * twice as many).
 */
export interface RecentMessages {
  /** The row seq that may hold this key, if it is among the recent ones. */
  find(sourceId: string, messageId: string): number | undefined;
  remember(sourceId: string, messageId: string, seq: number): void;
  readonly size: number;
}

// FNV-1a over the UTF-16 code units, twice with different offsets, folded into 52 bits: a
// float64-safe integer key that V8 stores compactly.
const hashKey = (sourceId: string, messageId: string): number => {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  const mix = (text: string) => {
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193 + 2);
    }
  };
  mix(sourceId);
  a = Math.imul(a ^ 1, 0x01000193);
  mix(messageId);
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
};

export const createRecentMessages = (capacity: number): RecentMessages => {
  let young = new Map<number, number>();
  let old = new Map<number, number>();
  const generation = Math.max(1, capacity);
  return {
    find(sourceId, messageId) {
      const key = hashKey(sourceId, messageId);
      return young.get(key) ?? old.get(key);
    },
    remember(sourceId, messageId, seq) {
      if (young.size >= generation) {
        old = young;
        young = new Map();
      }
      young.set(hashKey(sourceId, messageId), seq);
    },
    get size() {
      return young.size + old.size;
    },
  };
};
