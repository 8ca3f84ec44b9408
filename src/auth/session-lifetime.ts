import type { SessionRecord } from '../store/store.js';

/** How long a session lives, in seconds. */
export interface SessionLifetime {
  /** Since the last login or refresh (RFC 9700 §4.14.2: refresh tokens expire when unused). */
  readonly idleTtl: number;
  /** Since login, however active. */
  readonly absoluteTtl: number;
}

/** True when the session may still be used at `now` (ms): not revoked, idle or past its absolute end. */
export function isSessionLive(session: SessionRecord, now: number, lifetime: SessionLifetime): boolean {
  return (
    session.revokedAt === null &&
    now < session.refreshedAt + lifetime.idleTtl * 1000 &&
    now < session.createdAt + lifetime.absoluteTtl * 1000
  );
}

/** When the session's current refresh token stops working (ms), unless used before. */
export function sessionExpiresAt(session: SessionRecord, lifetime: SessionLifetime): number {
  return Math.min(session.refreshedAt + lifetime.idleTtl * 1000, session.createdAt + lifetime.absoluteTtl * 1000);
}
