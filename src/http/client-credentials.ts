import type { PresentedClient } from '../auth/clients.js';
import { InvalidClient, InvalidRequest } from '../errors.js';
import { formUrlDecode } from './form-body.js';
import { utf8Text } from './media-type.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads client credentials from HTTP Basic or the form (RFC 6749 §2.3.1). Basic halves are split
 * at the first colon, then form-url-decoded. An empty Basic pair (Swagger UI's default) counts as
 * no client authentication. Using both methods at once is invalid_request (§2.3).
 */
export function readClientCredentials(
  authorization: string | undefined,
  form: { client_id?: string | undefined; client_secret?: string | undefined },
): PresentedClient | undefined {
  const basic = readBasic(authorization);
  const fromForm = form.client_id !== undefined || form.client_secret !== undefined;
  if (basic && fromForm) throw new InvalidRequest('Use only one client authentication method');
  if (basic) return basic;
  if (form.client_id === undefined) {
    if (form.client_secret !== undefined) throw new InvalidRequest('client_secret without client_id');
    return undefined;
  }
  return {
    clientId: form.client_id,
    clientSecret: form.client_secret,
    method: form.client_secret === undefined ? 'none' : 'client_secret_post',
  };
}

function readBasic(authorization: string | undefined): PresentedClient | undefined {
  if (authorization === undefined) return undefined;
  const match = /^([^ \t]*)(?:[ \t]+(.*))?$/s.exec(authorization.trim());
  if (!match || match[1]!.toLowerCase() !== 'basic') return undefined;
  const encoded = (match[2] ?? '').trim();
  if (encoded === '' || !BASE64.test(encoded) || encoded.length % 4 !== 0) {
    throw new InvalidClient('malformed Basic credentials');
  }
  // Strictly UTF-8, as a form is: a lenient decoder would read different secrets as one.
  const decoded = utf8Text(Buffer.from(encoded, 'base64'));
  if (decoded === undefined) throw new InvalidClient('Basic credentials are not UTF-8');
  const colon = decoded.indexOf(':');
  if (colon === -1) throw new InvalidClient('Basic credentials without a colon');
  const clientId = basicHalf(decoded.slice(0, colon));
  const clientSecret = basicHalf(decoded.slice(colon + 1));
  if (clientId === '' && clientSecret === '') return undefined;
  if (clientId === '') throw new InvalidClient('Basic credentials without a client id');
  return { clientId, clientSecret, method: 'client_secret_basic' };
}

/** A Basic half, form-url-decoded as the form's fields are, so `-u spa:100%` reads as `100%`. */
function basicHalf(value: string): string {
  const decoded = formUrlDecode(value);
  if (decoded === undefined) throw new InvalidClient('Basic credentials are not form-url-encoded UTF-8');
  return decoded;
}
