import { AppError } from '../../core/errors.js';
import type { Channel } from '../../core/profile.js';
import type { Template } from './template.js';

/** Liquid naming an incentive's code: `incentive.code`, `incentive["code"]` or `incentive['code']`. */
const NAMES_CODE = /\bincentive\s*(?:\.\s*code\b|\[\s*["']code["']\s*\])/;

/** The parts of `template` a customer reads on `channel`. */
const partsOn = (template: Template, channel: Channel): string[] =>
  channel === 'email'
    ? [template.subject, template.preheader, template.html ?? template.text]
    : channel === 'whatsapp'
      ? [template.text, ...(template.whatsapp?.parameters ?? [])]
      : [template.text];

/** The channels of `channels` on which `template` never prints an incentive's code. */
export const channelsWithoutCode = (template: Template, channels: readonly Channel[]): Channel[] =>
  channels.filter((c) => !partsOn(template, c).some((part) => NAMES_CODE.test(part)));

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
