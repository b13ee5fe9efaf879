/**
 * Why a journey ended, as its membership records it: one wording, written and read here only
 * (the personalize route takes a journey's web content down when an event ended it).
 */
export const eventExitReason = (event: string, arrivedLate = false): string =>
  `event ${event}${arrivedLate ? ' (arrived late)' : ''}`;

/** Whether an exit reason is an exit event's (`eventExitReason`). */
export const endedByEvent = (exitReason: string | null): boolean =>
  exitReason?.startsWith('event ') === true;
