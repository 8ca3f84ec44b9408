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
