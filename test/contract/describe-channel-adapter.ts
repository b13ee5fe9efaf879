import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/core/profile.js';
import type { ChannelAdapter, Delivery } from '../../src/ports/channel-adapter.js';

/**
 * How the fake provider answers the next request: accept it; 429 (with Retry-After when the
 * provider sends one); a 5xx; never answer (the adapter's timeout must fire); refuse it for
 * good (a malformed or rejected message); refuse the recipient (hard bounce, invalid number,
 * unregistered token).
 */
export type Scenario =
  'accept' | 'rate-limited' | 'server-error' | 'hang' | 'rejected' | 'bad-recipient';

/** A running fake provider (a local server speaking the provider's documented shapes). */
export interface FakeProvider {
  /** Built against the fake, with a short timeout (a second at most) so `hang` is quick. */
  adapter: ChannelAdapter;
  /** Every request from now on is answered this way. */
  setScenario(scenario: Scenario): void;
  /** Messages the fake has accepted so far (what a receiving server would count). */
  accepted(): number;
  /** Stops the server (later sends meet a refused connection). */
  stop(): Promise<void>;
}

export interface ChannelHarness {
  name: string;
  channel: Channel;
  start(): Promise<FakeProvider>;
  /** A valid delivery for this channel. */
  delivery: Delivery;
  /** The wait the adapter must report for `rate-limited`: the Retry-After the fake sends, or null. */
  retryAfterMs: number | null;
}

const signal = () => new AbortController().signal;

/** The one contract every channel adapter passes. */
export const describeChannelAdapter = (harness: ChannelHarness): void => {
  describe(`channel adapter contract: ${harness.name} (${harness.channel})`, () => {
    let fake: FakeProvider;
    let stopped = false;
    beforeEach(async () => {
      stopped = false;
      fake = await harness.start();
    });
    afterEach(async () => {
      await fake.adapter.close();
      if (!stopped) await fake.stop();
    });

    it('names itself and its channel', () => {
      expect(fake.adapter.name).toBe(harness.name);
      expect(fake.adapter.channel).toBe(harness.channel);
    });

    it('reports an accepted message as sent, once', async () => {
      fake.setScenario('accept');
      const outcome = await fake.adapter.send(harness.delivery, signal());
      expect(outcome.kind).toBe('sent');
      expect(fake.accepted()).toBe(1);
    });

    it('asks to retry after a 429, for as long as the provider said', async () => {
      fake.setScenario('rate-limited');
      const outcome = await fake.adapter.send(harness.delivery, signal());
      expect(outcome).toMatchObject({ kind: 'retry', afterMs: harness.retryAfterMs });
      expect(fake.accepted()).toBe(0);
    });

    it('asks to retry after a server error', async () => {
      fake.setScenario('server-error');
      expect((await fake.adapter.send(harness.delivery, signal())).kind).toBe('retry');
    });

    it('asks to retry when the provider does not answer in time', async () => {
      fake.setScenario('hang');
      const outcome = await fake.adapter.send(harness.delivery, signal());
      expect(outcome.kind).toBe('retry');
    });

    it('asks to retry when the attempt is aborted', async () => {
      fake.setScenario('hang');
      const controller = new AbortController();
      const sending = fake.adapter.send(harness.delivery, controller.signal);
      setTimeout(() => {
        controller.abort();
      }, 20);
      expect((await sending).kind).toBe('retry');
    });

    it('gives up on a message the provider refuses for good, saying why', async () => {
      fake.setScenario('rejected');
      const outcome = await fake.adapter.send(harness.delivery, signal());
      expect(outcome.kind).toBe('failed');
      expect(outcome.kind === 'failed' && outcome.reason.length > 0).toBe(true);
    });

    it('reports a recipient who cannot receive as unreachable', async () => {
      fake.setScenario('bad-recipient');
      expect((await fake.adapter.send(harness.delivery, signal())).kind).toBe('unreachable');
    });

    it('asks to retry when the provider cannot be reached', async () => {
      await fake.stop();
      stopped = true;
      expect((await fake.adapter.send(harness.delivery, signal())).kind).toBe('retry');
    });
  });
};
