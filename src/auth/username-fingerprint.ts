import { createHash } from 'node:crypto';

/**
 * What the audit trail records instead of a username that matches no user: the first 16 hex
 * characters (64 bits) of its SHA-256. Such a "username" is often a password typed into the
 * wrong field, and of any length; the fingerprint is short, fixed-size, and still tells repeated
 * attempts at one name apart from many names, on every instance. It is unsalted so an operator
 * can check a suspected name, which means a guessable text can be confirmed from it: it keeps
 * the text out of the logs, it does not make a weak password safe to log.
 */
export function usernameFingerprint(username: string): string {
  return createHash('sha256').update(username, 'utf8').digest('hex').slice(0, 16);
}
