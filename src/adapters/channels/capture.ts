import type { Channel } from '../../core/profile.js';
import type { ChannelAdapter } from '../../ports/channel-adapter.js';
import type { Clock } from '../../ports/clock.js';
import type { Store } from '../../ports/store.js';

/**
 * The embedded default for every channel without a provider: the message is kept in the
 * database (`captured`, one row per message id: sending it twice keeps it once) instead of
 * leaving the machine, and `herald messages show` or the API shows what would have gone.
 */
export const createCaptureAdapter = (
  channel: Channel,
  store: Pick<Store, 'transaction'>,
  clock: Clock,
): ChannelAdapter => ({
  name: 'capture',
  channel,
  async send(delivery, signal) {
    if (signal.aborted) return { kind: 'retry', reason: 'aborted before capture', afterMs: null };
    try {
      await store.transaction((tx) =>
        tx.capture({
          messageId: delivery.messageId,
          channel,
          recipient: delivery.to,
          payload: JSON.stringify({
            to: delivery.to,
            ...(delivery.platform === undefined ? {} : { platform: delivery.platform }),
            template: delivery.template,
            content: delivery.content,
          }),
          atMs: clock.nowMs(),
        }),
      );
      return { kind: 'sent', providerId: `capture:${delivery.messageId}` };
    } catch (error) {
      return {
        kind: 'retry',
        reason: `capture failed: ${error instanceof Error ? error.message : String(error)}`,
        afterMs: null,
      };
    }
  },
  close: () => Promise.resolve(),
});

/**
 * Web content is not pushed anywhere: "sending" publishes it, and the site asks for it with
 * `GET /v1/personalize` while it is fresh.
 */
export const createWebPublisher = (): ChannelAdapter => ({
  name: 'web',
  channel: 'web',
  send: () => Promise.resolve({ kind: 'sent', providerId: null }),
  close: () => Promise.resolve(),
});
