/**
 * Checks that span sections, run on the data as written (so they report together with the schema's
 * problems even when the schema rejects something else). Every check looks at types first and stays
 * quiet where the schema will already complain.
 */
import { parseDuration } from '../util/duration.js';
import { FACTOR_METHODS } from './schema/index.js';
import type { ProblemCollector } from './reporter.js';

type Obj = Record<string, unknown>;
const DAY = 86_400_000;

const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function checkSemantics(data: unknown, out: ProblemCollector): void {
  const root = obj(data) ?? {};
  checkUpstreams(root, out);
  checkApiClients(root, out);
  checkSecondFactor(root, out);
  checkSession(root, out);
  checkDelivery(root, out);
  checkIdentityProviders(root, out);
}

/** Console delivery writes one-time codes to the log: fine for development, never for production. */
function checkDelivery(root: Obj, out: ProblemCollector): void {
  const sf = obj(root.second_factor) ?? {};
  if (sf.policy === 'off') return;
  const methods = Array.isArray(sf.methods) ? sf.methods : [...FACTOR_METHODS];
  const delivery = obj(root.delivery) ?? {};
  const email = obj(delivery.email) ?? {};
  const sms = obj(delivery.sms) ?? {};
  if (methods.includes('email') && (email.transport ?? 'console') === 'console') {
    out.warn(['delivery', 'email', 'transport'], "email codes go to the log (transport 'console'); configure 'smtp' for production");
  }
  if (methods.includes('sms') && (sms.provider ?? 'console') === 'console') {
    out.warn(['delivery', 'sms', 'provider'], "SMS codes go to the log (provider 'console'); configure 'twilio' for production");
  }
}

function checkUpstreams(root: Obj, out: ProblemCollector): void {
  if (root.upstreams === undefined || (Array.isArray(root.upstreams) && root.upstreams.length === 0)) {
    out.warn(['upstreams'], 'no upstreams are configured; signed-in requests have nowhere to go');
    return;
  }
  const seen = new Map<string, number>();
  list(root.upstreams).forEach((u, i) => {
    const name = obj(u)?.name;
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first !== undefined) out.error(['upstreams', i, 'name'], `duplicate upstream name '${name}' (also upstreams[${first}])`);
    else seen.set(name, i);
  });
}

function checkApiClients(root: Obj, out: ProblemCollector): void {
  const upstreams = new Set(list(root.upstreams).map((u) => obj(u)?.name).filter((n): n is string => typeof n === 'string'));
  const names = new Map<string, number>();
  list(root.api_clients).forEach((c, i) => {
    const client = obj(c);
    if (!client) return;
    if (typeof client.name === 'string') {
      const first = names.get(client.name);
      if (first !== undefined) out.error(['api_clients', i, 'name'], `duplicate API client name '${client.name}' (also api_clients[${first}])`);
      else names.set(client.name, i);
    }
    list(client.upstreams).forEach((u, j) => {
      if (typeof u === 'string' && !upstreams.has(u)) {
        const known = [...upstreams].map((n) => `'${n}'`).join(', ');
        out.error(['api_clients', i, 'upstreams', j], `there is no upstream named '${u}'${known ? ` (upstreams: ${known})` : ''}`);
      }
    });
  });
}

function checkSecondFactor(root: Obj, out: ProblemCollector): void {
  const sf = obj(root.second_factor) ?? {};
  const methods = Array.isArray(sf.methods) ? sf.methods.filter((m) => typeof m === 'string') : [...FACTOR_METHODS];
  list(sf.assignments).forEach((a, i) => {
    const method = obj(a)?.method;
    if (typeof method === 'string' && (FACTOR_METHODS as readonly string[]).includes(method) && !methods.includes(method)) {
      out.error(['second_factor', 'assignments', i, 'method'], `'${method}' is not enabled in second_factor.methods`);
    }
  });
  if (sf.policy === 'off') out.warn(['second_factor', 'policy'], 'the second factor is off: a password alone opens every protected application');
  const length = obj(sf.code)?.length;
  if (typeof length === 'number' && length < 6) out.warn(['second_factor', 'code', 'length'], `codes of ${length} characters are easy to guess; use 6 or more`);
}

function checkSession(root: Obj, out: ProblemCollector): void {
  const session = obj(root.session) ?? {};
  const store = session.store ?? 'redis';
  const workers = obj(root.server)?.workers;
  if (store === 'memory') {
    out.warn(['session', 'store'], 'the memory store keeps sessions in this process only: they are lost on restart and not shared between instances');
    if (workers === 'auto' || (typeof workers === 'number' && workers > 1)) {
      out.warn(['server', 'workers'], 'the memory store cannot be shared between processes; one worker will be used (use the redis store for several)');
    }
  }
  if (session.secret !== undefined && session.secrets !== undefined) {
    out.error(['session', 'secrets'], "set either secret or secrets (the first of secrets signs), not both");
  }
  const lifetime = typeof session.lifetime === 'string' || typeof session.lifetime === 'number' ? parseDuration(session.lifetime) : undefined;
  if (lifetime !== undefined && lifetime > 30 * DAY) {
    out.warn(['session', 'lifetime'], `sessions that last ${Math.round(lifetime / DAY)} days outlive the 30 days that a second factor should be trusted for; consider 12h with trusted devices`);
  }
}

function checkIdentityProviders(root: Obj, out: ProblemCollector): void {
  const providers = list(root.identity_providers);
  const names = new Map<string, number>();
  providers.forEach((p, i) => {
    const name = obj(p)?.name;
    if (typeof name !== 'string') return;
    const first = names.get(name);
    if (first !== undefined) out.error(['identity_providers', i, 'name'], `duplicate identity provider name '${name}' (also identity_providers[${first}])`);
    else names.set(name, i);
  });
  if (providers.length > 0 && obj(root.server)?.public_url === undefined) {
    out.warn(['identity_providers'], 'server.public_url is not set: the redirect URI sent to the provider follows the host each browser asked for; set public_url so it is the one registered at the provider');
  }
  if (obj(root.portal)?.password_form === false && providers.length === 0) {
    out.warn(['portal', 'password_form'], 'the password form is hidden and no identity_providers are configured: nobody can sign in from a browser');
  }
}
