import { describe, expect, it } from 'vitest';
import { severityOfScore, toModerationFindings } from './openai-moderator.js';

const scores = (overrides: Record<string, number>) => ({
  flagged: false,
  categories: {},
  category_scores: {
    harassment: 0.001,
    'harassment/threatening': 0.001,
    hate: 0.001,
    'hate/threatening': 0.001,
    illicit: 0.001,
    'illicit/violent': 0.001,
    'self-harm': 0.001,
    'self-harm/intent': 0.001,
    'self-harm/instructions': 0.001,
    sexual: 0.001,
    'sexual/minors': 0.001,
    violence: 0.001,
    'violence/graphic': 0.001,
    ...overrides,
  },
});

describe('severityOfScore', () => {
  it.each([
    [0.19, 'none'],
    [0.2, 'low'],
    [0.49, 'low'],
    [0.5, 'medium'],
    [0.89, 'medium'],
    [0.9, 'high'],
  ])('maps %s to %s', (score, severity) => {
    expect(severityOfScore(score)).toBe(severity);
  });
});

describe('toModerationFindings', () => {
  it('takes the worst score over inputs and sub-categories, keeping low and above', () => {
    const body = {
      id: 'modr-1',
      model: 'omni-moderation-latest',
      results: [
        scores({ 'hate/threatening': 0.95, violence: 0.3 }),
        scores({ violence: 0.6, 'self-harm/intent': 0.1 }),
      ],
    };
    expect(toModerationFindings(body, 2)).toEqual([
      { category: 'hate', severity: 'high', score: 0.95 },
      { category: 'violence', severity: 'medium', score: 0.6 },
    ]);
  });

  it('takes what the API flagged as at least medium, and high for minors and self-harm intent', () => {
    const flagged = (key: string, score: number) => ({
      ...scores({ [key]: score }),
      flagged: true,
      categories: { [key]: true },
    });
    const findingsOf = (key: string, score: number) =>
      toModerationFindings({ results: [flagged(key, score)] }, 1);
    expect(findingsOf('sexual/minors', 0.35)).toEqual([
      { category: 'sexual', severity: 'high', score: 0.35 },
    ]);
    expect(findingsOf('self-harm/instructions', 0.3)).toEqual([
      { category: 'self-harm', severity: 'high', score: 0.3 },
    ]);
    expect(findingsOf('self-harm/intent', 0.15)).toEqual([
      { category: 'self-harm', severity: 'high', score: 0.15 },
    ]);
    expect(findingsOf('harassment', 0.4)).toEqual([
      { category: 'harassment', severity: 'medium', score: 0.4 },
    ]);
    // Not flagged: the score alone.
    expect(toModerationFindings({ results: [scores({ 'sexual/minors': 0.35 })] }, 1)).toEqual([
      { category: 'sexual', severity: 'low', score: 0.35 },
    ]);
  });

  it('counts illicit/violent as violence and leaves plain illicit out', () => {
    const body = { results: [scores({ illicit: 0.99, 'illicit/violent': 0.7 })] };
    expect(toModerationFindings(body, 1)).toEqual([
      { category: 'violence', severity: 'medium', score: 0.7 },
    ]);
  });

  it('throws on a body not in the documented shape', () => {
    expect(() => toModerationFindings({ results: [] }, 1)).toThrow('no results');
    expect(() => toModerationFindings({ error: { message: 'x' } }, 1)).toThrow('no results');
    expect(() => toModerationFindings({ results: [{ flagged: true }] }, 1)).toThrow(
      'category_scores',
    );
    expect(() =>
      toModerationFindings({ results: [{ category_scores: { hate: 'high' } }] }, 1),
    ).toThrow('not a number');
  });
});
