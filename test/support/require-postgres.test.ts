import pg from 'pg';
import { describe, expect, it } from 'vitest';

// CI (.ci/run) sets HERALD_REQUIRE_POSTGRES=1 so that the PostgreSQL suites, which skip
// themselves without HERALD_TEST_DATABASE_URL, cannot be skipped there without failing the run.
const required = process.env['HERALD_REQUIRE_POSTGRES'] === '1';
const url = process.env['HERALD_TEST_DATABASE_URL'];

const skipNote =
  'PostgreSQL not required: set HERALD_REQUIRE_POSTGRES=1 (as .ci/run does) to fail when HERALD_TEST_DATABASE_URL is missing or unreachable';

if (!required) console.warn(skipNote);

describe.skipIf(!required)(required ? 'required PostgreSQL' : skipNote, () => {
  it('has HERALD_TEST_DATABASE_URL, so the PostgreSQL suites run', () => {
    expect(url, 'HERALD_REQUIRE_POSTGRES=1 but HERALD_TEST_DATABASE_URL is not set').toBeTruthy();
  });

  it('answers a query at HERALD_TEST_DATABASE_URL', async () => {
    if (url === undefined || url === '')
      throw new Error('HERALD_REQUIRE_POSTGRES=1 but HERALD_TEST_DATABASE_URL is not set');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });
});
