/**
 * One typed error with a stable code. Every code the gateway can raise is listed here with its HTTP
 * status, the message a user (never an attacker) may see and the detail fields a client may see
 * (`details`; everything else stays server-side). The cause stays in the log.
 */
export const ERROR_CODES = {
  PORTCULLIS_ERR_CONFIG: { status: 500, message: 'Invalid configuration' },
  PORTCULLIS_ERR_USAGE: { status: 500, message: 'Invalid command line' },
  PORTCULLIS_ERR_BAD_REQUEST: { status: 400, message: 'Bad request' },
  PORTCULLIS_ERR_BAD_PATH: { status: 400, message: 'The request path cannot be handled safely' },
  PORTCULLIS_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'Request header fields too large' },
  PORTCULLIS_ERR_BODY_TOO_LARGE: { status: 413, message: 'Request body too large' },
  PORTCULLIS_ERR_UNAUTHENTICATED: { status: 401, message: 'Authentication required' },
  PORTCULLIS_ERR_INVALID_CREDENTIALS: { status: 401, message: 'Invalid username or password' },
  PORTCULLIS_ERR_INVALID_CODE: { status: 401, message: 'Invalid code', details: ['attempts_left'] },
  PORTCULLIS_ERR_CODE_EXPIRED: { status: 410, message: 'The code has expired', details: ['reason'] },
  PORTCULLIS_ERR_REAUTH_REQUIRED: { status: 401, message: 'Re-authentication required' },
  PORTCULLIS_ERR_CSRF: { status: 403, message: 'The form has expired; please try again' },
  PORTCULLIS_ERR_FORBIDDEN: { status: 403, message: 'Access denied' },
  PORTCULLIS_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  PORTCULLIS_ERR_LOCKED: { status: 423, message: 'The account is locked' },
  PORTCULLIS_ERR_RATE_LIMITED: { status: 429, message: 'Too many attempts; try again later', details: ['retry_after'] },
  PORTCULLIS_ERR_STORE_UNAVAILABLE: { status: 503, message: 'Service temporarily unavailable' },
  PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE: { status: 503, message: 'The user directory is unavailable; try again later' },
  PORTCULLIS_ERR_DELIVERY_FAILED: { status: 502, message: 'The code could not be sent; try again later' },
  PORTCULLIS_ERR_UPSTREAM_UNAVAILABLE: { status: 502, message: 'The application is unavailable' },
  PORTCULLIS_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'The application did not answer in time' },
  PORTCULLIS_ERR_OVERLOADED: { status: 503, message: 'The gateway is busy; try again shortly' },
  PORTCULLIS_ERR_INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string; details?: readonly string[] }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PortcullisError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra fields safe to show to the client (for example `retry_after`). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message ?? ERROR_CODES[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PortcullisError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = Object.freeze({ ...(options?.details ?? {}) });
  }
}

export function isPortcullisError(err: unknown, code?: ErrorCode): err is PortcullisError {
  return err instanceof PortcullisError && (code === undefined || err.code === code);
}

/** The stable code clients see in a JSON answer's `error` field: the code without its prefix, lower case (`rate_limited`). */
export function wireCode(code: ErrorCode): string {
  return code.slice('PORTCULLIS_ERR_'.length).toLowerCase();
}

/** The details of an error a client may see (SPEC §3: `attempts_left`, `reason`, `retry_after`). */
export function publicDetails(err: PortcullisError): Record<string, string | number> {
  const allowed: readonly string[] = (ERROR_CODES[err.code] as { details?: readonly string[] }).details ?? [];
  const out: Record<string, string | number> = {};
  for (const key of allowed) {
    const v = err.details[key];
    if (typeof v === 'string' || typeof v === 'number') out[key] = v;
  }
  return out;
}
