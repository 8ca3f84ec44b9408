/** True for URLs that select PostgreSQL. Configuration refuses other URLs: anything else is a SQLite file path. */
export function isPostgresUrl(databaseUrl: string): boolean {
  return /^postgres(ql)?:\/\//i.test(databaseUrl);
}

/**
 * The database as error messages may name it: a SQLite path as given, a PostgreSQL URL without
 * its password (which must never reach a terminal or a log).
 */
export function describeDatabase(databaseUrl: string): string {
  if (!isPostgresUrl(databaseUrl)) return databaseUrl;
  try {
    const url = new URL(databaseUrl);
    // Query parameters may carry a password too (`?password=...`): name only where it points.
    return `${url.protocol}//${url.username ? `${url.username}@` : ''}${url.host}${url.pathname}`;
  } catch {
    return 'the PostgreSQL database in DATABASE_URL';
  }
}
