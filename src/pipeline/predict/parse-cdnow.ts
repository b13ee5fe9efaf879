import type { PurchaseHistory } from './bg-nbd.js';
import type { Transaction } from './summarise-transactions.js';

/**
 * CDNOW_master.txt (whitespace-separated `customer_id YYYYMMDD number_of_cds dollar_value`, a
 * header line first) → transactions at UTC midnight of their day, valued in dollars. A line
 * after the first that is not one (a date or value that does not read, a column missing) is a
 * RangeError naming it: skipped, it would leave the figures quietly wrong (a NaN spend).
 */
export const parseCdnowTransactions = (text: string): Transaction[] => {
  const out: Transaction[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const [customerId, date, , dollars] = line.trim().split(/\s+/);
    const value = Number(dollars);
    if (customerId === undefined || date === undefined || !/^\d{8}$/.test(date)) {
      if (i === 0) return;
      throw new RangeError(`line ${String(i + 1)}: not "customer_id YYYYMMDD count dollars"`);
    }
    if (dollars === undefined || !Number.isFinite(value))
      throw new RangeError(
        `line ${String(i + 1)}: the dollar value ${JSON.stringify(dollars ?? '')} is not a number`,
      );
    out.push({
      customerId,
      atMs: Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6))),
      value,
    });
  });
  return out;
};

/** A per-customer summary CSV with columns `frequency, recency, T` (others ignored). */
export const parseHistoryCsv = (text: string): PurchaseHistory[] => {
  const [header = '', ...rows] = text.trim().split(/\r?\n/);
  const columns = header.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
  const at = (name: string) => {
    const i = columns.indexOf(name);
    if (i < 0) throw new RangeError(`the summary has no "${name}" column`);
    return i;
  };
  const [xi, txi, ti] = [at('frequency'), at('recency'), at('T')];
  return rows
    .filter((row) => row.trim() !== '')
    .map((row, n) => {
      const cells = row.split(',');
      const h = { x: Number(cells[xi]), tx: Number(cells[txi]), T: Number(cells[ti]) };
      if (![h.x, h.tx, h.T].every(Number.isFinite))
        throw new RangeError(`line ${n + 2}: frequency, recency and T must be numbers`);
      return h;
    });
};
