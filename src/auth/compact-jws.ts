import { createHmac, sign, type KeyObject } from 'node:crypto';

/**
 * A JWS in compact serialization (RFC 7515 §7.1) over a JSON header and payload, signed with
 * node:crypto in the calling thread. Gatehouse signs one token per login and per refresh, and
 * jose's SignJWT goes through WebCrypto, whose every call is a job on libuv's pool plus a promise:
 * about 0.3 ms of event-loop time per signature where node:crypto.sign takes about 0.04 ms
 * (docs/performance.md). On a core the argon2 thread shares, that time is taken from hashing.
 * Verification stays with jose.
 */
export function signCompactJws(alg: string, key: KeyObject, header: object, payload: object): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${signingInput}.${signature(alg, key, signingInput).toString('base64url')}`;
}

function base64url(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64url');
}

/** RFC 7518 §3.1 and RFC 8037 §3.1: the signature of each algorithm a key ring may hold. */
function signature(alg: string, key: KeyObject, input: string): Buffer {
  switch (alg) {
    case 'ES256':
      // JWS carries the raw r||s pair (RFC 7518 §3.4), not DER.
      return sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return sign('sha256', Buffer.from(input), key);
    case 'EdDSA':
      return sign(null, Buffer.from(input), key);
    case 'HS256':
      return createHmac('sha256', key).update(input).digest();
    default:
      throw new TypeError(`cannot sign with algorithm ${alg}`);
  }
}
