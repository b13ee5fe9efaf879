// How many SMS segments a text takes, as carriers bill it (3GPP TS 23.038): GSM-7 when every
// character is in its default alphabet or its extension table (the extension's characters take
// two septets), 160 septets in one segment, 153 a segment when it is split (the rest carries the
// concatenation header); otherwise UCS-2, 70 UTF-16 units in one segment, 67 a segment split.

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';

const basic = new Set(GSM_BASIC);
const extension = new Set(GSM_EXTENSION);

export interface SmsSegments {
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
}

/**
 * How many segments characters of these sizes fill: one when they fit `single`, else segments
 * of `split`, a character never cut between two (an escape pair, a surrogate pair).
 */
const fill = (sizes: readonly number[], single: number, split: number): number => {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > split) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return segments;
};

/** The encoding an SMS of this text is sent in, and how many segments it takes (at least 1). */
export const smsSegments = (text: string): SmsSegments => {
  // Code points, as the encodings count them: a surrogate pair is one character of two units.
  const chars = Array.from(text);
  if (chars.every((c) => basic.has(c) || extension.has(c)))
    return {
      encoding: 'GSM-7',
      segments: fill(
        chars.map((c) => (extension.has(c) ? 2 : 1)),
        160,
        153,
      ),
    };
  return {
    encoding: 'UCS-2',
    segments: fill(
      chars.map((c) => c.length),
      70,
      67,
    ),
  };
};
