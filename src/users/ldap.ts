import { readFileSync } from 'node:fs';
import { InvalidCredentialsError, type Client, type Entry } from 'ldapts';
import type { Config } from '../config/schema/index.js';
import { PortcullisError } from '../errors/index.js';
import { BoundedQueue } from '../util/limits.js';
import type { Logger } from '../observability/logger.js';
import type { UserRecord } from './directory.js';
import { E164_RE } from './file-parse.js';
import { buildGroupFilter, fillFilter, firstRdnValue } from './ldap-filter.js';
import { connectAndBind, safeUnbind, ServicePool, type LdapConnection } from './ldap-pool.js';
import type { AuthOutcome, OutcomeDirectory } from './outcome.js';
import type { PasswordVerifier } from './password.js';

export type LdapConfig = NonNullable<Config['users']['ldap']>;

export interface LdapDirectoryOptions {
  verifier: PasswordVerifier;
  logger: Logger;
}

/** Longer usernames are refused without asking the directory. */
const MAX_USERNAME_LENGTH = 256;
const MAX_GROUPS = 1000;

interface FoundUser {
  dn: string;
  entry: Entry;
}

/**
 * Users from an LDAP directory (OpenLDAP, Active Directory):
 *
 * 1. a pooled connection bound as the service account (`bind_dn`) searches `base_dn` with `user_filter`,
 *    `{username}` escaped per RFC 4515; exactly one entry must match (none: unknown; more: refused);
 * 2. the password is checked by a bind as that entry's DN on a fresh connection. An empty password is
 *    refused before any bind (an unauthenticated bind would "succeed");
 * 3. groups come from `group_filter` (`{dn}` and `{username}` escaped) under `group_base_dn` or `base_dn`,
 *    reading `attributes.group_name`; or, without a group filter, from the CN of each `member_of` value.
 *    `nested_groups: true` uses Active Directory's matching rule in chain instead (OpenLDAP's slapd
 *    does not implement it).
 *
 * The username in the answer is the directory's own spelling of `attributes.username` (LDAP matching is
 * usually case-insensitive). Phone numbers are taken when they are E.164 after removing spaces, dots,
 * dashes and parentheses. A directory that cannot answer (down, timeout, TLS failure, bad base DN)
 * throws PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE — it never lets anyone in. Every attempt costs one dummy
 * password verification (beside the bind for a known user, instead of it otherwise), so the answer time
 * does not tell whether the user exists.
 */
export class LdapDirectory implements OutcomeDirectory {
  readonly name = 'ldap';
  private readonly pool: ServicePool;
  private readonly connection: LdapConnection;
  private readonly binds: BoundedQueue;

  constructor(
    private readonly config: LdapConfig,
    private readonly options: LdapDirectoryOptions,
  ) {
    this.connection = { url: config.url, startTls: config.start_tls, timeout: config.timeout || 5000, tls: tlsOptions(config) };
    this.pool = new ServicePool({
      ...this.connection,
      bindDn: config.bind_dn,
      bindPassword: config.bind_password,
      size: config.pool_size,
    });
    this.binds = new BoundedQueue(config.pool_size * 2, 1000);
  }

  async verify(username: string, password: string): Promise<AuthOutcome> {
    if (typeof username !== 'string' || !username || username.length > MAX_USERNAME_LENGTH) return this.dummy(password, { status: 'unknown' });
    if (typeof password !== 'string' || password === '') return this.dummy('', { status: 'rejected', reason: 'empty_password' });
    const found = await this.findUser(username);
    if (found === undefined) return this.dummy(password, { status: 'unknown' });
    if (found === 'ambiguous') return this.dummy(password, { status: 'rejected', reason: 'ambiguous' });
    // The dummy verification runs beside the bind, so a known user takes as long as an unknown one.
    const [ok] = await Promise.all([this.bindAsUser(found.dn, password), this.options.verifier.verify(undefined, password)]);
    if (!ok) return { status: 'rejected', reason: 'wrong_password' };
    return { status: 'ok', user: await this.toRecord(username, found) };
  }

  async authenticate(username: string, password: string): Promise<UserRecord | null> {
    const outcome = await this.verify(username, password);
    return outcome.status === 'ok' ? outcome.user : null;
  }

  async lookup(username: string): Promise<UserRecord | null> {
    if (typeof username !== 'string' || !username || username.length > MAX_USERNAME_LENGTH) return null;
    const found = await this.findUser(username);
    if (found === undefined || found === 'ambiguous') return null;
    return this.toRecord(username, found);
  }

  /** Binds as the service account (start-up check, readiness). */
  async check(): Promise<void> {
    try {
      await this.pool.use(() => Promise.resolve(undefined));
    } catch (err) {
      throw new PortcullisError(
        'PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE',
        `ldap: cannot bind to ${this.config.url} as '${this.config.bind_dn}': ${describe(err)}`,
        { cause: err },
      );
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async dummy(password: string, outcome: AuthOutcome): Promise<AuthOutcome> {
    await this.options.verifier.verify(undefined, password);
    return outcome;
  }

  private async findUser(username: string): Promise<FoundUser | 'ambiguous' | undefined> {
    const filter = fillFilter(this.config.user_filter, { username });
    const a = this.config.attributes;
    const attributes = [a.username, a.email, a.phone, a.display_name];
    if (!this.config.group_filter && !this.config.nested_groups) attributes.push(a.member_of);
    const entries = await this.search('user search', this.config.base_dn, filter, attributes, 2);
    if (entries.length === 0) return undefined;
    if (entries.length > 1) {
      this.options.logger.warn({ directory: 'ldap', user: username }, 'ldap: user_filter matches more than one entry; sign-in refused');
      return 'ambiguous';
    }
    return { dn: entries[0]!.dn, entry: entries[0]! };
  }

  /** User binds open a connection each: at most 2 × pool_size at once, a bounded number waiting. */
  private async bindAsUser(dn: string, password: string): Promise<boolean> {
    let started = false;
    try {
      return await this.binds.run(() => {
        started = true;
        return this.checkPassword(dn, password);
      });
    } catch (err) {
      if (!started && err instanceof RangeError) throw new PortcullisError('PORTCULLIS_ERR_OVERLOADED', undefined, { cause: err });
      throw err;
    }
  }

  private async checkPassword(dn: string, password: string): Promise<boolean> {
    let client: Client | undefined;
    try {
      client = await connectAndBind(this.connection, dn, password);
      return true;
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return false;
      throw this.unavailable('user bind', err);
    } finally {
      if (client) await safeUnbind(client);
    }
  }

  private async groupsOf(username: string, found: FoundUser): Promise<string[]> {
    const filter = buildGroupFilter(this.config, found.dn, username);
    if (filter === undefined) {
      const names = values(found.entry, this.config.attributes.member_of).map((dn) => firstRdnValue(dn));
      return unique(names);
    }
    const nameAttr = this.config.attributes.group_name;
    const entries = await this.search('group search', this.config.group_base_dn ?? this.config.base_dn, filter, [nameAttr], MAX_GROUPS);
    return unique(entries.map((e) => values(e, nameAttr)[0]));
  }

  private async toRecord(username: string, found: FoundUser): Promise<UserRecord> {
    const a = this.config.attributes;
    const phone = values(found.entry, a.phone)
      .map((p) => p.replace(/[\s.()-]/g, ''))
      .find((p) => E164_RE.test(p));
    return {
      username: values(found.entry, a.username)[0] ?? username,
      displayName: values(found.entry, a.display_name)[0],
      email: values(found.entry, a.email)[0],
      phone,
      groups: await this.groupsOf(username, found),
      disabled: false,
      source: 'ldap',
    };
  }

  private async search(what: string, base: string, filter: string, attributes: string[], sizeLimit: number): Promise<Entry[]> {
    try {
      return await this.pool.use(async (client) => {
        const result = await client.search(base, {
          scope: 'sub',
          filter,
          attributes,
          sizeLimit,
          timeLimit: Math.max(1, Math.ceil(this.connection.timeout / 1000)),
        });
        return result.searchEntries;
      });
    } catch (err) {
      throw this.unavailable(what, err);
    }
  }

  private unavailable(what: string, err: unknown): PortcullisError {
    this.options.logger.warn({ directory: 'ldap', url: this.config.url, err: { message: describe(err) } }, `ldap ${what} failed`);
    return new PortcullisError('PORTCULLIS_ERR_DIRECTORY_UNAVAILABLE', undefined, { cause: err });
  }
}

function tlsOptions(config: LdapConfig) {
  let ca: Buffer | undefined;
  if (config.tls.ca_file) {
    try {
      ca = readFileSync(config.tls.ca_file);
    } catch (err) {
      throw new PortcullisError('PORTCULLIS_ERR_CONFIG', `users.ldap.tls.ca_file: cannot read ${config.tls.ca_file}: ${describe(err)}`, { cause: err });
    }
  }
  return { ...(ca ? { ca } : {}), rejectUnauthorized: !config.tls.insecure_skip_verify, minVersion: 'TLSv1.2' as const };
}

/** The string values of an attribute, whatever case the server used for its name. */
function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  if (key === undefined || key === 'dn') return [];
  const raw = entry[key]!;
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))).filter((v) => v.length > 0);
}

function unique(names: Array<string | undefined>): string[] {
  return [...new Set(names.filter((n): n is string => typeof n === 'string' && n.length > 0))];
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
