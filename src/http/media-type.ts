import type { IncomingHttpHeaders } from 'node:http';

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

/**
 * Why a request body must not be read as UTF-8 text, or undefined when it may: a charset other
 * than UTF-8 would be misread, and a compressed body (any Content-Encoding but identity) is not
 * decompressed. Forms (RFC 6749 Appendix B) and JSON (RFC 8259 §8.1) are both UTF-8.
 */
export function notUtf8Text(headers: IncomingHttpHeaders): 'charset' | 'encoding' | undefined {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return 'encoding';
  const charset = CHARSET.exec(headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') return 'charset';
  return undefined;
}

// Fatal: bytes that are not UTF-8 throw, where the default decoder would replace them with U+FFFD.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a body that must be UTF-8, or undefined when its bytes are not. Replacing them with
 * U+FFFD, as a lenient decoder does, would make different passwords read as the same one.
 */
export function utf8Text(body: Buffer): string | undefined {
  try {
    return UTF8.decode(body);
  } catch {
    return undefined;
  }
}
