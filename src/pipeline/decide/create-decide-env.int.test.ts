import { afterEach, describe, expect, it } from 'vitest';
import { storeFactories } from '../../../test/support/stores.js';
import type { Store } from '../../ports/store.js';
import { loadDecideEnv } from './create-decide-env.js';
import { hashJourney } from './journeys/journey-catalog.js';
import type { JourneyDefinition } from './journeys/journey-schema.js';
import { defaultDecidePolicy, idSequence, t0 } from './test-builders.js';

const journey = (template: string): JourneyDefinition => ({
  id: 'promo',
  entry: { trigger: 'signed-up' },
  steps: [{ id: 'mail', type: 'send', channels: ['email'], template }],
});
const ours = journey('ours');
const theirs = journey('theirs');

describe.each(storeFactories.filter((f) => f.available))('loading journeys ($name)', (factory) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  const opened = async () => {
    const made = await factory.make();
    cleanups.push(made.cleanup);
    return made.store;
  };
  const load = (store: Store) =>
    loadDecideEnv(
      store,
      { ...defaultDecidePolicy(), journeys: [ours] },
      () => {
        throw new Error('not used');
      },
      idSequence('d'),
      t0,
      3,
      [],
      new Set(),
    );

  it('numbers its journey after one another process stored with other content meanwhile', async () => {
    const store = await opened();
    await store.saveJourneyVersion({
      journeyId: 'promo',
      version: 1,
      hash: hashJourney(journey('first')),
      definition: journey('first'),
      createdAtMs: t0,
    });
    // The other process stores version 2 between this one's read and its save.
    let raced = false;
    const racing: Store = Object.create(store) as Store;
    racing.loadJourneyVersions = async () => {
      const stored = await store.loadJourneyVersions();
      if (!raced) {
        raced = true;
        await store.saveJourneyVersion({
          journeyId: 'promo',
          version: 2,
          hash: hashJourney(theirs),
          definition: theirs,
          createdAtMs: t0,
        });
      }
      return stored;
    };
    const env = await load(racing);
    const current = env.journeys.current[0];
    expect(current?.version).toBe(3);
    expect(current?.definition).toEqual(ours);
    // Every process finds the same steps under each number.
    expect(env.journeys.find('promo', 2)?.definition).toEqual(theirs);
    const stored = await store.loadJourneyVersions();
    expect(stored.map((v) => [v.version, v.hash]).sort()).toEqual([
      [1, hashJourney(journey('first'))],
      [2, hashJourney(theirs)],
      [3, hashJourney(ours)],
    ]);
    // Loading again finds it stored.
    expect((await load(store)).journeys.current[0]?.version).toBe(3);
  });
});
