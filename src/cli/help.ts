/**
 * `portcullis <command> --help`: each command's own help. The help of `sessions` and `users` lives with
 * their code (bin.ts loads it); a command without help of its own shows the general usage. Light on
 * purpose: nothing here loads the gateway.
 */

const CONFIG_OPTION = '  --config FILE, -c FILE    the config file (default: $PORTCULLIS_CONFIG, else ./gateway.yaml)\n';

/** The same defaults as src/demo/run.ts (which this light module does not load). */
const DEMO_DEFAULT_LISTEN = '127.0.0.1:8080';
const DEMO_DEFAULT_ADMIN = '127.0.0.1:9090';

const HELP: Readonly<Record<string, string>> = {
  serve: `Usage: portcullis serve [--config FILE]

Runs the gateway: loads and validates the config (exit 2 with every problem), checks the session store,
user directories and delivery, then listens on server.listen (and admin.listen for /metrics, /healthz,
/readyz). SIGHUP reloads the config; SIGTERM drains and stops.

Options:
${CONFIG_OPTION}`,
  'check-config': `Usage: portcullis check-config [--config FILE]

Validates the config and the files it names. Prints "config OK" and any warnings, exit 0; or every
problem as FILE:LINE:COL key.path: message, exit 2.

Options:
${CONFIG_OPTION}`,
  'hash-password': `Usage: portcullis hash-password [--algorithm argon2id|scrypt|bcrypt]

Reads a password (one line from stdin, or asked twice on a terminal) and prints its hash for the
users file. Default algorithm: argon2id.
`,
  demo: `Usage: portcullis demo [--listen HOST:PORT] [--admin HOST:PORT]

Runs the gateway in front of the bundled camera app: in-memory store, codes printed here and listed at
/_gateway/dev/outbox, demo users whose passwords are printed at start-up. Nothing else needed.

Options:
  --listen HOST:PORT        the gateway's address (default ${DEMO_DEFAULT_LISTEN}; or $PORTCULLIS_DEMO_LISTEN)
  --admin HOST:PORT         the admin listener for /metrics, /healthz, /readyz
                            (default ${DEMO_DEFAULT_ADMIN}; or $PORTCULLIS_DEMO_ADMIN)

A port that is already taken stops the demo at once (exit 1): choose another, for example
  portcullis demo --listen 127.0.0.1:8180 --admin 127.0.0.1:9190
`,
  'demo-app': `Usage: portcullis demo-app [--listen HOST:PORT]

Runs the bundled camera app alone, without authentication, as the upstream of a gateway that runs
elsewhere. Reach it only through the gateway.

Options:
  --listen HOST:PORT        default 127.0.0.1:8081
`,
  'nginx-config': `Usage: portcullis nginx-config [--gateway URL] [--listen ADDR] [--tls-cert FILE --tls-key FILE]
                               [--auth-cache 1s] [--cache-dir DIR] [--ca-file FILE] [--config FILE]

Prints an nginx configuration that puts nginx in front, answering its auth_request from the gateway
(docs/forward-auth.md).
`,
  'caddy-config': `Usage: portcullis caddy-config [--gateway URL] [--listen [http://|https://]:PORT] [--bind ADDR] [--config FILE]

Prints a Caddyfile that puts Caddy in front (forward_auth to the gateway).
`,
};

/** The help `command` has here, if any. */
export function ownHelp(command: string): string | undefined {
  return Object.hasOwn(HELP, command) ? HELP[command] : undefined;
}
