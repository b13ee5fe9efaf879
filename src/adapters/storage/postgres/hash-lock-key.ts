import { createHash } from 'node:crypto';

/** A stable signed 32-bit number for an advisory-lock key (collisions only over-serialise). */
export const hashLockKey = (key: string): number =>
  createHash('sha1').update(key).digest().readInt32BE(0);

/**
 * The advisory-lock classes of the Herald whose tables are in `schema`. PostgreSQL's advisory
 * locks belong to the whole database, so each schema takes classes of its own: two Heralds in
 * one database never wait for each other's customers or audit chain, and a worker never passes
 * over a customer because the other Herald holds one of the same name.
 */
export interface LockClasses {
  /** A customer's profile and due work: `(customers, hashLockKey(customerId))`. */
  customers: number;
  /** The audit chain's head: `(audit, 0)`. */
  audit: number;
}

export const lockClassesOf = (schema: string): LockClasses => ({
  customers: hashLockKey(`herald customers ${schema}`),
  audit: hashLockKey(`herald audit ${schema}`),
});
