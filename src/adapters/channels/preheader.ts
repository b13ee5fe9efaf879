import { escapeHtml, withoutComments } from '../../core/html.js';

// Where the body's content starts. HTML lets `<body>` (and `<head>`, `<html>`) be left out: the
// preheader then goes after the head, or the `<html>` tag, or the doctype — never before the
// doctype, which would put the email in quirks mode. A tag a comment mentions is none.
const insertionPointOf = (html: string): number => {
  const shown = withoutComments(html);
  for (const tag of [
    /<body\b[^>]*>/i,
    /<\/head\s*>/i,
    /<html\b[^>]*>/i,
    /^\s*<!doctype\b[^>]*>/i,
  ]) {
    const found = tag.exec(shown);
    if (found !== null) return found.index + found[0].length;
  }
  return 0;
};

/**
 * The HTML part with the preheader — the preview line inboxes show after the subject — as the
 * first thing in its body, hidden when the message is opened (the usual markup: not displayed,
 * no height, hidden from Outlook too). Without it an inbox previews the first text it finds.
 * Unchanged without a preheader (a text-only email previews its first line).
 */
export const withPreheader = (html: string, preheader: string | null): string => {
  if (preheader === null || preheader.trim() === '') return html;
  const hidden = `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">${escapeHtml(preheader.trim())}</div>`;
  const at = insertionPointOf(html);
  return `${html.slice(0, at)}${hidden}${html.slice(at)}`;
};
