import { randomBytes } from 'node:crypto';
import type { Clock } from '../../ports/clock.js';
import type { IdSource } from '../../ports/id-source.js';

/** The wall clock. */
export const systemClock: Clock = { nowMs: () => Date.now() };

/**
 * UUID version 7 (RFC 9562): 48 bits of Unix milliseconds from `clock`, then 74 bits that are
 * random at each new millisecond and counted up within one (the RFC's "monotonic random",
 * section 6.2, method 2). Every id sorts after the one made before it, within a millisecond and
 * when the clock stands still or steps back (a virtual clock), so primary-key inserts append to
 * the index instead of splitting pages all over it. Random bytes are drawn 4 KB at a time.
 */
export const uuidV7Source = (clock: Clock): IdSource => {
  let pool = randomBytes(4096);
  let offset = 0;
  let lastMs = -1;
  // The 74 bits after the time: 12 (`rand_a`), then 14 and 48 of `rand_b`.
  let a = 0;
  let b = 0;
  let c = 0;
  const reseed = () => {
    if (offset + 10 > pool.length) {
      pool = randomBytes(4096);
      offset = 0;
    }
    a = pool.readUInt16BE(offset) & 0xfff;
    // The top bit left clear: 2^61 ids in one millisecond before the count runs out.
    b = pool.readUInt16BE(offset + 2) & 0x1fff;
    c = pool.readUIntBE(offset + 4, 6);
    offset += 10;
  };
  return {
    next: () => {
      const ms = Math.max(0, Math.floor(clock.nowMs()));
      if (ms > lastMs) {
        lastMs = ms;
        reseed();
      } else if (c < 0xffff_ffff_ffff) c += 1;
      else {
        c = 0;
        if (b < 0x3fff) b += 1;
        else {
          b = 0;
          if (a < 0xfff) a += 1;
          else {
            a = 0;
            lastMs += 1;
          }
        }
      }
      const time = lastMs.toString(16).padStart(12, '0').slice(-12);
      return `${time.slice(0, 8)}-${time.slice(8)}-7${a.toString(16).padStart(3, '0')}-${(0x8000 | b).toString(16)}-${c.toString(16).padStart(12, '0')}`;
    },
  };
};
