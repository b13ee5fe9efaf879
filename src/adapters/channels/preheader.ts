import { escapeHtml } from '../../core/html.js';

/**
 * The HTML part with the preheader — the preview line inboxes show after the subject — as the
 * first thing in its body, hidden when the message is opened (the usual markup: not displayed,
 * no height, hidden from Outlook too). Without it an inbox previews the first text it finds.
 * Unchanged without a preheader (a text-only email previews its first line).
 */
export const withPreheader = (html: string, preheader: string | null): string => {
  if (preheader === null || preheader.trim() === '') return html;
  const hidden = `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">${escapeHtml(preheader.trim())}</div>`;
  const body = /<body\b[^>]*>/i.exec(html);
  const at = body === null ? 0 : body.index + body[0].length;
  return `${html.slice(0, at)}${hidden}${html.slice(at)}`;
};
