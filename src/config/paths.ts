import { isAbsolute, resolve } from 'node:path';
import type { Config } from './schema/index.js';

/**
 * File paths in the config that are resolved against the config file's directory, so a config works
 * whatever the working directory of the process.
 */
export const RELATIVE_PATH_KEYS = [
  'users.file',
  'users.ldap.tls.ca_file',
  'server.tls.cert_file',
  'server.tls.key_file',
  'delivery.email.templates_dir',
  'delivery.email.smtp.tls.ca_file',
  'api_clients[].bearer_jwt.jwks_file',
  'identity.jwt_assertion.private_key_file',
] as const;

export function resolveConfigPaths(config: Config, dir: string): void {
  const fix = (holder: Record<string, unknown> | undefined, key: string) => {
    const v = holder?.[key];
    if (holder && typeof v === 'string' && v !== '' && !isAbsolute(v)) holder[key] = resolve(dir, v);
  };
  for (const path of RELATIVE_PATH_KEYS) {
    const parts = path.split('.');
    const key = parts.pop() as string;
    let holders: (Record<string, unknown> | undefined)[] = [config as unknown as Record<string, unknown>];
    for (const part of parts) {
      const isList = part.endsWith('[]');
      const name = isList ? part.slice(0, -2) : part;
      holders = holders.flatMap((h) => {
        const next = h?.[name];
        if (isList) return Array.isArray(next) ? (next as Record<string, unknown>[]) : [];
        return next && typeof next === 'object' ? [next as Record<string, unknown>] : [];
      });
    }
    for (const h of holders) fix(h, key);
  }
}
