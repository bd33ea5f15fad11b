/**
 * JSON schemas of the JSON API's requests and answers (OpenAPI 3.1 `components.schemas`).
 * Kept to a small subset of JSON Schema — type, properties, required, additionalProperties, enum,
 * items, oneOf, format date-time, minimum, local $ref, description — so the tests can validate real
 * answers with a small validator (test/fixtures/openapi.ts) instead of a library.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string) => (description ? { type: 'string', description } : { type: 'string' });
const dateTime = (description: string) => ({ type: 'string', format: 'date-time', description });
const REQUEST_ID = str('Also sent as the X-Request-Id header; quote it when reporting a problem.');

const METHOD = { type: 'string', enum: ['totp', 'email', 'sms', 'webauthn', 'recovery_code'], description: 'A second-factor method.' };

/** An error answer whose `error` is exactly `code`, with extra required fields. */
function errorOf(code: string, description: string, extra: Record<string, unknown> = {}, extraRequired: string[] = []) {
  return {
    type: 'object',
    description,
    properties: { error: { type: 'string', enum: [code] }, ...extra, request_id: REQUEST_ID },
    required: ['error', ...extraRequired, 'request_id'],
    additionalProperties: false,
  };
}

export const SCHEMAS = {
  LoginRequest: {
    type: 'object',
    properties: {
      username: str(),
      password: str(),
      device_token: str('The device_token a previous /verify returned with remember_device: on a trusted device no code is asked.'),
      app_password: { type: 'boolean', description: 'The password is one of the user\'s app passwords (second_factor.app_passwords): no second step; the token passes only rules with app_passwords: true.' },
    },
    required: ['username', 'password'],
    additionalProperties: false,
  },
  VerifyRequest: {
    type: 'object',
    properties: {
      flow: str('The flow id from /login.'),
      method: METHOD,
      code: str('The code from the email, SMS, authenticator app, or a recovery code. Required unless `credential` is given.'),
      credential: {
        type: 'object',
        description: 'With `method: "webauthn"`: the platform passkey API\'s answer as AuthenticationResponseJSON (id, rawId, type "public-key", response {clientDataJSON, authenticatorData, signature, userHandle}, base64url), made with the options from /webauthn/options.',
      },
      remember_device: { type: 'boolean', description: 'Trust this device: the answer carries a device_token for later sign-ins.' },
    },
    required: ['flow'],
    additionalProperties: false,
  },
  WebauthnOptionsRequest: {
    type: 'object',
    properties: { flow: str('The flow id from /login (webauthn among its methods).') },
    required: ['flow'],
    additionalProperties: false,
  },
  PasskeyRequestOptions: {
    type: 'object',
    description: 'PublicKeyCredentialRequestOptionsJSON for the platform passkey API. The challenge belongs to this flow, works once and expires with `second_factor.webauthn.timeout`; asking again replaces it.',
    properties: {
      challenge: str('base64url.'),
      rpId: str('The relying party id: the portal host or `second_factor.webauthn.rp_id`.'),
      allowCredentials: {
        type: 'array',
        items: { type: 'object', properties: { id: str('A credential id of the user, base64url.'), type: str(), transports: { type: 'array', items: { type: 'string' } } }, required: ['id', 'type'] },
      },
      timeout: { type: 'integer', minimum: 1, description: 'Milliseconds.' },
      userVerification: { type: 'string', enum: ['required', 'preferred', 'discouraged'] },
    },
    required: ['challenge', 'rpId', 'allowCredentials'],
  },
  ResendRequest: {
    type: 'object',
    properties: { flow: str('The flow id from /login.'), method: METHOD },
    required: ['flow'],
    additionalProperties: false,
  },
  Authenticated: {
    type: 'object',
    description: 'Signed in: use the token as `Authorization: Bearer <token>`.',
    properties: {
      status: { type: 'string', enum: ['authenticated'] },
      token: str('The session credential; removed from proxied requests before forwarding.'),
      expires_at: dateTime('When the session ends at the latest.'),
      device_token: str('Only after remember_device: send it with the password at the next /login.'),
    },
    required: ['status', 'token', 'expires_at'],
    additionalProperties: false,
  },
  SentInfo: {
    type: 'object',
    properties: {
      channel: { type: 'string', enum: ['email', 'sms'] },
      destination: str('Masked address or phone number.'),
      fell_back: { type: 'boolean', description: 'The SMS could not be sent and the code went by email instead.' },
    },
    required: ['channel', 'destination', 'fell_back'],
    additionalProperties: false,
  },
  SecondFactorRequired: {
    type: 'object',
    description: 'The password was right; send a code to /verify.',
    properties: {
      status: { type: 'string', enum: ['second_factor_required'] },
      flow: str('Names this sign-in attempt at /verify and /resend.'),
      methods: {
        type: 'array',
        items: {
          type: 'object',
          properties: { type: METHOD, destination: str('Masked address or phone number.') },
          required: ['type'],
          additionalProperties: false,
        },
      },
      method: METHOD,
      sent: ref('SentInfo'),
      delivery_error: { type: 'string', enum: ['rate_limited', 'delivery_failed'], description: 'The code could not be sent now; try /resend.' },
    },
    required: ['status', 'flow', 'methods', 'method'],
    additionalProperties: false,
  },
  LoginAnswer: { oneOf: [ref('Authenticated'), ref('SecondFactorRequired')] },
  EnrollmentRequired: {
    type: 'object',
    description: 'The user has no usable second factor yet: enrol in the browser first.',
    properties: { error: { type: 'string', enum: ['enrollment_required'] }, method: METHOD, enroll_url: str(), request_id: REQUEST_ID },
    required: ['error', 'method', 'enroll_url', 'request_id'],
    additionalProperties: false,
  },
  Resent: {
    oneOf: [
      {
        type: 'object',
        description: 'A new code was sent.',
        properties: { sent: { type: 'boolean', enum: [true] }, channel: { type: 'string', enum: ['email', 'sms'] }, destination: str(), fell_back: { type: 'boolean' } },
        required: ['sent', 'channel', 'destination', 'fell_back'],
        additionalProperties: false,
      },
      {
        type: 'object',
        description: 'The flow switched to a method that sends nothing (totp, recovery_code).',
        properties: { sent: { type: 'boolean', enum: [false] }, method: METHOD },
        required: ['sent', 'method'],
        additionalProperties: false,
      },
    ],
  },
  Session: {
    type: 'object',
    properties: {
      user: str(),
      groups: { type: 'array', items: { type: 'string' } },
      email: { type: ['string', 'null'] },
      name: { type: ['string', 'null'], description: 'Display name.' },
      level: { type: 'string', enum: ['one_factor', 'two_factor'] },
      authenticated_at: dateTime('When the password was checked.'),
      second_factor_at: dateTime('When the last second factor was checked.'),
      expires_at: dateTime('When the session ends at the latest.'),
      factors: { type: 'array', items: { type: 'string' }, description: 'password (or oidc after an identity provider), then the second factors used (email, sms, totp, trusted_device, idp_mfa, ...).' },
      identity_provider: str('The identity provider the session began at (identity_providers[].name); absent after a password.'),
      amr: { type: 'array', items: { type: 'string' }, description: "The identity provider's ID token amr (pwd, mfa, otp, hwk, ...); with identity_provider only." },
      acr: str("The identity provider's ID token acr, when it sent one."),
    },
    required: ['user', 'groups', 'email', 'name', 'level', 'authenticated_at', 'expires_at', 'factors'],
    additionalProperties: false,
  },
  InvalidCredentials: errorOf('invalid_credentials', 'Wrong username or password — also for a locked or disabled user.'),
  InvalidCode: errorOf('invalid_code', 'Wrong code.', { attempts_left: { type: 'integer', minimum: 0, description: 'Wrong codes left before the code dies or the account locks.' } }, ['attempts_left']),
  CodeExpired: errorOf('code_expired', 'The code or the flow expired (or the code had too many wrong tries): sign in again or /resend.', {
    reason: { type: 'string', enum: ['too_many_attempts'] },
  }),
  Locked: errorOf('locked', 'Too many wrong codes: the account is locked.'),
  RateLimited: errorOf('rate_limited', 'Too many attempts, or a new code was asked too soon. Also in the Retry-After header.', { retry_after: { type: 'integer', minimum: 1, description: 'Seconds.' } }, ['retry_after']),
  Unauthenticated: errorOf('unauthenticated', 'No valid session cookie or bearer token.', { message: str() }),
  Error: {
    type: 'object',
    description: 'Any other failure: bad_request (400), body_too_large (413), delivery_failed (502), store_unavailable or directory_unavailable (503), ...',
    properties: { error: str('A stable machine-readable code.'), message: str('Human-readable, English.'), request_id: REQUEST_ID },
    required: ['error', 'request_id'],
    additionalProperties: false,
  },
  OpenApiDocument: { type: 'object', description: 'This document.' },
} as const;
