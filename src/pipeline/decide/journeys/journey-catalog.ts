import { createHash } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { journeySchema, type JourneyDefinition, type JourneyStep } from './journey-schema.js';

export { checkJourneys, eventSpellingWarnings, type JourneyContext } from './check-journeys.js';

/** A journey definition with the version customers who enter it now are pinned to. */
export interface Journey {
  definition: JourneyDefinition;
  version: number;
  hash: string;
  steps: Map<string, { step: JourneyStep; index: number }>;
}

/** Every version of every journey; `current` is what new entries get. */
export interface JourneyCatalog {
  current: readonly Journey[];
  /** Every version known, current or not. */
  all: readonly Journey[];
  find(id: string, version: number): Journey | undefined;
}

/**
 * Keys in UTF-16 code-unit order: a collation (`localeCompare`) follows the process locale, and
 * under another one (Lithuanian sorts `y` with `i`) the same journey would hash differently.
 * For the schema's keys this is the order `en-US` collation gives, so stored hashes stand.
 */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const stable = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(stable);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => byCodeUnit(a, b))
        .map(([k, v]) => [k, stable(v)]),
    );
  return value;
};

/**
 * A journey's content hash: the same definition, in any key order and with or without the
 * fields the schema fills in by default, hashes the same.
 */
export const hashJourney = (definition: JourneyDefinition): string =>
  createHash('sha256')
    .update(JSON.stringify(stable(Value.Default(journeySchema, structuredClone(definition)))))
    .digest('hex')
    .slice(0, 16);

/** Indexes a journey's steps by id. */
export const toJourney = (
  definition: JourneyDefinition,
  version: number,
  hash: string,
): Journey => ({
  definition,
  version,
  hash,
  steps: new Map(definition.steps.map((step, index) => [step.id, { step, index }])),
});

export interface StoredVersion {
  journeyId: string;
  version: number;
  hash: string;
  definition: unknown;
}

/**
 * Pins each configured journey to a version: the stored version with the same content, or a
 * new one (one more than the latest). Old versions stay findable so customers already in a
 * journey finish the version they started. Returns the catalog and the versions to store.
 */
export const buildCatalog = (
  configured: readonly JourneyDefinition[],
  stored: readonly StoredVersion[],
): { catalog: JourneyCatalog; added: StoredVersion[] } => {
  const all = new Map<string, Journey>();
  for (const s of stored)
    all.set(
      `${s.journeyId}@${s.version}`,
      toJourney(s.definition as JourneyDefinition, s.version, s.hash),
    );
  const added: StoredVersion[] = [];
  const current = configured
    .filter((d) => d.enabled !== false)
    .map((definition) => {
      const hash = hashJourney(definition);
      const versions = stored.filter((s) => s.journeyId === definition.id);
      const same = versions.find((s) => s.hash === hash);
      if (same !== undefined) return toJourney(definition, same.version, hash);
      const version =
        Math.max(
          0,
          ...versions.map((s) => s.version),
          ...added.filter((a) => a.journeyId === definition.id).map((a) => a.version),
        ) + 1;
      const journey = toJourney(definition, version, hash);
      added.push({ journeyId: definition.id, version, hash, definition });
      all.set(`${definition.id}@${version}`, journey);
      return journey;
    });
  return {
    catalog: {
      current,
      all: [...all.values()],
      find: (id, version) => all.get(`${id}@${version}`),
    },
    added,
  };
};
