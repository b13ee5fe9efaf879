import { err, ok, type Result } from '../../core/result.js';
import type { RetrievedContent } from './retrieve.js';
import { toSentences } from './text.js';
import { wholePhrasesSource } from '../../core/escape-reg-exp.js';
import type { Tone } from './tone.js';
import { NUMBER_WORDS, SCALE_WORDS } from './ground.js';

export const strategies = ['control', 'curiosity', 'benefit', 'fomo', 'social-proof'] as const;
/** How a variant tries to win attention; `fomo` is the scarcity strategy. */
export type Strategy = (typeof strategies)[number];

export interface Incentive {
  percent: number;
  code: string;
}

/** One candidate message. `generator` says what wrote it: never a language model here. */
export interface Variant {
  id: string;
  strategy: Strategy;
  tone: Tone;
  subject: string;
  preheader: string;
  body: string;
  cta: string;
  citations: string[];
  generator: 'offline-composer';
}

export interface ComposeInput {
  segment: string;
  strategies: readonly Strategy[];
  tone: Tone;
  retrieved: readonly RetrievedContent[];
  incentive: Incentive | null;
  brand: { name: string };
  /** Between 3 and 5. */
  count: number;
  /**
   * The longest subject, in characters (code points, as the brand guardrail counts them):
   * the guard policy's `maxSubjectLength`; `maxSubjectLength` (60) when absent.
   */
  maxSubjectLength?: number;
  /**
   * The text every body must hold (the guard policy's `signature`), written as the sign-off;
   * absent or empty, the sign-off is "— The <brand> team".
   */
  signature?: string;
  /**
   * Phrases a subject must not hold (the guard policy's `spamTriggerWords`, which send every
   * message with one to review): a title holding one is written without it.
   */
  avoidInSubject?: readonly string[];
}

export type ComposeError =
  { kind: 'no-content' } | { kind: 'no-strategies' } | { kind: 'invalid-count'; count: number };

/** The longest subject the composer writes when it is not told the guard policy's. */
export const maxSubjectLength = 60;
const maxPreheaderLength = 100;
const firstName = '{{ customer.firstName | default: "there" }}';

// Template text is lower case after its first word and holds no digits, so it can never read as
// a product name, price, percentage or date of its own: every such claim comes from a snippet
// or the incentive (see ground.ts).
const subjects: Record<Strategy, readonly ((title: string) => string)[]> = {
  control: [(t) => t, (t) => `About ${t}`],
  curiosity: [(t) => `Have you seen ${t}?`, (t) => `What ${t} can do for you`],
  benefit: [(t) => `Get more from ${t}`, (t) => `How ${t} helps you`],
  fomo: [(t) => `Don't miss ${t}`, (t) => `${t} is waiting for you`],
  'social-proof': [(t) => `Why customers choose ${t}`, (t) => `What customers read: ${t}`],
};

const leads: Record<Strategy, (title: string) => string> = {
  control: (t) => `Here is the latest on ${t}.`,
  curiosity: (t) => `There is more to ${t} than you might think.`,
  benefit: (t) => `Here is what ${t} can do for you.`,
  fomo: (t) => `Don't miss out on ${t}.`,
  'social-proof': (t) => `Here is why customers choose ${t}.`,
};

const voices: Record<
  Tone,
  { subjectPrefix: string; greeting: string; closer: string; cta: string; offerCta: string }
> = {
  urgent: {
    subjectPrefix: 'Today: ',
    greeting: `${firstName}, read this now.`,
    closer: "Take a look now, don't wait.",
    cta: 'Take a look now',
    offerCta: 'Claim your offer now',
  },
  informational: {
    subjectPrefix: '',
    greeting: `${firstName}, here is a short guide.`,
    closer: 'Read the details to learn how it works.',
    cta: 'Read the details',
    offerCta: 'Learn how to redeem',
  },
  friendly: {
    subjectPrefix: '',
    greeting: `Hi ${firstName}, thanks for being with us.`,
    closer: 'We hope you enjoy it.',
    cta: 'Have a look',
    offerCta: 'Enjoy your offer',
  },
};

// Social proof only repeats what the approved document says about other customers.
const socialWords = /\b(customers?|thousands|community|teams?|join|trusted|satisfied|members?)\b/i;

const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'segment';

const shorten = (text: string, maxLength: number): string => {
  if (text.length <= maxLength) return text;
  const cut = text.slice(0, maxLength - 1);
  let atWord = cut.slice(0, Math.max(cut.lastIndexOf(' '), 1));
  // An amount cut from its scale ("$2" of "$2 million") would claim another sum: it goes too.
  if (new RegExp(`^\\s*(?:${SCALE_WORDS})\\b`, 'i').test(text.slice(atWord.length)))
    atWord = atWord.replace(/\S*\d\S*$/, '');
  // So would a number in words cut in two ("ten" of "ten thousand"): its words go with the cut.
  if (new RegExp(`^[\\s-]*(?:${NUMBER_WORDS})\\b`, 'i').test(text.slice(atWord.length)))
    atWord = atWord.replace(new RegExp(`(?:[\\s-]*\\b(?:${NUMBER_WORDS}|a|and))+$`, 'i'), '');
  return `${atWord.replace(/[\s,;:.!?–—-]+$/, '')}…`;
};

/**
 * `text` without the phrases to avoid that stand in it as whole words, its spaces closed up;
 * null when none does (one only inside a word is left: cutting it would garble the word).
 */
const without = (text: string, avoid: readonly string[]): string | null => {
  let out = text;
  for (const phrase of avoid)
    if (phrase.trim() !== '')
      out = out.replace(new RegExp(wholePhrasesSource([phrase]), 'giu'), ' ');
  if (out === text) return null;
  out = out.replace(/\s+/g, ' ').replace(/^[\s,;:.!?–—-]+|[\s,;:–—-]+$/g, '');
  return out === '' ? null : out;
};

const subjectFor = (
  strategy: Strategy,
  round: number,
  tone: Tone,
  title: string,
  incentive: Incentive | null,
  maxLength: number,
  avoid: readonly string[],
): string => {
  // A title holding a spam trigger ("Limited Time Upgrade Offer") is written without it: every
  // message of a subject that holds one would wait for a person.
  const plain = without(title, avoid) ?? title;
  const templates = subjects[strategy];
  const template = templates[round % templates.length] ?? templates[0] ?? ((t: string) => t);
  const core = template(plain);
  const prefix = voices[tone].subjectPrefix;
  const offer = incentive === null ? '' : ` (${incentive.percent}% off)`;
  // The strategy's and the tone's own words ("Today: ", "Don't miss") may be spam triggers
  // too, as configured: a candidate holding one is passed over, as the title's are cut.
  const candidates = [`${prefix}${core}${offer}`, `${core}${offer}`, core, plain].filter(
    (c) => c === plain || without(c, avoid) === null,
  );
  // Counted in code points: at least as many as the characters the brand guardrail counts.
  return candidates.find((c) => Array.from(c).length <= maxLength) ?? shorten(plain, maxLength);
};

const factFor = (strategy: Strategy, retrieved: RetrievedContent): string => {
  if (strategy !== 'social-proof' || socialWords.test(retrieved.snippet)) return retrieved.snippet;
  return toSentences(retrieved.doc.body).find((s) => socialWords.test(s)) ?? retrieved.snippet;
};

/**
 * Writes `count` (3–5) variants without a language model: each is a per-strategy, per-tone
 * template filled with one retrieved document's title and snippet (which it cites) and the
 * incentive, so it states no fact that is not in a cited document or the incentive. The same
 * input always gives the same variants.
 */
export const composeVariants = (input: ComposeInput): Result<Variant[], ComposeError> => {
  const { retrieved, tone, incentive } = input;
  if (!Number.isInteger(input.count) || input.count < 3 || input.count > 5) {
    return err({ kind: 'invalid-count', count: input.count });
  }
  if (input.strategies.length === 0) return err({ kind: 'no-strategies' });
  if (retrieved.length === 0) return err({ kind: 'no-content' });
  const voice = voices[tone];
  const maxLength = input.maxSubjectLength ?? maxSubjectLength;
  // The guard blocks a body without the configured signature: it is the sign-off then.
  const signOff =
    input.signature === undefined || input.signature.trim() === ''
      ? `— The ${input.brand.name} team`
      : input.signature;
  const variants: Variant[] = [];
  // Strategy and document each taken in turn, a pair already written passed over for the next
  // document: with as many documents as strategies, the fourth variant was the first's copy
  // again under another subject, an arm of its own in the test.
  const written = new Set<string>();
  for (let i = 0; i < input.count; i += 1) {
    const strategy = input.strategies[i % input.strategies.length] ?? 'control';
    const fresh = retrieved.findIndex(
      (_, k) => !written.has(`${strategy}\n${String((i + k) % retrieved.length)}`),
    );
    const at = (i + Math.max(0, fresh)) % retrieved.length;
    written.add(`${strategy}\n${String(at)}`);
    const source = retrieved[at] ?? retrieved[0];
    if (source === undefined) break;
    // When strategies repeat, the next round uses the strategy's other subject template.
    const round = Math.floor(i / input.strategies.length);
    const title = source.doc.title;
    const offerLine =
      incentive === null
        ? []
        : [
            `Use code ${incentive.code} for ${incentive.percent}% off${tone === 'urgent' ? ' today' : ''}.`,
          ];
    const body = [
      voice.greeting,
      `${leads[strategy](title)} ${factFor(strategy, source)}`,
      ...offerLine,
      voice.closer,
      signOff,
    ].join('\n\n');
    variants.push({
      id: `${slug(input.segment)}-v${i + 1}-${strategy}-${tone}`,
      strategy,
      tone,
      subject: subjectFor(
        strategy,
        round,
        tone,
        title,
        incentive,
        maxLength,
        input.avoidInSubject ?? [],
      ),
      preheader: shorten(source.snippet, maxPreheaderLength),
      body,
      cta: incentive === null ? voice.cta : voice.offerCta,
      citations: [source.doc.id],
      generator: 'offline-composer',
    });
  }
  return ok(variants);
};
