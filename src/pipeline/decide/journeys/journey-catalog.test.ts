import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultJourneys } from './default-journeys.js';
import { buildCatalog, checkJourneys, hashJourney, type StoredVersion } from './journey-catalog.js';
import { Value } from '@sinclair/typebox/value';
import {
  journeySchema,
  type Condition,
  type JourneyDefinition,
  type JourneyStep,
} from './journey-schema.js';

const aJourney = (
  id: string,
  steps: JourneyStep[],
  overrides: Partial<JourneyDefinition> = {},
): JourneyDefinition => ({ id, entry: { trigger: 'signed-up' }, steps, ...overrides });

const send = (id: string, next?: string): JourneyStep => ({
  id,
  type: 'send',
  channels: ['email'],
  template: id,
  ...(next === undefined ? {} : { next }),
});

const simple = aJourney('simple', [send('a'), { id: 'w', type: 'wait', days: 1 }, send('b')]);

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

/** The default win-back thresholds: inactive triggers on 30 and 90 days. */
const context = { inactiveDays: [30, 90] };

describe('checkJourneys', () => {
  it('finds nothing wrong with the default journeys', () => {
    expect(checkJourneys(defaultJourneys, context)).toEqual([]);
  });

  it('reports a journey id used twice', () => {
    expect(checkJourneys([simple, simple], context)).toEqual([
      { path: '/decide/journeys/1/id', message: 'journey id simple is used twice' },
    ]);
  });

  it('reports a step id used twice', () => {
    expect(checkJourneys([aJourney('j', [send('a'), send('a')])], context)).toEqual([
      { path: '/decide/journeys/0/steps/1/id', message: 'step id a is used twice' },
    ]);
  });

  it('reports every next, then, else and split arm that names no step', () => {
    const journey = aJourney('j', [
      send('a', 'nowhere'),
      { id: 'b', type: 'branch', if: { event: 'Clicked' }, then: 'gone', else: 'a' },
      {
        id: 'c',
        type: 'branch',
        split: [
          { arm: 'x', weight: 1, next: 'a' },
          { arm: 'y', weight: 1, next: 'lost' },
        ],
      },
    ]);
    expect(checkJourneys([journey], context)).toEqual([
      {
        path: '/decide/journeys/0/steps/0',
        message: 'step a goes to nowhere, which is not a step of j',
      },
      {
        path: '/decide/journeys/0/steps/1',
        message: 'step b goes to gone, which is not a step of j',
      },
      {
        path: '/decide/journeys/0/steps/2',
        message: 'step c goes to lost, which is not a step of j',
      },
    ]);
  });

  it('needs exactly one of hours, days or until on a wait', () => {
    const none: JourneyStep = { id: 'none', type: 'wait' };
    const two: JourneyStep = { id: 'two', type: 'wait', hours: 2, days: 1 };
    const untilAndDays: JourneyStep = {
      id: 'three',
      type: 'wait',
      days: 1,
      until: { event: 'Clicked', timeoutHours: 4 },
    };
    const fine: JourneyStep = { id: 'fine', type: 'wait', until: { event: 'X', timeoutHours: 1 } };
    const problems = checkJourneys([aJourney('j', [none, two, untilAndDays, fine])], context);
    expect(problems.map((p) => p.path)).toEqual([
      '/decide/journeys/0/steps/0',
      '/decide/journeys/0/steps/1',
      '/decide/journeys/0/steps/2',
    ]);
    expect(problems[0]?.message).toBe('wait step none needs exactly one of hours, days or until');
  });

  it('refuses an allocation on a send step without variants to allocate', () => {
    const lonely: JourneyStep = {
      id: 'lonely',
      type: 'send',
      channels: ['email'],
      template: 'welcome-1',
      allocation: 'thompson',
    };
    const fine: JourneyStep = { ...lonely, id: 'fine', variants: ['welcome-1', 'welcome-2'] };
    expect(checkJourneys([aJourney('j', [lonely, fine])], context)).toEqual([
      {
        path: '/decide/journeys/0/steps/0/allocation',
        message: 'send step lonely has an allocation but no variants to allocate',
      },
    ]);
  });

  it('needs either a condition or a split on a branch, and "then" with a condition', () => {
    const neither: JourneyStep = { id: 'neither', type: 'branch' };
    const both: JourneyStep = {
      id: 'both',
      type: 'branch',
      if: { event: 'X' },
      then: 'no-then',
      split: [
        { arm: 'x', weight: 1, next: 'no-then' },
        { arm: 'y', weight: 1, next: 'no-then' },
      ],
    };
    const noThen: JourneyStep = { id: 'no-then', type: 'branch', if: { event: 'X' } };
    expect(checkJourneys([aJourney('j', [neither, both, noThen])], context)).toEqual([
      {
        path: '/decide/journeys/0/steps/0',
        message: 'branch step neither needs either "if" or "split"',
      },
      {
        path: '/decide/journeys/0/steps/1',
        message: 'branch step both needs either "if" or "split"',
      },
      { path: '/decide/journeys/0/steps/2', message: 'branch step no-then needs "then"' },
    ]);
  });

  it('refuses steps that go round with no timed wait step on the way', () => {
    const loop: JourneyStep[] = [
      { id: 'a', type: 'send', channels: ['email'], template: 't' },
      { id: 'b', type: 'branch', if: { field: 'vip', op: 'eq', value: false }, then: 'a' },
    ];
    expect(checkJourneys([aJourney('loop', loop)], context)).toEqual([
      {
        path: '/decide/journeys/0/steps',
        message:
          'steps a → b → a go round with no timed wait step on the way: a customer would be sent round it at once',
      },
    ]);
    // With a wait in the round it is a reminder every so often.
    const waits: JourneyStep[] = [
      { id: 'a', type: 'send', channels: ['email'], template: 't' },
      { id: 'w', type: 'wait', days: 7 },
      { id: 'b', type: 'branch', if: { field: 'vip', op: 'eq', value: false }, then: 'a' },
    ];
    expect(checkJourneys([aJourney('waits', waits)], context)).toEqual([]);
    // A split goes to its arms only, never to the step below it.
    const split: JourneyStep[] = [
      {
        id: 'pick',
        type: 'branch',
        split: [
          { arm: 'a', weight: 1, next: 'email-a' },
          { arm: 'b', weight: 1, next: 'email-b' },
        ],
      },
      { id: 'again', type: 'send', channels: ['email'], template: 't', next: 'pick' },
      { id: 'email-a', type: 'send', channels: ['email'], template: 't', next: 'w' },
      { id: 'email-b', type: 'send', channels: ['email'], template: 't', next: 'w' },
      { id: 'w', type: 'wait', days: 7, next: 'again' },
    ];
    expect(checkJourneys([aJourney('split', split)], context)).toEqual([]);
    // A wait until an event passes at once when the event was seen before: no wait at all then.
    const until: JourneyStep[] = [
      { id: 'nudge', type: 'send', channels: ['email'], template: 't' },
      {
        id: 'until-viewed',
        type: 'wait',
        until: { event: 'Product Viewed', timeoutHours: 24 },
        next: 'nudge',
      },
    ];
    expect(checkJourneys([aJourney('until', until)], context).map((p) => p.message)).toEqual([
      'steps nudge → until-viewed → nudge go round with no timed wait step on the way: a customer would be sent round it at once',
    ]);
  });

  it('refuses a split with two arms of one name', () => {
    const split: JourneyStep = {
      id: 'pick',
      type: 'branch',
      split: [
        { arm: 'a', weight: 1, next: 'x' },
        { arm: 'b', weight: 1, next: 'x' },
        { arm: 'a', weight: 2, next: 'x' },
      ],
    };
    expect(checkJourneys([aJourney('j', [split, send('x')])], context)).toEqual([
      {
        path: '/decide/journeys/0/steps/0/split/2/arm',
        message: 'arm a is used twice in step pick',
      },
    ]);
  });

  it('takes an inactive entry only on the days the sweep raises the trigger', () => {
    const on = (to: string) =>
      aJourney(`inactive-${to}`, [send('a')], { entry: { trigger: 'inactive', to } });
    expect(checkJourneys([on('30'), on('90'), on('60')], context)).toEqual([
      {
        path: '/decide/journeys/2/entry/to',
        message:
          'with trigger inactive, must be "30" or "90" (decide.winBack.inactiveDays or dormantDays, the only days the daily sweep raises it), not "60"',
      },
    ]);
    expect(checkJourneys([on('60')], { inactiveDays: [60, 120] })).toEqual([]);
    const any = aJourney('any', [send('a')], { entry: { trigger: 'inactive' } });
    expect(checkJourneys([any], context)).toEqual([]);
  });

  it('refuses a condition that compares a field with a value it never has', () => {
    const branch = (id: string, condition: Condition): JourneyStep => ({
      id,
      type: 'branch',
      if: condition,
      then: 'end',
    });
    const steps: JourneyStep[] = [
      branch('stage', { field: 'lifecycleStage', op: 'eq', value: 'atrisk' }),
      branch('segment', { field: 'segment', op: 'in', value: ['New', 'new'] }),
      branch('vip', { field: 'vip', op: 'neq', value: 'yes' }),
      branch('order', { field: 'segment', op: 'gt', value: 3 }),
      branch('frequency', { field: 'frequency', op: 'eq', value: '3' }),
      // What a field can hold, and traits, which can hold anything, pass.
      branch('fine-stage', { field: 'lifecycleStage', op: 'in', value: ['new', 'at-risk'] }),
      branch('fine-recency', { field: 'recencyDays', op: 'eq', value: null }),
      branch('fine-trait', { field: 'trait.plan', op: 'gt', value: 3 }),
      branch('fine-cart', { field: 'cartValue', op: 'gte', value: 50 }),
      { id: 'w', type: 'wait', days: 1 },
      send('end'),
    ];
    expect(checkJourneys([aJourney('j', steps)], context)).toEqual([
      {
        path: '/decide/journeys/0/steps/0/if/value',
        message:
          'must be a lifecycle stage (new, active, at-risk, churned) to compare with lifecycleStage, not "atrisk"',
      },
      {
        path: '/decide/journeys/0/steps/1/if/value/1',
        message:
          'must be a segment (High-Value Recent, New, Standard, At-Risk, Dormant) to compare with segment, not "new"',
      },
      {
        path: '/decide/journeys/0/steps/2/if/value',
        message: 'must be true or false to compare with vip, not "yes"',
      },
      {
        path: '/decide/journeys/0/steps/3/if/op',
        message: 'gt compares numbers, and segment is not one (use eq, neq or in)',
      },
      {
        path: '/decide/journeys/0/steps/4/if/value',
        message: 'must be a number to compare with frequency, not "3"',
      },
    ]);
  });

  it('reports every problem of every journey at once', () => {
    const bad = aJourney('bad', [send('a', 'x'), { id: 'w', type: 'wait' }]);
    const worse = aJourney('worse', [send('a'), send('a', 'y')]);
    const paths = checkJourneys([simple, bad, worse, bad], context).map((p) => p.path);
    expect(paths).toEqual([
      '/decide/journeys/1/steps/0',
      '/decide/journeys/1/steps/1',
      '/decide/journeys/2/steps/1/id',
      '/decide/journeys/2/steps/1',
      '/decide/journeys/3/id',
      '/decide/journeys/3/steps/0',
      '/decide/journeys/3/steps/1',
    ]);
  });
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
