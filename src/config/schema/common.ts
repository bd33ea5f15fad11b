import { z } from 'zod';
import { parseDuration } from '../../util/duration.js';
import { parseCidr } from '../../util/net.js';

/** A duration string (`90s`, `5m`, `12h`, `90d`) or 0, parsed to milliseconds. */
export const duration = () =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as '90s', '5m', '12h' or '90d' (or 0) but it's configured as '${String(value)}'` });
      return z.NEVER;
    }
    return ms;
  });

export const cidr = () =>
  z.string().refine((v) => parseCidr(v) !== undefined, { error: (iss) => `must be an IPv4 or IPv6 network such as '10.0.0.0/8' but it's configured as '${String(iss.input)}'` });

/** `host:port`, `[::]:port` or `:port`. */
export const listenAddress = () =>
  z.string().refine((v) => parseListen(v) !== undefined, { error: (iss) => `must be 'host:port' (for example '0.0.0.0:8080' or '[::]:8080') but it's configured as '${String(iss.input)}'` });

export function parseListen(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export const httpUrl = () =>
  z.string().refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, { error: (iss) => `must be an absolute http(s) URL but it's configured as '${String(iss.input)}'` });

/** An origin as browsers send it: `scheme://host[:port]`, http(s), nothing after the authority. */
export const originUrl = () =>
  z.string().refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === v.toLowerCase().replace(/\/$/, '') && !v.endsWith('/');
    } catch {
      return false;
    }
  }, { error: (iss) => `must be an origin such as 'https://app.example.com' (scheme, host and port, no path) but it's configured as '${String(iss.input)}'` });

export const stringList = () => z.array(z.string().min(1));
