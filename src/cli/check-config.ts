import type { Config } from '../config/schema/index.js';
import { formatProblem, loadConfigFile } from '../config/load.js';

type Out = { write(chunk: string): unknown };

/**
 * `portcullis check-config`: prints `config OK: FILE`, what to register at each identity provider (the
 * redirect URI, and the post-logout redirect URI with `end_session`) and any warnings on stdout and
 * returns 0, or every problem (then the warnings) on stderr, one per line and nothing else, and returns 2.
 */
export async function checkConfigCommand(configPath: string, io: { stdout: Out; stderr: Out }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const result = await loadConfigFile(configPath, env, { checkFiles: true });
  if (result.ok) {
    io.stdout.write(`config OK: ${result.file}\n`);
    for (const line of providerRegistrations(result.config)) io.stdout.write(`${line}\n`);
    for (const w of result.warnings) io.stdout.write(`${formatProblem(w)}\n`);
    return 0;
  }
  for (const p of result.problems) io.stderr.write(`${formatProblem(p)}\n`);
  for (const w of result.warnings) io.stderr.write(`${formatProblem(w)}\n`);
  return 2;
}

/** One line per identity provider and `public_url`: the URIs to register at the provider. */
export function providerRegistrations(config: Readonly<Config>): string[] {
  const configured = config.server.public_url;
  const bases = configured === undefined ? ['https://HOST'] : (Array.isArray(configured) ? configured : [configured]).map((u) => u.replace(/\/+$/, ''));
  const prefix = config.server.portal_prefix;
  return config.identity_providers.flatMap((p) =>
    bases.map((base) => {
      const logout = p.end_session ? `, post-logout redirect URI ${base}${prefix}/login` : '';
      return `identity provider '${p.name}': redirect URI ${base}${prefix}/oidc/${p.name}/callback${logout}`;
    }),
  );
}
