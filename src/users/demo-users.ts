/**
 * The plain passwords of the demo users in config/users.yaml, so `npm run demo` can print them.
 * Demo only: these are public and must never be used anywhere else.
 */
export const DEMO_PASSWORDS: Readonly<Record<string, string>> = Object.freeze({
  alice: 'alice-in-wonderland',
  bob: 'bob-the-builder',
  'svc-export': 'export-all-the-things',
});

/** The demo users file, relative to the package root. */
export const DEMO_USERS_FILE = 'config/users.yaml';
