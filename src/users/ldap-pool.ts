import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';

export interface LdapConnection {
  url: string;
  startTls: boolean;
  tls: ConnectionOptions;
  /** Milliseconds for the TCP/TLS connect and for every operation. */
  timeout: number;
}

/**
 * A new client, upgraded with StartTLS when asked, bound as `dn`. The caller unbinds it. Never called with
 * an empty password: an LDAP simple bind with a DN and no password is an unauthenticated bind that
 * many servers answer with success.
 */
export async function connectAndBind(conn: LdapConnection, dn: string, password: string): Promise<Client> {
  if (!password) throw new Error('refusing an LDAP bind without a password');
  // ldapts speaks TLS from the first byte whenever tlsOptions are given: only for ldaps:// URLs.
  const ldaps = conn.url.toLowerCase().startsWith('ldaps://');
  const client = new Client({ url: conn.url, timeout: conn.timeout, connectTimeout: conn.timeout, strictDN: false, ...(ldaps ? { tlsOptions: conn.tls } : {}) });
  try {
    if (conn.startTls) await client.startTLS(startTlsOptions(conn));
    await client.bind(dn, password);
    return client;
  } catch (err) {
    await safeUnbind(client);
    throw err;
  }
}

/** tls.connect over the existing socket needs the host name to verify the certificate against. */
function startTlsOptions(conn: LdapConnection): ConnectionOptions {
  const host = new URL(conn.url).hostname.replace(/^\[|\]$/g, '');
  return { ...conn.tls, host, ...(isIP(host) ? {} : { servername: host }) };
}

export async function safeUnbind(client: Client): Promise<void> {
  try {
    await client.unbind();
  } catch {
    // The connection is gone already; nothing to release.
  }
}

export interface ServicePoolOptions extends LdapConnection {
  bindDn: string;
  bindPassword: string;
  size: number;
  /** Callers allowed to wait for a connection; beyond that `use` fails at once. */
  maxWaiting?: number;
}

/**
 * A few connections bound as the service account, reused for searches. A connection that saw any error,
 * or that the server closed (ldapts would reconnect it unbound), is dropped and a new one made on demand —
 * so a directory that went away and came back is used again without a restart.
 */
export class ServicePool {
  private readonly idle: Client[] = [];
  private readonly waiters: Array<() => void> = [];
  private total = 0;
  private closed = false;

  constructor(private readonly options: ServicePoolOptions) {}

  async use<T>(task: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.acquire();
    let healthy = false;
    try {
      const result = await task(client);
      healthy = true;
      return result;
    } finally {
      this.release(client, healthy);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    this.total -= idle.length;
    await Promise.all(idle.map(safeUnbind));
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async acquire(): Promise<Client> {
    const deadline = Date.now() + this.options.timeout;
    for (;;) {
      if (this.closed) throw new Error('the LDAP connection pool is closed');
      while (this.idle.length) {
        const client = this.idle.pop()!;
        if (client.isBound) return client;
        this.total--;
        void safeUnbind(client);
      }
      if (this.total < this.options.size) {
        this.total++;
        try {
          return await connectAndBind(this.options, this.options.bindDn, this.options.bindPassword);
        } catch (err) {
          this.total--;
          this.wakeOne();
          throw err;
        }
      }
      if (this.waiters.length >= (this.options.maxWaiting ?? 1000)) throw new Error('too many requests waiting for an LDAP connection');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for an LDAP connection');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve();
        }, left);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.waiters.push(wake);
      });
    }
  }

  private release(client: Client, healthy: boolean): void {
    if (healthy && !this.closed && client.isBound) {
      this.idle.push(client);
    } else {
      this.total--;
      void safeUnbind(client);
    }
    this.wakeOne();
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }
}
