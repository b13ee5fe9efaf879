/** The closed set of error codes Herald reports at its edges (HTTP, CLI). */
export type ErrorCode =
  | 'invalid-input'
  | 'invalid-config'
  | 'unauthorized'
  | 'forbidden'
  | 'rate-limited'
  | 'not-found'
  | 'payload-too-large'
  | 'uri-too-long'
  | 'unsupported-media-type'
  | 'conflict'
  | 'unavailable'
  | 'internal';

/** A field-level problem: where (a JSON pointer–like path) and what is wrong. */
/** A property name as one step of a JSON pointer (RFC 6901). */
export const pointerStep = (name: unknown): string =>
  `/${String(name).replaceAll('~', '~0').replaceAll('/', '~1')}`;

export interface FieldProblem {
  path: string;
  message: string;
}

/** The one error type thrown across layers; `code` decides the HTTP status and CLI exit code. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly problems: readonly FieldProblem[];

  constructor(
    code: ErrorCode,
    message: string,
    options: { problems?: readonly FieldProblem[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.problems = options.problems ?? [];
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

export const httpStatusOf = {
  'invalid-input': 400,
  'invalid-config': 500,
  unauthorized: 401,
  forbidden: 403,
  'rate-limited': 429,
  'not-found': 404,
  'payload-too-large': 413,
  'uri-too-long': 414,
  'unsupported-media-type': 415,
  conflict: 409,
  unavailable: 503,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

export const exitCodeOf = {
  'invalid-input': 65,
  'invalid-config': 78,
  unauthorized: 77,
  forbidden: 77,
  'rate-limited': 75,
  'not-found': 66,
  'payload-too-large': 65,
  'uri-too-long': 65,
  'unsupported-media-type': 65,
  conflict: 75,
  unavailable: 69,
  internal: 70,
} as const satisfies Record<ErrorCode, number>;
