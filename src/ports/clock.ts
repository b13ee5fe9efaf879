/** The one source of "now"; tests pass a fixed or virtual clock. */
export interface Clock {
  nowMs(): number;
}
