import { hash } from 'node:crypto';

/**
 * Maps a list of strings to a uniform number in [0, 1), the same on every machine and in every
 * language: SHA-256 over each part's UTF-8 bytes preceded by their length as a 4-byte big-endian
 * integer (so ('ab', 'c') and ('a', 'bc') differ), then the first 53 bits of the digest, big
 * endian, divided by 2⁵³. In Python:
 *   d = sha256(b''.join(len(b).to_bytes(4, 'big') + b for b in (s.encode() for s in parts)))
 *   u = (int.from_bytes(d.digest()[:8], 'big') >> 11) / 2**53
 */
export const hashPartsToUnit = (parts: readonly string[]): number => {
  // The whole input in one buffer and one call: a hash object fed part by part cost about
  // twice as much, and every message draws several of these (holdouts, arms, the rollout).
  let size = 0;
  for (const part of parts) size += 4 + Buffer.byteLength(part, 'utf8');
  const input = Buffer.allocUnsafe(size);
  let at = 0;
  for (const part of parts) {
    const length = input.write(part, at + 4, 'utf8');
    input.writeUInt32BE(length, at);
    at += 4 + length;
  }
  const digest = hash('sha256', input, 'buffer');
  // 32 high bits · 2²¹ + the next 21 bits: the top 53 bits, exact in a double.
  return (digest.readUInt32BE(0) * 2_097_152 + (digest.readUInt32BE(4) >>> 11)) / 2 ** 53;
};
