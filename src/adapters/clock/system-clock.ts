import { randomBytes } from 'node:crypto';
import type { Clock } from '../../ports/clock.js';
import type { IdSource } from '../../ports/id-source.js';

/** The wall clock. */
export const systemClock: Clock = { nowMs: () => Date.now() };

const hex = (bytes: Buffer): string => bytes.toString('hex');

/**
 * UUID version 7 (RFC 9562): 48 bits of Unix milliseconds from `clock`, then 74 random bits.
 * Ids of a later millisecond sort later, so primary-key inserts land near the index's end
 * instead of all over it. Within one millisecond the order is random, on purpose: discount
 * codes are derived from these ids (`toIncentiveCode`), and an id counted up from a
 * customer's own (which their links carry) would give away other customers' codes. Random
 * bytes are drawn 4 KB at a time.
 */
export const uuidV7Source = (clock: Clock): IdSource => {
  let pool = randomBytes(4096);
  let offset = 0;
  return {
    next: () => {
      if (offset + 10 > pool.length) {
        pool = randomBytes(4096);
        offset = 0;
      }
      const r = pool.subarray(offset, offset + 10);
      offset += 10;
      const ms = Math.max(0, Math.floor(clock.nowMs()));
      const time = ms.toString(16).padStart(12, '0').slice(-12);
      const version = (0x7000 | (((r[0] ?? 0) << 8) | (r[1] ?? 0))) & 0x7fff;
      const variant = (0x8000 | (((r[2] ?? 0) << 8) | (r[3] ?? 0))) & 0xbfff;
      return `${time.slice(0, 8)}-${time.slice(8)}-${version.toString(16)}-${variant.toString(16)}-${hex(r.subarray(4, 10))}`;
    },
  };
};
