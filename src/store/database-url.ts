/** True for URLs that select PostgreSQL. Configuration refuses other URLs: anything else is a SQLite file path. */
export function isPostgresUrl(databaseUrl: string): boolean {
  return /^postgres(ql)?:\/\//i.test(databaseUrl);
}

