/**
 * `portcullis users unlock U | reset-2fa U | invite U | devices U [--revoke ID | --all]`: operator
 * actions on a user's runtime state in the shared store (seeds 001, 002, 004).
 */
import { invitePath } from '../auth/invites.js';
import { maskEmail } from '../delivery/mask.js';
import { OVERRIDABLE_SOURCES } from '../users/overrides.js';
import type { CliIo } from './bin.js';
import { parseOptions } from './args.js';
import { CommandError, withRuntime, type Out, type Runtime } from './runtime.js';
import { printable, table, utc } from './table.js';

export const USERS_USAGE = `Usage:
  portcullis users unlock U                 lift a lockout (wrong codes) and a wrong-password block
  portcullis users reset-2fa U              remove TOTP, recovery codes, entered phone/email and trusted devices
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
  const regulator = rt.regulator();
  const lock = await regulator.lockInfo(user);
  await regulator.unlock(user);
  const blocked = await regulator.clearPasswordBlock(user);
  rt.audit({ event: 'account_unlocked', user, method: 'operator', result: 'success', reason: lock ? lock.reason : blocked ? 'password_block' : 'not_locked' });
  const name = printable(user);
  if (lock) io.stdout.write(`unlocked ${name} (locked ${utc(lock.at)}: ${printable(lock.reason)})\n`);
  else if (blocked) io.stdout.write(`lifted the wrong-password block of ${name}\n`);
  else io.stdout.write(`${name} was not locked\n`);
  return 0;
}

async function reset2fa(rt: Runtime, io: CliIo, user: string): Promise<number> {
  const { state, totp, recovery, devices } = await rt.factors();
  const [hadTotp, codes, trusted] = await Promise.all([totp.isEnrolled(user), recovery.remaining(user), devices.list(user)]);
  await state.reset(user);
  await devices.revokeAll(user);
  rt.audit({ event: 'second_factor_reset', user, method: 'operator', result: 'success', reason: 'operator' });
  const parts = [hadTotp ? 'authenticator app removed' : 'no authenticator app', `${codes} recovery code${codes === 1 ? '' : 's'} removed`, `${trusted.length} trusted device${trusted.length === 1 ? '' : 's'} forgotten`];
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
  const directory = await rt.directory();
  const record = await directory.lookup(user);
  if (!record) throw new CommandError(`no user '${printable(user)}' in the users file or directory`);
  if (record.username !== user) throw new CommandError(`the directory knows this user as '${printable(record.username)}': invite that name`);
  if (!OVERRIDABLE_SOURCES.has(record.source)) {
    throw new CommandError(`'${printable(user)}' comes from ${record.source.toUpperCase()}: the password lives in that directory; set it there`);
  }
  if (record.disabled) throw new CommandError(`'${printable(user)}' is disabled in the users file`);
  const ttl = rt.config.users.invite_ttl;
  const { token, expiresAt } = await rt.invites().create(user, ttl);
  const base = publicBase(rt);
  const link = `${base ?? ''}${invitePath(rt.config.server.portal_prefix, token)}`;
  io.stdout.write(`${link}\n`);
  if (base === undefined) io.stderr.write('warning: server.public_url is not set, so the link is relative: put the gateway\'s address in front of it\n');
  io.stderr.write(`one-time set-password link for ${printable(user)}, valid until ${utc(expiresAt)}\n`);
  rt.audit({ event: 'invite_created', user, method: 'operator', result: 'success' });

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
    await (await rt.delivery()).notify('invite', record.email, { link, minutes: String(Math.round(ttl / 60_000)), name: record.displayName ?? user }, rt.config.portal.languages[0] ?? 'en');
  } catch (err) {
    throw new CommandError(`the invite mail to ${maskEmail(record.email)} could not be sent (${err instanceof Error ? err.message : String(err)}); the link above works`);
  }
  rt.audit({ event: 'invite_sent', user, method: 'email', result: 'success' });
  io.stderr.write(`emailed to ${maskEmail(record.email)}\n`);
  return 0;
}

async function devices(rt: Runtime, io: CliIo, user: string, options: Record<string, string | true>): Promise<number> {
  const trusted = (await rt.factors()).devices;
  const name = printable(user);
  if (typeof options['--revoke'] === 'string') {
    const id = options['--revoke'];
    if (!(await trusted.revoke(user, id))) throw new CommandError(`${name} has no trusted device ${printable(id)}`);
    rt.audit({ event: 'device_revoked', user, method: 'operator', result: 'success' });
    io.stdout.write(`forgot trusted device ${id} of ${name}\n`);
    return 0;
  }
  const list = await trusted.list(user);
  if (options['--all'] === true) {
    await trusted.revokeAll(user);
    rt.audit({ event: 'device_revoked', user, method: 'operator', result: 'success', reason: 'all', count: list.length });
    io.stdout.write(`forgot ${list.length} trusted device${list.length === 1 ? '' : 's'} of ${name}\n`);
    return 0;
  }
  if (list.length === 0) {
    io.stdout.write(`${name} has no trusted devices\n`);
    return 0;
  }
  const rows = list.map((d) => [d.id, printable(d.name, 40), printable(d.ip, 45), utc(d.createdAt), utc(d.lastUsedAt), utc(d.expiresAt)]);
  io.stdout.write(table(['ID', 'NAME', 'IP', 'CREATED', 'LAST USED', 'EXPIRES'], rows));
  return 0;
}
