import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `payload.signature`, both base64url: HMAC-SHA-256 of the payload under the link secret.
 * Tracking, click and unsubscribe links carry one; an unsigned or altered token is refused.
 */
export const signToken = (secret: string, payload: string): string => {
  const body = Buffer.from(payload, 'utf8').toString('base64url');
  const mac = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${mac}`;
};

/** The payload of a token signed with `secret`, or null when the signature does not hold. */
export const verifyToken = (secret: string, token: string): string | null => {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const body = token.slice(0, dot);
  // Compared as the text signToken writes: decoded first, a signature had several spellings
  // (the last character's two spare bits), so a changed token could still hold.
  const given = Buffer.from(token.slice(dot + 1), 'utf8');
  const expected = Buffer.from(
    createHmac('sha256', secret).update(body).digest('base64url'),
    'utf8',
  );
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return Buffer.from(body, 'base64url').toString('utf8');
};

/** What a message's link is for: its unsubscribe link (`u`), its open pixel (`o`). */
export type LinkPurpose = 'u' | 'o';

/**
 * A token for one purpose of one message: the purpose is signed with the id, so the open
 * pixel's token (which image proxies fetch and logs keep) cannot unsubscribe anyone.
 */
export const signMessageToken = (secret: string, purpose: LinkPurpose, messageId: string) =>
  signToken(secret, `${purpose}:${messageId}`);

/**
 * The message id of a token signed for `purpose`, or null. A token signed before links had a
 * purpose (the bare id) is read for either, so the links of mail already sent keep working.
 */
export const verifyMessageToken = (
  secret: string,
  purpose: LinkPurpose,
  token: string,
): string | null => {
  const payload = verifyToken(secret, token);
  if (payload === null) return null;
  if (payload.startsWith(`${purpose}:`)) return payload.slice(2);
  return /^[a-z]:/.test(payload) || payload.startsWith('{') ? null : payload;
};

/**
 * Whether `signature` is the hex HMAC-SHA-256 of `user:` and `userId` under the link secret:
 * what a site's server computes to vouch for the user its page names (web personalisation,
 * verified sources). The prefix keeps it apart from the tokens above, signed with the same
 * secret over base64url text, which has no colon: a user id can never be made a token's body.
 */
export const verifyUserSignature = (
  secret: string,
  userId: string,
  signature: unknown,
): boolean => {
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/i.test(signature)) return false;
  const expected = createHmac('sha256', secret).update(`user:${userId}`).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
};
