/**
 * `portcullis users unlock U | reset-2fa U | invite U | devices U [--revoke ID | --all]`: operator
 * actions on a user's runtime state in the shared store (seeds 001, 002, 004).
 */
import { maskEmail } from '../delivery/mask.js';
import type { CliIo } from './bin.js';
import { parseOptions } from './args.js';
import { CommandError, withRuntime, type Out, type Runtime } from './runtime.js';
import { printable, table, utc } from './table.js';

export const USERS_USAGE = `Usage:
  portcullis users unlock U                 lift a lockout (wrong codes) and a wrong-password block
  portcullis users reset-2fa U              remove TOTP, recovery codes, entered phone/email, trusted devices and sessions
  portcullis users invite U                 print (and, with SMTP, email) a one-time set-password link
  portcullis users devices U [--revoke ID | --all]
                                            list or forget trusted devices
`;

const MAX_USERNAME = 256;

function usage(io: { stderr: Out }, message: string): number {
  io.stderr.write(`portcullis users: ${message}\n\n${USERS_USAGE}`);
  return 2;
}

type Action = (rt: Runtime, io: CliIo, user: string, options: Record<string, string | true>) => Promise<number>;

const ACTIONS: Record<string, { options: Record<string, boolean>; run: Action }> = {
  unlock: { options: {}, run: unlock },
  'reset-2fa': { options: {}, run: reset2fa },
  invite: { options: {}, run: invite },
  devices: { options: { '--revoke': true, '--all': false }, run: devices },
};

export async function usersCommand(argv: string[], io: CliIo, configPath: string): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) return usage(io, 'missing subcommand (unlock, reset-2fa, invite or devices)');
  const action = Object.hasOwn(ACTIONS, sub) ? ACTIONS[sub] : undefined;
  if (!action) return usage(io, `unknown subcommand '${sub}'`);
  const parsed = parseOptions(rest, action.options);
  if (!parsed.ok) return usage(io, `${sub}: ${parsed.message}`);
  if (parsed.positionals.length === 0) return usage(io, `${sub}: missing user name`);
  if (parsed.positionals.length > 1) return usage(io, `${sub}: unexpected argument '${parsed.positionals[1]}'`);
  const user = parsed.positionals[0]!;
  if (user.length === 0 || user.length > MAX_USERNAME) return usage(io, `${sub}: the user name must have 1 to ${MAX_USERNAME} characters`);
  if (parsed.options['--revoke'] !== undefined && parsed.options['--all'] !== undefined) return usage(io, 'devices: give --revoke ID or --all, not both');
  return withRuntime(configPath, io, `users ${sub}`, (rt) => action.run(rt, io, user, parsed.options));
}

async function unlock(rt: Runtime, io: CliIo, user: string): Promise<number> {
  const { lock, blocked } = await rt.core.operator.unlock(user);
  const name = printable(user);
  if (lock) io.stdout.write(`unlocked ${name} (locked ${utc(lock.at)}: ${printable(lock.reason)})\n`);
  else if (blocked) io.stdout.write(`lifted the wrong-password block of ${name}\n`);
  else io.stdout.write(`${name} was not locked\n`);
  return 0;
}

async function reset2fa(rt: Runtime, io: CliIo, user: string): Promise<number> {
  const r = await rt.core.operator.resetSecondFactor(user);
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  const parts = [r.hadSecret ? 'authenticator app removed' : 'no authenticator app', `${n(r.recoveryCodes, 'recovery code')} removed`, `${n(r.devices, 'trusted device')} forgotten`, `${n(r.sessions, 'session')} ended`];
  io.stdout.write(`reset two-step verification of ${printable(user)}: ${parts.join(', ')}\n`);
  return 0;
}

/** The first `server.public_url` without a trailing slash, or undefined. */
function publicBase(rt: Runtime): string | undefined {
  const configured = rt.config.server.public_url;
  const first = configured === undefined ? undefined : Array.isArray(configured) ? configured[0] : configured;
  return first?.replace(/\/+$/, '');
}

async function invite(rt: Runtime, io: CliIo, user: string): Promise<number> {
  const { operator } = rt.core;
  const check = await operator.checkInvitable(user);
  switch (check.kind) {
    case 'unknown':
      throw new CommandError(`no user '${printable(user)}' in the users file or directory`);
    case 'renamed':
      throw new CommandError(`the directory knows this user as '${printable(check.username)}': invite that name`);
    case 'external':
      throw new CommandError(`'${printable(user)}' comes from ${check.source.toUpperCase()}: the password lives in that directory; set it there`);
    case 'disabled':
      throw new CommandError(`'${printable(user)}' is disabled in the users file`);
  }
  const record = check.user;
  const base = publicBase(rt);
  const { link, expiresAt, ttl } = await operator.invite(record, base);
  io.stdout.write(`${link}\n`);
  if (base === undefined) io.stderr.write('warning: server.public_url is not set, so the link is relative: put the gateway\'s address in front of it\n');
  io.stderr.write(`one-time set-password link for ${printable(user)}, valid until ${utc(expiresAt)}\n`);

  if (rt.config.delivery.email.transport !== 'smtp') return 0;
  if (!record.email) {
    io.stderr.write(`not emailed: ${printable(user)} has no email address\n`);
    return 0;
  }
  if (base === undefined) {
    io.stderr.write('not emailed: a relative link is no use in a mail (set server.public_url)\n');
    return 0;
  }
  try {
    await operator.sendInvite(record, link, ttl);
  } catch (err) {
    throw new CommandError(`the invite mail to ${maskEmail(record.email)} could not be sent (${err instanceof Error ? err.message : String(err)}); the link above works`);
  }
  io.stderr.write(`emailed to ${maskEmail(record.email)}\n`);
  return 0;
}

async function devices(rt: Runtime, io: CliIo, user: string, options: Record<string, string | true>): Promise<number> {
  const { operator } = rt.core;
  const name = printable(user);
  if (typeof options['--revoke'] === 'string') {
    const id = options['--revoke'];
    if (!(await operator.revokeDevice(user, id))) throw new CommandError(`${name} has no trusted device ${printable(id)}`);
    io.stdout.write(`forgot trusted device ${id} of ${name}\n`);
    return 0;
  }
  if (options['--all'] === true) {
    const n = await operator.revokeDevices(user);
    io.stdout.write(`forgot ${n} trusted device${n === 1 ? '' : 's'} of ${name}\n`);
    return 0;
  }
  const list = await operator.listDevices(user);
  if (list.length === 0) {
    io.stdout.write(`${name} has no trusted devices\n`);
    return 0;
  }
  const rows = list.map((d) => [d.id, printable(d.name, 40), printable(d.ip, 45), utc(d.createdAt), utc(d.lastUsedAt), utc(d.expiresAt)]);
  io.stdout.write(table(['ID', 'NAME', 'IP', 'CREATED', 'LAST USED', 'EXPIRES'], rows));
  return 0;
}
