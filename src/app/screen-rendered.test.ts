// Written copy is moderated once, as its Liquid source; the one value of the customer's it may
// print, their first name, is screened as it goes in, with the screen the app gives the guard.
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { aDecision } from '../../test/support/builders.js';
import { createLocalModerator, createNameScreen } from '../adapters/moderation/local-moderator.js';
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

const T0 = Date.UTC(2026, 5, 3, 12);
const profilePolicy = Value.Default(profilePolicySchema, {}) as never;
const depsWith = (screenName?: GuardDeps['screenName']): GuardDeps => ({
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
  ...(screenName === undefined ? {} : { screenName }),
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
const subject = 'A note for you';
const body = 'Hi {{ customer.firstName | default: "there" }}, new arrivals are in.';
const cta = 'Shop now';
const variantWith = (moderation: CreativeVariant['moderation']): CreativeVariant => ({
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
});
const decisionOf = (id: string): Decision => ({
  ...aDecision({
    id,
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
});

describe('written copy with a first name in it', () => {
  const judged = async (
    firstName: string,
    deps: GuardDeps,
    id = 'd-n1',
    moderation?: CreativeVariant['moderation'],
  ) =>
    judgeDecision(
      decisionOf(id),
      {
        ...emptyProfile(toCustomerId('n1'), T0 - 1000),
        traits: { email: 'n1@example.com', firstName },
      },
      batch([
        variantWith(
          moderation ?? (await moderate(createLocalModerator(), [subject, '', body, cta], 1000)),
        ),
      ]),
      deps,
      T0,
    ).message;
  const screened = depsWith(createNameScreen());

  it('blocks what a first name puts in it, that its source did not hold', async () => {
    // A first name set through a public write key: the greeting carries it.
    const hostile = await judged('you are worthless, go kill yourself', screened);
    expect(hostile.content?.body).toContain('go kill yourself');
    expect(hostile).toMatchObject({ status: 'blocked', reasonCode: 'unsafe_content' });
    // Without the screen, the variant's answer alone: it went.
    expect((await judged('you are worthless, go kill yourself', depsWith())).status).toBe('queued');
  });

  it('sends real names, and copy whose link token happens to spell a lexicon word', async () => {
    // "Porn" is a common Thai name: a single word is no phrase of the name screen.
    expect((await judged('Porn', screened)).status).toBe('queued');
    // With this link secret, d-187241's unsubscribe token holds "_KyS_".
    const tokened = await judged('Ada', screened, 'd-187241');
    expect(tokened.content?.body).toContain('_KyS_');
    expect(tokened.status).toBe('queued');
  });

  it('names the name screen, not the variant’s moderator, for what it found', async () => {
    const hostile = await judged('go kill yourself', screened, 'd-n2', {
      ok: true,
      moderator: 'openai',
      findings: [],
    });
    const safety = hostile.verdicts.find((v) => v.guardrail === 'content-safety');
    expect(safety?.reason).toContain("the local lexicon (the customer's first name)");
  });
});
