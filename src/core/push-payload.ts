import { WIDE_PUNCTUATION } from './link-hosts.js';

/** What FCM (and APNs, for iOS) take of a notification: 4,096 bytes of payload. */
export const PUSH_PAYLOAD_LIMIT = 4096;

/**
 * An https URL in text, up to the first space, quote (typographic ones too), angle bracket or one
 * of `` ` { } | ^ `` — where the links guardrail ends a link too: read past them, a first name of
 * `` https://shop.example`@evil.example `` opened evil.example, the guard having judged the shop.
 */
const HTTPS_URL = /https:\/\/[^\s<>"'`{}|^“”‘’«»‹›「」『』]+/;

/** Punctuation that ends a sentence or emphasis rather than the link it follows. */
const TRAILING = /[.,;:!?…*_]+$/;

/** The link without a closing bracket that opens nowhere in it (`(see https://…/a)`). */
const withoutUnopened = (link: string): string => {
  let end = link;
  for (;;) {
    const last = end.at(-1);
    const open = last === ')' ? '(' : last === ']' ? '[' : null;
    if (open === null) return end;
    const opened = end.split(open).length - 1;
    const closed = end.split(last ?? '').length - 1;
    if (closed <= opened) return end;
    end = end.slice(0, -1).replace(TRAILING, '');
  }
};

/**
 * The page a push opens when tapped: the first https link of its text (the template's link, with
 * its UTM tags), without the sentence's closing punctuation. Sent as `data.link` (an app reads
 * its deep link there) and, for the web, as `webpush.fcm_options.link`: a notification's text
 * is not clickable. Null when the text links nowhere.
 */
export const pushLinkOf = (body: string): string | null => {
  const found = HTTPS_URL.exec(body)?.[0];
  if (found === undefined) return null;
  // Punctuation beyond ASCII ends it too: CJK copy closes a link with `）` or `。`, and the page
  // opened is the one before it (`／@evil.example` after it leads nowhere else either).
  const wide = found.search(WIDE_PUNCTUATION);
  const link = wide === -1 ? found : found.slice(0, wide);
  return withoutUnopened(link.replace(TRAILING, ''));
};

/** A push's data: its message id, and the page it opens when it has one. */
export const pushDataOf = (body: string, messageId: string): Record<string, string> => {
  const link = pushLinkOf(body);
  return link === null ? { herald_message_id: messageId } : { herald_message_id: messageId, link };
};

/**
 * What FCM adds to an APNs payload beside `aps` and the message's data (its `gcm.message_id`,
 * `google.c.a.e`, `google.c.sender.id`, `google.c.fid`: about 130 bytes), kept free so a push
 * counted within the limit is within it at APNs too.
 */
export const APNS_FCM_KEYS_BYTES = 160;

/**
 * The bytes of the payload a push notification with this title and body makes on the platform
 * where it is largest (iOS: its APNs payload, which FCM sends with the message's data as keys
 * beside `aps` and keys of its own; elsewhere FCM counts the notification and data), as the FCM
 * adapter builds it — the guard judges a message before its device, and so its platform, is
 * chosen.
 */
export const pushPayloadBytes = (
  content: { subject: string | null; body: string },
  messageId: string,
): number => {
  const titled =
    content.subject === null
      ? { body: content.body }
      : { title: content.subject, body: content.body };
  const data = pushDataOf(content.body, messageId);
  const fcm = Buffer.byteLength(JSON.stringify({ notification: titled, data }));
  const apns =
    Buffer.byteLength(JSON.stringify({ aps: { alert: titled, sound: 'default' }, ...data })) +
    APNS_FCM_KEYS_BYTES;
  return Math.max(fcm, apns);
};
