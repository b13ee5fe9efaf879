import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TwilioSignatureInput {
  authToken: string;
  /** The full URL Twilio requested, scheme, host, path and query, exactly as configured. */
  url: string;
  /** The POST parameters Twilio sent (none for a GET). */
  params: Readonly<Record<string, string>> | URLSearchParams;
  /** The `X-Twilio-Signature` header. */
  signature: string;
}

const byNameThenValue = (a: [string, string], b: [string, string]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/** The signature Twilio computes for a request to `url` with `params`. */
export const toTwilioSignature = (
  authToken: string,
  url: string,
  params: TwilioSignatureInput['params'],
): string => {
  const pairs = params instanceof URLSearchParams ? [...params] : Object.entries(params);
  const signed =
    url +
    pairs
      .sort(byNameThenValue)
      .map(([name, value]) => name + value)
      .join('');
  return createHmac('sha1', authToken).update(signed, 'utf8').digest('base64');
};

/**
 * True when `signature` is the one Twilio computes for this URL and these parameters with
 * this Auth Token; compared in constant time so a forger learns nothing from timing.
 */
export const verifyTwilioSignature = (input: TwilioSignatureInput): boolean => {
  const expected = Buffer.from(toTwilioSignature(input.authToken, input.url, input.params));
  const given = Buffer.from(input.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
};
