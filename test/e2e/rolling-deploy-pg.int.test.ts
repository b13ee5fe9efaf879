import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createPostgresStore } from '../../src/adapters/storage/postgres/create-postgres-store.js';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { toCustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import { silentLogger } from '../../src/ports/logger.js';
import { aTrack } from '../support/builders.js';
import { sharedTestSchema, testDatabaseUrl } from '../support/stores.js';

// Wednesday 2026-06-03 12:00 UTC: well outside the default quiet hours.
const T0 = Date.UTC(2026, 5, 3, 12);

/** A quiz journey; the newer release adds an exit event to it. */
const quizYaml = (exitOn: string) => `decide:
  journeys:
    - id: quiz
      entry: { event: Quiz Completed }
      exitOn: [${exitOn}]
      steps:
        - { id: intro, type: send, channels: [email], template: welcome-1, sendTimeOptimised: false }
        - { id: wait, type: wait, days: 2 }
        - { id: follow-up, type: send, channels: [email], template: welcome-2, sendTimeOptimised: false }
`;

describe.skipIf(testDatabaseUrl === undefined)(
  'a rolling deploy on PostgreSQL that adds an exit event to a journey',
  () => {
    const { schema, opened } = sharedTestSchema('herald_rolling');

    it('ends the journey on the new exit event, whichever release’s process records it', async () => {
      const clock = createVirtualClock(T0);
      const open = async (fileText: string) => {
        const config = loadConfig(
          {
            HERALD_DATABASE_URL: testDatabaseUrl ?? '',
            HERALD_WRITE_KEYS: 'web=test-write-key-0001',
            HERALD_ADMIN_TOKEN: 'test-admin-token-0001',
          },
          fileText,
        );
        const store = await createPostgresStore({
          url: testDatabaseUrl ?? '',
          poolSize: 4,
          schema,
        });
        const services = await createServices(config, { store, clock, logger: silentLogger });
        opened.push(services);
        return services;
      };
      // A serve process of the release before, still running; then the newer release starts.
      const older = await open(quizYaml('Order Completed'));
      const newer = await open(quizYaml('Order Completed, Quiz Abandoned'));
      const at = (userId: string, rest: object) =>
        aTrack({ userId, timestampMs: clock.nowMs(), receivedAtMs: clock.nowMs(), ...rest });
      for (const id of ['via-older', 'via-newer'])
        await newer.recorder.record(
          [
            at(id, { type: 'identify', name: null, traits: { email: `${id}@example.com` } }),
            at(id, { name: 'Quiz Completed' }),
          ],
          clock.nowMs(),
        );
      // Both enter the newer release's version of the quiz.
      await newer.worker.runDue();
      clock.set(T0 + HOUR_MS);
      // Each abandons the quiz; the load balancer hands one of the requests to the older process.
      await older.recorder.record([at('via-older', { name: 'Quiz Abandoned' })], clock.nowMs());
      await newer.recorder.record([at('via-newer', { name: 'Quiz Abandoned' })], clock.nowMs());
      await newer.worker.runDue();
      clock.set(T0 + 2 * DAY_MS + HOUR_MS);
      await newer.worker.runDue();
      for (const id of ['via-older', 'via-newer']) {
        const customerId = toCustomerId(id);
        expect(
          (await newer.store.listMemberships(customerId)).map((m) => [m.journeyId, m.status]),
        ).toEqual([['quiz', 'exited']]);
        expect(
          (await newer.store.listDecisions({ customerId, limit: 20 })).map((d) => d.template),
        ).toEqual(['welcome-1']);
      }
    });
  },
);
