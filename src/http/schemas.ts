import { Type } from 'typebox';

/** Route schemas: the single source of validation, response serialization and the OpenAPI document. */

export const OAUTH2_SCHEME = 'OAuth2PasswordBearer';

export const DetailError = Type.Object(
  { detail: Type.String() },
  { description: 'FastAPI-style error' },
);

export const OAuthErrorBody = Type.Object(
  {
    error: Type.String({ description: 'RFC 6749 §5.2 error code' }),
    error_description: Type.String(),
    detail: Type.String({ description: 'Repeats error_description, for FastAPI clients' }),
  },

);

export const TokenRequestForm = Type.Object({
  grant_type: Type.Optional(
    Type.String({ pattern: '^(password|refresh_token)$', description: 'password (the default) or refresh_token' }),
  ),
  username: Type.Optional(Type.String({ description: 'Required by the password grant' })),
  password: Type.Optional(Type.String({ format: 'password', description: 'Required by the password grant' })),
  refresh_token: Type.Optional(Type.String({ description: 'Required by the refresh_token grant' })),
  scope: Type.Optional(Type.String({ description: 'Space-separated scopes', default: '' })),
  client_id: Type.Optional(Type.String()),
  client_secret: Type.Optional(Type.String({ format: 'password' })),
});

export const TokenResponseBody = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('bearer'),
    expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
    scope: Type.String({ description: 'The granted scopes, space-separated' }),
    refresh_token: Type.String({ description: 'Single use: each refresh returns a new one' }),
  },

);

export const PublicUser = Type.Object(
  {
    username: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    full_name: Type.Union([Type.String(), Type.Null()]),
    disabled: Type.Boolean(),
  },

);

export const Item = Type.Object({ item_id: Type.String(), owner: Type.String() });

export const JwkSet = Type.Object(
  { keys: Type.Array(Type.Object({ kty: Type.String(), kid: Type.String() }, { additionalProperties: true })) },

);

/** The error responses every protected route can give, for the OpenAPI document. */
export const protectedRouteErrors = {
  400: { ...DetailError, description: 'Inactive user' },
  401: { ...DetailError, description: 'Missing, invalid or expired token' },
  403: { ...DetailError, description: 'Token lacks a required scope' },
} as const;
