import { describe, expect, it } from 'vitest';
import { milestoneAgent } from '../../src/pipeline/decide/agents/lifecycle-agent.js';
import { aView, anEnv, t0 } from '../../src/pipeline/decide/test-builders.js';
import { createRenderer, defaultTemplates } from '../../src/pipeline/render/index.js';
import { aDecision } from '../support/builders.js';

const renderer = createRenderer(defaultTemplates, {
  brandName: 'Herald Store',
  from: 'Herald <m@example.com>',
  replyTo: null,
  postalAddress: '1 Main St',
  publicUrl: 'https://h.example.com',
  shopUrl: 'https://shop.example.com',
  linkSecret: 'secret',
});

describe('the built-in templates, from what the agents decide', () => {
  it('prints the order number of a milestone', () => {
    const view = aView({ computed: { monetary: 400, frequency: 5 } });
    const p = milestoneAgent(
      view,
      { kind: 'order-placed', orderCount: 5, revenue: 0 },
      anEnv(),
      t0,
    );
    if (typeof p === 'string') throw new Error(p);
    const template = defaultTemplates.find((t) => t.name === p.template);
    if (template === undefined) throw new Error(`no built-in template ${String(p.template)}`);
    const content = renderer.render({
      messageClass: 'marketing',
      messageId: 'm-5',
      channel: 'sms',
      template,
      profile: undefined,
      decision: aDecision({ id: 'm-5', template: p.template, details: p.details }),
    });
    expect(content.body).toContain('that was order number 5 - thank you');
  });
});
