import { afterEach, describe, expect, it } from 'vitest';
import { createPollingLoop, type PollingLoop } from './polling-loop.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const until = async (done: () => boolean) => {
  for (let i = 0; i < 1000 && !done(); i += 1) await turn();
};

describe('the polling loop asked to stop', () => {
  const loops: PollingLoop<number>[] = [];
  afterEach(async () => {
    for (const loop of loops.splice(0)) await loop.stop();
  });
  /** A loop whose drain runs rounds until asked to stop; a long poll, so only nudges and starts run it. */
  const aLoop = () => {
    const runs: { rounds: number; stopped: boolean }[] = [];
    const loop = createPollingLoop(
      async (_nowMs, _collect, stopping) => {
        const run = { rounds: 0, stopped: false };
        runs.push(run);
        while (run.rounds < 1000) {
          run.rounds += 1;
          await turn();
          if (stopping()) {
            run.stopped = true;
            break;
          }
        }
        return run.rounds;
      },
      0,
      { pollMs: 600_000, nowMs: () => 0, onError: () => undefined },
    );
    loops.push(loop);
    return { loop, runs };
  };

  it('tells the run in progress to stop, and runs in full what is asked for after', async () => {
    const { loop, runs } = aLoop();
    loop.start();
    await until(() => (runs[0]?.rounds ?? 0) >= 3);
    await loop.stop();
    expect(runs[0]?.stopped).toBe(true);
    expect(runs[0]?.rounds).toBeLessThan(1000);
    expect(await loop.runDue()).toBe(1000);
  });

  it('runs again at once when started right after a stop, not a poll later', async () => {
    const { loop, runs } = aLoop();
    loop.start();
    await until(() => (runs[0]?.rounds ?? 0) >= 3);
    const stopped = loop.stop();
    loop.start();
    await stopped;
    await until(() => runs.length >= 2);
    expect(runs).toHaveLength(2);
  });
});
