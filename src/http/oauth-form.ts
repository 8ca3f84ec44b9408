import { InvalidRequest } from '../errors.js';

/** A form's known parameters, absent when omitted or empty. */
export type OAuthForm<F extends string> = { readonly [K in F]?: string | undefined };

/** Parameters that are secrets or identify a user; never accepted from a URL, where they get logged. */
const CREDENTIAL_PARAMS = ['username', 'password', 'client_secret', 'refresh_token', 'access_token', 'token'] as const;

/**
 * Reads the `fields` of a parsed form body. RFC 6749 §3.1: parameters sent without a value are
 * treated as omitted, and no parameter may appear more than once. Unknown parameters are ignored.
 */
export function readForm<F extends string>(body: unknown, fields: readonly F[]): OAuthForm<F> {
  const form: Partial<Record<F, string>> = {};
  if (body === undefined || body === null) throw new InvalidRequest('The request must have a form body');
  if (typeof body !== 'object') throw new InvalidRequest('The request body must be a form');
  const source = body as Record<string, unknown>;
  for (const field of fields) {
    if (!Object.hasOwn(source, field)) continue;
    const value = source[field];
    if (Array.isArray(value)) throw new InvalidRequest(`Parameter ${field} must not be repeated`);
    if (typeof value !== 'string') throw new InvalidRequest(`Parameter ${field} must be a string`);
    if (value !== '') form[field] = value;
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
export function requireParam<F extends string>(form: OAuthForm<F>, name: F): string {
  const value = form[name];
  if (value === undefined) throw new InvalidRequest(`Missing required parameter: ${name}`);
  return value;
}
