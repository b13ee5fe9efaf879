import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * SendGrid's Event Webhook verification key as its Mail Settings show it (base64 DER, SPKI) or
 * as PEM: what the webhook's signatures are checked with, and what the configuration checks it
 * is. Throws when the text is no public key.
 */
export const sendGridPublicKey = (publicKey: string): KeyObject => {
  const trimmed = publicKey.trim();
  return trimmed.startsWith('-----BEGIN')
    ? createPublicKey(trimmed)
    : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
};

/** Whether the text is a P-256 public key, the curve SendGrid signs with. */
export const isSendGridPublicKey = (publicKey: string): boolean => {
  try {
    const parsed = sendGridPublicKey(publicKey);
    return (
      parsed.asymmetricKeyType === 'ec' && parsed.asymmetricKeyDetails?.namedCurve === 'prime256v1'
    );
  } catch {
    return false;
  }
};
