import { describe, expect, it } from 'vitest';
import type { GenerationRequest } from '../../ports/language-model.js';
import { toChatMessages } from './chat-prompt.js';

const request: GenerationRequest = {
  segment: 'At-Risk',
  strategy: 'control,fomo,benefit',
  tone: 'urgent',
  count: 3,
  snippets: [{ docId: 'DOC004', title: 'Welcome Back Special Offer', text: 'We miss you.' }],
  incentive: null,
  brand: { name: 'Herald Store', voice: ['warm'] },
  maxSubjectLength: 40,
};
const prompt = (extra: Partial<GenerationRequest> = {}) =>
  toChatMessages({ ...request, ...extra })
    .map((m) => m.content)
    .join('\n');

describe('toChatMessages', () => {
  it('caps the subject at the length asked for', () => {
    expect(prompt()).toContain('Each subject is at most 40 characters.');
  });

  it('names the strategies that won for the segment, and the signature, only when there are some', () => {
    expect(prompt()).not.toMatch(/won for this segment|signature/);
    const told = prompt({ learned: ['fomo', 'benefit'], signature: 'The Herald Store team' });
    expect(told).toContain('Segment: At-Risk');
    expect(told).toContain(
      'Strategies that won for this segment in past tests, best first: fomo, benefit.',
    );
    expect(told).toContain(
      'End every body with this signature, exactly as written: The Herald Store team',
    );
  });
});
