import { InvalidToken, NotAuthenticated } from '../errors.js';

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const SCHEME_AND_REST = /^([^ \t]+)(?:[ \t]+(.*))?$/s;

/**
 * Extracts the bearer token from an Authorization header value (RFC 6750 §2.1). The scheme is
 * case-insensitive and may be followed by one or more spaces; the token is trimmed. No header, or
 * another scheme, is "not authenticated"; a Bearer header whose token is empty or malformed is an
 * invalid token. Framework-agnostic, so any service can reuse it.
 */
export function parseBearer(authorization: string | undefined): string {
  if (authorization === undefined) throw new NotAuthenticated();
  const match = SCHEME_AND_REST.exec(authorization.trim());
  if (!match || match[1]!.toLowerCase() !== 'bearer') throw new NotAuthenticated();
  const token = (match[2] ?? '').trim();
  if (!B64TOKEN.test(token)) throw InvalidToken.invalid('malformed bearer token');
  return token;
}
