import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header Meta signs a webhook's body in: `sha256=` and the hex HMAC-SHA256. */
export const WHATSAPP_SIGNATURE_HEADER = 'x-hub-signature-256';

/**
 * The `X-Hub-Signature-256` value Meta sends with a webhook: the HMAC-SHA256 of the body, as
 * received, under the app's App Secret, in lower-case hex after `sha256=`
 * (developers.facebook.com/docs/graph-api/webhooks/getting-started, "Validate payloads").
 */
export const toWhatsAppSignature = (appSecret: string, payload: string): string =>
  `sha256=${createHmac('sha256', appSecret).update(payload, 'utf8').digest('hex')}`;

/** True when `signature` is Meta's for this body under `appSecret`; compared in constant time. */
export const verifyWhatsAppSignature = (input: {
  appSecret: string;
  payload: string;
  signature: string;
}): boolean => {
  const expected = Buffer.from(toWhatsAppSignature(input.appSecret, input.payload));
  // Meta writes the digest in lower case; one written in upper case is the same digest.
  const given = Buffer.from(input.signature.replace(/^sha256=/i, 'sha256=').toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
};

/**
 * Meta's check of a webhook's callback URL (`GET ?hub.mode=subscribe&hub.verify_token=…&
 * hub.challenge=…`): the challenge to echo when the mode is `subscribe` and the token is the
 * one configured, else null.
 */
export const whatsAppChallenge = (
  query: Record<string, string | undefined>,
  verifyToken: string,
): string | null => {
  const token = query['hub.verify_token'] ?? '';
  const challenge = query['hub.challenge'];
  if (verifyToken === '' || query['hub.mode'] !== 'subscribe' || challenge === undefined)
    return null;
  const given = Buffer.from(token);
  const expected = Buffer.from(verifyToken);
  return given.length === expected.length && timingSafeEqual(given, expected) ? challenge : null;
};
