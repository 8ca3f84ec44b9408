/** The successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'bearer';
  /** Seconds until the access token expires. */
  readonly expires_in: number;
  /** The scope of the access token, space-separated. */
  readonly scope: string;
  /** Omitted for a client that may not use the refresh grant: it could never redeem one. */
  readonly refresh_token?: string;
}
