import { describe, expect, it } from 'vitest';
import { visibleHtmlText, visibleText } from './visible-text.js';

// What visibleText means, without its shortcut for copy NFKC leaves alone.
const byDefinition = (text: string) =>
  text
    .normalize('NFKC')
    .replace(/[\u200B-\u200D\u2060\uFEFF\u00AD]/gu, '')
    .replace(/\s+/gu, ' ');

describe('visibleText', () => {
  it('reads every character of the Basic Multilingual Plane as its definition does', () => {
    const differ: string[] = [];
    for (let code = 0; code <= 0xffff; code += 1) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const c = String.fromCharCode(code);
      // Alone, between letters, and after a letter it might compose with.
      for (const text of [c, `a${c}b`, `e${c}`, `${c}\u0301`])
        if (visibleText(text) !== byDefinition(text)) differ.push(code.toString(16));
    }
    expect(differ).toEqual([]);
  });

  it('folds what a reader would not tell apart', () => {
    expect(visibleText('too good\nto\u00A0be  true')).toBe('too good to be true');
    expect(visibleText('ch\u00ADe\u200Bap · Café – 10 €')).toBe('cheap · Café – 10 €');
    expect(visibleText('\uFF43\uFF48\uFF45\uFF41\uFF50 ½')).toBe('cheap 1⁄2');
    expect(visibleText('cafe\u0301')).toBe('café');
  });

  it('reads the visible text of HTML', () => {
    expect(visibleHtmlText('<style>p{}</style><p>too&nbsp;<b>go</b>od</p>')).toBe(' too good ');
  });
});
