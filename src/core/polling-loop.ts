/** A loop that runs `drain` when asked, when nudged, and every `pollMs` while started. */
export interface PollingLoop<T> {
  /**
   * Runs `drain` now (after a run in progress), and returns what it returned. `collect` (true by
   * default) is handed to `drain`; the loop's own runs pass false, as nobody reads their result.
   */
  runDue(nowMs?: number, collect?: boolean): Promise<T>;
  /** Polls every `pollMs`, and soon after `nudge()`. */
  start(): void;
  /** Asks a started loop to run now; a nudge during a run makes it run again right after. */
  nudge(): void;
  /**
   * Stops polling and waits for a run in progress, which is asked to stop too: its `drain`'s
   * `stopping` says so from now on, and a drain of several rounds ends after the one in
   * progress, rather than going on through a backlog while the process is asked to exit. A
   * `runDue` asked for after the stop runs in full.
   */
  stop(): Promise<void>;
}

/**
 * The scheduler's and the dispatcher's loop: one run at a time, a nudge never lost (it
 * re-runs the loop as soon as the current run ends), errors reported and the loop kept going.
 */
export const createPollingLoop = <T>(
  drain: (nowMs: number, collect: boolean, stopping: () => boolean) => Promise<T>,
  empty: T,
  options: { pollMs: number; nowMs: () => number; onError: (error: unknown) => void },
): PollingLoop<T> => {
  let running: Promise<T> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let started = false;
  // Each `stop` starts a new generation: the runs asked for before it are told to stop, those
  // asked for after (an explicit `runDue` on a stopped loop) run in full.
  let generation = 0;

  const runDue = (nowMs = options.nowMs(), collect = true): Promise<T> => {
    const previous = running ?? Promise.resolve(empty);
    const asked = generation;
    const stopping = () => generation !== asked;
    const next = previous.catch(() => empty).then(() => drain(nowMs, collect, stopping));
    running = next;
    void next
      .finally(() => {
        if (running === next) running = null;
      })
      .catch(() => undefined);
    return next;
  };

  const schedule = (delayMs: number) => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(tick, delayMs);
    timer.unref();
  };
  const tick = () => {
    timer = null;
    if (!started) return;
    const asked = generation;
    runDue(options.nowMs(), false)
      .catch(options.onError)
      .finally(() => {
        // Stopped since (and perhaps started again, which scheduled a run of its own).
        if (!started || generation !== asked) return;
        if (again) {
          again = false;
          schedule(0);
        } else schedule(options.pollMs);
      });
  };

  return {
    runDue,
    start() {
      started = true;
      schedule(0);
    },
    nudge() {
      if (!started) return;
      if (running !== null) again = true;
      else schedule(0);
    },
    async stop() {
      started = false;
      generation += 1;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
};
