/**
 * The command line: `portcullis <command> [args]`, with `--config FILE` (or `--config=FILE`, `-c FILE`)
 * and `--help` accepted anywhere on the line. The config path is `--config`, else `$PORTCULLIS_CONFIG`,
 * else `./gateway.yaml`.
 */
export const DEFAULT_CONFIG_PATH = './gateway.yaml';

export type ParsedArgs = {
  ok: true;
  /** The first word that is not an option; undefined when there is none. */
  command: string | undefined;
  /** Everything after the command except `--config` and `--help`, in order. */
  args: string[];
  configPath: string;
  help: boolean;
};
export type ArgsError = { ok: false; message: string };

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs | ArgsError {
  let command: string | undefined;
  let config: string | undefined;
  let help = false;
  const args: string[] = [];
  let passThrough = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (passThrough) {
      args.push(arg);
      continue;
    }
    if (arg === '--') {
      passThrough = true;
      if (command !== undefined) args.push(arg);
      continue;
    }
    let value: string | undefined;
    if (arg === '--config' || arg === '-c') {
      value = argv[++i];
      if (value === undefined || value === '' || (value.startsWith('-') && value !== '-')) return { ok: false, message: `${arg} needs a file name` };
    } else if (arg.startsWith('--config=')) {
      value = arg.slice('--config='.length);
      if (value === '') return { ok: false, message: '--config needs a file name' };
    }
    if (value !== undefined) {
      if (config !== undefined) return { ok: false, message: '--config is given more than once' };
      config = value;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (command === undefined && !arg.startsWith('-')) command = arg;
    else if (command === undefined) return { ok: false, message: `unknown option '${arg}'` };
    else args.push(arg);
  }
  const fromEnv = env.PORTCULLIS_CONFIG;
  return { ok: true, command, args, configPath: config ?? (fromEnv ? fromEnv : DEFAULT_CONFIG_PATH), help };
}

/**
 * Checks a command's own options: `allowed` maps each option to whether it takes a value. Returns the
 * option values, or the message for a usage error.
 */
export function parseOptions(args: readonly string[], allowed: Readonly<Record<string, boolean>>): { ok: true; options: Record<string, string | true>; positionals: string[] } | ArgsError {
  const options: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!Object.hasOwn(allowed, name)) return { ok: false, message: `unknown option '${name}'` };
    if (!allowed[name]) {
      if (eq > 0) return { ok: false, message: `${name} takes no value` };
      options[name] = true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === '') return { ok: false, message: `${name} needs a value` };
    options[name] = value;
  }
  return { ok: true, options, positionals };
}

export const USAGE = `Usage: portcullis <command> [--config FILE]

Commands:
  serve                     run the gateway
  check-config              validate the config; print every problem as FILE:LINE:COL key.path: message
  hash-password [--algorithm argon2id|scrypt|bcrypt]
                            read a password from stdin and print its hash for the users file
  sessions list [--user U]  list sessions in the configured store
  sessions revoke --user U|--all|--id ID
                            end sessions
  users unlock U | reset-2fa U | invite U | devices U [--revoke ID|--all]
                            operator actions on a user's runtime state
  nginx-config [--gateway URL] [--listen ADDR] [--tls-cert FILE --tls-key FILE] [--auth-cache 1s]
               [--cache-dir DIR] [--ca-file FILE]
                            print an nginx configuration that puts nginx in front (auth_request to the gateway)
  caddy-config [--gateway URL] [--listen [http://|https://]:PORT] [--bind ADDR]
                            print a Caddyfile that puts Caddy in front (forward_auth to the gateway)
  demo [--listen HOST:PORT] [--admin HOST:PORT]
                            run the gateway in front of the bundled demo app (default 127.0.0.1:8080)
  demo-app [--listen HOST:PORT]
                            run the bundled demo app alone (no authentication), as an upstream
  help [COMMAND]            show this text, or a command's own help

Options:
  --config FILE, -c FILE    the config file (default: $PORTCULLIS_CONFIG, else ./gateway.yaml)
  --help, -h                show this text (after a command: that command's help)

Exit codes: 0 success, 1 runtime failure, 2 usage or config error.
`;
