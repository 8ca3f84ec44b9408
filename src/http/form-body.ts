import { InvalidRequest } from '../errors.js';
import { utf8Text } from './media-type.js';

/** A parsed form: each name's value, or its values in order when it was repeated. */
export type FormFields = Record<string, string | string[]>;

const NOT_UTF8 = 'The form must be percent-encoded UTF-8';

/**
 * Parses an `application/x-www-form-urlencoded` body (RFC 6749 Appendix B: UTF-8, then
 * percent-encoded): pairs split at `&`, name and value at the first `=`, `+` is a space. Bytes or
 * percent-escapes that are not UTF-8 are invalid_request: a lenient decoder reads them as U+FFFD,
 * and so reads different passwords as one. A `%` not followed by two hex digits stays literal, as
 * in the WHATWG URL standard's form parsing: `curl -d password=100%` sends one unencoded.
 */
export function parseForm(body: Buffer): FormFields {
  const text = utf8Text(body);
  if (text === undefined) throw new InvalidRequest(NOT_UTF8);
  // No prototype: a field named __proto__ or constructor is a field like any other.
  const fields: FormFields = Object.create(null) as FormFields;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = formDecode(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : formDecode(pair.slice(equals + 1));
    const earlier = fields[name];
    if (earlier === undefined) fields[name] = value;
    else if (Array.isArray(earlier)) earlier.push(value);
    else fields[name] = [earlier, value];
  }
  return fields;
}

/** A `%` that begins no escape. */
const LITERAL_PERCENT = /%(?![0-9A-Fa-f]{2})/g;

function formDecode(encoded: string): string {
  const text = formUrlDecode(encoded);
  if (text === undefined) throw new InvalidRequest(NOT_UTF8);
  return text;
}

/**
 * One name or value of a form, decoded: `+` is a space, escapes are UTF-8 bytes, a `%` that
 * begins no escape is itself. Undefined when the escapes are not UTF-8. HTTP Basic client
 * credentials are encoded the same way (RFC 6749 §2.3.1).
 */
export function formUrlDecode(encoded: string): string | undefined {
  const text = encoded.replaceAll('+', ' ');
  if (!text.includes('%')) return text;
  try {
    // With every literal % escaped, decodeURIComponent throws only on escapes that are not UTF-8.
    return decodeURIComponent(text.replace(LITERAL_PERCENT, '%25'));
  } catch {
    return undefined;
  }
}
