import type { FieldProblem } from '../core/errors.js';
import { defaultJourneys, type DecidePolicy } from '../pipeline/decide/index.js';
import type { Renderer } from '../pipeline/render/index.js';
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
  if (problems.length > 0) throw invalidConfig(problems);
};
