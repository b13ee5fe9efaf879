import { visibleHtmlText, visibleText } from '../../../core/visible-text.js';
import type { MessageContent } from '../guard-types.js';

/**
 * Every part of a message a reader sees — subject, preheader, text and the HTML part's visible
 * text — as they see it (`visibleText`): what the checks for words, discounts and personal data
 * read.
 */
export const visibleCopy = (c: MessageContent): string =>
  `${visibleText(`${c.subject ?? ''}\n${c.preheader ?? ''}\n${c.body}`)}\n${visibleHtmlText(c.html ?? '')}`;
