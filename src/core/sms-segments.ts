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

/** The encoding an SMS of this text is sent in, and how many segments it takes (at least 1). */
export const smsSegments = (text: string): SmsSegments => {
  let septets = 0;
  for (const c of text) {
    if (basic.has(c)) septets += 1;
    else if (extension.has(c)) septets += 2;
    else {
      const units = text.length;
      return { encoding: 'UCS-2', segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: 'GSM-7', segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
};
