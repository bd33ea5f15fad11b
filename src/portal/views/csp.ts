/**
 * Content-Security-Policy for every portal page. Scripts and styles only from the portal's own
 * static path (same origin), no inline script or style, no plugins, no framing.
 *
 * `form-action` is deliberately absent: after a sign-in the gateway answers 303 to `rd`, which may be
 * another host served by this gateway, and browsers apply `form-action` to that redirect too.
 */
export const PORTAL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Other headers every portal page should carry (the handlers set them with PORTAL_CSP). */
export const PORTAL_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': PORTAL_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};
