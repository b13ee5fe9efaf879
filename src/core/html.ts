/** Text made safe inside HTML text and attribute values (`&`, `<`, `>`, quotes as entities). */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
