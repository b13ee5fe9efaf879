/**
 * An attempt's number as a provider carries it back (a callback URL's `attempt`, SendGrid's
 * `herald_attempt`, the `#<n>` of WhatsApp's callback data): a whole number from 1, written in
 * decimal digits; undefined for anything else (absent, or a message sent before attempts were
 * named).
 */
export const attemptNumberOf = (text: string | null | undefined): number | undefined => {
  if (text === null || text === undefined || !/^[1-9]\d{0,8}$/.test(text)) return undefined;
  return Number(text);
};

/**
 * WhatsApp's `biz_opaque_callback_data` read back: Herald's message id and, after a `#`, the
 * attempt's number. Data without a number (sent before attempts were named) is the id alone.
 */
export const callbackDataOf = (data: string): { messageId: string; attempt?: number } => {
  const at = data.lastIndexOf('#');
  const attempt = at < 0 ? undefined : attemptNumberOf(data.slice(at + 1));
  return attempt === undefined ? { messageId: data } : { messageId: data.slice(0, at), attempt };
};
