const escapeHtml = (text: string): string =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

/**
 * The HTML part with the preheader — the preview line inboxes show after the subject — as the
 * first thing in its body, hidden when the message is opened (the usual markup: not displayed,
 * no height, hidden from Outlook too). Without it an inbox previews the first text it finds.
 * Unchanged without a preheader or an HTML part (a text-only email previews its first line).
 */
export const withPreheader = (html: string | null, preheader: string | null): string | null => {
  if (html === null || preheader === null || preheader.trim() === '') return html;
  const hidden = `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">${escapeHtml(preheader.trim())}</div>`;
  const body = /<body\b[^>]*>/i.exec(html);
  return body === null
    ? `${hidden}${html}`
    : `${html.slice(0, body.index + body[0].length)}${hidden}${html.slice(body.index + body[0].length)}`;
};
