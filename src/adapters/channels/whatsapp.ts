/**
 * WhatsApp template messages through Meta's WhatsApp Cloud API. In: one WhatsApp delivery
 * naming an approved template. Out: the outcome the Cloud API's answer means.
 *
 * Provider facts relied on (Meta's public docs):
 * - `POST /{version}/{phone-number-id}/messages` on graph.facebook.com, `Authorization: Bearer
 *   <access token>`, JSON `{ messaging_product: 'whatsapp', recipient_type: 'individual', to,
 *   type: 'template', template: { name, language: { code }, components } }`; `200` with
 *   `{ messaging_product, contacts: [{ input, wa_id }], messages: [{ id: 'wamid…' }] }` —
 *   developers.facebook.com/docs/whatsapp/cloud-api/reference/messages. A template without
 *   variables is sent without `components` (the `hello_world` example does so).
 * - Errors are Graph API errors: `{ error: { message, type, code, error_subcode, error_data:
 *   { messaging_product, details }, fbtrace_id } }`; Meta advises handling by `code`, not by the
 *   HTTP status — developers.facebook.com/docs/graph-api/guides/error-handling and
 *   developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes.
 * - Codes: 1 API unknown and 2 API service (temporary), 4 too many calls, 80007 WhatsApp
 *   Business Account rate limit, 130429 Cloud API throughput reached, 131048 spam rate limit,
 *   131056 too many messages to the same recipient, 131057 the account in maintenance mode — all
 *   transient; 131026 message
 *   undeliverable (not a WhatsApp number, or the recipient cannot receive business messages),
 *   the recipient; 131050 the recipient stopped the business's marketing messages (their
 *   marketing consent, not the number); 131030 recipient not in the allowed list of a test number — the business
 *   account's set-up, not the number (`failed`, the number kept); 132000–132015 template problems
 *   (132001 template does not exist in that language), 100 invalid parameter — permanent;
 *   190 access token expired or invalid, 10 and 200–299 permissions, 131031 business account
 *   locked — the account's, not the message's (`suspended`).
 * - Many recipient failures (131026 among them) usually arrive later in the `statuses`
 *   webhook rather than in this answer; this adapter maps those the answer does carry.
 * - The Cloud API takes no idempotency key: a retry after a timeout whose request did reach
 *   Meta sends the message twice.
 */
import type { ChannelAdapter, Delivery, DeliveryOutcome } from '../../ports/channel-adapter.js';
import { whatsAppOptedOutCodes, whatsAppUnreachableCodes } from '../../core/whatsapp-codes.js';
import {
  fieldOf,
  retryAfterMsOf,
  sendHttpRequest,
  toRetryOutcome,
  type HttpAnswer,
} from './http-request.js';

export interface WhatsAppAdapterOptions {
  accessToken: string;
  /** The business phone number's id (not the number itself). */
  phoneNumberId: string;
  /** Default `v21.0`. */
  apiVersion?: string;
  /** Default `https://graph.facebook.com`. */
  baseUrl?: string;
  /** Default 10 s; the attempt is abandoned (`retry`) after it. */
  timeoutMs?: number;
}

/** Cloud API codes asking to slow down or try again later. */
export const whatsAppRetryCodes: ReadonlySet<number> = new Set([
  1, 2, 4, 80007, 130429, 131048, 131056, 131057,
]);

/**
 * Of those, the rate limits of the app, the business account or its phone number — every
 * message would get the same answer for now, so the provider waits: 4 too many calls, 80007 the
 * account's limit, 130429 the Cloud API's throughput, 131048 the number's spam limit, 131057
 * the business account in maintenance mode (a throughput upgrade, for one). (131056, too many
 * messages to one recipient, is that recipient's alone.)
 */
const whatsAppThrottleCodes: ReadonlySet<number> = new Set([4, 80007, 130429, 131048, 131057]);

/**
 * Errors of the account, not the message — every message would get the same answer until
 * someone fixes the account, so the provider is paused rather than each message dead-lettered
 * (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes): 190 the access token
 * expired or is invalid (a temporary token lasts 24 h), 10 and 200–299 the token lacks a
 * permission, 131031 the business account is locked, 131042 its payment method has a problem,
 * 368 it is temporarily blocked for policy violations, 133010 its phone number is not
 * registered on the Cloud API.
 */
const WHATSAPP_ACCOUNT_CODES: ReadonlySet<number> = new Set([10, 190, 131031, 131042, 368, 133010]);
const isWhatsAppAccountCode = (code: number): boolean =>
  WHATSAPP_ACCOUNT_CODES.has(code) || (code >= 200 && code <= 299);

/**
 * The send-message request body for one template delivery: the template, language and body
 * variables the message was rendered with (`content.whatsapp`), and Herald's message id as
 * `biz_opaque_callback_data`. A message rendered before
 * Herald sent variables goes out under its template's name, in `en_US`, without variables.
 */
export const toWhatsAppTemplateMessage = (
  delivery: Delivery,
  template: string,
): Record<string, unknown> => {
  const call = delivery.content.whatsapp;
  const parameters = (call?.parameters ?? []).map((text) => ({ type: 'text', text }));
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: delivery.to,
    type: 'template',
    template: {
      name: call?.name ?? template,
      language: { code: call?.language ?? 'en_US' },
      ...(parameters.length === 0 ? {} : { components: [{ type: 'body', parameters }] }),
    },
    // Meta returns it in this message's status webhooks: they find the message even when the
    // answer naming its `wamid` never arrived (a timeout after Meta took it, a cut-off body),
    // and which attempt a status is about (`<message id>#<attempt>`).
    biz_opaque_callback_data:
      delivery.attempt === undefined
        ? delivery.messageId
        : `${delivery.messageId}#${String(delivery.attempt)}`,
  };
};

/** The `error` of a Graph API answer: its code and the most telling words. */
export const toGraphError = (body: unknown): { code: number | null; detail: string } => {
  const error = fieldOf(body, 'error');
  const code = fieldOf(error, 'code');
  const message = fieldOf(error, 'message');
  const details = fieldOf(fieldOf(error, 'error_data'), 'details');
  const words = [message, details].filter(
    (part): part is string => typeof part === 'string' && part !== '',
  );
  return {
    code: typeof code === 'number' ? code : null,
    detail: (typeof code === 'number' ? [`WhatsApp error ${code}`, ...words] : words).join(': '),
  };
};

/** What a Cloud API answer means for the delivery. */
export const toWhatsAppOutcome = (answer: HttpAnswer): DeliveryOutcome => {
  const { status } = answer;
  const { code, detail: graphDetail } = toGraphError(answer.json);
  if (status >= 200 && status < 300 && code === null) {
    const messages = fieldOf(answer.json, 'messages');
    const id = Array.isArray(messages) ? fieldOf(messages[0], 'id') : undefined;
    return { kind: 'sent', providerId: typeof id === 'string' ? id : null };
  }
  const detail = graphDetail === '' ? answer.text.trim().slice(0, 500) : graphDetail;
  if (code !== null && whatsAppRetryCodes.has(code))
    return toRetryOutcome(answer, detail, retryAfterMsOf(answer), whatsAppThrottleCodes.has(code));
  if (code !== null && whatsAppUnreachableCodes.has(code))
    return { kind: 'unreachable', reason: detail };
  if (code !== null && whatsAppOptedOutCodes.has(code))
    return { kind: 'opted-out', reason: detail };
  if ((code !== null && isWhatsAppAccountCode(code)) || status === 401)
    return {
      kind: 'suspended',
      reason: `WhatsApp answered ${status}${detail === '' ? '' : `: ${detail}`}`,
    };
  if (status === 429 || status >= 500)
    return toRetryOutcome(answer, detail, retryAfterMsOf(answer));
  return {
    kind: 'failed',
    reason: `WhatsApp answered ${status}${detail === '' ? '' : `: ${detail}`}`,
  };
};

/** Sends WhatsApp templates; every answer, timeout and network error becomes an outcome. */
export const createWhatsAppAdapter = (options: WhatsAppAdapterOptions): ChannelAdapter => {
  const baseUrl = (options.baseUrl ?? 'https://graph.facebook.com').replace(/\/+$/, '');
  const url = `${baseUrl}/${options.apiVersion ?? 'v21.0'}/${encodeURIComponent(options.phoneNumberId)}/messages`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: 'whatsapp',
    channel: 'whatsapp',
    async send(delivery, signal) {
      // Outside the 24-hour customer service window only approved templates may be sent.
      if (delivery.template === null)
        return { kind: 'failed', reason: 'WhatsApp message without a template name' };
      const attempt = await sendHttpRequest({
        url,
        headers: {
          authorization: `Bearer ${options.accessToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(toWhatsAppTemplateMessage(delivery, delivery.template)),
        timeoutMs,
        signal,
      });
      return attempt.kind === 'answered' ? toWhatsAppOutcome(attempt.answer) : attempt;
    },
    close: () => Promise.resolve(),
  };
};
