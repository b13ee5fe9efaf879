/**
 * Remembers the most recent message keys (source + messageId) and the event row that holds each,
 * so SQLite can de-duplicate without a unique index: random keys in a B-tree cost about one page
 * write per event once the index outgrows the cache, which halves ingest speed. A hit is only a
 * hint — the caller compares the stored row exactly — so a hash collision never drops an event,
 * and every row remembered under a key is tried, so none makes a retry count twice.
 * Two generations bound memory: when the young one holds `capacity` keys, the old one is
 * forgotten, so the window always covers at least the latest `capacity` messages (and at most
 * twice as many).
 */
export interface RecentMessages {
  /**
   * Whether a row that may hold this message (each recent one remembered under its key) is
   * one `holds` says holds it: every such row is tried, so a message whose key another one
   * shares is still found.
   */
  anyRow(
    sourceId: string,
    messageId: string,
    holds: (seq: number, sourceId: string, messageId: string) => boolean,
  ): boolean;
  remember(sourceId: string, messageId: string, seq: number): void;
  readonly size: number;
}

// FNV-1a over the UTF-16 code units, twice with different offsets, folded into 52 bits: a
// float64-safe integer key.
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
  // Never 0: that marks an empty slot.
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff) || 1;
};

/**
 * One generation: an open-addressing hash table in a Float64Array, [key, seq] per slot (key 0 is
 * an empty slot), doubled when three quarters full. Outside the JavaScript heap: a window of
 * millions of keys costs the garbage collector nothing to mark or promote, and 16 bytes a slot
 * instead of about 45 bytes an entry in a Map of number keys.
 */
interface Table {
  cells: Float64Array;
  /** log2 of the slot count. */
  bits: number;
  size: number;
}

const newTable = (bits: number): Table => ({ cells: new Float64Array(2 << bits), bits, size: 0 });

// Fibonacci hashing of the key's low 32 bits (FNV output: already well mixed).
const slotOf = (key: number, bits: number): number =>
  Math.imul(key | 0, 0x9e3779b1) >>> (32 - bits);

const anyRowIn = (
  t: Table,
  key: number,
  holds: (seq: number, sourceId: string, messageId: string) => boolean,
  sourceId: string,
  messageId: string,
): boolean => {
  const mask = (1 << t.bits) - 1;
  for (let i = slotOf(key, t.bits); ; i = (i + 1) & mask) {
    const k = t.cells[2 * i];
    if (k === 0) return false;
    if (k === key && holds(t.cells[2 * i + 1] ?? 0, sourceId, messageId)) return true;
  }
};

/**
 * Adds `key` and its row in the first empty slot (no growth). A key already there keeps its
 * slot: two messages may share a key (a hash collision, found by chance or made on purpose),
 * and the row of the first must still be found after the second is remembered — else a retry
 * of the first would be stored again.
 */
const place = (t: Table, key: number, seq: number): void => {
  const mask = (1 << t.bits) - 1;
  for (let i = slotOf(key, t.bits); ; i = (i + 1) & mask) {
    if (t.cells[2 * i] === 0) {
      t.cells[2 * i] = key;
      t.cells[2 * i + 1] = seq;
      return;
    }
  }
};

const store = (t: Table, key: number, seq: number): Table => {
  let table = t;
  if ((table.size + 1) * 4 > 3 << table.bits) {
    table = newTable(t.bits + 1);
    for (let i = 0; i < t.cells.length; i += 2) {
      const k = t.cells[i];
      if (k !== undefined && k !== 0) place(table, k, t.cells[i + 1] ?? 0);
    }
    table.size = t.size;
  }
  place(table, key, seq);
  table.size += 1;
  return table;
};

export const createRecentMessages = (capacity: number): RecentMessages => {
  let young = newTable(10);
  let old = newTable(1);
  const generation = Math.max(1, capacity);
  return {
    anyRow(sourceId, messageId, holds) {
      const key = hashKey(sourceId, messageId);
      return (
        anyRowIn(young, key, holds, sourceId, messageId) ||
        anyRowIn(old, key, holds, sourceId, messageId)
      );
    },
    remember(sourceId, messageId, seq) {
      if (young.size >= generation) {
        old = young;
        young = newTable(10);
      }
      young = store(young, hashKey(sourceId, messageId), seq);
    },
    get size() {
      return young.size + old.size;
    },
  };
};
