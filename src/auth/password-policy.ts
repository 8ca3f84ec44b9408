import { createRequire } from 'node:module';
import { PolicyViolation } from '../errors.js';
import { isWellFormedText } from './unicode-text.js';

/** NIST SP 800-63B §5.1.1.2: at least 8 (we ask 12) and accept at least 64 characters. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** NFKC form of a password, so equivalent Unicode input hashes alike (never truncated). */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** NFKC, lower case, NFKC again: lowering can leave a character outside NFKC. */
function foldCase(text: string): string {
  return text.normalize('NFKC').toLowerCase().normalize('NFKC');
}

let breached: ReadonlySet<string> | undefined;

/**
 * The most common passwords of public breach corpora, from the maintained
 * `@zxcvbn-ts/language-common` package (its `passwords-common` list, about 49,000 entries, most
 * common first). Only entries long enough to pass the length rule can matter; loaded on first use.
 */
function breachedPasswords(): ReadonlySet<string> {
  if (!breached) {
    const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as {
      dictionary: Record<string, readonly string[]>;
    };
    const list = dictionary['passwords-common'] ?? [];
    breached = new Set(list.filter((p) => [...p].length >= PASSWORD_MIN_LENGTH).map(foldCase));
  }
  return breached;
}

/**
 * Checks a new (not demo-fixture) password against the policy (NIST SP 800-63B §5.1.1.2): length
 * in Unicode code points after normalization, no composition rules, not a commonly breached
 * password and never the username (both compared without regard to case or Unicode form).
 * Throws PolicyViolation naming the rule broken.
 */
export function assertAcceptablePassword(password: string, username: string): void {
  // A lone UTF-16 surrogate (possible in JSON, never in a UTF-8 form) would be hashed as U+FFFD.
  if (!isWellFormedText(password)) throw new PolicyViolation('password must be valid Unicode text (no lone surrogates)');
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_LENGTH) {
    throw new PolicyViolation(`password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw new PolicyViolation(`password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  // "JohnDoe" for johndoe is the first guess of anyone who knows the name.
  if (foldCase(normalized) === foldCase(username)) {
    throw new PolicyViolation('password must not equal the username');
  }
  if (breachedPasswords().has(foldCase(normalized))) {
    throw new PolicyViolation('password is too common: it appears in lists of breached passwords');
  }
}
