/** Produces unique ids (UUID v4 in production, a counter in tests). */
export interface IdSource {
  next(): string;
}
