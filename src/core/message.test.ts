import { describe, expect, it } from 'vitest';
import { classOfMessage } from './message.js';

describe('classOfMessage', () => {
  const asked = {
    agent: 'custom',
    triggerKind: 'custom-event',
    hasIncentive: false,
    generated: false,
  };

  it('keeps a transactional template transactional for what a customer or an operator asked for', () => {
    for (const agent of ['api', 'journey', 'custom'])
      expect(classOfMessage(true, { ...asked, agent })).toBe('transactional');
    expect(classOfMessage(false, asked)).toBe('marketing');
  });

  it('makes it marketing for an agent, a campaign, an incentive or generated copy', () => {
    expect(classOfMessage(true, { ...asked, agent: 'cart' })).toBe('marketing');
    expect(classOfMessage(true, { ...asked, agent: 'api', triggerKind: 'campaign' })).toBe(
      'marketing',
    );
    expect(classOfMessage(true, { ...asked, hasIncentive: true })).toBe('marketing');
    expect(classOfMessage(true, { ...asked, generated: true })).toBe('marketing');
  });
});
