// WhatsApp Cloud API error codes that say something of the recipient, read the same whether
// they come in the send's answer (adapters/channels/whatsapp.ts) or later in a status webhook
// (http/routes/tracking-routes.ts): developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes.

/** The recipient cannot receive (131026: not a WhatsApp number, or it cannot take business messages): suppress the number. */
export const whatsAppUnreachableCodes: ReadonlySet<number> = new Set([131026]);

/**
 * The recipient stopped the business's marketing (131050: "this recipient has chosen to stop
 * receiving marketing messages on WhatsApp from your business"): their marketing consent on
 * WhatsApp is withdrawn; utility templates still reach them.
 */
export const whatsAppOptedOutCodes: ReadonlySet<number> = new Set([131050]);
