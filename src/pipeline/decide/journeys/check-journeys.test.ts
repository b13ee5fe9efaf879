import { describe, expect, it } from 'vitest';
import { checkJourneys, eventSpellingWarnings } from './check-journeys.js';
import { defaultJourneys } from './default-journeys.js';
import type { Condition, JourneyStep } from './journey-schema.js';
import { aJourney, aSendStep, aSimpleJourney } from './test-builders.js';

const send = aSendStep;
const simple = aSimpleJourney();

/** The default win-back thresholds: inactive triggers on 30 and 90 days. */
const context = { inactiveDays: [30, 90] };

describe('checkJourneys', () => {
  it('finds nothing wrong with the default journeys', () => {
    expect(checkJourneys(defaultJourneys, context)).toEqual([]);
  });

  it('warns of a well-known event name written in another case or spacing, wherever a journey names it', () => {
    const journey = {
      ...aJourney('j', [
        { id: 'w', type: 'wait', until: { event: 'email opened', timeoutHours: 24 }, next: 'b' },
        { id: 'b', type: 'branch', if: { event: 'Product_Viewed' }, then: 's', else: 's' },
        send('s'),
      ] as JourneyStep[]),
      entry: { event: 'signed up' },
      exitOn: ['order completed', 'Order Refunded', 'Newsletter Joined'],
    };
    // Not refused: a source may send its events so.
    expect(checkJourneys([journey], context)).toEqual([]);
    expect(eventSpellingWarnings([journey])).toEqual([
      '/decide/journeys/0/entry/event: names the event "signed up", not "Signed Up" (event names match exactly): check which your sources send',
      expect.stringMatching(/^\/decide\/journeys\/0\/exitOn\/0: .*not "Order Completed"/),
      expect.stringMatching(/^\/decide\/journeys\/0\/steps\/0\/until\/event: .*"Email Opened"/),
      expect.stringMatching(/^\/decide\/journeys\/0\/steps\/1\/if\/event: .*"Product Viewed"/),
    ]);
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

  it('refuses a step no run reaches: left after an exit, or skipped by every branch', () => {
    const orphan: JourneyStep[] = [send('a'), { id: 'done', type: 'exit' }, send('orphan')];
    expect(checkJourneys([aJourney('j', orphan)], context)).toEqual([
      {
        path: '/decide/journeys/0/steps/2',
        message:
          'step orphan is never reached: no step goes to it, and the one above it ends the journey or goes elsewhere',
      },
    ]);
    const skipped: JourneyStep[] = [
      {
        id: 'b',
        type: 'branch',
        if: { field: 'vip', op: 'eq', value: true },
        then: 'x',
        else: 'y',
      },
      send('unused'),
      send('x', 'done'),
      send('y'),
      { id: 'done', type: 'exit' },
    ];
    expect(checkJourneys([aJourney('j', skipped)], context).map((p) => p.path)).toEqual([
      '/decide/journeys/0/steps/1',
    ]);
    // A step reached only by a wait's next, or one above it, is reached.
    const reached: JourneyStep[] = [
      { id: 'w', type: 'wait', hours: 1, next: 'late' },
      { id: 'done', type: 'exit' },
      send('late', 'done'),
    ];
    expect(checkJourneys([aJourney('j', reached)], context)).toEqual([]);
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

  it('refuses "then" and "else" beside a split, which goes by its arms alone', () => {
    const split: JourneyStep = {
      id: 'pick',
      type: 'branch',
      then: 'y',
      else: 'y',
      split: [
        { arm: 'a', weight: 1, next: 'x' },
        { arm: 'b', weight: 1, next: 'x' },
      ],
    };
    expect(checkJourneys([aJourney('j', [split, send('x'), send('y')])], context)).toEqual([
      {
        path: '/decide/journeys/0/steps/0/then',
        message:
          'branch step pick splits into arms, so its "then" is never followed: give each arm its next step',
      },
      {
        path: '/decide/journeys/0/steps/0/else',
        message:
          'branch step pick splits into arms, so its "else" is never followed: give each arm its next step',
      },
    ]);
  });

  it('refuses a wait for, or a condition on, an event that ends the journey', () => {
    // The exit runs first: the wait could only time out, the condition never hold.
    const steps: JourneyStep[] = [
      { id: 'w', type: 'wait', until: { event: 'Order Completed', timeoutHours: 24 } },
      { id: 'b', type: 'branch', if: { event: 'Order Completed' }, then: 'x', else: 'v' },
      { id: 'v', type: 'wait', until: { event: 'Product Viewed', timeoutHours: 24 } },
      { id: 'seen', type: 'branch', if: { event: 'Product Viewed' }, then: 'x' },
      send('x'),
    ];
    const journey = aJourney('j', steps, { exitOn: ['Order Completed'] });
    expect(checkJourneys([journey], context)).toEqual([
      {
        path: '/decide/journeys/0/steps/0/until/event',
        message: 'Order Completed ends journey j (exitOn), so wait step w could only time out',
      },
      {
        path: '/decide/journeys/0/steps/1/if/event',
        message:
          'Order Completed ends journey j (exitOn), so the condition of branch step b could never hold',
      },
    ]);
    expect(checkJourneys([{ ...journey, exitOn: [] }], context)).toEqual([]);
  });

  it('refuses a variant named twice in a send step', () => {
    const step: JourneyStep = {
      id: 's',
      type: 'send',
      channels: ['email'],
      template: 'a',
      variants: ['a', 'b', 'a'],
    };
    expect(checkJourneys([aJourney('j', [step])], context)).toEqual([
      {
        path: '/decide/journeys/0/steps/0/variants/2',
        message: 'variant a is used twice in step s',
      },
    ]);
  });

  it('refuses waits and web content longer than ten years', () => {
    const steps: JourneyStep[] = [
      { id: 'h', type: 'wait', hours: 1e300 },
      { id: 'd', type: 'wait', days: 3651 },
      { id: 'u', type: 'wait', until: { event: 'Clicked', timeoutHours: 87_601 } },
      { id: 'web', type: 'web', slot: 'hero', content: 'banner', ttlHours: 1e9 },
      // Ten years to the day pass.
      { id: 'ten', type: 'wait', days: 3650 },
      { id: 'tens', type: 'wait', hours: 87_600 },
    ];
    expect(checkJourneys([aJourney('j', steps)], context)).toEqual([
      {
        path: '/decide/journeys/0/steps/0/hours',
        message: 'must be at most 87600 hours (ten years), not 1e+300',
      },
      {
        path: '/decide/journeys/0/steps/1/days',
        message: 'must be at most 3650 days (ten years), not 3651',
      },
      {
        path: '/decide/journeys/0/steps/2/until/timeoutHours',
        message: 'must be at most 87600 hours (ten years), not 87601',
      },
      {
        path: '/decide/journeys/0/steps/3/ttlHours',
        message: 'must be at most 87600 hours (ten years), not 1000000000',
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
