/** The voices a variant can be written in; the composer writes it, brand scoring checks it. */
export const tones = ['urgent', 'informational', 'friendly'] as const;
export type Tone = (typeof tones)[number];

/**
 * Words that mark each tone. Disjoint lists, so a word counts for one tone only. Urgent markers
 * avoid the guardrails' spam trigger words ("urgent", "act now", "limited time").
 */
export const toneMarkers: Readonly<Record<Tone, readonly string[]>> = {
  urgent: ['now', 'today', 'soon', 'hurry', 'quick', 'quickly', 'fast', 'tonight', 'wait', 'last'],
  informational: [
    'learn',
    'guide',
    'details',
    'detail',
    'explains',
    'overview',
    'includes',
    'information',
    'how',
    'read',
  ],
  friendly: ['hi', 'hello', 'thanks', 'thank', 'glad', 'happy', 'enjoy', 'hope', 'love', 'cheers'],
};
