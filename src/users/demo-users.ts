/**
 * The plain passwords of the demo users in config/users.yaml, so `npm run demo` can print them.
 * Demo only: these are public and must never be used anywhere else.
 */
export const DEMO_PASSWORDS: Readonly<Record<string, string>> = Object.freeze({
  alice: 'alice-in-wonderland',
  bob: 'bob-the-builder',
  carol: 'carol-sings-carols',
  dave: 'dave-keeps-time',
  'svc-export': 'export-all-the-things',
});

/** Which second step each demo user shows (printed by `portcullis demo`, told in the README). */
export const DEMO_USER_METHODS: Readonly<Record<string, string>> = Object.freeze({
  alice: 'code by email (group operators)',
  bob: 'code by email; may add an authenticator app, a passkey or a phone (admin: /admin asks again after 15 min)',
  carol: 'code by text message (SMS)',
  dave: 'authenticator app (set up at the first sign-in)',
  'svc-export': 'none: password only, for HTTP Basic (curl -u)',
});

/** The demo users file, relative to the package root. */
export const DEMO_USERS_FILE = 'config/users.yaml';
