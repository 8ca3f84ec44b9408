/**
 * The error catalog. Each class is one error the wire contract names: its stable `code`, its
 * HTTP `status`, and the public text clients see. `logDetail` is for logs only: public text stays
 * generic where precision would help an attacker (RFC 6749 §5.2, DESIGN.md §1).
 */
export abstract class GatehouseError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** Precise cause, logged, never sent. */
  readonly logDetail: string | undefined;

  constructor(publicText: string, logDetail?: string) {
    super(publicText);
    this.name = new.target.name;
    this.logDetail = logDetail;
  }
}

/** Errors of the token endpoint (RFC 6749 §5.2); the body carries `error` and `error_description`. */
export abstract class OAuthError extends GatehouseError {}

/** RFC 6749 §5.2 invalid_request: malformed, missing, repeated or unsupported parameters. */
export class InvalidRequest extends OAuthError {
  readonly code = 'invalid_request';
  readonly status = 400;
}

/** RFC 6749 §5.2 invalid_client: client authentication failed; answered 401 with a Basic challenge. */
export class InvalidClient extends OAuthError {
  readonly code = 'invalid_client';
  readonly status = 401;
  constructor(logDetail?: string) {
    super('Client authentication failed', logDetail);
  }
}

/** RFC 6749 §5.2 invalid_grant: the credentials or grant are wrong, and the text never says which part. */
export class InvalidGrant extends OAuthError {
  readonly code = 'invalid_grant';
  readonly status = 400;
  /** The single answer for unknown user, wrong password, and every other login failure. */
  static incorrectCredentials(logDetail: string): InvalidGrant {
    return new InvalidGrant('Incorrect username or password', logDetail);
  }
  /** Every refresh token failure: unknown, rotated, expired, revoked or another client's. */
  static invalidRefreshToken(logDetail: string): InvalidGrant {
    return new InvalidGrant('The refresh token is invalid or expired', logDetail);
  }
  /** A disabled account that proved its password (the seed's "Inactive user"). */
  static inactiveUser(): InvalidGrant {
    return new InvalidGrant('Inactive user', 'user is disabled');
  }
}

/** RFC 6749 §5.2 unsupported_grant_type. */
export class UnsupportedGrantType extends OAuthError {
  readonly code = 'unsupported_grant_type';
  readonly status = 400;
  constructor(logDetail?: string) {
    super('The grant type is not supported by this server', logDetail);
  }
}

/** RFC 6749 §5.2 unauthorized_client: this client may not use this grant type. */
export class UnauthorizedClient extends OAuthError {
  readonly code = 'unauthorized_client';
  readonly status = 400;
  constructor(grantType: string) {
    super(`This client may not use the ${grantType} grant`);
  }
}

/** The server cannot take more of this work now (hashing saturated); answered 503 with Retry-After. */
export class ServerBusy extends OAuthError {
  readonly code = 'temporarily_unavailable';
  readonly status = 503;
  /** Seconds the client should wait. */
  readonly retryAfter = 1;
  constructor(logDetail?: string) {
    super('The server is busy; retry shortly', logDetail);
  }
}

/** Too many failed attempts from this client address (RFC 6585 §4); answered 429 with Retry-After. */
export class TooManyRequests extends OAuthError {
  readonly code = 'slow_down';
  readonly status = 429;
  /** Seconds until the client may try again. */
  readonly retryAfter: number;
  constructor(retryAfterSeconds: number) {
    super('Too many failed attempts; retry later', 'ip failure limit reached');
    this.retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** RFC 6749 §5.2 invalid_scope: a requested scope is unknown or malformed. */
export class InvalidScope extends OAuthError {
  readonly code = 'invalid_scope';
  readonly status = 400;
}

/** Errors of protected resources (RFC 6750 §3); the body is FastAPI's `{"detail"}`. */
export abstract class ResourceError extends GatehouseError {}

/** RFC 6750 §3.1: no credentials, or another scheme than Bearer. No error code is sent. */
export class NotAuthenticated extends ResourceError {
  readonly code = 'not_authenticated';
  readonly status = 401;
  constructor() {
    super('Not authenticated');
  }
}

/** RFC 6750 §3.1 invalid_token: malformed, forged, expired, revoked or otherwise unusable token. */
export class InvalidToken extends ResourceError {
  readonly code = 'invalid_token';
  readonly status = 401;
  /** Short public reason for the `error_description` challenge parameter. */
  readonly description: string;
  constructor(description: string, logDetail?: string) {
    super('Could not validate credentials', logDetail);
    this.description = description;
  }
  static expired(): InvalidToken {
    return new InvalidToken('The access token expired', 'token expired');
  }
  static invalid(logDetail: string): InvalidToken {
    return new InvalidToken('The access token is invalid', logDetail);
  }
}

/** RFC 6750 §3.1 insufficient_scope: a valid token without the scopes the resource needs. */
export class InsufficientScope extends ResourceError {
  readonly code = 'insufficient_scope';
  readonly status = 403;
  readonly required: readonly string[];
  constructor(required: readonly string[]) {
    super('Not enough permissions');
    this.required = required;
  }
}

/** A valid token whose user has been disabled since it was issued (the seed's 400). */
export class InactiveUser extends ResourceError {
  readonly code = 'inactive_user';
  readonly status = 400;
  constructor() {
    super('Inactive user');
  }
}

/** Protocol-level errors any route can raise; their body follows the route's family. */
export class NotFound extends GatehouseError {
  readonly code = 'not_found';
  readonly status = 404;
  constructor() {
    super('Not Found');
  }
}

export class MethodNotAllowed extends GatehouseError {
  readonly code = 'method_not_allowed';
  readonly status = 405;
  readonly allow: readonly string[];
  constructor(allow: readonly string[]) {
    super('Method Not Allowed');
    this.allow = allow;
  }
}

/** RFC 9112 §3.2: an HTTP/1.1 request without a Host header must be refused with 400. */
export class MissingHost extends GatehouseError {
  readonly code = 'missing_host';
  readonly status = 400;
  constructor() {
    super('The request has no Host header');
  }
}

/** RFC 9112 §3.2: a request with more than one Host header, or a Host that is no host[:port], must be refused with 400. */
export class InvalidHost extends GatehouseError {
  readonly code = 'invalid_host';
  readonly status = 400;
  static repeated(): InvalidHost {
    return new InvalidHost('The request has more than one Host header');
  }
  static malformed(): InvalidHost {
    return new InvalidHost('The Host header is not a valid host and port');
  }
}

/**
 * RFC 6750 §3.1 invalid_request: a request with more than one Authorization header carries more
 * than one credential, and which one counts would be a guess (Node keeps the first).
 */
export class RepeatedAuthorization extends GatehouseError {
  readonly code = 'invalid_request';
  readonly status = 400;
  constructor() {
    super('The request has more than one Authorization header');
  }
}

/**
 * RFC 9112 §6.1: a transfer coding the server does not implement (anything but chunked). The RFC
 * suggests 501; this is 400, as the server never answers 5xx to what a client sends (a 5xx counts
 * against the instance in load balancers and alerts), and Node's own refusal of a Transfer-Encoding
 * that does not end in chunked is a 400 too.
 */
export class UnsupportedTransferCoding extends GatehouseError {
  readonly code = 'unsupported_transfer_coding';
  readonly status = 400;
  constructor() {
    super('Only the chunked transfer coding is supported');
  }
}

/** RFC 9110 §10.1.1: an Expect other than 100-continue cannot be met (417). */
export class ExpectationFailed extends GatehouseError {
  readonly code = 'expectation_failed';
  readonly status = 417;
  constructor() {
    super('Only the expectation 100-continue is supported');
  }
}

export class PayloadTooLarge extends GatehouseError {
  readonly code = 'payload_too_large';
  readonly status = 413;
  constructor(limit: number) {
    super(`Request body is larger than ${limit} bytes`);
  }
}

/** A body in a media type, charset or encoding the route does not read (RFC 9110 §15.5.16). */
export class UnsupportedMediaType extends GatehouseError {
  readonly code = 'unsupported_media_type';
  readonly status = 415;
}

/** A body whose bytes are not the UTF-8 its media type requires; decoding them would replace them with U+FFFD. */
export class InvalidUtf8 extends GatehouseError {
  readonly code = 'invalid_utf8';
  readonly status = 400;
}

/** Thrown by the store when a unique username is taken. */
export class UserExists extends GatehouseError {
  readonly code = 'user_exists';
  readonly status = 409;
  constructor(username: string) {
    super(`User ${JSON.stringify(username)} already exists`);
  }
}

/** A new password or user field that breaks policy; the message says which rule. */
export class PolicyViolation extends GatehouseError {
  readonly code = 'policy_violation';
  readonly status = 422;
}

/** Thrown by the store when a client id is taken. */
export class ClientExists extends GatehouseError {
  readonly code = 'client_exists';
  readonly status = 409;
  constructor(clientId: string) {
    super(`Client ${JSON.stringify(clientId)} already exists`);
  }
}

/** An admin route named a user that does not exist. */
export class UserNotFound extends ResourceError {
  readonly code = 'user_not_found';
  readonly status = 404;
  constructor() {
    super('User not found');
  }
}

/** A password change whose current password is wrong (FastAPI's 400 for a bad request). */
export class IncorrectPassword extends ResourceError {
  readonly code = 'incorrect_password';
  readonly status = 400;
  constructor() {
    super('Incorrect password');
  }
}

/** The database schema is not the one this version expects; the message says what to do. */
export class SchemaNotCurrent extends GatehouseError {
  readonly code = 'schema_not_current';
  readonly status = 503;
}

/**
 * The store cannot be reached or answered with a server-side failure (connection lost, timeout,
 * database restarting): 503 with Retry-After, and the instance recovers by itself when it returns.
 */
export class StoreUnavailable extends GatehouseError {
  readonly code = 'temporarily_unavailable';
  readonly status = 503;
  readonly retryAfter = 1;
  constructor(logDetail?: string) {
    super('Service Unavailable', logDetail);
  }
}
