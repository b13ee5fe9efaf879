import { describe, expect, it } from 'vitest';
import { explainDecision } from './decisions.js';
import { aDecision } from '../../../test/support/builders.js';

describe('herald decisions explain', () => {
  it('shows each alternative with the reason it lost and the reasons it was proposed', () => {
    const text = explainDecision(
      aDecision({
        alternatives: [
          {
            agent: 'lifecycle',
            action: 'win-back',
            priority: 50,
            expectedValue: 1.2,
            reason: 'priority 50 < 90 (cart)',
            reasons: ['lifecycle stage active → at-risk', 'email: opted in'],
          },
          {
            agent: 'custom',
            action: 'custom-event',
            priority: 30,
            expectedValue: 0.4,
            reason: 'priority 30 < 90 (cart)',
          },
        ],
      }),
    );
    expect(text).toContain(
      [
        '  instead of:',
        '    - lifecycle/win-back: priority 50 < 90 (cart)',
        '        · lifecycle stage active → at-risk',
        '        · email: opted in',
        '    - custom/custom-event: priority 30 < 90 (cart)',
      ].join('\n'),
    );
  });
});
