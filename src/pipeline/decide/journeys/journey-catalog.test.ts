import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultJourneys } from './default-journeys.js';
import { buildCatalog, hashJourney, type StoredVersion } from './journey-catalog.js';
import { Value } from '@sinclair/typebox/value';
import { journeySchema, type JourneyDefinition } from './journey-schema.js';
import { aJourney, aSendStep, aSimpleJourney } from './test-builders.js';

const send = aSendStep;
const simple = aSimpleJourney();

/** The same journey with every object's keys in the reverse order. */
const reversed = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reversed);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .reverse()
        .map(([k, v]) => [k, reversed(v)]),
    );
  return value;
};

const storedOf = (definition: JourneyDefinition, version: number): StoredVersion => ({
  journeyId: definition.id,
  version,
  hash: hashJourney(definition),
  definition,
});

describe('hashJourney', () => {
  it('hashes the same content in any key order the same', () => {
    expect(hashJourney(reversed(simple) as JourneyDefinition)).toBe(hashJourney(simple));
  });

  describe('in any locale', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('hashes the default journeys as they are stored, whatever the collation', () => {
      // The hashes every installation stored for the defaults: a change gives them new versions.
      const stored = [
        ['welcome', 'cf7cd3d6fc937386'],
        ['cart-recovery', '7ff5f4f23718ffdb'],
      ];
      const hashes = () => defaultJourneys.map((j) => [j.id, hashJourney(j)]);
      expect(hashes()).toEqual(stored);
      // A process started with LANG=lt_LT.UTF-8 collates by Lithuanian rules (`y` with `i`).
      const lithuanian = new Intl.Collator('lt');
      vi.spyOn(String.prototype, 'localeCompare').mockImplementation(function (
        this: string,
        that: string,
      ) {
        return lithuanian.compare(this, that);
      });
      expect('type'.localeCompare('ttlHours')).toBeLessThan(0);
      expect(hashes()).toEqual(stored);
    });
  });

  it('hashes changed content differently, step order included', () => {
    const changed = aJourney('simple', [send('a'), { id: 'w', type: 'wait', days: 2 }, send('b')]);
    expect(hashJourney(changed)).not.toBe(hashJourney(simple));
    const swapped = aJourney('simple', [send('b'), { id: 'w', type: 'wait', days: 1 }, send('a')]);
    expect(hashJourney(swapped)).not.toBe(hashJourney(simple));
  });
});

describe('buildCatalog', () => {
  it('keeps the version of the defaults when they are copied into the configuration', () => {
    // The configuration loader fills in the schema's defaults (enabled, sendTimeOptimised …).
    const copied = defaultJourneys.map((j) =>
      Value.Default(journeySchema, structuredClone(j)),
    ) as JourneyDefinition[];
    const first = buildCatalog(defaultJourneys, []);
    const stored = first.added.map((a) => ({ ...a }));
    const again = buildCatalog(copied, stored);
    expect(again.added).toEqual([]);
    expect(again.catalog.current.map((j) => j.version)).toEqual([1, 1]);
  });
  it('pins new journeys at version 1 and returns them to store', () => {
    const { catalog, added } = buildCatalog(defaultJourneys, []);
    expect(catalog.current.map((j) => [j.definition.id, j.version])).toEqual([
      ['welcome', 1],
      ['cart-recovery', 1],
    ]);
    expect(added.map((a) => [a.journeyId, a.version, a.hash])).toEqual([
      ['welcome', 1, hashJourney(defaultJourneys[0] as JourneyDefinition)],
      ['cart-recovery', 1, hashJourney(defaultJourneys[1] as JourneyDefinition)],
    ]);
    expect(catalog.find('welcome', 1)?.steps.get('day-3-email')?.index).toBe(3);
  });

  it('keeps the stored version for the same content in another key order', () => {
    const { catalog, added } = buildCatalog(
      [reversed(simple) as JourneyDefinition],
      [storedOf(simple, 4)],
    );
    expect(added).toEqual([]);
    expect(catalog.current.map((j) => j.version)).toEqual([4]);
  });

  it('adds a version for changed content and keeps the old one findable', () => {
    const changed = aJourney('simple', [send('a'), { id: 'w', type: 'wait', days: 3 }, send('b')]);
    const { catalog, added } = buildCatalog([changed], [storedOf(simple, 1), storedOf(simple, 2)]);
    expect(added.map((a) => [a.journeyId, a.version])).toEqual([['simple', 3]]);
    expect(catalog.current[0]?.version).toBe(3);
    expect(catalog.find('simple', 3)?.definition).toEqual(changed);
    expect(catalog.find('simple', 1)?.definition).toEqual(simple);
    expect(catalog.find('simple', 9)).toBeUndefined();
    expect(catalog.all.map((j) => j.version).sort()).toEqual([1, 2, 3]);
  });

  it('goes back to an older version when its content returns', () => {
    const v2 = aJourney('simple', [send('a')]);
    const { catalog, added } = buildCatalog([simple], [storedOf(simple, 1), storedOf(v2, 2)]);
    expect(added).toEqual([]);
    expect(catalog.current[0]?.version).toBe(1);
  });

  it('numbers journeys separately', () => {
    const other = aJourney('other', [send('x')]);
    const { catalog } = buildCatalog(
      [simple, other],
      [storedOf(aJourney('simple', [send('z')]), 5)],
    );
    expect(catalog.current.map((j) => [j.definition.id, j.version])).toEqual([
      ['simple', 6],
      ['other', 1],
    ]);
  });

  it('leaves disabled journeys out of the current ones', () => {
    const off = aJourney('off', [send('x')], { enabled: false });
    const { catalog, added } = buildCatalog([simple, off], []);
    expect(catalog.current.map((j) => j.definition.id)).toEqual(['simple']);
    expect(added.map((a) => a.journeyId)).toEqual(['simple']);
  });
});
