import { AppError } from '../../core/errors.js';
import type { Channel } from '../../core/profile.js';
import type { Template } from './template.js';

/** Liquid naming an incentive's code: `incentive.code`, `incentive["code"]` or `incentive['code']`. */
const NAMES_CODE = /\bincentive\s*(?:\.\s*code\b|\[\s*["']code["']\s*\])/;

/**
 * What prints nothing: Liquid comments (`{% comment %}…{% endcomment %}`, `{% # … %}`), raw
 * blocks (their Liquid is printed as written, not run) and HTML comments.
 */
const SILENT =
  /\{%-?\s*comment\s*-?%\}[\s\S]*?\{%-?\s*endcomment\s*-?%\}|\{%-?\s*raw\s*-?%\}[\s\S]*?\{%-?\s*endraw\s*-?%\}|\{%-?\s*#[\s\S]*?%\}|<!--[\s\S]*?-->/g;

/**
 * The parts of `template` a customer reads on `channel`: an email's subject, preheader and body
 * (the HTML part when there is one), a push's title and text, WhatsApp's approved template's
 * variables alone (Meta sends its own copy with them; Herald's text never goes), the text
 * elsewhere.
 */
const partsOn = (template: Template, channel: Channel): string[] => {
  switch (channel) {
    case 'email':
      return [template.subject, template.preheader, template.html ?? template.text];
    case 'push':
      return [template.subject, template.text];
    case 'whatsapp':
      return template.whatsapp?.parameters ?? [];
    default:
      return [template.text];
  }
};

/** The channels of `channels` on which `template` never prints an incentive's code. */
export const channelsWithoutCode = (template: Template, channels: readonly Channel[]): Channel[] =>
  channels.filter(
    (c) => !partsOn(template, c).some((part) => NAMES_CODE.test(part.replace(SILENT, ''))),
  );

/**
 * Throws `invalid-input` at `path` when a campaign gives an incentive through a template that does
 * not print its code on one of its channels: every customer would get a code no message names.
 */
export const refuseUnprintedCode = (
  template: Template,
  channels: readonly Channel[],
  path: string,
): void => {
  const missing = channelsWithoutCode(template, channels);
  if (missing.length === 0) return;
  const message = `template "${template.name}" does not print the code (incentive.code) on ${missing.join(', ')}: each customer would be given a discount no message names; use a template that prints it (herald templates list) or give no incentive`;
  throw new AppError('invalid-input', message, { problems: [{ path, message }] });
};
