/**
 * `portcullis nginx-config` and `portcullis caddy-config`: load and validate the config, then print the
 * front proxy's configuration (src/frontproxy) on stdout and any warnings on stderr. A config with
 * problems prints them like `check-config` and exits 2; a bad option exits 2 too.
 */
import { formatProblem, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema/index.js';
import { caddyConfig } from '../frontproxy/caddy.js';
import { nginxConfig, type GeneratedConfig } from '../frontproxy/nginx.js';
import { parseDuration } from '../util/duration.js';
import { parseOptions } from './args.js';

type Out = { write(chunk: string): unknown };
interface Io {
  stdout: Out;
  stderr: Out;
}

const NGINX_OPTIONS = { '--gateway': true, '--listen': true, '--tls-cert': true, '--tls-key': true, '--auth-cache': true, '--cache-dir': true, '--ca-file': true } as const;
const CADDY_OPTIONS = { '--gateway': true, '--listen': true, '--bind': true } as const;

function str(v: string | true | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

async function generate(command: string, argv: string[], io: Io, configPath: string, env: NodeJS.ProcessEnv, allowed: Readonly<Record<string, boolean>>, build: (config: Readonly<Config>, options: Record<string, string | true>) => GeneratedConfig): Promise<number> {
  const parsed = parseOptions(argv, allowed);
  if (!parsed.ok) {
    io.stderr.write(`portcullis ${command}: ${parsed.message}\n`);
    return 2;
  }
  if (parsed.positionals.length > 0) {
    io.stderr.write(`portcullis ${command}: unexpected argument '${parsed.positionals[0]}'\n`);
    return 2;
  }
  const loaded = await loadConfigFile(configPath, env);
  if (!loaded.ok) {
    for (const p of loaded.problems) io.stderr.write(`${formatProblem(p)}\n`);
    return 2;
  }
  let out: GeneratedConfig;
  try {
    out = build(loaded.config, parsed.options);
  } catch (err) {
    io.stderr.write(`portcullis ${command}: ${(err as Error).message}\n`);
    return 2;
  }
  io.stdout.write(out.text.endsWith('\n') ? out.text : `${out.text}\n`);
  for (const w of out.warnings) io.stderr.write(`warning: ${w}\n`);
  return 0;
}

function authCache(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms % 1000 !== 0 || ms > 60_000) throw new Error(`--auth-cache must be whole seconds up to 60s (such as 1s, or 0 for no cache), not '${value}'`);
  return ms / 1000;
}

/** `portcullis nginx-config [--gateway URL] [--listen ADDR] [--tls-cert FILE --tls-key FILE] [--auth-cache 1s] [--cache-dir DIR] [--ca-file FILE]` */
export function nginxConfigCommand(argv: string[], io: Io, configPath: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return generate('nginx-config', argv, io, configPath, env, NGINX_OPTIONS, (config, o) =>
    nginxConfig(config, {
      source: configPath,
      gateway: str(o['--gateway']),
      listen: str(o['--listen']),
      tlsCert: str(o['--tls-cert']),
      tlsKey: str(o['--tls-key']),
      authCacheSeconds: authCache(str(o['--auth-cache'])),
      cacheDir: str(o['--cache-dir']),
      caFile: str(o['--ca-file']),
    }),
  );
}

/** `portcullis caddy-config [--gateway URL] [--listen [http://|https://]:PORT] [--bind ADDR]` */
export function caddyConfigCommand(argv: string[], io: Io, configPath: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return generate('caddy-config', argv, io, configPath, env, CADDY_OPTIONS, (config, o) => caddyConfig(config, { source: configPath, gateway: str(o['--gateway']), listen: str(o['--listen']), bind: str(o['--bind']) }));
}
