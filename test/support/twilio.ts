import { createHmac } from 'node:crypto';
import type { TestHerald } from './start-herald.js';

/**
 * Twilio's signature of a webhook call: HMAC-SHA1 of the full URL and the form fields sorted by
 * name, each name followed by its value. Written here from Twilio's documentation, not taken
 * from Herald's verifier, so that the tests check that.
 */
export const twilioSignature = (token: string, fullUrl: string, params: URLSearchParams): string =>
  createHmac('sha1', token)
    .update(
      fullUrl +
        [...params]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => k + v)
          .join(''),
    )
    .digest('base64');

/** A form posted to Herald's `path` as Twilio posts it, signed with `token` for `publicUrl`. */
export const postAsTwilio = (
  herald: TestHerald,
  signing: { publicUrl: string; token: string },
  path: string,
  params: URLSearchParams,
) =>
  herald.app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(signing.token, `${signing.publicUrl}${path}`, params),
    },
    payload: params.toString(),
  });

/** The account the e2e tests text from, against a local server speaking Twilio's API. */
export const TWILIO_ACCOUNT_SID = 'AC00000000000000000000000000000000';
export const TWILIO_TOKEN = 'twilio-auth-token-0001';

/** Herald's settings for texting through the local Twilio at `baseUrl`, from +15005550006. */
export const twilioEnv = (baseUrl: string): Record<string, string> => ({
  HERALD_TWILIO_ACCOUNT_SID: TWILIO_ACCOUNT_SID,
  HERALD_TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
  HERALD_TWILIO_FROM: '+15005550006',
  HERALD_TWILIO_BASE_URL: baseUrl,
});
