/**
 * Whether `text` is well-formed UTF-16: no lone surrogate, which has no UTF-8 encoding and would
 * be stored, hashed or sent as U+FFFD, so that different inputs collide. The test of ES2024's
 * String.prototype.isWellFormed, which the ES2023 library this project compiles against lacks.
 */
export function isWellFormedText(text: string): boolean {
  return !/\p{Surrogate}/u.test(text);
}

/**
 * Whether `text` holds a control character (Unicode Cc: C0, DEL and C1). Text shown in terminals
 * and logs must not restyle or rewrite the screen, and PostgreSQL text cannot hold U+0000.
 */
export function hasControlCharacter(text: string): boolean {
  return /\p{Cc}/u.test(text);
}
