import type { Command } from 'commander';
import { decisionAgents, type Decision, type DecisionAgent } from '../../core/decision.js';
import { AppError } from '../../core/errors.js';
import { customerOption, loadServices } from '../load-services.js';
import { parseIntegerOption } from './parse-integer-option.js';

/** The bounds of GET /v1/decisions?limit=. */
const LIMIT_BOUNDS = { min: 1, max: 1000 };

const iso = (ms: number) => new Date(ms).toISOString();

const describeTrigger = (d: Decision): string => {
  const t = d.trigger;
  switch (t.kind) {
    case 'cart-abandoned':
      return `cart abandoned (last change ${iso(t.cartUpdatedAtMs)})`;
    case 'event':
      return `event "${t.name}" (${t.messageId})`;
    case 'journey-step':
      return `journey ${t.journeyId} v${t.version} reached step ${t.stepId}`;
    case 'stage-changed':
    case 'segment-changed':
      return `${t.kind === 'stage-changed' ? 'lifecycle stage' : 'segment'} ${t.from ?? '—'} → ${t.to}`;
    case 'win-back-wave':
      return `win-back wave ${t.wave + 1} (path started ${iso(t.startedAtMs)})`;
    case 'inactive':
      return `inactive for ${t.days} days`;
    default:
      return t.kind;
  }
};

/** A decision in words: what, for whom, when, why, and what it beat. */
export const explainDecision = (d: Decision): string => {
  const lines = [
    `decision ${d.id} — ${d.status}`,
    `  customer:   ${d.customerId}`,
    `  agent:      ${d.agent} (priority ${d.priority}, confidence ${d.confidence}, expected value ${d.expectedValue})`,
    `  trigger:    ${describeTrigger(d)}`,
    `  action:     ${d.action}${d.template === null ? '' : ` with template ${d.template}`}`,
    `  channels:   ${d.channels.length === 0 ? '(none)' : d.channels.join(' → ')}`,
    `  scheduled:  ${iso(d.scheduledForMs)} (decided ${iso(d.createdAtMs)})`,
  ];
  if (d.incentive !== null)
    lines.push(
      `  incentive:  ${d.incentive.percent ?? d.incentive.amount ?? ''}${d.incentive.percent === null ? '' : ' %'} ${d.incentive.kind}, code ${d.incentive.code}, expires ${iso(d.incentive.expiresAtMs)}`,
    );
  if (d.journey !== null)
    lines.push(`  journey:    ${d.journey.id} v${d.journey.version}, step ${d.journey.stepId}`);
  if (d.experiment !== null)
    lines.push(
      `  experiment: slot ${d.experiment.slot}, variants ${d.experiment.variants.join(', ')}`,
    );
  if (d.scores !== undefined) {
    const churn = d.scores.churnRisk;
    lines.push(
      `  scores:     churn risk ${churn.value} from ${churn.source === 'model' ? `churn model v${churn.modelVersion ?? '?'}` : 'the rules'}`,
    );
  }
  lines.push('  because:');
  for (const r of d.reasons) lines.push(`    - ${r}`);
  if (d.alternatives.length > 0) {
    lines.push('  instead of:');
    for (const a of d.alternatives) {
      lines.push(`    - ${a.agent}/${a.action}: ${a.reason}`);
      // Why its agent wanted the customer (absent on decisions made before it was kept).
      for (const r of a.reasons ?? []) lines.push(`        · ${r}`);
    }
  }
  return lines.join('\n');
};

/**
 * An `--agent` value: one of the agents decisions are made by, as GET /v1/decisions?agent=
 * takes — another (a typo) is bad input listing them, not an empty list.
 */
export const parseAgentOption = (text: string): DecisionAgent => {
  const agent = decisionAgents.find((a) => a === text);
  if (agent === undefined)
    throw new AppError(
      'invalid-input',
      `--agent ${text}: not an agent (one of ${decisionAgents.join(', ')})`,
    );
  return agent;
};

/** `herald decisions list|explain`. */
export const registerDecisionCommands = (program: Command): void => {
  const decisions = program.command('decisions').description('decisions the agents made');
  decisions
    .command('explain')
    .description('show one decision with its trigger, reasons and the alternatives it beat')
    .argument('<id>', 'decision id')
    .option('--json', 'print the decision as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const services = await loadServices(process.env);
      try {
        const decision = await services.store.getDecision(id);
        if (decision === undefined) throw new AppError('not-found', `no decision ${id}`);
        console.log(
          options.json === true ? JSON.stringify(decision, null, 2) : explainDecision(decision),
        );
      } finally {
        await services.close();
      }
    });
  decisions
    .command('list')
    .description('the latest decisions, newest first')
    .option('--customer <userId>', 'only this customer')
    .option('--agent <agent>', `only this agent (${decisionAgents.join(', ')})`)
    .option('--limit <n>', 'how many (1–1000)', '20')
    .action(async (options: { customer?: string; agent?: string; limit: string }) => {
      const limit = parseIntegerOption(options.limit, '--limit', LIMIT_BOUNDS);
      if (options.agent !== undefined) parseAgentOption(options.agent);
      const services = await loadServices(process.env);
      try {
        const customerId = await customerOption(services, options.customer);
        const list = await services.store.listDecisions({
          limit,
          ...(customerId === undefined ? {} : { customerId }),
          ...(options.agent === undefined ? {} : { agent: options.agent }),
        });
        for (const d of list)
          console.log(
            `${d.id}  ${iso(d.createdAtMs)}  ${d.customerId}  ${d.agent}/${d.action}  ${d.status}  → ${iso(d.scheduledForMs)}`,
          );
      } finally {
        await services.close();
      }
    });
};
