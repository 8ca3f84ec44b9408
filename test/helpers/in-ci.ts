/**
 * True when the tests run in CI, where a missing PostgreSQL, Redis or browser must fail a test
 * rather than skip it. CI systems set `CI=true`; `CI=false`, `CI=0` or an empty value, as people
 * write to turn it off, mean not in CI.
 */
export function inCi(env: Record<string, string | undefined> = process.env): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}
