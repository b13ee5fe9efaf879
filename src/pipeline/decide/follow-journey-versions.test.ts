import { describe, expect, it } from 'vitest';
import type { JourneyVersionRow } from '../../ports/decide-store.js';
import { followJourneyVersions } from './create-decide-env.js';
import { buildCatalog, type JourneyCatalog } from './journeys/journey-catalog.js';
import type { JourneyDefinition } from './journeys/journey-schema.js';
import type { TriggerPlanner } from './plan-triggers.js';
import { withPolicy } from './test-builders.js';

const quiz = (exitOn: string[]): JourneyDefinition => ({
  id: 'quiz',
  entry: { event: 'Quiz Completed' },
  exitOn,
  steps: [{ id: 'intro', type: 'send', channels: ['email'], template: 'welcome-1' }],
});

const rowsOf = (definitions: JourneyDefinition[]): JourneyVersionRow[] =>
  buildCatalog(definitions.slice(0, 1), [])
    .added.concat(
      definitions.slice(1).map((definition, i) => ({
        journeyId: definition.id,
        version: i + 2,
        hash: `h${String(i + 2)}`,
        definition,
      })),
    )
    .map((v) => ({ ...v, createdAtMs: 0 }));

describe('followJourneyVersions', () => {
  const policy = withPolicy({ journeys: [quiz(['Order Completed'])] });
  const started = buildCatalog(policy.journeys ?? [], []).catalog;
  const follow = () => {
    const made: string[][] = [];
    const errors: unknown[] = [];
    const planners: TriggerPlanner[] = [];
    const plannerFor = followJourneyVersions(
      policy,
      started,
      (catalog: JourneyCatalog) => {
        made.push(catalog.all.map((j) => `${j.definition.id}@${String(j.version)}`));
        const planner: TriggerPlanner = () => ({ schedule: [], cancel: [] });
        planners.push(planner);
        return planner;
      },
      (error) => errors.push(error),
    );
    return { plannerFor, made, errors, planners };
  };

  it('keeps its planner while the stored versions are those it started with', async () => {
    const { plannerFor, made, planners } = follow();
    const asked: number[] = [];
    const tx = {
      journeyVersionsBeyond: (known: number) => {
        asked.push(known);
        return Promise.resolve(null);
      },
    };
    expect(await plannerFor(tx)).toBe(planners[0]);
    expect(await plannerFor(tx)).toBe(planners[0]);
    expect(made).toEqual([['quiz@1']]);
    expect(asked).toEqual([1, 1]);
  });

  it('plans from every version once another process stored one', async () => {
    const { plannerFor, made, planners } = follow();
    const stored = rowsOf([quiz(['Order Completed']), quiz(['Order Completed', 'Quiz Abandoned'])]);
    const asked: number[] = [];
    const tx = {
      journeyVersionsBeyond: (known: number) => {
        asked.push(known);
        return Promise.resolve(known === stored.length ? null : stored);
      },
    };
    expect(await plannerFor(tx)).toBe(planners[1]);
    expect(made).toEqual([['quiz@1'], ['quiz@1', 'quiz@2']]);
    expect(await plannerFor(tx)).toBe(planners[1]);
    expect(asked).toEqual([1, 2]);
  });

  it('reports a version it cannot read and plans as before, without reading it again', async () => {
    const { plannerFor, errors, planners } = follow();
    const stored = [
      ...rowsOf([quiz(['Order Completed'])]),
      { journeyId: 'quiz', version: 2, hash: 'h2', definition: { id: 'quiz' }, createdAtMs: 0 },
    ];
    const asked: number[] = [];
    const tx = {
      journeyVersionsBeyond: (known: number) => {
        asked.push(known);
        return Promise.resolve(known === stored.length ? null : stored);
      },
    };
    expect(await plannerFor(tx)).toBe(planners[0]);
    expect(errors).toHaveLength(1);
    expect(await plannerFor(tx)).toBe(planners[0]);
    expect(asked).toEqual([1, 2]);
  });
});
