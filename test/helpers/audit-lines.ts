/** What a CLI run wrote to stderr, split into its JSON audit lines and everything else. */
export function splitAudit(stderr: string): { audit: Record<string, unknown>[]; rest: string } {
  const audit: Record<string, unknown>[] = [];
  let rest = '';
  for (const line of stderr.split(/(?<=\n)/)) {
    if (line.startsWith('{')) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (typeof parsed.audit === 'string') {
        audit.push(parsed);
        continue;
      }
    }
    rest += line;
  }
  return { audit, rest };
}
