/** Successes out of trials in one arm (e.g. conversions out of exposed customers). */
export interface Proportion {
  successes: number;
  trials: number;
}

/** Throws a RangeError unless 0 ≤ successes ≤ trials, trials > 0 and both are finite. */
export const assertProportion = (arm: Proportion, name: string): void => {
  const { successes, trials } = arm;
  if (!Number.isFinite(trials) || trials <= 0) {
    throw new RangeError(`${name}: trials must be a positive finite number, got ${trials}`);
  }
  if (!Number.isFinite(successes) || successes < 0 || successes > trials) {
    throw new RangeError(`${name}: successes must be in [0, ${trials}], got ${successes}`);
  }
};

/** Throws a RangeError unless 0 < alpha < 1. */
export const assertAlpha = (alpha: number): void => {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
};
