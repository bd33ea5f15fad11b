/**
 * `portcullis sessions list [--user U] [--json]` and `portcullis sessions revoke --user U | --all | --id REF`
 * (seed 002: force one user's or every user's sessions to end). Revocations are published on the store's
 * revocation channel, so running gateways drop their cached copies at once.
 */
import type { CliIo } from './bin.js';
import { parseOptions } from './args.js';
import { CommandError, withRuntime, type Out, type Runtime } from './runtime.js';
import { printable, table, utc } from './table.js';

export const SESSIONS_USAGE = `Usage:
  portcullis sessions list [--user U] [--json]
  portcullis sessions revoke --user U | --all | --id REF
`;

/** Shown in the table; `--id` takes it, any longer prefix, or the full reference from --json. */
const SHORT_REF = 12;
const MIN_REF_PREFIX = 8;

function usage(io: { stderr: Out }, message: string): number {
  io.stderr.write(`portcullis sessions: ${message}\n\n${SESSIONS_USAGE}`);
  return 2;
}

export async function sessionsCommand(argv: string[], io: CliIo, configPath: string): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list') {
    const parsed = parseOptions(rest, { '--user': true, '--json': false });
    if (!parsed.ok) return usage(io, parsed.message);
    if (parsed.positionals.length > 0) return usage(io, `unexpected argument '${parsed.positionals[0]}'`);
    const user = parsed.options['--user'];
    return withRuntime(configPath, io, 'sessions list', (rt) => list(rt, io, typeof user === 'string' ? user : undefined, parsed.options['--json'] === true));
  }
  if (sub === 'revoke') {
    const parsed = parseOptions(rest, { '--user': true, '--all': false, '--id': true });
    if (!parsed.ok) return usage(io, parsed.message);
    if (parsed.positionals.length > 0) return usage(io, `unexpected argument '${parsed.positionals[0]}'`);
    const chosen = (['--user', '--all', '--id'] as const).filter((o) => parsed.options[o] !== undefined);
    if (chosen.length !== 1) return usage(io, 'revoke needs exactly one of --user U, --all, --id REF');
    const id = parsed.options['--id'];
    if (typeof id === 'string' && !new RegExp(`^[0-9a-f]{${MIN_REF_PREFIX},64}$`).test(id)) return usage(io, `--id takes a session reference as listed (at least ${MIN_REF_PREFIX} hex digits)`);
    return withRuntime(configPath, io, 'sessions revoke', (rt) => revoke(rt, io, parsed.options));
  }
  return usage(io, sub === undefined ? 'missing subcommand (list or revoke)' : `unknown subcommand '${sub}'`);
}

async function list(rt: Runtime, io: CliIo, user: string | undefined, json: boolean): Promise<number> {
  const sessions = await rt.core.sessions.list(user);
  if (json) {
    const out = sessions.map(({ id, session: s }) => ({
      ref: id,
      user: s.user,
      level: s.level,
      factors: s.factors.map((f) => f.method),
      ip: s.clientIp ?? null,
      user_agent: s.userAgent ?? null,
      api: s.apiToken === true,
      created_at: new Date(s.createdAt).toISOString(),
      last_seen_at: new Date(s.lastSeenAt).toISOString(),
      expires_at: new Date(s.expiresAt).toISOString(),
    }));
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  if (sessions.length === 0) {
    io.stdout.write(user === undefined ? 'no sessions\n' : `no sessions for ${printable(user)}\n`);
    return 0;
  }
  const rows = sessions.map(({ id, session: s }) => [id.slice(0, SHORT_REF), printable(s.user), s.level, printable(s.clientIp, 45), utc(s.createdAt), utc(s.expiresAt)]);
  io.stdout.write(table(['REF', 'USER', 'LEVEL', 'IP', 'CREATED', 'EXPIRES'], rows));
  return 0;
}

async function revoke(rt: Runtime, io: CliIo, options: Record<string, string | true>): Promise<number> {
  const { operator, sessions } = rt.core;
  const plural = (n: number) => `${n} session${n === 1 ? '' : 's'}`;
  if (typeof options['--user'] === 'string') {
    const user = options['--user'];
    const { sessions: n, devices } = await operator.revokeUser(user);
    io.stdout.write(`ended ${plural(n)} of ${printable(user)}${devices ? `; forgot ${devices} trusted device${devices === 1 ? '' : 's'}` : ''}\n`);
    return 0;
  }
  if (options['--all'] === true) {
    const n = await operator.revokeAll();
    io.stdout.write(`ended ${plural(n)}\n`);
    return 0;
  }
  const prefix = options['--id'] as string;
  if (prefix.length === 64) {
    // A full reference (from --json) ends the session even when it no longer shows in a listing.
    if (!(await operator.revokeSession(prefix, undefined))) throw new CommandError(`no session with reference ${prefix}`);
    io.stdout.write(`ended 1 session (${prefix.slice(0, SHORT_REF)})\n`);
    return 0;
  }
  const matches = (await sessions.list()).filter((s) => s.id.startsWith(prefix));
  if (matches.length === 0) throw new CommandError(`no session with reference ${prefix}`);
  if (matches.length > 1) throw new CommandError(`${matches.length} sessions start with ${prefix}: give more of the reference`, 2);
  const match = matches[0]!;
  const ended = await operator.revokeSession(match.id, match.session.user);
  io.stdout.write(`ended ${plural(ended ? 1 : 0)} (${match.id.slice(0, SHORT_REF)} of ${printable(match.session.user)})\n`);
  return 0;
}
