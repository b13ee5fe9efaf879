import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { parseIntegerOption } from './parse-integer-option.js';

const refusal = (text: string, bounds: { min: number; max?: number }): AppError | undefined => {
  try {
    parseIntegerOption(text, '--limit', bounds);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  return undefined;
};

describe('parseIntegerOption', () => {
  it('reads a whole number within its bounds', () => {
    expect(parseIntegerOption('1', '--limit', { min: 1, max: 1000 })).toBe(1);
    expect(parseIntegerOption('1000', '--limit', { min: 1, max: 1000 })).toBe(1000);
    expect(parseIntegerOption('70000', '--limit', { min: 1 })).toBe(70000);
  });

  it('refuses what is not a whole number within its bounds, naming the option and the range', () => {
    for (const text of [
      'abc',
      '1.5',
      '0',
      '-1',
      '1001',
      '',
      ' ',
      'Infinity',
      '0x10',
      '1e2',
      ' 5',
      '2.0',
    ]) {
      const error = refusal(text, { min: 1, max: 1000 });
      expect(error?.code).toBe('invalid-input');
      expect(error?.message).toBe(`--limit: "${text}" is not a whole number from 1 to 1000`);
    }
    expect(refusal('0', { min: 1 })?.message).toBe(
      '--limit: "0" is not a whole number of at least 1',
    );
  });
});
