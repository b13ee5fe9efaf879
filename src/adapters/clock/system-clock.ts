import { randomUUID } from 'node:crypto';
import type { Clock } from '../../ports/clock.js';
import type { IdSource } from '../../ports/id-source.js';

/** The wall clock. */
export const systemClock: Clock = { nowMs: () => Date.now() };

/** Random UUID v4 ids. */
export const uuidSource: IdSource = { next: () => randomUUID() };
