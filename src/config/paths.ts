import { accessSync, constants, statSync } from 'node:fs';
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
  'portal.branding.logo_file',
  'identity_providers[].private_key_jwt.key_file',
] as const;

type Holder = Record<string, unknown>;

/** Calls `visit` for every configured file path, with its holder object, key and full key path. */
function eachPath(config: Config, visit: (holder: Holder, key: string, path: PropertyKey[]) => void): void {
  for (const spec of RELATIVE_PATH_KEYS) {
    const parts = spec.split('.');
    const key = parts.pop() as string;
    let holders: Array<{ h: Holder; path: PropertyKey[] }> = [{ h: config, path: [] }];
    for (const part of parts) {
      const isList = part.endsWith('[]');
      const name = isList ? part.slice(0, -2) : part;
      holders = holders.flatMap(({ h, path }) => {
        const next = h[name];
        if (isList) return Array.isArray(next) ? (next as Holder[]).map((item, i) => ({ h: item, path: [...path, name, i] })) : [];
        return next && typeof next === 'object' ? [{ h: next as Holder, path: [...path, name] }] : [];
      });
    }
    for (const { h, path } of holders) if (typeof h[key] === 'string' && h[key] !== '') visit(h, key, [...path, key]);
  }
}

export function resolveConfigPaths(config: Config, dir: string): void {
  eachPath(config, (h, key) => {
    const v = h[key] as string;
    if (!isAbsolute(v)) h[key] = resolve(dir, v);
  });
}

/**
 * Every referenced file (or folder, for templates) must exist and be readable: a typo is reported by
 * check-config, and `serve` stops with exit 2 instead of failing later. Reads nothing but metadata.
 */
export function checkConfigFiles(config: Config, report: (path: PropertyKey[], message: string) => void): void {
  eachPath(config, (h, key, path) => {
    const v = h[key] as string;
    const folder = key === 'templates_dir';
    try {
      const st = statSync(v);
      if (folder ? !st.isDirectory() : !st.isFile()) throw new Error(folder ? 'not a folder' : 'not a file');
      accessSync(v, constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : (err as Error).message;
      report(path, `${folder ? 'folder' : 'file'} '${v}' ${why}`);
    }
  });
}
