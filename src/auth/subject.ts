/** Everything the upstream learns about the caller (identity headers, the signed assertion). */
export interface Subject {
  user: string;
  groups: readonly string[];
  email?: string | undefined;
  name?: string | undefined;
  /** `session`, `oidc:NAME`, `api_key`, `bearer_jwt`, `basic`, `network`. */
  method: string;
  /** Authentication methods references for the assertion (`pwd`, `otp`, `hwk`, ...). */
  amr: readonly string[];
  /** The identity provider the session began at, if any. */
  idp?: string | undefined;
  /** A stable key for caching the assertion (session id hash, client name). */
  cacheKey: string;
}
