import { createHash } from 'node:crypto';

/** A stable signed 32-bit number for an advisory-lock key (collisions only over-serialise). */
export const hashLockKey = (key: string): number =>
  createHash('sha1').update(key).digest().readInt32BE(0);
