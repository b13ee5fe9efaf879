// Twilio error codes that say the recipient's number cannot receive texts, read the same whether
// they come in the send's answer (adapters/channels/twilio-sms.ts) or later in a status callback
// (http/routes/tracking-routes.ts): a Messaging Service queues every request and reports such a
// refusal only in the callback. twilio.com/docs/api/errors.

/** The recipient cannot receive: suppress the number on SMS. */
export const twilioUnreachableCodes: ReadonlySet<number> = new Set([
  21211, // invalid 'To' phone number
  21614, // 'To' is not a valid mobile number
  21610, // the recipient replied STOP
  30005, // unknown destination handset
  30006, // landline or unreachable carrier
]);

/**
 * Twilio took the request, then failed the message before it left (the callback's `failed`):
 * 30001, a Messaging Service's queue overflowed — where a direct send answers 21611 at once.
 * Nothing reached the carrier, and the number is not at fault: the message is tried again.
 */
export const twilioNeverSentCodes: ReadonlySet<number> = new Set([30001]);

/**
 * How long a message waits after a full queue (21611, 30001) before it is tried again, at least.
 * The queue drains at the sender's rate, so an immediate retry meets the same answer; ten
 * minutes frees ten minutes of its sending, and the retries of a campaign spread out behind it.
 */
export const twilioQueueFullWaitMs = 10 * 60_000;
