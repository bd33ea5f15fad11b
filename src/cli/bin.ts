#!/usr/bin/env node
/**
 * The `portcullis` command. Parses the line, then hands over to the command's module (loaded only when
 * that command runs, so `check-config` never loads the gateway). Exit codes: 0 success, 1 runtime
 * failure, 2 usage or config error.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isPortcullisError } from '../errors/index.js';
import { parseArgs, parseOptions, USAGE } from './args.js';

export type CliIo = {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  isTTY: boolean;
};

type Subcommand = (argv: string[], io: CliIo, configPath: string) => Promise<number>;

/** Commands whose options this file checks: option → takes a value. Others check their own. */
const OWN_OPTIONS: Record<string, Record<string, boolean>> = {
  serve: {},
  demo: { '--listen': true, '--admin': true },
  'check-config': {},
};

/** Runs one command line; returns the exit code, or undefined while `serve`/`demo` keep running. */
export async function runCli(argv: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  const parsed = parseArgs(argv, env);
  if (!parsed.ok) return usageError(io, parsed.message);
  const { command, args, configPath } = parsed;
  if (command === 'help' || (parsed.help && command === undefined)) {
    const topic = command === 'help' ? args[0] : undefined;
    io.stdout.write(topic !== undefined ? await commandHelp(topic) : USAGE);
    return 0;
  }
  if (command === undefined) {
    // Bare `portcullis`: the usage on stdout (it was asked for, in a way), but not a success.
    io.stdout.write(USAGE);
    return 2;
  }
  if (parsed.help) {
    // `portcullis <command> --help`: that command's own help.
    io.stdout.write(await commandHelp(command));
    return 0;
  }
  const own = OWN_OPTIONS[command];
  let options: Record<string, string | true> = {};
  if (own) {
    const checked = parseOptions(args, own);
    if (!checked.ok) return usageError(io, `${command}: ${checked.message}`);
    if (checked.positionals.length > 0) return usageError(io, `${command}: unexpected argument '${checked.positionals[0]}'`);
    options = checked.options;
  }
  try {
    switch (command) {
      case 'serve': {
        const main = await import('../main.js');
        await main.serve({ configPath });
        return undefined;
      }
      case 'demo': {
        const { demoCommand } = await import('../demo/run.js');
        return await demoCommand({ listen: options['--listen'], admin: options['--admin'] }, io, env);
      }
      case 'demo-app': {
        const { demoAppCommand } = await import('./demo-app.js');
        return await demoAppCommand(args, io);
      }
      case 'check-config': {
        const { checkConfigCommand } = await import('./check-config.js');
        return await checkConfigCommand(configPath, io, env);
      }
      case 'nginx-config': {
        const { nginxConfigCommand } = await import('./front-proxy.js');
        return await nginxConfigCommand(args, io, configPath, env);
      }
      case 'caddy-config': {
        const { caddyConfigCommand } = await import('./front-proxy.js');
        return await caddyConfigCommand(args, io, configPath, env);
      }
      case 'hash-password': {
        const mod = await loadCommand<{ hashPasswordCommand: (argv: string[], io: CliIo) => Promise<number> }>('./hash-password.js', 'hashPasswordCommand');
        return mod ? await mod.hashPasswordCommand(args, io) : unavailable(io, command);
      }
      case 'sessions': {
        const mod = await loadCommand<{ sessionsCommand: Subcommand }>('./sessions.js', 'sessionsCommand');
        return mod ? await mod.sessionsCommand(args, io, configPath) : unavailable(io, command);
      }
      case 'users': {
        const mod = await loadCommand<{ usersCommand: Subcommand }>('./users.js', 'usersCommand');
        return mod ? await mod.usersCommand(args, io, configPath) : unavailable(io, command);
      }
      default:
        return usageError(io, `unknown command '${command}'`);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`portcullis ${command}: ${message}\n`);
    return isPortcullisError(err, 'PORTCULLIS_ERR_CONFIG') || isPortcullisError(err, 'PORTCULLIS_ERR_USAGE') ? 2 : 1;
  }
}

/** Help kept with the command's code (its usage text), loaded only when asked. */
const USAGE_EXPORTS: Readonly<Record<string, readonly [string, string]>> = { sessions: ['./sessions.js', 'SESSIONS_USAGE'], users: ['./users.js', 'USERS_USAGE'] };

/** `command`'s own help, else the general usage. */
async function commandHelp(command: string): Promise<string> {
  const { ownHelp } = await import('./help.js');
  const own = ownHelp(command);
  if (own !== undefined) return own;
  const kept = Object.hasOwn(USAGE_EXPORTS, command) ? USAGE_EXPORTS[command] : undefined;
  if (kept) {
    const mod = (await import(new URL(kept[0], import.meta.url).href)) as Record<string, unknown>;
    if (typeof mod[kept[1]] === 'string') return mod[kept[1]] as string;
  }
  return USAGE;
}

/** Imports a command module written elsewhere; undefined when this build does not have it. */
async function loadCommand<T>(specifier: string, exported: string): Promise<T | undefined> {
  const url = new URL(specifier, import.meta.url).href;
  try {
    const mod = (await import(url)) as Record<string, unknown>;
    return typeof mod[exported] === 'function' ? (mod as T) : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(fileURLToPath(url))) return undefined;
    throw err;
  }
}

function unavailable(io: CliIo, command: string): number {
  io.stderr.write(`portcullis: the '${command}' command is not available in this build\n`);
  return 1;
}

function usageError(io: CliIo, message: string): number {
  io.stderr.write(`portcullis: ${message}\n\n${USAGE}`);
  return 2;
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const io: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stdin.isTTY) };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (err: unknown) => {
      console.error('portcullis:', err);
      process.exitCode = 1;
    },
  );
}
