/** Schema migrations: one list per dialect, applied in version order; shared rules here. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * A database migrated by a newer build holds versions this build does not know: refuse to run on it
 * (its code would not write what the newer schema expects). Both backends call this before migrating.
 */
export function assertSchemaKnown(applied: Iterable<number>, known: readonly Migration[]): void {
  const versions = new Set(known.map((m) => m.version));
  const unknown = [...applied].filter((v) => !versions.has(v));
  if (unknown.length) {
    throw new Error(
      `the database has schema version ${Math.max(...unknown)}, newer than this build knows (${Math.max(...versions)}); ` +
        'run the newer agent2agent release (downgrades are not supported: restore a backup taken before the upgrade instead)',
    );
  }
}
