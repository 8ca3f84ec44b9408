import { createHash, randomBytes } from 'node:crypto';

/** A new opaque refresh token (256 random bits) and the hash that is all the store keeps of it. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

/**
 * The stored form of a refresh token. A fast hash is enough: the token has 256 bits of entropy,
 * so unlike a password it cannot be guessed from its hash, and lookups stay one indexed read.
 */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
