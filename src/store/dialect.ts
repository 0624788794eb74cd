/**
 * What differs between the SQL the two backends speak, and nothing else. Every query is written once
 * (src/store/writes.ts, reads.ts) with `?` placeholders; PostgreSQL's driver numbers them.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** `column` is one of a list bound as a single parameter (see `list`). */
  inList(column: string, type: 'text' | 'bigint'): string;
  list(values: readonly unknown[]): unknown;
  /** The JSON array in `column` holds the text bound to the next parameter. */
  jsonHas(column: string): string;
  /** A boolean as a parameter. */
  bool(value: boolean): unknown;
  /** A JSON column as read back (SQLite stores text, PostgreSQL hands back parsed JSON). */
  fromJson: (value: unknown) => unknown;
  fromBool(value: unknown): boolean;
  /** Appended to the claim's inner SELECT: concurrent claimers skip each other's rows. */
  readonly skipLocked: string;
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  inList: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  list: (values) => JSON.stringify(values),
  jsonHas: (column) => `EXISTS (SELECT 1 FROM json_each(${column}) WHERE value = ?)`,
  bool: (value) => (value ? 1 : 0),
  fromJson: (value) => (value === null || value === undefined ? null : (JSON.parse(value as string) as unknown)),
  fromBool: (value) => value === 1,
  skipLocked: '',
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  inList: (column, type) => `${column} = ANY(?::${type}[])`,
  list: (values) => values,
  jsonHas: (column) => `${column} @> jsonb_build_array(?::text)`,
  bool: (value) => value,
  fromJson: (value) => value ?? null,
  fromBool: (value) => value === true,
  skipLocked: ' FOR UPDATE OF d SKIP LOCKED',
};

/** `?` → `$1, $2, …`, once per SQL text. */
const numbered = new Map<string, string>();
export function numberPlaceholders(sql: string): string {
  let out = numbered.get(sql);
  if (out === undefined) {
    let i = 0;
    out = sql.replace(/\?/g, () => `$${++i}`);
    numbered.set(sql, out);
  }
  return out;
}

/** A JSON value as a parameter: text on both backends (PostgreSQL casts it to the column's JSON type). */
export const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
