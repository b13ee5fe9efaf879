import { createHash } from 'node:crypto';

/**
 * A stable number in [0, 1) for (salt, id): the first 52 bits of SHA-256(salt ":" id). The same
 * pair always maps to the same number, so assignments are sticky without storing them.
 */
export const hashToUnit = (salt: string, id: string): number => {
  const digest = createHash('sha256').update(`${salt}:${id}`).digest();
  // 52 bits fit a double exactly: 4 bytes + 20 bits.
  const high = digest.readUInt32BE(0);
  const low = digest.readUInt32BE(4) >>> 12;
  return (high * 2 ** 20 + low) / 2 ** 52;
};
