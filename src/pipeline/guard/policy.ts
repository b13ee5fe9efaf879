import { Type, type Static } from '@sinclair/typebox';

const words = (value: string[], description: string) =>
  Type.Array(Type.String({ minLength: 1 }), { default: value, description });

/** Every threshold the guardrails use (`guard:` in the config); the defaults are the requirements'. */
export const guardPolicySchema = Type.Object(
  {
    frequencyCaps: Type.Object(
      {
        windowDays: Type.Number({ exclusiveMinimum: 0, default: 7 }),
        email: Type.Integer({ minimum: 0, default: 3 }),
        sms: Type.Integer({ minimum: 0, default: 2 }),
        whatsapp: Type.Integer({ minimum: 0, default: 2 }),
        push: Type.Integer({ minimum: 0, default: 5 }),
        web: Type.Integer({ minimum: 0, default: 100 }),
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
        '…once the customer has received this many marketing messages (before that, a new customer has had no chance to engage).',
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
    maxSubjectLength: Type.Integer({ minimum: 1, default: 60 }),
    requireCta: Type.Boolean({ default: true, description: 'Marketing email needs a link.' }),
    signature: Type.String({
      default: '',
      description: 'Text every marketing email must contain (empty: not checked).',
    }),
    reviewGenerated: Type.Boolean({
      default: false,
      description: 'Send every message with generated copy to review.',
    }),
    maxCampaignsPerDay: Type.Integer({ minimum: 0, default: 10 }),
    discount: Type.Object(
      {
        reviewFromPercent: Type.Number({ minimum: 0, default: 15 }),
        blockAbovePercent: Type.Number({ minimum: 0, default: 25 }),
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
        consentMaxAgeDays: Type.Integer({ minimum: 1, default: 1095 }),
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
          ],
          'EU and EEA country codes (ISO 3166-1 alpha-2).',
        ),
        /** Consent sources that are not an explicit act of the customer. */
        impliedSources: words(
          ['implied', 'import:implied'],
          'Consent sources GDPR does not accept.',
        ),
      },
      { default: {} },
    ),
    whatsappApprovedTemplates: words([], 'WhatsApp Business templates approved by Meta.'),
  },
  { default: {} },
);

export type GuardPolicy = Static<typeof guardPolicySchema>;
