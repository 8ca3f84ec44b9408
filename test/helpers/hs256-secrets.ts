/** An HS256 secret as `openssl rand -base64 48` makes one (fixed, so test runs are repeatable). */
export const STRONG_SECRET = 'q0Zc8Xr1mB7yWv2LkT9pN4sHd6Gf3Ja5Ue+Io/Ry7Tb2Vx8Wn1Mz4Qc6Ld9Kh0Sg';

const PUBLISHED = '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7';

/**
 * Secrets of 32 bytes or more that must be refused, with the reason the message gives. The first
 * four are those a security review found accepted.
 */
export const WEAK_SECRETS: readonly (readonly [string, RegExp])[] = [
  ['a'.repeat(32), /too predictable/],
  ['secretsecretsecretsecretsecret12', /too predictable/],
  [PUBLISHED.toUpperCase(), /published/],
  [`  ${PUBLISHED} `, /published/],
  [`${PUBLISHED}\n`, /published/],
  ['abcdefghijklmnopqrstuvwxyz012345', /too predictable/],
  ['a-string-secret-at-least-256-bits-long', /published/],
];
