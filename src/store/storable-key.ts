/**
 * Whether a row could hold `key` at all. PostgreSQL's text type cannot hold U+0000, and a query
 * that binds one fails (SQLSTATE 22021) instead of matching nothing. Nothing the domain stores
 * contains one (usernames and client ids are checked before they are written), so a key with one
 * names no row, and the store answers "not found" without asking, on every backend alike.
 */
export function isStorableKey(key: string): boolean {
  return !key.includes('\0');
}
