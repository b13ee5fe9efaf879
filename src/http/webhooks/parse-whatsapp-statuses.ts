import { callbackDataOf } from '../../core/attempt-number.js';
/**
 * The Cloud API's message status webhook, in Herald's terms. Source for the shape:
 * developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status
 * — `{ object: 'whatsapp_business_account', entry: [{ id, changes: [{ field: 'messages',
 * value: { messaging_product, metadata, statuses: [{ id: 'wamid…', status: 'sent' | 'delivered'
 * | 'read' | 'failed', timestamp: '<unix seconds>', recipient_id, biz_opaque_callback_data?,
 * errors?: [{ code, title, message, error_data: { details } }] }] } }] }] }`. A change with `messages` (an inbound message)
 * instead of `statuses` carries no status and is left alone.
 */
export interface WhatsAppStatus {
  /** The `wamid` the send was answered with: the message's provider id. */
  providerId: string;
  /** The `biz_opaque_callback_data` the send carried: Herald's message id, when it did. */
  messageId: string | null;
  /** Which attempt of the message it is about, when the callback data names it. */
  attempt?: number;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  atMs: number;
  /** The recipient's WhatsApp id (their number's digits). */
  recipientId: string;
  /** A failure's first error: its code and words. */
  error: { code: number | null; detail: string } | null;
}

const STATUSES: ReadonlySet<string> = new Set(['sent', 'delivered', 'read', 'failed']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

const errorOf = (errors: unknown): WhatsAppStatus['error'] => {
  const first = listOf(errors)[0];
  if (!isRecord(first)) return null;
  const code = typeof first['code'] === 'number' ? first['code'] : null;
  const details = isRecord(first['error_data']) ? first['error_data']['details'] : undefined;
  const words = [first['title'], details].filter(
    (w): w is string => typeof w === 'string' && w !== '',
  );
  return {
    code,
    detail: [...(code === null ? [] : [`WhatsApp error ${code}`]), ...words].join(': '),
  };
};

/**
 * Every status of a webhook body, and how many entries named a status Herald reads without
 * the fields it needs (an id, a known status, a time). Null when the body is not the
 * Cloud API's (`object` is not `whatsapp_business_account`).
 */
export const parseWhatsAppStatuses = (
  body: unknown,
): { statuses: WhatsAppStatus[]; malformed: number } | null => {
  if (!isRecord(body) || body['object'] !== 'whatsapp_business_account') return null;
  const statuses: WhatsAppStatus[] = [];
  let malformed = 0;
  for (const entry of listOf(body['entry']))
    for (const change of listOf(isRecord(entry) ? entry['changes'] : undefined)) {
      const value = isRecord(change) ? change['value'] : undefined;
      for (const s of listOf(isRecord(value) ? value['statuses'] : undefined)) {
        const id = isRecord(s) ? s['id'] : undefined;
        const status = isRecord(s) ? s['status'] : undefined;
        const seconds = Number(isRecord(s) ? s['timestamp'] : undefined);
        // A status Herald does not read (`deleted`, `warning`) is left alone, not malformed.
        if (typeof status === 'string' && !STATUSES.has(status)) continue;
        if (
          !isRecord(s) ||
          typeof id !== 'string' ||
          id === '' ||
          typeof status !== 'string' ||
          !Number.isFinite(seconds)
        ) {
          malformed += 1;
          continue;
        }
        const data =
          typeof s['biz_opaque_callback_data'] === 'string' && s['biz_opaque_callback_data'] !== ''
            ? callbackDataOf(s['biz_opaque_callback_data'])
            : null;
        statuses.push({
          providerId: id,
          messageId: data?.messageId ?? null,
          ...(data?.attempt === undefined ? {} : { attempt: data.attempt }),
          status: status as WhatsAppStatus['status'],
          atMs: seconds * 1000,
          recipientId: typeof s['recipient_id'] === 'string' ? s['recipient_id'] : '',
          error: status === 'failed' ? errorOf(s['errors']) : null,
        });
      }
    }
  return { statuses, malformed };
};
