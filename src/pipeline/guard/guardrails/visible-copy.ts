import { visibleHtmlText, visibleText } from '../../../core/visible-text.js';
import type { MessageContent } from '../guard-types.js';

/**
 * Every part of a message a reader sees — subject, preheader, text and the HTML part's visible
 * text — as they see it (`visibleText`): what the checks for words, discounts and personal data
 * read.
 */
export const visibleCopy = (c: MessageContent): string => readOf(c).text;

/** The HTML part's visible text alone (empty without one), as `visibleCopy` reads it. */
export const visibleHtmlOf = (c: MessageContent): string => readOf(c).htmlText;

const readOf = (c: MessageContent): Read => {
  // Three guardrails read it for each message: worked out once, and again whenever a part of
  // the copy is no longer the one it was worked out from.
  const known = seen.get(c);
  if (
    known !== undefined &&
    known.subject === c.subject &&
    known.preheader === c.preheader &&
    known.body === c.body &&
    known.html === c.html
  )
    return known;
  const htmlText = visibleHtmlText(c.html ?? '');
  const text = `${visibleText(`${c.subject ?? ''}\n${c.preheader ?? ''}\n${c.body}`)}\n${htmlText}`;
  const read = {
    subject: c.subject,
    preheader: c.preheader,
    body: c.body,
    html: c.html,
    text,
    htmlText,
  };
  seen.set(c, read);
  return read;
};

interface Read {
  subject: string | null;
  preheader: string | null | undefined;
  body: string;
  html: string | null | undefined;
  text: string;
  htmlText: string;
}

const seen = new WeakMap<MessageContent, Read>();
