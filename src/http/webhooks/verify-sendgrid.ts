import { verify } from 'node:crypto';
import { sendGridPublicKey } from '../../core/sendgrid-key.js';

/**
 * SendGrid's Signed Event Webhook: SendGrid signs `timestamp + raw body` with ECDSA (P-256,
 * SHA-256) and sends the base64 DER signature and the timestamp in these headers; the
 * verification key shown in SendGrid's Mail Settings is a base64 DER (SPKI) public key.
 * Sources: twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 * and SendGrid's own verifier (github.com/sendgrid/sendgrid-nodejs, packages/eventwebhook).
 */
export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

export interface SendGridSignatureInput {
  /** The verification key from SendGrid's settings: base64 DER (SPKI), or PEM. */
  publicKey: string;
  /** The request body exactly as received: re-encoded JSON does not verify. */
  payload: string | Uint8Array;
  /** The signature header's value (base64 DER). */
  signature: string;
  /** The timestamp header's value, as sent. */
  timestamp: string;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Whether SendGrid signed this body at this timestamp with the key's private half. Never
 * throws: a malformed key, signature or timestamp is simply not a valid signature. It does
 * not judge the timestamp's age; the caller decides how old an event batch may be.
 */
export const verifySendGridSignature = ({
  publicKey,
  payload,
  signature,
  timestamp,
}: SendGridSignatureInput): boolean => {
  // Node's base64 decoder skips characters outside the alphabet; a header that is not
  // base64 at all must not verify by accident.
  const encoded = signature.trim();
  if (encoded.length === 0 || !BASE64.test(encoded) || timestamp.length === 0) return false;
  try {
    const key = sendGridPublicKey(publicKey);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      return false;
    }
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body]);
    return verify('sha256', signed, key, Buffer.from(encoded, 'base64'));
  } catch {
    return false;
  }
};
