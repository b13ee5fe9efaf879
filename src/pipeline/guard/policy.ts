import { Type, type Static } from '@sinclair/typebox';

const words = (value: string[], description: string) =>
  Type.Array(Type.String({ minLength: 1 }), { default: value, description });

const money = (value: number, description: string) =>
  Type.Number({ minimum: 0, default: value, description });

/** Every threshold the guardrails use (`guard:` in the config); the defaults are the requirements'. */
export const guardPolicySchema = Type.Object(
  {
    frequencyCaps: Type.Object(
      {
        windowDays: Type.Number({
          exclusiveMinimum: 0,
          default: 7,
          description: 'Days the caps count over.',
        }),
        email: Type.Integer({ minimum: 0, default: 3, description: 'Marketing emails.' }),
        sms: Type.Integer({ minimum: 0, default: 2, description: 'Marketing SMS.' }),
        whatsapp: Type.Integer({
          minimum: 0,
          default: 2,
          description: 'Marketing WhatsApp messages.',
        }),
        push: Type.Integer({
          minimum: 0,
          default: 5,
          description: 'Marketing push notifications.',
        }),
        web: Type.Integer({ minimum: 0, default: 100, description: 'Web personalisations.' }),
      },
      { default: {}, description: 'Marketing messages per customer and channel in the window.' },
    ),
    minEngagement: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.3,
      description: 'Engagement score needed to receive marketing…',
    }),
    engagementGraceMessages: Type.Integer({
      minimum: 0,
      default: 3,
      description:
        '…once the customer has received this many marketing messages on channels that can be engaged with (email, SMS, WhatsApp, push; not web content) — before that, a new customer has had no chance to engage.',
    }),
    autoOptOutHardBounces: Type.Integer({
      minimum: 1,
      default: 3,
      description: 'Hard bounces after which email is suppressed.',
    }),
    spamTriggerWords: words(
      [
        'click here now',
        'limited time',
        'guaranteed',
        'act now',
        'urgent',
        '100% free',
        'risk-free',
      ],
      'Subject phrases that send a message to review (case-insensitive).',
    ),
    forbiddenWords: words(
      ['cheap', 'desperate', 'too good to be true'],
      'Words the brand never uses (subject or body); a message with one is blocked.',
    ),
    maxSubjectLength: Type.Integer({
      minimum: 1,
      default: 60,
      description: 'Longest subject, in characters; a longer one is blocked.',
    }),
    requireCta: Type.Boolean({ default: true, description: 'Marketing email needs a link.' }),
    signature: Type.String({
      default: '',
      description: 'Text every marketing email must contain (empty: not checked).',
    }),
    minBrandScore: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.85,
      description: 'Generated copy scoring lower for brand consistency goes to review.',
    }),
    minToneScore: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.85,
      description: 'Generated copy scoring lower for tone consistency goes to review.',
    }),
    reviewGenerated: Type.Boolean({
      default: false,
      description: 'Send every message with generated copy to review.',
    }),
    channelFallback: Type.Boolean({
      default: true,
      description:
        "A message blocked on its channel alone (consent, preference, frequency cap, no address, paused domain) goes on the next of the decision's channels that passes, in the order the decision ranked them.",
    }),
    maxCampaignsPerDay: Type.Integer({
      minimum: 0,
      default: 10,
      description:
        'Marketing messages per customer in 24 hours, on every channel but web (campaigns, journeys, cart and win-back alike).',
    }),
    discount: Type.Object(
      {
        reviewFromPercent: Type.Number({
          minimum: 0,
          maximum: 100,
          default: 15,
          description: 'Discounts from this percentage go to review.',
        }),
        blockAbovePercent: Type.Number({
          minimum: 0,
          maximum: 100,
          default: 25,
          description: 'Discounts above this percentage are blocked.',
        }),
      },
      {
        default: {},
        description:
          'Below `reviewFromPercent` automatic; up to `blockAbovePercent` review; above it blocked.',
      },
    ),
    reviewLtvAbove: Type.Number({
      minimum: 0,
      default: 5000,
      description: 'Any message to a customer with a higher LTV goes to review.',
    }),
    gdpr: Type.Object(
      {
        consentMaxAgeDays: Type.Integer({
          minimum: 1,
          default: 1095,
          description: 'Days after which GDPR marketing consent counts as expired.',
        }),
        countries: words(
          [
            'AT',
            'BE',
            'BG',
            'HR',
            'CY',
            'CZ',
            'DK',
            'EE',
            'FI',
            'FR',
            'DE',
            'GR',
            'HU',
            'IE',
            'IT',
            'LV',
            'LT',
            'LU',
            'MT',
            'NL',
            'PL',
            'PT',
            'RO',
            'SK',
            'SI',
            'ES',
            'SE',
            'IS',
            'LI',
            'NO',
            // EU territory with codes of their own: the outermost regions and Åland.
            'RE',
            'GP',
            'MQ',
            'GF',
            'YT',
            'MF',
            'AX',
            // Where the GDPR's consent for marketing holds by a law of their own: the UK (UK
            // GDPR and PECR), Gibraltar, and the Crown Dependencies.
            'GB',
            'GI',
            'GG',
            'JE',
            'IM',
          ],
          'Country codes (ISO 3166-1 alpha-2, in capitals: anything else is refused) where marketing needs GDPR consent: the EU and EEA, the EU territories that have codes of their own, and the UK (UK GDPR and PECR), Gibraltar, Guernsey, Jersey and the Isle of Man; a country Herald cannot read is treated as one of them.',
        ),
        /** Consent sources that are not an explicit act of the customer. */
        impliedSources: words(
          ['implied', 'import:implied'],
          'Consent sources that are no explicit act of the customer: GDPR does not accept them, nor does SMS or WhatsApp marketing anywhere.',
        ),
      },
      { default: {}, description: 'GDPR consent rules for customers in the listed countries.' },
    ),
    links: Type.Object(
      {
        allowedHosts: Type.Array(
          Type.String({
            pattern: '^(\\*\\.)?[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*$',
            description: 'a host (`cdn.shop.example`) or `*.` and a domain (`*.shop.example`)',
          }),
          {
            default: [],
            description:
              "Hosts every message may link to besides those its template names and the shop's and Herald's own (`HERALD_SHOP_URL`, `HERALD_PUBLIC_URL`): `cdn.shop.example`, or `*.shop.example` for every host under it. An internationalised host in punycode (`xn--…`).",
          },
        ),
        onForeignHost: Type.Union([Type.Literal('block'), Type.Literal('review')], {
          default: 'block',
          description:
            'What a link to any other host — one a trait, an event or generated copy put in the message — does to it: `block`, or `review` (a person decides).',
        }),
      },
      { default: {}, description: 'Where the links in a message may lead.' },
    ),
    whatsappApprovedTemplates: words(
      [],
      "WhatsApp Business templates approved by Meta, by their names there (a Herald template's `whatsapp.name`, or its name with `-` as `_`); a WhatsApp message of any other is blocked.",
    ),
    holdout: Type.Object(
      {
        globalPercent: Type.Number({
          minimum: 0,
          maximum: 100,
          default: 0,
          description:
            'Percent of customers in the global holdout, who receive no automated marketing (API sends and transactional messages still go), so lift is measured against doing nothing. 0: none.',
        }),
        salt: Type.String({
          minLength: 1,
          default: 'global',
          description: 'Who is held out is fixed for a salt; a new salt draws a new group.',
        }),
      },
      { default: {} },
    ),
    reputation: Type.Object(
      {
        windowDays: Type.Number({
          exclusiveMinimum: 0,
          default: 7,
          description: 'Days of delivery results per sending domain the rates are taken over.',
        }),
        minSent: Type.Integer({
          minimum: 1,
          default: 100,
          description: 'Messages sent in the window before the rates are judged at all.',
        }),
        maxBounceRate: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.05,
          description: 'Bounced / sent at which marketing email from the domain is paused.',
        }),
        maxComplaintRate: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.003,
          description: 'Spam complaints / sent at which marketing email from the domain is paused.',
        }),
      },
      {
        default: {},
        description:
          'ISP reputation: marketing email from a sending domain whose bounce or complaint rate reached its limit is blocked (transactional email still goes).',
      },
    ),
    costPerMessage: Type.Object(
      {
        email: money(0.001, 'An email.'),
        sms: money(0.0079, 'An SMS segment.'),
        whatsapp: money(0.005, 'A WhatsApp template message.'),
        push: money(0, 'A push notification.'),
        web: money(0, 'A web personalisation.'),
      },
      {
        default: {},
        description:
          'What one message costs per channel, in major currency units, for campaign budget caps. Rough list-price defaults: set your provider’s real price.',
      },
    ),
    contentSafety: Type.Object(
      {
        blockFromSeverity: Type.Union(
          [Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')],
          {
            default: 'medium',
            description:
              'Generated copy with a moderation finding of this severity or worse is blocked.',
          },
        ),
        allowedPii: words(
          [],
          'E-mail addresses and phone numbers generated copy may contain besides the recipient’s own (the brand’s support address, its hotline).',
        ),
      },
      {
        default: {},
        description:
          'Content safety for generated copy: the moderator’s findings and personal data that is not the recipient’s.',
      },
    ),
  },
  { default: {} },
);

export type GuardPolicy = Static<typeof guardPolicySchema>;
