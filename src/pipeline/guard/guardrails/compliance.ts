import { countryCode, countryOfZone } from '../../../core/country.js';
import { placeOfPhone } from '../../../core/phone-country.js';
import { htmlLinksIn, unsafeSchemeOf } from '../../../core/html.js';
import {
  optedInAfter,
  OPTED_IN_AGAIN_HOW,
  optedOutOfSale,
  type Channel,
  type ConsentEntry,
  type ProfileState,
  impliedSourceOf,
  explicitlyGranted,
} from '../../../core/profile.js';
import { PUSH_PAYLOAD_LIMIT, pushPayloadBytes } from '../../../core/push-payload.js';
import { smsSegments } from '../../../core/sms-segments.js';
import { shownHtml, visibleText } from '../../../core/visible-text.js';
import { DAY_MS } from '../../../core/time.js';
import type { GuardMessage, Guardrail, Verdict } from '../guard-types.js';
import type { GuardPolicy } from '../policy.js';
import { pass, verdict } from '../guard-types.js';
import { visibleHtmlOf } from './visible-copy.js';
import { isAddressShaped } from '../../../core/recipient.js';

const NAME = 'compliance';

// What no address holds beside `@` (`isAddressShaped`).
const NOT_IN_AN_ADDRESS = /[\s<>]/;

/**
 * Since when consent has stood: a traits grant since traits first stated it (`sinceMs`), renewed
 * by an explicit grant of the customer's kept beside it (`other`) when that one is later.
 */
const grantedSinceMs = (c: ConsentEntry): number => {
  const since = c.sinceMs ?? c.atMs;
  const renewed = c.other?.explicit === true && c.other.granted ? c.other.atMs : since;
  return Math.max(since, renewed);
};

/**
 * Whether GDPR applies to the customer, the country their profile states, and where the rules
 * were found to apply, for the verdict. A country Herald cannot read might be in the EU, and its
 * rules apply (fail closed); a profile that states none is placed by its timezone when that is
 * a zone of a listed country (`Europe/Berlin`: DE), else by an international phone number.
 */
const gdprOf = (
  profile: ProfileState,
  policy: Pick<GuardPolicy, 'gdpr'>,
): { applies: boolean; country: string | null; where: string } => {
  const given = profile.location.country?.trim() ?? '';
  const country = countryCode(given);
  if (given !== '')
    return country === null
      ? { applies: true, country, where: 'country not recognised' }
      : { applies: policy.gdpr.countries.includes(country), country, where: country };
  const zoned = countryOfZone(profile.location.timezone, policy.gdpr.countries);
  if (zoned !== null) return { applies: true, country: null, where: `${zoned} by its timezone` };
  // Nor a zone: an international phone number whose country, or any sharing its calling code
  // (fail closed: `+44` is the UK's and the Crown Dependencies'), is listed.
  const phone = placeOfPhone(profile.traits['phone']);
  const listed = [phone.country, ...phone.sharing].find(
    (c): c is string => c !== null && policy.gdpr.countries.includes(c),
  );
  return listed === undefined
    ? { applies: false, country: null, where: 'no country' }
    : { applies: true, country: null, where: `${listed} by the phone number` };
};

/** Why GDPR refuses a marketing message on the channel at `atMs`: a verdict's code and words. */
export interface GdprProblem {
  code: 'gdpr_no_consent' | 'gdpr_consent_implied' | 'gdpr_consent_expired';
  reason: string;
  figures?: Record<string, string | number>;
}

/**
 * GDPR's rule for marketing on `channel` at `atMs`, or null when it does not apply or is met:
 * consent present, explicit (not from an implied source), and younger than
 * `consentMaxAgeDays`. The guardrail asks it for when the message is due; the hand-off asks it
 * again as a held message leaves (the customer may have been placed in the EU, or withdrawn,
 * since it was judged).
 */
export const gdprProblem = (
  profile: ProfileState,
  channel: Channel,
  policy: Pick<GuardPolicy, 'gdpr'>,
  atMs: number,
  placed: { applies: boolean; where: string } = gdprOf(profile, policy),
): GdprProblem | null => {
  const { applies, where } = placed;
  if (!applies) return null;
  const consent = profile.consent[channel]?.['marketing'];
  if (consent?.granted !== true)
    return {
      code: 'gdpr_no_consent',
      reason: `GDPR (${where}): no marketing consent for ${channel}`,
    };
  // Traits restating a grant from an implied source (a CRM's sync) do not undo the customer's
  // own explicit grant held beside them (`other`), which their later grant did not withdraw.
  const implied = explicitlyGranted(consent, policy.gdpr.impliedSources)
    ? null
    : impliedSourceOf(consent.source, policy.gdpr.impliedSources);
  if (implied !== null)
    return {
      code: 'gdpr_consent_implied',
      reason: `GDPR (${where}): consent from "${implied}" is not explicit`,
      figures: { source: implied },
    };
  // Traits restating a grant do not renew it: its age counts from when it was first given, or
  // from the customer's latest explicit grant, when that is later. Consent must be younger than
  // the limit: on the day it reaches it, it has expired (three years of 1,095 days end a day
  // early across a 29 February — early, never late).
  const sinceMs = grantedSinceMs(consent);
  if (atMs - sinceMs < policy.gdpr.consentMaxAgeDays * DAY_MS) return null;
  return {
    code: 'gdpr_consent_expired',
    reason: `GDPR (${where}): consent older than ${String(policy.gdpr.consentMaxAgeDays)} days`,
    figures: {
      consentAt: new Date(sinceMs).toISOString(),
      ageDays: Math.floor((atMs - sinceMs) / DAY_MS),
    },
  };
};

// CAN-SPAM covers the United States and its territories.
const CAN_SPAM = new Set(['US', 'PR', 'GU', 'VI', 'AS', 'MP', 'UM']);

const addressOf = (header: string | null): string | null => {
  if (header === null) return null;
  const angle = /<([^>]+)>/.exec(header);
  return (angle?.[1] ?? header).trim();
};

// Meta's language codes: `en`, `en_US`, `pt_BR`, `zh_HK` …
const WHATSAPP_LANGUAGE = /^[a-z]{2,3}(?:_[A-Z]{2})?$/;

/**
 * A WhatsApp message goes out as a template Meta approved, by its name there, in a language
 * Meta knows, with every variable filled: Meta would refuse anything else, so it is refused
 * here, where the reason is recorded, instead of failing at the provider.
 */
const whatsAppProblems = (message: GuardMessage, policy: GuardPolicy): Verdict[] => {
  const call = message.content?.whatsapp;
  const name = call?.name ?? message.template;
  if (name === null || !policy.whatsappApprovedTemplates.includes(name))
    return [
      verdict(
        NAME,
        'block',
        'whatsapp_template_not_approved',
        `WhatsApp: template ${name ?? '(none)'} is not approved`,
        { template: name },
      ),
    ];
  if (call === undefined) return [];
  const found: Verdict[] = [];
  // The language is Liquid, often read from a trait (`customer.traits.whatsappLanguage`): what
  // it rendered is the customer's text, kept out of the audit log, which outlives an erasure.
  if (!WHATSAPP_LANGUAGE.test(call.language))
    found.push(
      verdict(
        NAME,
        'block',
        'whatsapp_language_invalid',
        call.language.trim() === ''
          ? 'WhatsApp: the language rendered blank'
          : 'WhatsApp: the language rendered is not a code like en_US',
        { template: name, language: call.language.trim() === '' ? 'blank' : 'invalid' },
      ),
    );
  const empty = call.parameters.flatMap((text, i) => (text === '' ? [i + 1] : []));
  if (empty.length > 0)
    found.push(
      verdict(
        NAME,
        'block',
        'whatsapp_parameter_missing',
        `WhatsApp: template ${name} variable ${empty.map((n) => `{{${String(n)}}}`).join(', ')} rendered empty`,
        { template: name, empty },
      ),
    );
  return found;
};

/**
 * Twilio's limit on an SMS body (its error 21617: "The concatenated message body exceeds the
 * 1600 character limit"); the provider refuses anything longer at dispatch.
 */
export const SMS_MAX_CHARACTERS = 1600;

/**
 * An SMS longer than Twilio takes is refused here, when it is judged, instead of being queued,
 * counted against caps and the campaign's budget, and failing at the provider. Characters are
 * counted as UTF-16 units, so an emoji counts as two: Twilio counts characters outside GSM-7 as
 * more than one, and erring long blocks here what the provider would refuse anyway.
 */
const smsProblems = (message: GuardMessage): Verdict[] => {
  const body = message.content?.body;
  if (body === undefined || body.length <= SMS_MAX_CHARACTERS) return [];
  const { encoding, segments } = smsSegments(body);
  return [
    verdict(
      NAME,
      'block',
      'sms_too_long',
      `SMS: ${String(body.length)} characters, over the provider's limit of ${String(SMS_MAX_CHARACTERS)}`,
      { characters: body.length, limit: SMS_MAX_CHARACTERS, segments, encoding },
    ),
  ];
};

/**
 * A push notification whose payload is over what FCM and APNs take (`PUSH_PAYLOAD_LIMIT`,
 * counted on the platform where it is largest: the device is chosen at dispatch) is refused
 * here, as an SMS too long is, rather than failing at dispatch.
 */
const pushProblems = (message: GuardMessage): Verdict[] => {
  const c = message.content;
  if (c === null) return [];
  const bytes = pushPayloadBytes(c, message.decisionId);
  return bytes <= PUSH_PAYLOAD_LIMIT
    ? []
    : [
        verdict(
          NAME,
          'block',
          'push_too_long',
          `push: a payload of ${String(bytes)} bytes, over the ${String(PUSH_PAYLOAD_LIMIT)} FCM and APNs take: shorten the title or body`,
          { bytes, limit: PUSH_PAYLOAD_LIMIT },
        ),
      ];
};

/**
 * Links in the HTML part that run or load something instead of leading somewhere (`javascript:`,
 * `data:`, `vbscript:` …): a product URL or a trait a template puts in an `href` may carry one,
 * and a mail client or webmail that follows it runs it for the recipient. Every other link —
 * the web, mail, a call, an app's deep link, a relative one — passes.
 */
const linkProblems = (message: GuardMessage): Verdict[] => {
  const html = message.content?.html;
  if (html === undefined || html === null) return [];
  const schemes = [...new Set(htmlLinksIn(html).flatMap((url) => unsafeSchemeOf(url) ?? []))];
  return schemes.length === 0
    ? []
    : [
        verdict(
          NAME,
          'block',
          'unsafe_link',
          `a link in the HTML part uses ${schemes.map((s) => `${s}:`).join(', ')}, which runs or loads content instead of leading to a page`,
          { schemes },
        ),
      ];
};

/**
 * Compliance by jurisdiction and channel; the profile's country read as an ISO code
 * (`countryCode`), and one it cannot read treated as EU and US alike (fail closed). GDPR
 * (EU/EEA): marketing consent for the channel,
 * given explicitly (not from an implied source) and younger than `consentMaxAgeDays`.
 * CAN-SPAM (US marketing email): a physical address in the footer, a working unsubscribe
 * link and valid From/Reply-To — checked on the rendered message, so a message not yet
 * rendered is blocked. CCPA (California): a sale/share opt-out blocks retargeting (web).
 * WhatsApp: approved templates only, each variable filled. SMS: no longer than Twilio takes
 * (`SMS_MAX_CHARACTERS`); push: no larger than FCM and APNs take (`PUSH_PAYLOAD_LIMIT`). Someone erased on request and named
 * again since (by a user id, anonymous id, email or phone the erasure removed) gets no marketing
 * until they opt in again, explicitly, after the erasure.
 */
export const complianceGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    const { profile, nowMs } = context;
    const found: Verdict[] = [];
    const marketing = message.class === 'marketing';
    const { erasedAtMs } = context;
    if (
      marketing &&
      erasedAtMs !== null &&
      !optedInAfter(profile.consent[message.channel]?.['marketing'], erasedAtMs)
    )
      return [
        verdict(
          NAME,
          'block',
          'erased',
          `the customer was erased on request (${new Date(erasedAtMs).toISOString()}) and has not opted in to ${message.channel} marketing since (${OPTED_IN_AGAIN_HOW})`,
          { erasedAt: new Date(erasedAtMs).toISOString() },
        ),
      ];
    const placed = gdprOf(profile, policy);
    const { country } = placed;
    // Judged for when the message is due to go, if that is later than now.
    const gdpr = marketing
      ? gdprProblem(profile, message.channel, policy, Math.max(nowMs, message.sendAtMs), placed)
      : null;
    if (gdpr !== null) found.push(verdict(NAME, 'block', gdpr.code, gdpr.reason, gdpr.figures));
    // Where the customer is not known (no country, or one Herald cannot read), they may be in
    // the United States: the rules apply (fail closed).
    if (marketing && message.channel === 'email' && (country === null || CAN_SPAM.has(country))) {
      const c = message.content;
      if (c === null)
        found.push(
          verdict(NAME, 'block', 'not_rendered', 'CAN-SPAM is checked on the rendered message'),
        );
      else {
        const html = c.html ?? null;
        if (c.footerAddress === null || c.footerAddress.trim() === '')
          found.push(
            verdict(
              NAME,
              'block',
              'canspam_no_address',
              'CAN-SPAM: no physical address in the footer',
            ),
          );
        // Shown in the HTML part too, when there is one: a reviewer's edit may drop it, or
        // leave it only in a comment.
        else if (html !== null && !visibleHtmlOf(c).includes(visibleText(c.footerAddress)))
          found.push(
            verdict(
              NAME,
              'block',
              'canspam_no_address',
              'CAN-SPAM: the physical address is not shown in the HTML part',
            ),
          );
        // The link must be there in the HTML part too, outside comments and hidden elements,
        // as a link a reader can follow: not only an image's source or an attribute's text.
        const htmlHasLink =
          html === null ||
          c.unsubscribeUrl === null ||
          htmlLinksIn(shownHtml(html)).includes(c.unsubscribeUrl);
        if (c.unsubscribeUrl === null || !/^https:\/\/\S+$/.test(c.unsubscribeUrl) || !htmlHasLink)
          found.push(
            verdict(
              NAME,
              'block',
              'canspam_no_unsubscribe',
              'CAN-SPAM: no working unsubscribe link',
            ),
          );
        for (const [field, value] of [
          ['From', c.from],
          ['Reply-To', c.replyTo ?? c.from],
        ] as const) {
          const address = addressOf(value);
          if (address === null || !isAddressShaped(address, NOT_IN_AN_ADDRESS))
            found.push(
              verdict(
                NAME,
                'block',
                'canspam_bad_sender',
                `CAN-SPAM: ${field} is not a valid address`,
                { [field]: value },
              ),
            );
        }
      }
    }
    // Honoured wherever the customer lives: the request is what counts, and other US states'
    // laws give the same right.
    if (optedOutOfSale(profile) && message.channel === 'web' && marketing)
      found.push(
        verdict(NAME, 'block', 'ccpa_opt_out', 'CCPA: the customer opted out of sale and sharing'),
      );
    if (message.channel === 'whatsapp') found.push(...whatsAppProblems(message, policy));
    if (message.channel === 'sms') found.push(...smsProblems(message));
    if (message.channel === 'push') found.push(...pushProblems(message));
    found.push(...linkProblems(message));
    return found.length > 0
      ? found
      : [pass(NAME, 'no rule of its jurisdiction or channel is broken', { country })];
  },
};
