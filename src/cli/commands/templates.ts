import type { Command } from 'commander';
import { parseIntegerOption } from './parse-integer-option.js';
import { loadTemplates } from '../../app/load-templates.js';
import type { Decision, Incentive } from '../../core/decision.js';
import { AppError } from '../../core/errors.js';
import type { CustomerId } from '../../core/ids.js';
import type { MessageClass, RenderedContent } from '../../core/message.js';
import { channels, type Channel } from '../../core/profile.js';
import { messageClassOf } from '../../pipeline/guard-and-record.js';
import type { Template } from '../../pipeline/render/index.js';
import { loadServices } from '../load-services.js';

const PREVIEW_INCENTIVE_VALID_MS = 48 * 60 * 60 * 1000;

const parseChannel = (value: string): Channel => {
  const channel = channels.find((c) => c === value);
  if (channel === undefined)
    throw new AppError('invalid-input', `--channel must be one of ${channels.join('|')}`);
  return channel;
};

const parsePercent = (value: string): number =>
  parseIntegerOption(value, '--percent', { min: 1, max: 100 });

/** A decision made by nobody, so the renderer has what a real one would give it. */
const toPreviewDecision = (input: {
  id: string;
  customerId: CustomerId;
  template: string;
  channel: Channel;
  percent: number | null;
  nowMs: number;
}): Decision => {
  const incentive: Incentive | null =
    input.percent === null
      ? null
      : {
          kind: 'percent-off',
          percent: input.percent,
          amount: null,
          code: `PREVIEW-${String(input.percent)}OFF`,
          expiresAtMs: input.nowMs + PREVIEW_INCENTIVE_VALID_MS,
        };
  return {
    id: input.id,
    customerId: input.customerId,
    agent: 'preview',
    trigger: { kind: 'api', by: 'herald templates preview' },
    action: 'preview',
    channels: [input.channel],
    template: input.template,
    incentive,
    scheduledForMs: input.nowMs,
    confidence: 1,
    reasons: ['previewed from the command line'],
    journey: null,
    experiment: null,
    status: 'scheduled',
    priority: 0,
    expectedValue: 0,
    alternatives: [],
    details: {},
    createdAtMs: input.nowMs,
  };
};

const describeTemplate = (t: Template): string =>
  `${t.name} (${t.class}, topic ${t.topic ?? 'none'})`;

/** A rendered message in words: the parts a channel sends, the HTML on request. */
const formatPreview = (
  template: Template,
  messageClass: MessageClass,
  customer: string,
  channel: Channel,
  content: RenderedContent,
  withHtml: boolean,
): string => {
  const lines = [
    `template:  ${describeTemplate(template)}`,
    `customer:  ${customer}`,
    `channel:   ${channel}`,
    `class:     ${messageClass}${messageClass === template.class ? '' : ` (the template says ${template.class})`}`,
    `subject:   ${content.subject ?? '(none)'}`,
    `preheader: ${content.preheader ?? '(none)'}`,
    'text:',
    content.body,
  ];
  const call = content.whatsapp;
  if (call !== undefined)
    lines.push(
      `whatsapp:  template ${call.name} in ${call.language}`,
      ...call.parameters.map(
        (text, i) => `  {{${String(i + 1)}}} ${text === '' ? '(empty)' : text}`,
      ),
    );
  if (withHtml) lines.push('html:', content.html ?? '(none: a text-only message)');
  return lines.join('\n');
};

/** `herald templates list|preview`. */
export const registerTemplateCommands = (program: Command): void => {
  const templates = program
    .command('templates')
    .description('message templates: the built-ins and HERALD_TEMPLATES_DIR');
  templates
    .command('list')
    .description('every loaded template: name, class, topic and whether it has HTML')
    .option('--json', 'print the templates as JSON')
    .action(async (options: { json?: boolean }) => {
      const services = await loadServices(process.env);
      try {
        const list = await loadTemplates(services.config.messages.templatesDir);
        if (options.json === true) {
          console.log(JSON.stringify(list, null, 2));
          return;
        }
        const width = Math.max(...list.map((t) => t.name.length));
        for (const t of list)
          console.log(
            `${t.name.padEnd(width)}  ${t.class.padEnd(13)}  ${(t.topic ?? '-').padEnd(16)}  ${t.html === null ? 'text only' : 'html'}`,
          );
      } finally {
        await services.close();
      }
    });
  templates
    .command('preview')
    .description('render a template for a customer, as it would be sent, without sending it')
    .argument('<name>', 'template name')
    .requiredOption('--customer <userId>', 'the customer whose profile fills the template')
    .option('--channel <channel>', channels.join('|'), 'email')
    .option('--percent <n>', 'with a sample percent-off incentive (code PREVIEW-…, 48 h)')
    .option('--html', 'print the HTML body too')
    .option('--json', 'print everything as JSON')
    .action(
      async (
        name: string,
        options: {
          customer: string;
          channel: string;
          percent?: string;
          html?: boolean;
          json?: boolean;
        },
      ) => {
        const channel = parseChannel(options.channel);
        const percent = options.percent === undefined ? null : parsePercent(options.percent);
        const services = await loadServices(process.env);
        try {
          const { renderer } = services.guard;
          const template = renderer.templateOf(name);
          if (template === undefined) throw new AppError('not-found', `no template "${name}"`);
          const customerId = await services.store.resolveUserId(options.customer);
          if (customerId === undefined)
            throw new AppError('not-found', `no customer with userId "${options.customer}"`);
          const stored = await services.store.getProfile(customerId);
          const decision = toPreviewDecision({
            id: services.ids.next(),
            customerId,
            template: name,
            channel,
            percent,
            nowMs: services.clock.nowMs(),
          });
          // Classed as a send would be: a transactional template keeps its class only when a
          // customer's action or an operator's rule asks for it (an API send here) without an
          // incentive; with `--percent` the message is marketing and gets the footer.
          const messageClass = messageClassOf(template, { ...decision, agent: 'api' }, false);
          let content: RenderedContent;
          try {
            content = renderer.render({
              messageId: services.ids.next(),
              channel,
              template,
              messageClass,
              profile: stored?.state,
              decision,
            });
          } catch (error) {
            throw new AppError(
              'invalid-config',
              error instanceof Error ? error.message : String(error),
              { cause: error },
            );
          }
          console.log(
            options.json === true
              ? JSON.stringify(
                  {
                    template: name,
                    customerId,
                    channel,
                    messageClass,
                    incentive: decision.incentive,
                    content,
                  },
                  null,
                  2,
                )
              : formatPreview(
                  template,
                  messageClass,
                  options.customer,
                  channel,
                  content,
                  options.html === true,
                ),
          );
        } finally {
          await services.close();
        }
      },
    );
};
