import { createHash } from 'node:crypto';

/**
 * Maps a list of strings to a uniform number in [0, 1), the same on every machine and in every
 * language: SHA-256 over each part's UTF-8 bytes preceded by their length as a 4-byte big-endian
 * integer (so ('ab', 'c') and ('a', 'bc') differ), then the first 53 bits of the digest, big
 * endian, divided by 2⁵³. In Python:
 *   d = sha256(b''.join(len(b).to_bytes(4, 'big') + b for b in (s.encode() for s in parts)))
 *   u = (int.from_bytes(d.digest()[:8], 'big') >> 11) / 2**53
 */
export const hashPartsToUnit = (parts: readonly string[]): number => {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  }
  const digest = hash.digest();
  // 32 high bits · 2²¹ + the next 21 bits: the top 53 bits, exact in a double.
  return (digest.readUInt32BE(0) * 2_097_152 + (digest.readUInt32BE(4) >>> 11)) / 2 ** 53;
};
