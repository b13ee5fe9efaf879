// Written copy is moderated once, as its Liquid source; the guard screens it again as rendered
// for its customer, with the lexicon the app gives it.
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { aDecision } from '../../test/support/builders.js';
import { createLexiconScreen } from '../adapters/moderation/local-moderator.js';
import type { CreativeVariant, Decision } from '../core/decision.js';
import { toCustomerId } from '../core/ids.js';
import { quietHoursSchema } from '../core/quiet-hours.js';
import {
  judgeDecision,
  type GuardBatchState,
  type GuardDeps,
} from '../pipeline/guard-and-record.js';
import { guardPolicySchema, moderate, type GuardPolicy } from '../pipeline/guard/index.js';
import { deriveComputed, emptyProfile, profilePolicySchema } from '../pipeline/profile/index.js';
import { createRenderer, defaultTemplates } from '../pipeline/render/index.js';
import { createLocalModerator } from '../adapters/moderation/local-moderator.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const profilePolicy = Value.Default(profilePolicySchema, {}) as never;
const depsWith = (screenRendered?: GuardDeps['screenRendered']): GuardDeps => ({
  renderer: createRenderer(defaultTemplates, {
    brandName: 'Herald Store',
    from: 'Herald <m@example.com>',
    replyTo: null,
    postalAddress: '1 Main St',
    publicUrl: 'https://h.example.com',
    shopUrl: 'https://shop.example.com',
    linkSecret: 'secret',
  }),
  policy: Value.Default(guardPolicySchema, {}) as GuardPolicy,
  quietHours: Value.Default(quietHoursSchema, {}) as never,
  figures: (state, nowMs) => deriveComputed(state, nowMs, profilePolicy),
  reviewExpiryMs: 48 * 3_600_000,
  experiments: { windowMs: 7 * 86_400_000, segmentOf: () => 'Standard' },
  sendingDomain: null,
  ...(screenRendered === undefined ? {} : { screenRendered }),
});
const batch = (creative: CreativeVariant[]): GuardBatchState => ({
  history: new Map(),
  spend: new Map(),
  domain: null,
  creative: new Map([['creative:c1', creative]]),
  rollout: null,
  promoted: new Map(),
  weights: new Map(),
  erased: new Map(),
  withdrawn: new Map(),
});

describe('written copy screened as rendered for its customer', () => {
  it('blocks what a Liquid variable put in it, that its source did not hold', async () => {
    const subject = 'A note for you';
    const body = 'Hi {{ customer.firstName | default: "there" }}, new arrivals are in.';
    const cta = 'Shop now';
    const moderation = await moderate(createLocalModerator(), [subject, '', body, cta], 1000);
    expect(moderation).toMatchObject({ ok: true, findings: [] });
    const variant: CreativeVariant = {
      id: 'v-a',
      strategy: 'v-a',
      tone: 'friendly',
      subject,
      preheader: '',
      body,
      cta,
      citations: ['doc-1'],
      generator: 'offline-composer',
      moderation,
      scores: { brand: 0.9, tone: 0.9 },
    };
    const decision: Decision = {
      ...aDecision({
        id: 'd-n1',
        customerId: toCustomerId('n1'),
        agent: 'campaign',
        scheduledForMs: T0,
        createdAtMs: T0,
      }),
      trigger: {
        kind: 'campaign',
        campaign: {
          id: 'c1',
          template: 'upsell',
          channels: ['email'],
          segment: null,
          incentive: null,
          sendAtMs: T0,
        },
      },
      experiment: { slot: 'creative:c1', variants: ['v-a'] },
    };
    const judged = (firstName: string, deps: GuardDeps) =>
      judgeDecision(
        decision,
        {
          ...emptyProfile(toCustomerId('n1'), T0 - 1000),
          traits: { email: 'n1@example.com', firstName },
        },
        batch([variant]),
        deps,
        T0,
      ).message;
    const screened = depsWith(createLexiconScreen());
    // A first name set through a public write key: the greeting carries it.
    const hostile = judged('you are worthless, go kill yourself', screened);
    expect(hostile.content?.body).toContain('go kill yourself');
    expect(hostile).toMatchObject({ status: 'blocked', reasonCode: 'unsafe_content' });
    expect(judged('Ada', screened).status).toBe('queued');
    // Without the screen, the variant's answer alone: it went.
    expect(judged('you are worthless, go kill yourself', depsWith()).status).toBe('queued');
  });
});
