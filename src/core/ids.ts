declare const brand: unique symbol;
/** A string that the type system keeps apart from other ids. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** The canonical id of a customer: their userId, or `anon:<anonymousId>` before they identify. */
export type CustomerId = Brand<string, 'CustomerId'>;
export type MessageId = Brand<string, 'MessageId'>;
export type SourceId = Brand<string, 'SourceId'>;

export const toCustomerId = (userId: string): CustomerId => userId as CustomerId;
export const anonymousCustomerId = (anonymousId: string): CustomerId =>
  `anon:${anonymousId}` as CustomerId;
export const isAnonymousCustomerId = (id: CustomerId): boolean => id.startsWith('anon:');
/**
 * A customer and the customers merged into it, from the identity links that lead to it
 * (`u:<user id>`, `a:<anonymous id>`): a merge leaves some rows under the ids it folded in.
 */
export const mergedCustomerIds = (id: CustomerId, links: readonly string[]): CustomerId[] => [
  ...new Set([
    id,
    ...links.map((key) =>
      key.startsWith('a:') ? anonymousCustomerId(key.slice(2)) : toCustomerId(key.slice(2)),
    ),
  ]),
];
export const toMessageId = (id: string): MessageId => id as MessageId;
export const toSourceId = (id: string): SourceId => id as SourceId;

/**
 * Why a numeric id is refused: JSON numbers past 2^53 (or with a fraction) arrive rounded, so two
 * customers' int64 ids would become one.
 */
export const unsafeIdMessage = (value: number): string =>
  `is the number ${String(value)}, which JSON cannot carry exactly (ids must be whole numbers below 2^53): send it as a string`;
