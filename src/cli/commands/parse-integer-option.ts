import { AppError } from '../../core/errors.js';

/** A whole-number option from `min` to `max`; anything else is invalid input naming the option. */
export const parseIntegerOption = (
  text: string,
  label: string,
  bounds: { min: number; max?: number },
): number => {
  const value = Number(text);
  const { min, max } = bounds;
  // Digits only, an optional minus: Number() alone would also take "0x10", "1e3" and " 5".
  if (
    !/^-?\d+$/.test(text) ||
    !Number.isSafeInteger(value) ||
    value < min ||
    (max !== undefined && value > max)
  )
    throw new AppError(
      'invalid-input',
      `${label}: "${text}" is not a whole number ${max === undefined ? `of at least ${String(min)}` : `from ${String(min)} to ${String(max)}`}`,
    );
  return value;
};
