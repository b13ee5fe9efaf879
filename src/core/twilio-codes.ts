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
