/** The security events Gatehouse records, one structured log line each. */
export type AuditEvent =
  | 'login.success'
  | 'login.failure'
  | 'login.throttled'
  /** A client address used up its failed attempts (429), whatever account it tried. */
  | 'address.throttled'
  | 'token.refresh'
  | 'refresh.reuse_detected'
  | 'token.revoke'
  | 'logout'
  | 'logout.all'
  | 'password.change'
  /** A password change whose current password was wrong, or whose account was throttled. */
  | 'password.change_failure'
  | 'password.reset'
  | 'user.create'
  | 'user.disable'
  | 'user.enable'
  | 'user.scopes'
  | 'client.create'
  | 'client.remove'
  | 'key.rotate';

/**
 * What an event is about. Deliberately no field for a password, hash, token or secret: the type
 * itself keeps them out of the audit trail.
 */
export interface AuditFields {
  /** The username acted on or attempted; only ever a name that belongs to a user. */
  readonly user?: string;
  /**
   * For an attempt at a name that matches no user: its fingerprint (`usernameFingerprint`), never
   * the text, which may be a password typed into the wrong field.
   */
  readonly user_fingerprint?: string;
  readonly client?: string;
  /**
   * Who acted, when not the user acted on: the admin's username for the admin API. Sinks add it
   * themselves (from the request's token, or the operating-system user of the CLI).
   */
  readonly actor?: string;
  readonly session?: string;
  readonly kid?: string;
  /** A short machine-readable cause, e.g. `wrong_password`. */
  readonly reason?: string;
  readonly scopes?: string;
  /** The path a refused request was sent to. */
  readonly endpoint?: string;
}

/** Records one audit event; the caller adds who asked (IP, request id). */
export type Audit = (event: AuditEvent, fields: AuditFields) => void;

/** For callers with nothing to record to (tests of pure logic). */
export const noAudit: Audit = () => {};
