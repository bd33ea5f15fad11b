/**
 * The OpenAPI 3.1 document of the JSON API (SPEC §3), served at /_gateway/api/v1/openapi.json and
 * kept in the repository as docs/openapi.json (a test checks the two are equal).
 */
import { SCHEMAS } from './openapi/schemas.js';

const ref = (name: keyof typeof SCHEMAS) => ({ $ref: `#/components/schemas/${name}` });

function json(description: string, schema: keyof typeof SCHEMAS) {
  return { description, content: { 'application/json': { schema: ref(schema) } } };
}

const BAD_REQUEST = json('Not a JSON object, wrong Content-Type (must be application/json), or a missing or malformed field.', 'Error');
const TOO_LARGE = json('The body is larger than 16 KiB.', 'Error');
const UNAVAILABLE = json('The session store or the user directory is unreachable; try again (Retry-After).', 'Error');
const RATE_LIMITED = json('Too many attempts; wait retry_after seconds.', 'RateLimited');
const UNAUTHENTICATED = json('No valid session cookie or bearer token (WWW-Authenticate: Bearer).', 'Unauthenticated');

const body = (schema: keyof typeof SCHEMAS) => ({ required: true, content: { 'application/json': { schema: ref(schema) } } });
const SESSION_SECURITY = [{ bearerToken: [] }, { sessionCookie: [] }];

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Portcullis JSON API',
    version: '1',
    description:
      'Sign-in for mobile apps and scripts: password, then a second factor, then a token sent as `Authorization: Bearer` on proxied requests (the gateway removes it before forwarding). ' +
      'Every call takes and answers `application/json` and needs no CSRF token. The same rate limits, lockout, method assignments, audit and trusted devices apply as in the browser portal.',
  },
  servers: [{ url: '/_gateway/api/v1' }],
  paths: {
    '/login': {
      post: {
        operationId: 'login',
        summary: 'Step one: username and password (and a device_token from a trusted device).',
        requestBody: body('LoginRequest'),
        responses: {
          '200': json('Signed in (no second factor needed: exempt user, reverify grace or trusted device), or a code is needed.', 'LoginAnswer'),
          '400': BAD_REQUEST,
          '401': json('Wrong username or password; a locked or disabled user gets the same answer.', 'InvalidCredentials'),
          '403': json('The user must enrol a second factor in the browser first.', 'EnrollmentRequired'),
          '413': TOO_LARGE,
          '429': RATE_LIMITED,
          '503': UNAVAILABLE,
        },
      },
    },
    '/verify': {
      post: {
        operationId: 'verify',
        summary: 'Step two: the code for the flow, or with method "webauthn" the passkey credential. With remember_device, the answer carries a device_token.',
        requestBody: body('VerifyRequest'),
        responses: {
          '200': json('Signed in.', 'Authenticated'),
          '400': BAD_REQUEST,
          '401': { description: 'Wrong code (attempts_left) — also a passkey assertion with a wrong origin or RP ID, another user\'s passkey, a replayed assertion or a counter going backwards — or the user was disabled meanwhile (unauthenticated).', content: { 'application/json': { schema: { oneOf: [ref('InvalidCode'), ref('Unauthenticated')] } } } },
          '410': json('The code or the flow expired, or the code had too many wrong tries.', 'CodeExpired'),
          '413': TOO_LARGE,
          '423': json('The account is locked (too many wrong codes).', 'Locked'),
          '429': RATE_LIMITED,
          '503': UNAVAILABLE,
        },
      },
    },
    '/webauthn/options': {
      post: {
        operationId: 'webauthnOptions',
        summary: 'For a second step by passkey: the options for the platform passkey API (then /verify with method "webauthn" and the credential).',
        requestBody: body('WebauthnOptionsRequest'),
        responses: {
          '200': json('The request options, listing the user\'s passkeys.', 'PasskeyRequestOptions'),
          '400': json('Not a JSON object, wrong Content-Type, a missing field, or no passkey for this step (the user has none, passkeys are off, or the request\'s host is not one the RP ID covers).', 'Error'),
          '410': json('The flow expired: sign in again.', 'CodeExpired'),
          '413': TOO_LARGE,
          '503': UNAVAILABLE,
        },
      },
    },
    '/resend': {
      post: {
        operationId: 'resend',
        summary: 'Sends a new code for the flow, or switches the flow to another method.',
        requestBody: body('ResendRequest'),
        responses: {
          '202': json('Sent (or switched).', 'Resent'),
          '400': BAD_REQUEST,
          '410': json('The flow expired: sign in again.', 'CodeExpired'),
          '413': TOO_LARGE,
          '429': json('A new code was asked before `second_factor.code.resend_after`.', 'RateLimited'),
          '502': json('The code could not be sent (delivery_failed).', 'Error'),
          '503': UNAVAILABLE,
        },
      },
    },
    '/session': {
      get: {
        operationId: 'session',
        summary: 'Who is signed in with this token or cookie.',
        security: SESSION_SECURITY,
        responses: { '200': json('The session.', 'Session'), '401': UNAUTHENTICATED, '503': UNAVAILABLE },
      },
    },
    '/logout': {
      post: {
        operationId: 'logout',
        summary: 'Ends this session: the token stops working at once. With the cookie (not a bearer token) the request must be application/json, which a cross-site form cannot send.',
        security: SESSION_SECURITY,
        responses: { '204': { description: 'Signed out.' }, '400': BAD_REQUEST, '401': UNAUTHENTICATED, '503': UNAVAILABLE },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document.',
        responses: { '200': json('The OpenAPI 3.1 document.', 'OpenApiDocument') },
      },
    },
  },
  components: {
    schemas: SCHEMAS,
    securitySchemes: {
      bearerToken: { type: 'http', scheme: 'bearer', description: 'The token from /login or /verify.' },
      sessionCookie: { type: 'apiKey', in: 'cookie', name: 'portcullis_session' },
    },
  },
} as const;
