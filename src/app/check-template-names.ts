import type { FieldProblem } from '../core/errors.js';
import { defaultJourneys, type DecidePolicy } from '../pipeline/decide/index.js';
import { channelsWithoutCode, type Renderer } from '../pipeline/render/index.js';
import type { Channel } from '../core/profile.js';
import { invalidConfig } from './load-config.js';

/** Every template the decide settings name, with the setting (a JSON pointer) that names it. */
const templatesNamed = (policy: DecidePolicy): { path: string; name: string }[] => {
  const journeys = policy.journeys ?? defaultJourneys;
  const base = policy.journeys === undefined ? '/decide/journeys (the default journeys)' : null;
  return [
    { path: '/decide/cart/template', name: policy.cart.template },
    ...policy.customEvents.map((e, i) => ({
      path: `/decide/customEvents/${String(i)}/template`,
      name: e.template,
    })),
    ...journeys.flatMap((journey, j) =>
      journey.steps.flatMap((step, s) => {
        const at = base ?? `/decide/journeys/${String(j)}/steps/${String(s)}`;
        const where = (key: string) =>
          base === null ? `${at}/${key}` : `${at}: journey ${journey.id}, step ${step.id}, ${key}`;
        // A web step's content is a template too: rendered when the page asks for the slot.
        if (step.type === 'web') return [{ path: where('content'), name: step.content }];
        if (step.type !== 'send') return [];
        return [
          { path: where('template'), name: step.template },
          ...(step.variants ?? []).map((name, v) => ({
            path: where(`variants/${String(v)}`),
            name,
          })),
        ];
      }),
    ),
  ];
};

/** The templates of journey steps that give an incentive, with the step's channels. */
const templatesWithIncentives = (
  policy: DecidePolicy,
): { path: string; name: string; channels: readonly Channel[] }[] => {
  const journeys = policy.journeys ?? defaultJourneys;
  const base = policy.journeys === undefined ? '/decide/journeys (the default journeys)' : null;
  return journeys.flatMap((journey, j) =>
    journey.steps.flatMap((step, s) => {
      if (step.type !== 'send' || (step.incentive === undefined && step.offer === undefined))
        return [];
      const at = base ?? `/decide/journeys/${String(j)}/steps/${String(s)}`;
      const where = (key: string) =>
        base === null ? `${at}/${key}` : `${at}: journey ${journey.id}, step ${step.id}, ${key}`;
      return [
        { path: where('template'), name: step.template, channels: step.channels },
        ...(step.variants ?? []).map((name, v) => ({
          path: where(`variants/${String(v)}`),
          name,
          channels: step.channels,
        })),
      ];
    }),
  );
};

/**
 * Refuses at start a configuration that names a template the templates folder does not hold:
 * every message of it would otherwise be blocked when rendered (`no_template`), for as long as
 * Herald runs.
 */
export const checkTemplateNames = (policy: DecidePolicy, renderer: Renderer): void => {
  const problems: FieldProblem[] = templatesNamed(policy)
    .filter((t) => renderer.templateOf(t.name) === undefined)
    .map((t) => ({
      path: t.path,
      message: `names the template ${JSON.stringify(t.name)}, which is neither built in nor in messages.templatesDir`,
    }));
  // A step's incentive through a template that never prints the code: each customer given a
  // discount no message names.
  for (const t of templatesWithIncentives(policy)) {
    const template = renderer.templateOf(t.name);
    const missing = template === undefined ? [] : channelsWithoutCode(template, t.channels);
    if (missing.length > 0)
      problems.push({
        path: t.path,
        message: `names the template ${JSON.stringify(t.name)}, which does not print the step's code (incentive.code) on ${missing.join(', ')}: each customer would be given a discount no message names`,
      });
  }
  if (problems.length > 0) throw invalidConfig(problems);
};
