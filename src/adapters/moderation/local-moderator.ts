import type {
  ContentModerator,
  ModerationCategory,
  ModerationFinding,
  Severity,
} from '../../ports/content-moderator.js';
import { moderationCategories, severityRank } from '../../ports/content-moderator.js';
import { wholePhrasesSource } from '../../core/escape-reg-exp.js';
import { visibleText } from '../../core/visible-text.js';

export interface LexiconEntry {
  phrase: string;
  severity: Exclude<Severity, 'none'>;
}

export type Lexicon = Readonly<Record<ModerationCategory, readonly LexiconEntry[]>>;

/**
 * Phrases that have no place in marketing copy, by category. Threats and encouragement of
 * self-harm are `high`; insults and sexual content `medium`; words that marketing uses
 * figuratively ("price massacre", "sexy new look") `low`, recorded but not blocked by default.
 */
export const defaultLexicon: Lexicon = {
  hate: [
    { phrase: 'subhuman', severity: 'high' },
    { phrase: 'inferior race', severity: 'high' },
    { phrase: 'master race', severity: 'high' },
    { phrase: 'ethnic cleansing', severity: 'high' },
    { phrase: 'go back to your country', severity: 'medium' },
  ],
  violence: [
    { phrase: 'kill you', severity: 'high' },
    { phrase: 'shoot you', severity: 'high' },
    { phrase: 'hurt you', severity: 'medium' },
    { phrase: 'beat you up', severity: 'medium' },
    { phrase: 'massacre', severity: 'low' },
    { phrase: 'bloodbath', severity: 'low' },
  ],
  'self-harm': [
    { phrase: 'kill yourself', severity: 'high' },
    { phrase: 'kys', severity: 'high' },
    { phrase: 'cut yourself', severity: 'high' },
    { phrase: 'starve yourself', severity: 'medium' },
    { phrase: 'hurt yourself', severity: 'medium' },
  ],
  sexual: [
    { phrase: 'porn', severity: 'high' },
    // A shade in cosmetics and fashion ("our spring nudes"): recorded, not blocked; asking for
    // them, or offering them, is not.
    { phrase: 'send nudes', severity: 'medium' },
    { phrase: 'send me nudes', severity: 'medium' },
    { phrase: 'send me your nudes', severity: 'medium' },
    { phrase: 'send us your nudes', severity: 'medium' },
    { phrase: 'your nudes', severity: 'medium' },
    { phrase: 'leaked nudes', severity: 'medium' },
    { phrase: 'nude pics', severity: 'medium' },
    { phrase: 'nude photos', severity: 'medium' },
    { phrase: 'nudes', severity: 'low' },
    { phrase: 'xxx', severity: 'medium' },
    { phrase: 'sexting', severity: 'medium' },
    { phrase: 'sexy', severity: 'low' },
  ],
  harassment: [
    { phrase: 'you are worthless', severity: 'medium' },
    { phrase: "you're worthless", severity: 'medium' },
    { phrase: 'nobody likes you', severity: 'medium' },
    { phrase: 'you idiot', severity: 'medium' },
    { phrase: 'shut up', severity: 'low' },
    { phrase: 'loser', severity: 'low' },
  ],
};

// Whole words only ("kill you" is not in "kill yourself"), any case, the words joined by white
// space or one hyphen or dash (`phraseSource`).
const patternOf = (phrase: string): RegExp => new RegExp(wholePhrasesSource([phrase]), 'iu');

/**
 * The lexicon as a synchronous screen of texts: per category the most severe phrase found (the
 * local moderator's answer, and the guard's second look at written copy once Liquid has put a
 * customer's own words in it).
 */
export const createLexiconScreen = (
  lexicon: Lexicon = defaultLexicon,
): ((texts: readonly string[]) => ModerationFinding[]) => {
  const compiled = moderationCategories.map((category) => ({
    category,
    entries: lexicon[category].map((e) => ({ severity: e.severity, pattern: patternOf(e.phrase) })),
  }));
  // Every phrase at once: most copy holds none, and one scan says so (the guard screens every
  // message of written copy).
  const phrases = moderationCategories.flatMap((c) => lexicon[c].map((e) => e.phrase));
  const any =
    phrases.length === 0
      ? null
      : new RegExp(wholePhrasesSource(phrases.map((p) => p.toLowerCase())), 'u');
  return (texts) => {
    // As a reader sees it (`visibleText`: invisible characters, soft hyphens, full-width and
    // styled letters folded — before 2026-12-07 "ｋｉｌｌ ｙｏｕｒｓｅｌｆ" or a zero-width space
    // inside a word passed), and typographic apostrophes as plain ones ("you're").
    const text = texts
      .map(visibleText)
      .join('\n')
      .replace(/[\u2018\u2019\u02BC\u2032]/g, "'");
    const findings: ModerationFinding[] = [];
    if (any === null || !any.test(text.toLowerCase())) return findings;
    for (const { category, entries } of compiled) {
      let worst: Severity = 'none';
      for (const e of entries)
        if (severityRank[e.severity] > severityRank[worst] && e.pattern.test(text))
          worst = e.severity;
      if (worst !== 'none') findings.push({ category, severity: worst, score: 1 });
    }
    return findings;
  };
};

/**
 * The lexicon's phrases of two words or more: what a screen of a person's name reads, a single
 * lexicon word being someone's real name as often as not ("Porn" is a common Thai name).
 */
export const phrasesOf = (lexicon: Lexicon = defaultLexicon): Lexicon =>
  Object.fromEntries(
    moderationCategories.map((c) => [c, lexicon[c].filter((e) => /\s/.test(e.phrase.trim()))]),
  ) as unknown as Lexicon;

/**
 * The screen of a customer's first name that written copy prints (`GuardDeps.screenName`).
 */
export const createNameScreen = (
  lexicon: Lexicon = defaultLexicon,
): ((name: string) => ModerationFinding[]) => {
  const screen = createLexiconScreen(phrasesOf(lexicon));
  return (name) => screen([name]);
};

/**
 * The default moderator: no network, no model. It is a lexical screen, not a classifier — it
 * finds the listed phrases (whole words, any case) and nothing it was not told about, and it
 * cannot tell a quote or a negation from the real thing. Every match scores 1 (a lexicon has no
 * confidence); each category reports its most severe match. For production traffic, use a
 * hosted moderation model (`createOpenAiModerator`).
 */
export const createLocalModerator = (lexicon: Lexicon = defaultLexicon): ContentModerator => {
  const screen = createLexiconScreen(lexicon);
  return {
    name: 'local-lexicon',
    moderate(texts, signal) {
      if (signal.aborted) return Promise.reject(signal.reason as Error);
      return Promise.resolve(screen(texts));
    },
  };
};
