/** The claims of a Gatehouse access token (RFC 9068 §2.2, plus `sid` and `scope`). */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly aud: string;
  /** The username; usernames are immutable. */
  readonly sub: string;
  readonly client_id: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  /** Space-separated granted scopes; may be empty. */
  readonly scope: string;
  /** The session the token belongs to. */
  readonly sid: string;
}

/** RFC 9068 §2.1: the media type that marks a JWT as an access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
