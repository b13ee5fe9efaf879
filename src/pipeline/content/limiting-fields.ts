// The names of fields that limit when a document may be used: refused wherever they stand in a
// file the format does not read them from, since ignored they would keep a document in use.

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// What a field limiting when a document may be used could be called: the start or end of its
// use (`valid_until`, `end_date`, `deadline`, `offer_through`, `startDate`, `effective`) or
// whether it may be used at all (`active`, `status`, `withdrawn`). Read as absent, `end_date`
// kept a promotion in use weeks after it ended; refused, the team gives it as the expiry.
const LIMITING =
  /expir|approv|valid|until|deadline|through|thru|sunset|embargo|cutoff|withdraw|retire|(?:end|start|stop|begin)(?:s|ing|ed)?(?:date|time|at|on|day)$/i;
const LIMITING_WORDS = new Set([
  'end',
  'ends',
  'ending',
  'ended',
  'till',
  'stop',
  'stops',
  'start',
  'starts',
  'starting',
  'begin',
  'begins',
  'effective',
  'active',
  'inactive',
  'archived',
  'status',
  'draft',
  'publish',
  'published',
  'unpublished',
]);

// Who approved, and notes on it, limit nothing: `approved_by`, `approver`, `approval_notes`.
// A name ending in `by` names a person after one of these verbs only; any other is a date
// something is to be done by (`expires_by`, `redeem_by`, `use_by`): read as who, an expired
// promotion stayed in use.
const ACTORS = new Set([
  'approved',
  'reviewed',
  'created',
  'authored',
  'written',
  'owned',
  'updated',
  'modified',
  'edited',
  'signed',
  'checked',
  'verified',
  'submitted',
  'published',
  'requested',
]);
const NOT_LIMITING_LAST = new Set([
  'approver',
  'approvers',
  'note',
  'notes',
  'comment',
  'comments',
]);

/** Whether a field's name reads as a limit on when a document may be used. */
export const limitsUse = (key: string): boolean => {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
  const last = words.at(-1) ?? '';
  if (NOT_LIMITING_LAST.has(last)) return false;
  // `redeem_by`, `use_by`, `sell_by`: a date something is to be done by, whatever the verb.
  if (last === 'by') return !ACTORS.has(words.at(-2) ?? '');
  return LIMITING.test(key) || words.some((word) => LIMITING_WORDS.has(word));
};

/** Why a limit is refused, naming the format's approval and expiry fields. */
export const limitMessage = (approval: string, expiry: string): string =>
  `may limit when the document is used, and is not ignored: give its start as ${approval} and its end as ${expiry}, or remove it`;

/** The paths of fields under `value` (objects within objects) whose names read as limits. */
export const limitingPaths = (value: unknown, prefix: string): string[] =>
  isRecord(value)
    ? Object.entries(value).flatMap(([key, inner]) =>
        limitsUse(key) ? [`${prefix}${key}`] : limitingPaths(inner, `${prefix}${key}.`),
      )
    : [];
