import { Value } from '@sinclair/typebox/value';
import { createLocalModerator } from '../../src/adapters/moderation/local-moderator.js';
import { guardPolicySchema, type GuardPolicy } from '../../src/pipeline/guard/index.js';
import type { PersonalizeOptions } from '../../src/pipeline/personalize.js';

/** What the personalisation tests write with: the default brand, policy and local moderator, no cache. */
export const personalizeOptions = (
  atMs: number,
  extra: Partial<PersonalizeOptions> = {},
): PersonalizeOptions => ({
  atMs,
  brandName: 'Herald Store',
  shopUrl: 'https://shop.example.com',
  brand: {
    voiceWords: ['you', 'your', 'we'],
    forbiddenWords: ['cheap'],
    requiredElements: ['personalisation', 'cta'],
    targetReadingGrade: [6, 12],
  },
  guardPolicy: Value.Default(guardPolicySchema, {}) as GuardPolicy,
  moderator: createLocalModerator(),
  moderationTimeoutMs: 1000,
  variants: 3,
  ...extra,
});
