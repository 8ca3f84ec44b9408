/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output, 256 bits. */
const MIN_BYTES = 32;
/** The estimated entropy below which a secret is guessable whatever its length. */
const MIN_ENTROPY_BITS = 128;

/**
 * Secrets printed in tutorials and tools, so public whatever their length or entropy. Compared
 * case-insensitively after trimming: hex in upper case, or with a stray space, is the same secret.
 */
const PUBLISHED_SECRETS: ReadonlySet<string> = new Set([
  // FastAPI's "OAuth2 with Password (and hashing), Bearer with JWT tokens" tutorial.
  '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7',
  // jwt.io's default HS256 secret, long enough to pass the length rule.
  'a-string-secret-at-least-256-bits-long',
]);

/**
 * Why `secret` is too weak to sign HS256 tokens with, or undefined when it will do. A secret must
 * be at least 32 bytes, not a published one, and carry an estimated 128 bits of entropy.
 */
export function hs256SecretWeakness(secret: string): string | undefined {
  if (Buffer.byteLength(secret, 'utf8') < MIN_BYTES) return `must be at least ${MIN_BYTES} bytes (256 bits)`;
  if (PUBLISHED_SECRETS.has(secret.trim().toLowerCase())) return 'is a published example secret';
  const bits = estimatedEntropyBits(secret);
  if (bits < MIN_ENTROPY_BITS) return `is too predictable (about ${Math.floor(bits)} bits of entropy; at least ${MIN_ENTROPY_BITS} are needed)`;
  return undefined;
}

/**
 * A conservative estimate of the entropy of `text`, in bits: the lower of the empirical Shannon
 * entropies of its characters and of the steps between neighbouring characters, each times the
 * number of symbols. Characters alone catch repeats and small alphabets ("aaaa...", "secretsecret...");
 * steps catch runs ("abcdef...", "0123..."), whose characters all differ but every step is +1.
 * Either is at most length × log2(distinct characters), so this never exceeds that estimate.
 * A random secret scores close to its true entropy: `openssl rand -base64 32` about 180 bits.
 */
export function estimatedEntropyBits(text: string): number {
  const codes = Array.from(text, (char) => char.codePointAt(0)!);
  const steps = codes.slice(1).map((code, i) => code - codes[i]!);
  return Math.min(shannonBits(codes), shannonBits(steps));
}

/** The empirical Shannon entropy of `symbols` (their own frequencies), times their number. */
function shannonBits(symbols: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const symbol of symbols) counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) bits -= count * Math.log2(count / symbols.length);
  return bits;
}
