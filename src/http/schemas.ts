import { Type } from 'typebox';

/** Route schemas: the single source of validation, response serialization and the OpenAPI document. */

export const OAUTH2_SCHEME = 'OAuth2PasswordBearer';
/** The OpenAPI name of HTTP Basic client authentication (RFC 6749 §2.3.1). */
export const CLIENT_BASIC_SCHEME = 'clientBasic';

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
    refresh_token: Type.Optional(
      Type.String({ description: 'Single use: each refresh returns a new one. Omitted for a client not allowed the refresh_token grant' }),
    ),
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

/** A user as the admin API shows it: the public fields and scopes, never the password hash. */
export const AdminUser = Type.Object({
  username: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  full_name: Type.Union([Type.String(), Type.Null()]),
  disabled: Type.Boolean(),
  scopes: Type.Array(Type.String()),
});

// Passwords are bounded only to keep hashing cheap; the password policy gives the precise rule.
const PasswordField = Type.String({ format: 'password', maxLength: 1024 });

export const CreateUserBody = Type.Object(
  {
    username: Type.String(),
    password: PasswordField,
    email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    full_name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    scopes: Type.Optional(Type.Array(Type.String(), { description: 'Scopes the user may be granted; each must exist' })),
    disabled: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

export const UsernameParams = Type.Object({ username: Type.String() });

export const SetScopesBody = Type.Object({ scopes: Type.Array(Type.String()) }, { additionalProperties: false });

export const ResetPasswordBody = Type.Object({ password: PasswordField }, { additionalProperties: false });

export const ChangePasswordBody = Type.Object(
  { current_password: PasswordField, new_password: PasswordField },
  { additionalProperties: false },
);

/** The errors of routes taking a JSON body, beyond those of every protected route. */
export const jsonBodyErrors = {
  415: { ...DetailError, description: 'The body is not JSON in UTF-8, or is compressed' },
  422: { ...DetailError, description: 'The body is invalid or breaks the password or user policy' },
} as const;

/** The form of /revoke and /introspect (RFC 7009 §2.1, RFC 7662 §2.1). */
export const TokenForm = Type.Object({
  token: Type.String(),
  token_type_hint: Type.Optional(Type.Union([Type.Literal('access_token'), Type.Literal('refresh_token')])),
  client_id: Type.Optional(Type.String()),
  client_secret: Type.Optional(Type.String({ format: 'password' })),
});

/** RFC 7662 §2.2; an inactive token is exactly `{"active": false}`. */
export const IntrospectionBody = Type.Object(
  {
    active: Type.Boolean(),
    scope: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    token_type: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    sub: Type.Optional(Type.String()),
    aud: Type.Optional(Type.String()),
    iss: Type.Optional(Type.String()),
    jti: Type.Optional(Type.String()),
    sid: Type.Optional(Type.String()),
  },
  { description: 'Whether the token is usable now, and what it grants' },
);
