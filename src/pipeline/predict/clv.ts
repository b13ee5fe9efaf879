/**
 * CLV over `months` months: Σ_m (E[Y(m)] − E[Y(m−1)]) · spend / (1 + monthlyDiscount)^m, with
 * E[Y(t)] a customer's expected purchases by t months from now (the BG/NBD's eq. 10) and `spend`
 * their expected value per purchase (Gamma-Gamma). Discounting each month's purchases at the
 * month's end is the convention of Fader, Hardie & Lee's "RFM and CLV" (2005) in discrete form.
 */
export const customerLifetimeValue = (
  expectedPurchasesByMonth: (months: number) => number,
  spend: number,
  months: number,
  monthlyDiscount = 0,
): number => {
  if (!(months >= 0 && Number.isInteger(months)))
    throw new RangeError(`months must be a whole number ≥ 0, got ${months}`);
  // Undiscounted, the monthly sum telescopes to E[Y(months)] · spend: one forecast, not twelve.
  if (monthlyDiscount === 0) return months === 0 ? 0 : expectedPurchasesByMonth(months) * spend;
  let value = 0;
  let before = 0;
  for (let m = 1; m <= months; m++) {
    const by = expectedPurchasesByMonth(m);
    value += ((by - before) * spend) / Math.pow(1 + monthlyDiscount, m);
    before = by;
  }
  return value;
};
