import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';

/**
 * Plain SQL with `?` placeholders, run on either database: the record stage's statements are
 * the same text on both, so they are written once.
 */
export interface SqlRunner {
  readonly dialect: 'sqlite' | 'postgres';
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** Keys looked up per statement (a guard batch asks for a few thousand erased identities). */
export const LOOKUP_CHUNK = 500;

/** The rows `read` finds for each distinct value, asked `LOOKUP_CHUNK` at a time. */
export const lookUpAll = async <T>(
  values: readonly string[],
  read: (chunk: string[], marks: string) => Promise<T[]>,
): Promise<T[]> => {
  const unique = [...new Set(values)];
  const rows: T[] = [];
  for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
    const chunk = unique.slice(i, i + LOOKUP_CHUNK);
    rows.push(...(await read(chunk, chunk.map(() => '?').join(', '))));
  }
  return rows;
};

/** Prepared statements, cached by their text (better-sqlite3 runs them synchronously). */
export const sqliteRunner = (db: BetterSqlite3.Database): SqlRunner => {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepared = (sql: string) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
  return {
    dialect: 'sqlite',
    all: <T>(sql: string, params: readonly unknown[] = []) =>
      Promise.resolve(prepared(sql).all(...params) as T[]),
    run: (sql, params = []) => Promise.resolve(prepared(sql).run(...params).changes),
  };
};

const numbered = new Map<string, string>();
/** `sql` with its `?` placeholders numbered as PostgreSQL takes them (`$1, $2 …`), kept by text. */
export const toNumbered = (sql: string): string => {
  let text = numbered.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${String((n += 1))}`);
    numbered.set(sql, text);
  }
  return text;
};

/** One connection (inside its transaction, or the pool for reads); `?` become `$1, $2 …`. */
export const postgresRunner = (client: pg.PoolClient | pg.Pool): SqlRunner => ({
  dialect: 'postgres',
  all: async <T>(sql: string, params: readonly unknown[] = []) =>
    (await client.query(toNumbered(sql), [...params])).rows as T[],
  run: async (sql, params = []) => (await client.query(toNumbered(sql), [...params])).rowCount ?? 0,
});
