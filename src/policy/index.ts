/** The access-policy engine: pure functions and matchers, no I/O. */
export { normalizePath, splitAbsoluteForm, MAX_TARGET_LENGTH, type AbsoluteForm, type NormalizedTarget, type NormalizeOptions } from './normalize.js';
export { compileAccess, type AccessPolicy, type AccessRequest, type Decision } from './rules.js';
export { safeRedirect, isServedOrigin, MAX_REDIRECT_LENGTH, type RedirectContext } from './redirect.js';
export { normalizeForRules, plausibleReadings, readingsDisagree } from './readings.js';
