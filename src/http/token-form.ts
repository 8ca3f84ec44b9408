import { InvalidRequest } from '../errors.js';

/** The token endpoint's parameters (RFC 6749 §4.3.2, §6), absent when omitted or empty. */
export interface TokenForm {
  readonly grant_type?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly scope?: string | undefined;
  readonly refresh_token?: string | undefined;
  readonly client_id?: string | undefined;
  readonly client_secret?: string | undefined;
}

const FIELDS = ['grant_type', 'username', 'password', 'scope', 'refresh_token', 'client_id', 'client_secret'] as const;

/** Parameters that are secrets or identify a user; never accepted from a URL, where they get logged. */
const CREDENTIAL_PARAMS = ['username', 'password', 'client_secret', 'refresh_token', 'access_token'] as const;

/**
 * Reads a parsed form body into a TokenForm. RFC 6749 §3.1: parameters sent without a value are
 * treated as omitted, and no parameter may appear more than once. Unknown parameters are ignored.
 */
export function readTokenForm(body: unknown): TokenForm {
  const form: Record<string, string | undefined> = {};
  if (body === undefined || body === null) return form;
  if (typeof body !== 'object') throw new InvalidRequest('The request body must be a form');
  const source = body as Record<string, unknown>;
  for (const field of FIELDS) {
    if (!Object.hasOwn(source, field)) continue;
    const value = source[field];
    if (Array.isArray(value)) throw new InvalidRequest(`Parameter ${field} must not be repeated`);
    if (typeof value !== 'string') throw new InvalidRequest(`Parameter ${field} must be a string`);
    form[field] = value === '' ? undefined : value;
  }
  return form;
}

/** RFC 6749 §3.2 and RFC 9700 §4.3: credentials in the query string are refused before anything runs. */
export function assertNoCredentialsInQuery(query: unknown): void {
  if (query === null || typeof query !== 'object') return;
  for (const name of CREDENTIAL_PARAMS) {
    if (Object.hasOwn(query, name)) {
      throw new InvalidRequest('Credentials must be sent in the request body, not the URL');
    }
  }
}

/** Returns a required parameter or throws invalid_request naming it. */
export function requireParam(form: TokenForm, name: keyof TokenForm): string {
  const value = form[name];
  if (value === undefined) throw new InvalidRequest(`Missing required parameter: ${name}`);
  return value;
}
