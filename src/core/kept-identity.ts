import { hash } from 'node:crypto';
import { emailKey, normalisePhone } from './recipient.js';

/** The setting that keeps the key the hashes are made with (random, made at the first use). */
export const ERASURE_KEY = 'erasure_key';

/**
 * An identity kept after its customer is gone (`email:…`, `u:…`, an address's opt-out) as a
 * hash keyed with `ERASURE_KEY`'s value: without the key (kept in the database's settings) a
 * hash cannot be tested against a guessed email.
 */
export const keptIdentityHash = (key: string, identity: string): string =>
  hash('sha256', `${key}\n${identity}`);

/**
 * The identity an email address's opt-out and hard bounces are kept under: the address's, as
 * the mail library writes it (trimmed, the domain in lower case and its IDNA form).
 */
export const optOutIdentity = (address: string): string => `opt-out:email:${emailKey(address)}`;

/**
 * The identities a phone number's SMS STOP, and the START that lifts it, are kept under: the
 * number as Herald texts it (`normalisePhone`). A STOP is the number's, whoever's record it was
 * texted from (CTIA; Twilio refuses the number's next text on every record).
 */
export const numberStopIdentity = (number: string): string =>
  `opt-out:sms:${normalisePhone(number)}`;
export const numberStartIdentity = (number: string): string =>
  `opt-in:sms:${normalisePhone(number)}`;
